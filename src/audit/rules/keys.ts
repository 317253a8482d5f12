/** Private keys on the host that should not be there, or not readable by others. */
import type { AuditRule } from '../model.js';
import { tlsMode } from '../../daemon/effective-config.js';
import { factValue, fail, maybe, octal, pass, tcpEndpoints } from './rule-support.js';

export const caKeyOnHost: AuditRule = {
  id: 'ca-key-on-host',
  severity: 'high',
  area: 'tls',
  title: 'No CA private key is kept on the daemon host',
  rationale:
    'Whoever reads the CA key can mint client certificates that the daemon accepts: root on this host and on every host trusting that CA.',
  remediation:
    'Move the CA key off this host (keep it where dockward pki runs, passphrase-protected); the daemon needs only ca.pem, cert.pem and key.pem',
  needs: ['keys'],
  check(facts) {
    const all = factValue(facts.keys).filter((k) => k.isCaKey);
    // A dockward home with its CA is normal on the admin machine; it is a finding on a host whose
    // dockerd serves TLS, where it lets anyone with root there mint certificates for every host.
    const config = maybe(facts.config);
    const tlsServed = config !== undefined && tcpEndpoints(facts).length > 0 && tlsMode(config).tls;
    const keys = all.filter((k) => !k.inDockwardHome || tlsServed);
    const homes = all.filter((k) => k.inDockwardHome && !tlsServed);
    return keys.length > 0
      ? fail(
          keys.map(
            (k) =>
              `${k.path} is a CA private key${k.inDockwardHome ? ' (a dockward home) on a host whose dockerd serves TLS' : ''}${k.mode !== undefined ? ` (mode ${octal(k.mode)})` : ''}`,
          ),
        )
      : pass(
          homes.length > 0
            ? `${homes.map((k) => k.path).join(', ')}: a dockward CA on a host whose dockerd serves no TLS (the admin machine)`
            : 'no CA private key in /etc/docker, next to the server certificate or in a dockward home',
        );
  },
};

export const clientKeyExposed: AuditRule = {
  id: 'client-key-exposed',
  severity: 'high',
  area: 'tls',
  title: 'Client private keys are readable only by their owner',
  rationale:
    'A client key.pem readable by others lets any local user act as that client: root on the daemon.',
  remediation: 'chmod 600 <key.pem> (and 700 on its folder)',
  needs: ['keys'],
  check(facts) {
    const clients = factValue(facts.keys).filter((k) => k.role === 'client-key');
    const open = clients.filter((k) => k.mode !== undefined && (k.mode & 0o077) !== 0);
    if (open.length > 0)
      return fail(
        open.map((k) => `${k.path}: mode ${octal(k.mode ?? 0)}`),
        `chmod 600 ${open.map((k) => k.path).join(' ')}`,
      );
    return pass(
      clients.length === 0 ? 'no client key found' : `${clients.length} client key(s), each 0600 or stricter`,
    );
  },
};
