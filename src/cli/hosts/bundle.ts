import { type BundleResult, bundleHost, parseBundleFormat } from '../../fleet/bundle.js';
import type { CommandContext } from '../context.js';

export interface HostsBundleOptions {
  name: string;
  out: string;
  format: string;
  force?: boolean;
}

/** `dockward hosts bundle NAME --out FILE`: the host's certificates for CI. */
export function hostsBundle(ctx: CommandContext, opts: HostsBundleOptions): Promise<BundleResult> {
  const format = parseBundleFormat(opts.format);
  return bundleHost(ctx.paths, opts.name, { out: opts.out, format, force: opts.force === true });
}

export function renderHostsBundle(r: BundleResult): string {
  return [
    `${r.format} bundle for ${r.host} written: ${r.path} (0600, certificate serial ${r.serial})`,
    '  it holds a private key: store it as a CI secret (docs/ci-bundles.md)',
    '  `dockward hosts renew` rewrites this file with the new certificate',
  ].join('\n');
}
