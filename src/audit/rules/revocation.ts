/**
 * Revocation on native TLS (issue 14): dockerd verifies client certificates against tlscacert but
 * reads no CRL (moby#27778), so revoking a certificate in the PKI does not stop it here. The rule
 * says so wherever dockerd serves TLS with client verification itself; a host whose port is fronted
 * by dockward's gateway (dockerd on its unix socket only) is where revocation works.
 */
import { tlsMode } from '../../daemon/effective-config.js';
import type { AuditRule } from '../model.js';
import { factValue, pass, skip, tcpEndpoints, warn } from './rule-support.js';

export const revocationUnenforceable: AuditRule = {
  id: 'revocation-unenforceable',
  severity: 'medium',
  area: 'listeners',
  title: 'A revoked client certificate is refused on the daemon port',
  rationale:
    'dockerd checks a client certificate against its CA only and reads no CRL (moby#27778): a revoked certificate keeps working on native TLS until the CA itself is replaced.',
  remediation:
    'Put the port behind the gateway (`dockward init --mode gateway`: dockerd on its unix socket, the gateway checks the CRL on every handshake); otherwise limit the sources (`--allow CIDR`) and keep client certificates short-lived (`hosts renew`)',
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const endpoints = tcpEndpoints(facts);
    if (endpoints.length === 0) {
      return pass(
        'dockerd serves no tcp listener (local sockets only): a TLS port here is fronted by the gateway, which checks the CRL',
      );
    }
    const tls = tlsMode(effective);
    if (!tls.tls || !tls.verify) {
      return skip('not applicable: dockerd does not verify client certificates here (see tls-auth)');
    }
    return warn([
      ...endpoints.map(
        (e) => `dockerd serves TLS with client verification on ${e.url} (${e.where}) and reads no CRL`,
      ),
      'a client certificate revoked with `dockward pki revoke` still connects here (moby#27778)',
    ]);
  },
};
