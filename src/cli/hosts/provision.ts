import { type ProvisionResult, provisionHost } from '../../fleet/provision.js';
import { DockwardError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { cliPassphraseSource } from '../passphrase.js';
import { checkRoleFlag } from './role-flag.js';

export interface HostsProvisionOptions {
  name: string;
  ssh: string;
  san?: string[];
  role?: string;
  policy?: string;
  force?: boolean;
  knownHosts?: string;
  identity?: string;
  sshPort?: number;
  port: number;
  mode: string;
  allow?: string[];
  days?: number;
  timeout: number;
}

/** `dockward hosts provision NAME --ssh root@ADDR`: enrol over SSH, then add the host and its context. */
export async function hostsProvision(
  ctx: CommandContext,
  opts: HostsProvisionOptions,
): Promise<ProvisionResult> {
  if (opts.mode !== 'native' && opts.mode !== 'gateway') {
    throw new DockwardError('DW_E_USAGE', `--mode ${opts.mode}: say native or gateway`, {
      hint: 'native: dockerd serves TLS; gateway: the dockward gateway service does, with revocation.',
    });
  }
  await checkRoleFlag(ctx, opts);
  return provisionHost(
    ctx.paths,
    {
      name: opts.name,
      ssh: {
        target: opts.ssh,
        ...(opts.knownHosts ? { knownHosts: opts.knownHosts } : {}),
        ...(opts.identity ? { identity: opts.identity } : {}),
        ...(opts.sshPort ? { port: opts.sshPort } : {}),
      },
      ...(opts.san ? { sans: opts.san } : {}),
      ...(opts.role ? { role: opts.role } : {}),
      port: opts.port,
      mode: opts.mode,
      ...(opts.allow ? { allow: opts.allow } : {}),
      ...(opts.days ? { days: opts.days } : {}),
      timeoutMs: opts.timeout,
      progress: (line) => ctx.out.info(line),
    },
    cliPassphraseSource(),
  );
}

export function renderHostsProvision(r: ProvisionResult): string {
  return [
    `host ${r.name} provisioned (${r.mode === 'gateway' ? 'gateway mode: the dockward-gateway service serves TLS' : 'native TLS: dockerd serves it'}): ${r.endpoint} (dockward ${r.remoteVersion} on the host)`,
    '  ran on the host:',
    ...r.ran.map((c) => `    ${c}`),
    `  server cert  ${r.server.name} (${r.server.sans.join(', ')}) until ${r.server.notAfter}; its key never left the host`,
    `  served       SHA-256 ${r.served.fingerprint} (the certificate just signed)`,
    `  client cert  ${r.added.host.certDir}${r.added.host.certName ? ` (${r.added.host.certName})` : ''}`,
    `  context      docker --context ${r.context.name} ps   (or: eval "$(dockward hosts env ${r.name})")`,
  ].join('\n');
}
