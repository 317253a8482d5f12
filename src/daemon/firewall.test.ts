import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyFirewall,
  FIREWALL_FILE,
  FIREWALL_UNIT_FILE,
  parseCidr,
  parseRuleset,
  renderFirewallUnit,
  renderRuleset,
  restoreFirewall,
} from './firewall.js';
import type { ProgramRunner } from './systemd-io.js';

describe('firewall ruleset', () => {
  it('reads a bare address as a single host and keeps a prefix', () => {
    assert.deepEqual(parseCidr('198.18.0.2'), { family: 4, text: '198.18.0.2/32' });
    assert.deepEqual(parseCidr('198.18.0.0/24'), { family: 4, text: '198.18.0.0/24' });
    assert.deepEqual(parseCidr('FD00:D0C:1::2/64'), { family: 6, text: 'fd00:d0c:1::2/64' });
  });

  it('refuses what is not an address or CIDR', () => {
    for (const bad of ['198.18.0.2/33', 'host.example', '10.0.0.0/8/1', '::/129', '10.0.0.0/x', ''])
      assert.throws(() => parseCidr(bad), /DW_E_USAGE|is not an IP address or CIDR/, bad);
  });

  it('allows loopback, the listed sources per family, and rejects the rest of the port with a reset', () => {
    const text = renderRuleset(2376, [parseCidr('198.18.0.2'), parseCidr('fd00:d0c:1::2/128')]);
    assert.match(text, /^table inet dockward\ndelete table inet dockward\ntable inet dockward \{/m);
    assert.match(text, /iif "lo" accept/);
    assert.match(text, /tcp dport 2376 ip saddr \{ 198\.18\.0\.2\/32 \} accept/);
    assert.match(text, /tcp dport 2376 ip6 saddr \{ fd00:d0c:1::2\/128 \} accept/);
    assert.match(text, /tcp dport 2376 reject with tcp reset/);
    assert.ok(text.indexOf('iif "lo"') < text.indexOf('reject'), 'loopback before the reject');
  });

  it('writes no ip6 rule when only IPv4 sources are listed', () => {
    assert.doesNotMatch(renderRuleset(2376, [parseCidr('10.0.0.0/8')]), /ip6 saddr/);
  });

  it('reads back what it wrote, and nft list output', () => {
    const text = renderRuleset(2376, [parseCidr('198.18.0.2'), parseCidr('10.0.0.0/8')]);
    assert.deepEqual(parseRuleset(text), {
      port: 2376,
      allow: ['198.18.0.2/32', '10.0.0.0/8'],
      rejectsOthers: true,
    });
    // nft prints a one-element set without braces and a /32 as the bare address.
    const listed =
      'table inet dockward {\n\tchain input {\n\t\ttcp dport 2376 ip saddr 198.18.0.2 accept\n\t\ttcp dport 2376 reject with tcp reset\n\t}\n}\n';
    assert.deepEqual(parseRuleset(listed), { port: 2376, allow: ['198.18.0.2'], rejectsOthers: true });
    assert.equal(parseRuleset('table inet other {}'), undefined);
  });

  it('loads the ruleset at boot before docker.service', () => {
    const unit = renderFirewallUnit();
    assert.match(unit, /^Before=network-pre\.target docker\.service$/m);
    assert.match(unit, /^ExecStart=\/usr\/sbin\/nft -f \/etc\/dockward\/firewall\.nft$/m);
    assert.match(unit, /^Type=oneshot$/m);
    assert.match(unit, /^WantedBy=sysinit\.target$/m);
  });
});

describe('applying the firewall', () => {
  /** A runner that records each call and fails the calls `fails` picks. */
  function recorder(fails: (program: string, args: readonly string[]) => boolean = () => false) {
    const calls: string[] = [];
    const run: ProgramRunner = async (program, args) => {
      calls.push(`${program} ${args.join(' ')}`);
      return fails(program, args)
        ? { code: 1, stdout: '', stderr: 'refused' }
        : { code: 0, stdout: '', stderr: '' };
    };
    return { calls, run };
  }

  it('checks, loads and enables; restoring removes the table, the file and the unit it added', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dw-fw-'));
    try {
      const { calls, run } = recorder();
      const applied = await applyFirewall(2376, [parseCidr('198.18.0.2')], { root, run });
      assert.match(readFileSync(join(root, FIREWALL_FILE), 'utf8'), /ip saddr \{ 198\.18\.0\.2\/32 \}/);
      assert.ok(existsSync(join(root, FIREWALL_UNIT_FILE)));
      assert.deepEqual(
        calls.map((c) => c.replace(root, 'ROOT')),
        [
          `nft -c -f ROOT/${FIREWALL_FILE}.check`,
          `nft -f ROOT/${FIREWALL_FILE}`,
          'systemctl daemon-reload',
          'systemctl enable dockward-firewall.service',
        ],
      );
      calls.length = 0;
      await restoreFirewall(applied, { run });
      assert.ok(!existsSync(join(root, FIREWALL_FILE)));
      assert.ok(!existsSync(join(root, FIREWALL_UNIT_FILE)));
      assert.ok(calls.includes('nft delete table inet dockward'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('puts the previous ruleset back when nft -f refuses the new one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dw-fw-'));
    try {
      await applyFirewall(2376, [parseCidr('10.0.0.1')], { root, run: recorder().run });
      const { calls, run } = recorder((p, a) => p === 'nft' && a[0] === '-f' && calls.length === 2);
      await assert.rejects(applyFirewall(2376, [parseCidr('10.0.0.2')], { root, run }), /nft -f failed/);
      assert.match(readFileSync(join(root, FIREWALL_FILE), 'utf8'), /10\.0\.0\.1\/32/);
      assert.ok(existsSync(join(root, FIREWALL_UNIT_FILE)), 'the unit that was there stays');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('writes nothing when nft -c refuses the ruleset', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dw-fw-'));
    try {
      const { run } = recorder((p, a) => p === 'nft' && a[0] === '-c');
      await assert.rejects(applyFirewall(2376, [parseCidr('10.0.0.1')], { root, run }), /nft -c/);
      assert.ok(!existsSync(join(root, FIREWALL_FILE)));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
