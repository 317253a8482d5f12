/**
 * Trusted IPs for native TLS (issue 14): dockerd has no allowlist of its own, so a TLS port bound
 * to every address is reachable by anyone who can route to it. A client certificate is still
 * needed, but dockerd cannot check revocation (moby#27778): a stolen, revoked certificate works
 * from anywhere unless a firewall limits the sources.
 */
import type { AuditRule } from '../model.js';
import { fail, isWildcardAddress, maybe, pass, skip, tcpEndpoints } from './rule-support.js';

export const tlsPortRestricted: AuditRule = {
  id: 'tls-port-restricted',
  severity: 'medium',
  area: 'listeners',
  title: "The daemon's tcp port is open only to trusted sources",
  rationale:
    'dockerd accepts TLS clients from any address and cannot check a CRL: limiting the sources is what keeps a leaked or revoked client certificate from working everywhere.',
  remediation: 'dockward init --allow CIDR (repeatable): an nftables table of dockward, loaded at boot',
  needs: ['config'],
  check(facts) {
    const endpoints = tcpEndpoints(facts).filter((e) => !/^(127\.|::1$|\[::1\]$|localhost$)/.test(e.address));
    if (endpoints.length === 0) return pass('no tcp listener beyond loopback');
    const fw = maybe(facts.firewall);
    if (!fw) return skip('the firewall cannot be read from here');
    const open: string[] = [];
    const restricted: string[] = [];
    for (const e of endpoints) {
      const t = fw.table;
      if (t && t.port === e.port && t.rejectsOthers) {
        restricted.push(
          `${e.url}: only from ${t.allow.join(', ') || 'loopback'} and loopback (${fw.source})`,
        );
      } else {
        const scope = isWildcardAddress(e.address) ? 'every address' : e.address;
        open.push(
          `${e.url} on ${scope} is open to every source: no dockward rule for port ${e.port} (${fw.source})`,
        );
      }
    }
    if (open.length > 0) return fail([...open, ...restricted]);
    return pass(...restricted);
  },
};
