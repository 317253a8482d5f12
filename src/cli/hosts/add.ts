import { DockwardError } from '../../errors.js';
import { type AddHostResult, addHost } from '../../fleet/hosts.js';
import type { CommandContext } from '../context.js';
import { cliPassphraseSource } from '../passphrase.js';
import { checkRoleFlag } from './role-flag.js';

export interface HostsAddOptions {
  name: string;
  endpoint: string;
  role?: string;
  days?: number;
  ca?: string;
  cert?: string;
  key?: string;
  verify: boolean;
  timeout: number;
  /** The policy file whose roles --role may also name. */
  policy?: string;
  /** Issue a --role that names no known role anyway. */
  force?: boolean;
}

/** `dockward hosts add NAME --endpoint tcp://...`: issue (or import) a client certificate and verify. */
export async function hostsAdd(ctx: CommandContext, opts: HostsAddOptions): Promise<AddHostResult> {
  const given = [opts.ca, opts.cert, opts.key].filter((x) => x !== undefined).length;
  if (given !== 0 && given !== 3) {
    throw new DockwardError('DW_E_USAGE', '--ca, --cert and --key go together', {
      hint: 'Pass all three files, or none to have dockward issue a client certificate.',
    });
  }
  if (given === 3 && opts.role !== undefined) {
    throw new DockwardError('DW_E_USAGE', '--role applies to an issued certificate, not to --cert files', {
      hint: 'Drop --role (the imported certificate carries its own OU), or drop --ca/--cert/--key to issue one.',
    });
  }
  await checkRoleFlag(ctx, opts);
  return addHost(
    ctx.paths,
    {
      name: opts.name,
      endpoint: opts.endpoint,
      ...(opts.role ? { role: opts.role } : {}),
      ...(opts.days ? { days: opts.days } : {}),
      ...(opts.ca && opts.cert && opts.key ? { files: { ca: opts.ca, cert: opts.cert, key: opts.key } } : {}),
      verify: opts.verify,
      timeoutMs: opts.timeout,
    },
    cliPassphraseSource(),
  );
}

export function renderHostsAdd(r: AddHostResult): string {
  return [
    `host ${r.host.name} added: ${r.host.endpoint}`,
    `  certificates  ${r.host.certDir}${r.host.certName ? ` (${r.host.certName})` : ''}`,
    r.probe
      ? `  verified      Docker ${r.probe.engineVersion} (API ${r.probe.apiVersion}), server cert ${r.probe.server.sans.join(', ')} until ${r.probe.server.notAfter}`
      : '  not verified  (--no-verify)',
  ].join('\n');
}
