import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCidr, parseRuleset, renderFirewallUnit, renderRuleset } from './firewall.js';

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
