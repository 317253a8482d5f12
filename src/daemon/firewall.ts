/**
 * Trusted IPs for native TLS: dockerd itself has no allowlist, so `init --allow CIDR` writes an
 * nftables table of dockward's own (`table inet dockward`) that lets only the listed sources reach
 * the TLS port. The table is dockward's alone: it never flushes the ruleset, so docker's own
 * iptables-nft rules and the admin's tables stay untouched.
 *
 * Persistence is a oneshot unit of dockward's (`dockward-firewall.service`) that loads the ruleset
 * file at boot, not Debian's /etc/nftables.conf: that file starts with `flush ruleset` (it would
 * wipe docker's NAT rules whenever nftables.service is restarted) and nftables.service is disabled
 * by default, so an include there would silently not load.
 *
 * Pure text here; `applyFirewall` / `restoreFirewall` do the I/O.
 */
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { DockwardError } from '../errors.js';
import { backupFile, ensureDir, writeFileAtomic } from '../store/atomic-write.js';
import { type ProgramRunner, runProgram } from './systemd-io.js';

export const FIREWALL_TABLE = 'dockward';
export const FIREWALL_FILE = 'etc/dockward/firewall.nft';
export const FIREWALL_UNIT = 'dockward-firewall.service';
export const FIREWALL_UNIT_FILE = `etc/systemd/system/${FIREWALL_UNIT}`;

export interface Cidr {
  family: 4 | 6;
  /** Normalised `ADDRESS/PREFIX`. */
  text: string;
}

/** Parses `--allow` values: `ADDR/PREFIX` or a bare address (a single host). */
export function parseCidr(value: string): Cidr {
  const [address = '', prefixText, extra] = value.trim().split('/');
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (
    family === 0 ||
    extra !== undefined ||
    (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) ||
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max
  ) {
    throw new DockwardError('DW_E_USAGE', `--allow "${value}" is not an IP address or CIDR`, {
      hint: 'Write it as 198.51.100.7, 198.51.100.0/24 or 2001:db8::/64.',
    });
  }
  return { family: family === 6 ? 6 : 4, text: `${address.toLowerCase()}/${prefix}` };
}

/**
 * The ruleset file. It starts by creating then deleting the table so `nft -f` replaces it in one
 * transaction (nft applies a file atomically: all of it or none), also when it already exists.
 * Rejected with a TCP reset, so a refused client fails at once instead of hanging until a timeout.
 */
export function renderRuleset(port: number, allow: readonly Cidr[]): string {
  const v4 = allow.filter((c) => c.family === 4).map((c) => c.text);
  const v6 = allow.filter((c) => c.family === 6).map((c) => c.text);
  const lines = [
    '#!/usr/sbin/nft -f',
    '# Written by dockward init --allow: only these sources reach the Docker TLS port.',
    `# allow: ${allow.map((c) => c.text).join(' ') || '(none)'}`,
    `table inet ${FIREWALL_TABLE}`,
    `delete table inet ${FIREWALL_TABLE}`,
    `table inet ${FIREWALL_TABLE} {`,
    '\tchain input {',
    // Before the usual filter priority: an accept elsewhere cannot let a stranger past this reject.
    '\t\ttype filter hook input priority filter - 10; policy accept;',
    // Loopback always: init's own check and local health checks dial 127.0.0.1:PORT.
    `\t\tiif "lo" accept`,
    ...(v4.length > 0 ? [`\t\ttcp dport ${port} ip saddr { ${v4.join(', ')} } accept`] : []),
    ...(v6.length > 0 ? [`\t\ttcp dport ${port} ip6 saddr { ${v6.join(', ')} } accept`] : []),
    `\t\ttcp dport ${port} reject with tcp reset`,
    '\t}',
    '}',
    '',
  ];
  return lines.join('\n');
}

/** The boot unit: loads the ruleset before dockerd listens, so the port is never open at boot. */
export function renderFirewallUnit(nft = '/usr/sbin/nft'): string {
  return [
    '# Written by dockward init --allow.',
    '[Unit]',
    'Description=dockward: trusted sources for the Docker TLS port (nftables table inet dockward)',
    'DefaultDependencies=no',
    'Before=network-pre.target docker.service',
    'Wants=network-pre.target',
    'After=local-fs.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${nft} -f /${FIREWALL_FILE}`,
    `ExecStop=${nft} delete table inet ${FIREWALL_TABLE}`,
    '',
    '[Install]',
    'WantedBy=sysinit.target',
    '',
  ].join('\n');
}

/** What a live `nft list table inet dockward` (or the ruleset file) says is allowed to the port. */
export interface FirewallState {
  port: number;
  allow: string[];
  rejectsOthers: boolean;
}

/** Reads dockward's own table back (the shape `renderRuleset` writes, as nft lists it). */
export function parseRuleset(text: string): FirewallState | undefined {
  const reject = /tcp dport (\d+) reject/.exec(text);
  const accepts = [...text.matchAll(/tcp dport (\d+) ip6? saddr (?:\{ ([^}]*) \}|(\S+)) accept/g)];
  const port = Number(reject?.[1] ?? accepts[0]?.[1]);
  if (!Number.isInteger(port) || port <= 0) return undefined;
  const allow = accepts
    .filter((m) => Number(m[1]) === port)
    .flatMap((m) => (m[2] ?? m[3] ?? '').split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return { port, allow, rejectsOthers: reject !== null };
}

/** What `applyFirewall` changed, for `restoreFirewall` when the daemon apply fails after it. */
export interface AppliedFirewall {
  root: string;
  previousRuleset: string | undefined;
  previousUnit: string | undefined;
  backup: string | undefined;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function must(
  run: ProgramRunner,
  program: string,
  args: readonly string[],
  what: string,
): Promise<void> {
  const res = await run(program, args, { timeoutMs: 60_000 });
  if (res.code !== 0) {
    throw new DockwardError('DW_E_UPSTREAM', `${what} failed: ${(res.stderr || res.stdout).trim()}`, {
      hint:
        res.code === null
          ? `Install ${program} (Debian: apt-get install nftables) or leave out --allow.`
          : `Run \`${program} ${args.join(' ')}\` by hand to see why.`,
    });
  }
}

/**
 * Writes the ruleset file and the boot unit (backups of what was there), loads the ruleset with
 * `nft -f` (atomic), and enables the unit for the next boot.
 */
export async function applyFirewall(
  port: number,
  allow: readonly Cidr[],
  options: { root?: string; run?: ProgramRunner; progress?: (line: string) => void } = {},
): Promise<AppliedFirewall> {
  const root = options.root ?? '/';
  const run = options.run ?? runProgram;
  const file = join(root, FIREWALL_FILE);
  const unitFile = join(root, FIREWALL_UNIT_FILE);
  const previousRuleset = await readIfExists(file);
  const previousUnit = await readIfExists(unitFile);
  await ensureDir(join(root, 'etc/dockward'), 0o755);
  const backup = await backupFile(file);
  const text = renderRuleset(port, allow);
  // Checked before anything is written: a ruleset nft refuses never reaches the file or the kernel.
  const tmp = `${file}.check`;
  await writeFileAtomic(tmp, text, { mode: 0o600 });
  try {
    await must(run, 'nft', ['-c', '-f', tmp], 'nft -c (check of the ruleset)');
  } finally {
    await fs.rm(tmp, { force: true });
  }
  await writeFileAtomic(file, text, { mode: 0o600 });
  await ensureDir(dirname(unitFile), 0o755);
  await writeFileAtomic(unitFile, renderFirewallUnit(), { mode: 0o644 });
  const applied = { root, previousRuleset, previousUnit, backup };
  try {
    await must(run, 'nft', ['-f', file], 'nft -f');
    await must(run, 'systemctl', ['daemon-reload'], 'systemctl daemon-reload');
    await must(run, 'systemctl', ['enable', FIREWALL_UNIT], `systemctl enable ${FIREWALL_UNIT}`);
  } catch (err) {
    await restoreFirewall(applied, { run });
    throw err;
  }
  options.progress?.(
    `firewall: ${port}/tcp only from ${allow.map((c) => c.text).join(', ')} and loopback (${join('/', FIREWALL_FILE)}, loaded at boot by ${FIREWALL_UNIT})`,
  );
  return applied;
}

/** Puts back the firewall as it was before `applyFirewall` (the previous table, or none). */
export async function restoreFirewall(
  applied: AppliedFirewall,
  options: { run?: ProgramRunner } = {},
): Promise<void> {
  const run = options.run ?? runProgram;
  const file = join(applied.root, FIREWALL_FILE);
  const unitFile = join(applied.root, FIREWALL_UNIT_FILE);
  if (applied.previousRuleset !== undefined) {
    await writeFileAtomic(file, applied.previousRuleset, { mode: 0o600 });
    await run('nft', ['-f', file]);
  } else {
    await fs.rm(file, { force: true });
    await run('nft', ['delete', 'table', 'inet', FIREWALL_TABLE]);
  }
  if (applied.previousUnit !== undefined) {
    await writeFileAtomic(unitFile, applied.previousUnit, { mode: 0o644 });
  } else {
    await run('systemctl', ['disable', FIREWALL_UNIT]);
    await fs.rm(unitFile, { force: true });
  }
  await run('systemctl', ['daemon-reload']);
}
