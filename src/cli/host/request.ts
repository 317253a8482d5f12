import { type RequestResult, requestCertificate } from '../../daemon/host-enrol.js';
import { parseKeyType } from '../../pki/keys.js';
import { writeFileAtomic } from '../../store/atomic-write.js';
import type { CommandContext } from '../context.js';

export interface HostRequestOptions {
  san?: string[];
  hostSans: boolean;
  name?: string;
  tlsDir: string;
  keyType: string;
  out?: string;
}

export type HostRequestResult = RequestResult & { out?: string };

/** `dockward host request`: the server key stays here (0400); the CSR goes to stdout or --out. */
export async function hostRequest(ctx: CommandContext, opts: HostRequestOptions): Promise<HostRequestResult> {
  const r = await requestCertificate({
    ...(opts.san ? { sans: opts.san } : {}),
    hostSans: opts.hostSans,
    ...(opts.name ? { name: opts.name } : {}),
    tlsDir: opts.tlsDir,
    keyType: parseKeyType(opts.keyType),
  });
  ctx.out.info(`made the server key ${r.keyPath} (0400; it never leaves this host)`);
  if (opts.out) {
    await writeFileAtomic(opts.out, r.csr, { mode: 0o644 });
    return { ...r, out: opts.out };
  }
  return r;
}

export function renderHostRequest(r: HostRequestResult): string {
  if (!r.out) return r.csr.trimEnd();
  return [
    `certificate request for ${r.name} written to ${r.out}`,
    `  SANs  ${r.sans.join(', ')}`,
    `  key   ${r.keyPath} (public key SHA-256 ${r.publicKeyFingerprint})`,
    `next, on the admin machine: dockward pki sign ${r.out} --out cert.pem`,
  ].join('\n');
}
