/**
 * CIS 2.7 and the listener checks beyond it. What a loopback probe saw wins over what the
 * configuration says (a stray `-H` in a drop-in, a socket unit); with no probe (an offline
 * `--root`), the configuration decides and the evidence says so.
 */
import { tlsMode } from '../../daemon/effective-config.js';
import type { AuditFacts, AuditRule, ListenerFact, RuleOutcome } from '../model.js';
import {
  describeSetting,
  fail,
  HARDEN_REMOTE_TLS,
  maybe,
  pass,
  setting,
  skip,
  tcpEndpoints,
  factValue,
} from './rule-support.js';

const TLS_KEYS = ['tlsverify', 'tlscacert', 'tlscert', 'tlskey'] as const;

export const tlsAuth: AuditRule = {
  id: 'tls-auth',
  cis: '2.7',
  severity: 'high',
  area: 'daemon-config',
  title: 'TLS authentication for the Docker daemon is configured',
  rationale:
    'A tcp listener without TLS client verification gives root on this host to anyone who can reach the port.',
  remediation: `${HARDEN_REMOTE_TLS} (writes "tlsverify": true with tlscacert, tlscert and tlskey), or remove the tcp listener`,
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const endpoints = tcpEndpoints(facts);
    if (endpoints.length === 0)
      return pass('no tcp listener in hosts or docker.socket: the API is served on local sockets only');
    const tls = tlsMode(effective);
    const missing = TLS_KEYS.filter((k) => k !== 'tlsverify' && !setting(effective, k)?.explicit);
    const evidence = [
      ...endpoints.map((e) => `listens on ${e.url}: ${e.where}`),
      ...TLS_KEYS.map((k) => describeSetting(effective, k)),
    ];
    if (tls.tls && tls.verify && missing.length === 0) return pass(...evidence);
    const why = !tls.tls
      ? 'TLS is off'
      : !tls.verify
        ? 'TLS is on but clients are not verified (tlsverify false)'
        : `${missing.join(', ')} not set: dockerd falls back to ~/.docker of the user it runs as`;
    return fail([why, ...evidence]);
  },
};

/** The listeners a probe looked at. */
function probed(facts: AuditFacts): ListenerFact[] | undefined {
  const list = maybe(facts.listeners);
  if (!list) return undefined;
  const seen = list.filter((l) => l.plainHttpPing !== undefined || l.tlsWithoutClientCert !== undefined);
  return seen.length > 0 ? seen : undefined;
}

function listenerName(l: ListenerFact): string {
  const host = l.address.includes(':') ? `[${l.address}]` : l.address;
  return `tcp://${host}:${l.port} (seen in ${l.seenIn.join(', ')})`;
}

export const tcpWithoutTls: AuditRule = {
  id: 'tcp-without-tls',
  severity: 'critical',
  area: 'listeners',
  title: 'No tcp listener answers the API over plain HTTP',
  rationale:
    'A port that answers GET /_ping in plain HTTP is an unauthenticated root shell for anyone who reaches it (the most common way Docker hosts are taken over).',
  remediation: `${HARDEN_REMOTE_TLS}, or remove the tcp:// entry from hosts / -H / ListenStream=`,
  needs: [],
  check(facts): RuleOutcome {
    const live = probed(facts);
    if (live) {
      const open = live.filter((l) => l.plainHttpPing === true);
      if (open.length > 0)
        return fail(open.map((l) => `${listenerName(l)} answered GET /_ping over plain HTTP`));
      return pass(...live.map((l) => `${listenerName(l)} did not answer plain HTTP`));
    }
    const effective = maybe(facts.config);
    if (!effective) return skip('no probe result and no configuration to judge from');
    const endpoints = tcpEndpoints(facts);
    if (endpoints.length === 0) return pass('from configuration: no tcp listener');
    if (tlsMode(effective).tls)
      return pass(...endpoints.map((e) => `from configuration: ${e.url} is served with TLS (${e.where})`));
    return fail(endpoints.map((e) => `from configuration: ${e.url} without TLS (${e.where})`));
  },
};

export const tlsWithoutVerify: AuditRule = {
  id: 'tls-without-verify',
  severity: 'critical',
  area: 'listeners',
  title: 'No TLS listener accepts clients without a certificate',
  rationale:
    'TLS without client verification encrypts the connection but lets anyone in: every client that completes a handshake gets root on this host.',
  remediation: `Set "tlsverify": true with "tlscacert" in daemon.json (${HARDEN_REMOTE_TLS})`,
  needs: [],
  check(facts): RuleOutcome {
    const live = probed(facts);
    if (live) {
      const open = live.filter((l) => l.tlsWithoutClientCert === 'accepted');
      if (open.length > 0)
        return fail(
          open.map((l) => `${listenerName(l)} answered GET /_ping over TLS to a client with no certificate`),
        );
      return pass(
        ...live.map(
          (l) =>
            `${listenerName(l)}: handshake without a client certificate ${l.tlsWithoutClientCert ?? 'not tried'}`,
        ),
      );
    }
    const effective = maybe(facts.config);
    if (!effective) return skip('no probe result and no configuration to judge from');
    const endpoints = tcpEndpoints(facts);
    const tls = tlsMode(effective);
    if (endpoints.length === 0 || !tls.tls) return pass('from configuration: no TLS listener');
    if (tls.verify)
      return pass(
        `from configuration: clients must present a certificate (${describeSetting(effective, 'tlsverify')})`,
      );
    return fail([
      ...endpoints.map(
        (e) => `from configuration: ${e.url} with TLS but no client verification (${e.where})`,
      ),
      describeSetting(effective, 'tlsverify'),
    ]);
  },
};
