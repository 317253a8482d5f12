/**
 * The firewall fact: what dockward's own nftables table (`table inet dockward`, written by
 * `init --allow`) lets through. Live from `nft list table` on a running host (what the kernel
 * enforces, not what a file says), from the ruleset file for an offline `--root` tree.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { FIREWALL_FILE, FIREWALL_TABLE, parseRuleset } from '../../daemon/firewall.js';
import { type ProgramRunner, runProgram } from '../../daemon/systemd-io.js';
import type { Fact, FirewallFact } from '../model.js';

export async function collectFirewall(options: {
  root?: string;
  live: boolean;
  run?: ProgramRunner;
}): Promise<Fact<FirewallFact>> {
  if (options.live) {
    const run = options.run ?? runProgram;
    const res = await run('nft', ['list', 'table', 'inet', FIREWALL_TABLE], { timeoutMs: 10_000 });
    if (res.code === null)
      return { state: 'missing', reason: 'nft is not installed: no nftables rules to read' };
    // A missing table is an answer (nothing restricts the port), not a read error.
    if (res.code !== 0) {
      if (/No such file|does not exist/i.test(res.stderr))
        return { state: 'ok', value: { source: `nft list table inet ${FIREWALL_TABLE}`, table: undefined } };
      return { state: 'error', reason: res.stderr.trim(), where: 'nft list table' };
    }
    return {
      state: 'ok',
      value: { source: `nft list table inet ${FIREWALL_TABLE}`, table: parseRuleset(res.stdout) },
    };
  }
  const path = join(options.root ?? '/', FIREWALL_FILE);
  try {
    return { state: 'ok', value: { source: path, table: parseRuleset(await fs.readFile(path, 'utf8')) } };
  } catch {
    return { state: 'ok', value: { source: path, table: undefined } };
  }
}
