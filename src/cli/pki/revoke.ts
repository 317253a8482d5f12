import { parseReason, revokeCertificate } from '../../pki/revoke.js';
import type { CommandContext } from '../context.js';
import { cliPassphraseSource } from '../passphrase.js';

export interface PkiRevokeOptions {
  name: string;
  reason: string;
  serial?: string;
}

export type PkiRevokeResult = Awaited<ReturnType<typeof revokeCertificate>>;

/** `dockward pki revoke NAME`: marks it revoked and re-signs the CRL. */
export function pkiRevoke(ctx: CommandContext, opts: PkiRevokeOptions): Promise<PkiRevokeResult> {
  const reason = parseReason(opts.reason);
  return revokeCertificate(
    ctx.paths,
    { name: opts.name, reason, ...(opts.serial ? { serial: opts.serial } : {}) },
    cliPassphraseSource(),
  );
}

export function renderPkiRevoke(r: PkiRevokeResult): string {
  return [
    `revoked ${r.record.name} (serial ${r.record.serial}, reason ${r.record.revocationReason})`,
    `CRL #${r.crl.crlNumber} written to ${r.crl.path} (${r.crl.revoked.length} revoked, next update ${r.crl.nextUpdate})`,
    'Reload the gateway (SIGHUP) so it refuses the certificate; dockerd itself cannot read a CRL.',
  ].join('\n');
}
