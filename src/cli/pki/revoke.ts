import { type CrlPush, pushCrl, pushFailure, renderCrlPushes } from '../../fleet/push-crl.js';
import { describeError } from '../../errors.js';
import { loadInventory } from '../../fleet/inventory.js';
import { parseReason, revokeCertificate } from '../../pki/revoke.js';
import type { CommandContext } from '../context.js';
import { cliPassphraseSource } from '../passphrase.js';

export interface PkiRevokeOptions {
  name: string;
  reason: string;
  serial?: string;
  /** false (`--no-push`): leave the gateway-mode hosts for a later `hosts push-crl`. */
  push?: boolean;
}

export type PkiRevokeResult = Awaited<ReturnType<typeof revokeCertificate>> & {
  /** Per gateway-mode host of the inventory: did the new CRL reach it and was the gateway reloaded. */
  pushed: CrlPush[] | undefined;
};

/** `dockward pki revoke NAME`: marks it revoked, re-signs the CRL, pushes it to gateway-mode hosts. */
export async function pkiRevoke(ctx: CommandContext, opts: PkiRevokeOptions): Promise<PkiRevokeResult> {
  const reason = parseReason(opts.reason);
  const revoked = await revokeCertificate(
    ctx.paths,
    { name: opts.name, reason, ...(opts.serial ? { serial: opts.serial } : {}) },
    cliPassphraseSource(),
  );
  if (opts.push === false) return { ...revoked, pushed: undefined };
  // The revocation is recorded: from here a failure is reported per host, never thrown.
  let pushed: CrlPush[] | undefined;
  try {
    const inventory = await loadInventory(ctx.paths);
    if (inventory.hosts.some((h) => h.provisioned?.mode === 'gateway')) {
      pushed = await pushCrl(ctx.paths, { progress: (line) => ctx.out.info(line) });
    }
  } catch (err) {
    pushed = [{ host: '(inventory)', ok: false, detail: describeError(err) }];
  }
  return { ...revoked, pushed };
}

/** The exit status after the result is printed: a host the CRL did not reach fails the command. */
export function revokeFailure(r: PkiRevokeResult): Error | undefined {
  return r.pushed ? pushFailure(r.pushed) : undefined;
}

export function renderPkiRevoke(r: PkiRevokeResult): string {
  return [
    `revoked ${r.record.name} (serial ${r.record.serial}, reason ${r.record.revocationReason})`,
    `CRL #${r.crl.crlNumber} written to ${r.crl.path} (${r.crl.revoked.length} revoked, next update ${r.crl.nextUpdate})`,
    ...(r.pushed
      ? ['pushed to the gateway-mode hosts:', renderCrlPushes(r.pushed)]
      : [
          'No gateway-mode host got it (none provisioned, or --no-push): `dockward hosts push-crl` sends it; on other hosts, `dockward host crl --crl FILE`. dockerd itself cannot read a CRL.',
        ]),
  ].join('\n');
}
