import { type RenewResult, renewCertificates } from '../../pki/renew.js';
import type { CommandContext } from '../context.js';
import { windowOf } from '../options.js';
import { cliPassphraseSource } from '../passphrase.js';

export interface PkiRenewOptions {
  name?: string;
  within?: string;
  days?: number;
}

/** `dockward pki renew [NAME]`: new key and certificate, same subject and SANs. */
export function pkiRenew(ctx: CommandContext, opts: PkiRenewOptions): Promise<RenewResult> {
  const withinMs = opts.within !== undefined ? windowOf(opts.within) : undefined;
  return renewCertificates(
    ctx.paths,
    {
      ...(opts.name ? { name: opts.name } : {}),
      ...(withinMs !== undefined ? { withinMs } : {}),
      ...(opts.days ? { days: opts.days } : {}),
    },
    cliPassphraseSource(),
  );
}

export function renderPkiRenew(r: RenewResult): string {
  return [
    ...r.renewed.map(
      (x) =>
        `renewed ${x.name}: serial ${x.oldSerial} -> ${x.record.serial}, valid until ${x.record.notAfter}`,
    ),
    ...r.skipped.map((x) => `skipped ${x.name}: ${x.reason}`),
    ...(r.renewed.length === 0 && r.skipped.length === 0 ? ['nothing to renew'] : []),
  ].join('\n');
}
