/**
 * Revocation reaching gateway-mode hosts: the admin machine's CRL goes over SSH to every host
 * provisioned with `--mode gateway`, where `dockward host crl` checks it against the host's CA,
 * installs it and reloads the gateway (which, run with --close-revoked, cuts the open connections
 * of the revoked certificates). Native-TLS hosts get nothing: dockerd cannot read a CRL.
 */
import { promises as fs } from 'node:fs';
import { DockwardError, describeError } from '../errors.js';
import type { StatePaths } from '../store/paths.js';
import { type HostRecord, loadInventory } from './inventory.js';
import { runSsh, type SshOptions, sshOptionsOf } from './provision.js';

export interface CrlPush {
  host: string;
  ok: boolean;
  /** What happened there, or why it failed. */
  detail: string;
  reloaded?: boolean;
}

/** The hosts to push to: the named ones (each must be a gateway-mode host), else every gateway-mode host. */
export function crlTargets(
  hosts: readonly HostRecord[],
  names: readonly string[] = [],
): { targets: HostRecord[]; refused: CrlPush[] } {
  if (names.length === 0)
    return { targets: hosts.filter((h) => h.provisioned?.mode === 'gateway'), refused: [] };
  const targets: HostRecord[] = [];
  const refused: CrlPush[] = [];
  for (const name of names) {
    const h = hosts.find((x) => x.name === name);
    if (!h) refused.push({ host: name, ok: false, detail: 'not in the inventory' });
    else if (h.provisioned?.mode !== 'gateway')
      refused.push({
        host: name,
        ok: false,
        detail: h.provisioned
          ? 'native TLS: dockerd cannot read a CRL (provision it with --mode gateway to enforce revocation)'
          : 'not provisioned over SSH (hosts provision): install the CRL there with dockward host crl',
      });
    else targets.push(h);
  }
  return { targets, refused };
}

/** The one remote command: the CRL arrives on stdin, into a private temp folder removed after. */
export const PUSH_COMMAND =
  'd=$(mktemp -d /tmp/dockward-crl.XXXXXXXX) || exit 1; cat > "$d/crl.pem" && dockward --json host crl --crl "$d/crl.pem"; rc=$?; rm -rf "$d"; exit $rc';

export async function pushCrl(
  paths: StatePaths,
  options: { names?: readonly string[]; progress?: (line: string) => void } = {},
): Promise<CrlPush[]> {
  const progress = options.progress ?? (() => undefined);
  const inventory = await loadInventory(paths);
  const { targets, refused } = crlTargets(inventory.hosts, options.names);
  let crlPem: string;
  try {
    crlPem = await fs.readFile(paths.crl, 'utf8');
  } catch (err) {
    throw new DockwardError('DW_E_FILE', `cannot read the CRL ${paths.crl}: ${describeError(err)}`, {
      hint: 'Create the PKI first (dockward pki init), or refresh the CRL (dockward pki crl --refresh).',
      cause: err,
    });
  }
  const results: CrlPush[] = [...refused];
  for (const host of targets) {
    const p = host.provisioned!;
    const ssh: SshOptions = sshOptionsOf(p);
    progress(`ssh ${ssh.target}: dockward host crl (the CRL on stdin)`);
    try {
      const run = await runSsh(ssh, PUSH_COMMAND, crlPem, 120_000);
      const r = JSON.parse(run.stdout) as { revoked: number; reloaded: boolean };
      results.push({
        host: host.name,
        ok: true,
        reloaded: r.reloaded,
        detail: `CRL installed (${r.revoked} revoked), ${r.reloaded ? 'gateway reloaded' : 'gateway not running: takes effect at its start'}`,
      });
    } catch (err) {
      results.push({ host: host.name, ok: false, detail: describeError(err) });
    }
  }
  return results;
}

/** Non-zero exit when a host did not get the CRL (the revocation itself stands). */
export function pushFailure(results: readonly CrlPush[]): DockwardError | undefined {
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return undefined;
  return new DockwardError('DW_E_CRL_PUSH', `the CRL did not reach ${failed.map((r) => r.host).join(', ')}`, {
    hint: 'Fix what is said above, then retry with dockward hosts push-crl NAME... (the revocation is recorded in the PKI already).',
    resultPrinted: true,
  });
}

export function renderCrlPushes(results: readonly CrlPush[]): string {
  if (results.length === 0) return 'CRL pushed to no host (no host provisioned with --mode gateway)';
  return results.map((r) => `  ${r.ok ? 'ok  ' : 'FAIL'} ${r.host}: ${r.detail}`).join('\n');
}
