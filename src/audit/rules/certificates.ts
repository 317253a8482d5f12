/** The daemon's TLS certificates: trust anchor, dates, strength and names. */
import { isIP } from 'node:net';
import { SYSTEM_TRUST_BUNDLES } from '../../daemon/checks.js';
import { DAY_MS, daysLeft, EXPIRING_DAYS } from '../../pki/status.js';
import type { AuditRule, CertFact } from '../model.js';
import {
  fail,
  HARDEN_REMOTE_TLS,
  info,
  isWildcardAddress,
  maybe,
  pass,
  setting,
  skip,
  tcpEndpoints,
  factValue,
  warn,
} from './rule-support.js';

/** More certificates than this in tlscacert is a trust bundle, not a private CA. */
const MAX_CA_CERTS = 10;

function name(c: CertFact): string {
  return `${c.path} (${c.role}, ${c.subject})`;
}

export const tlscacertSystemBundle: AuditRule = {
  id: 'tlscacert-system-bundle',
  severity: 'critical',
  area: 'tls',
  title: 'tlscacert is a private CA, not the system trust bundle',
  rationale:
    'dockerd accepts any client certificate that chains to tlscacert: pointed at the public trust bundle, anyone who can buy a certificate gets root on this host.',
  remediation: `Point "tlscacert" at your own CA (dockward pki init; ${HARDEN_REMOTE_TLS})`,
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const ca = setting(effective, 'tlscacert');
    if (!ca?.explicit || typeof ca.value !== 'string') return pass('tlscacert: not set');
    if (SYSTEM_TRUST_BUNDLES.includes(ca.value))
      return fail([`tlscacert: ${ca.value} (${ca.where}) is the system trust bundle`]);
    const parsed = maybe(facts.certs)?.find((c) => c.role === 'tlscacert');
    if (parsed && parsed.bundleSize > MAX_CA_CERTS)
      return fail([
        `tlscacert: ${ca.value} (${ca.where}) holds ${parsed.bundleSize} certificates: a trust bundle, not a private CA`,
      ]);
    return pass(
      `tlscacert: ${ca.value} (${ca.where})${parsed ? `, ${parsed.bundleSize} certificate(s)` : ''}`,
    );
  },
};

export const certExpired: AuditRule = {
  id: 'cert-expired',
  severity: 'high',
  area: 'tls',
  title: 'No daemon certificate is expired or not yet valid',
  rationale:
    'An expired server or CA certificate breaks every TLS client; clients then get told to skip verification.',
  remediation: 'dockward pki renew, then restart dockerd (TLS files are not reloaded on SIGHUP)',
  needs: ['certs'],
  check(facts) {
    const certs = factValue(facts.certs);
    if (certs.length === 0) return info('no certificate configured or found');
    const now = facts.now.getTime();
    const bad: string[] = [];
    for (const c of certs) {
      if (Date.parse(c.notAfter) <= now) bad.push(`${name(c)} expired on ${c.notAfter}`);
      else if (Date.parse(c.notBefore) > now) bad.push(`${name(c)} is not valid before ${c.notBefore}`);
    }
    return bad.length > 0 ? fail(bad) : pass(...certs.map((c) => `${name(c)} valid until ${c.notAfter}`));
  },
};

export const certExpiring: AuditRule = {
  id: 'cert-expiring',
  severity: 'medium',
  area: 'tls',
  title: `No daemon certificate expires within ${EXPIRING_DAYS} days`,
  rationale: 'Renewing before expiry avoids an outage; dockerd needs a restart to load new certificates.',
  remediation: 'dockward pki renew, then restart dockerd',
  needs: ['certs'],
  check(facts) {
    const certs = factValue(facts.certs);
    if (certs.length === 0) return info('no certificate configured or found');
    const now = facts.now.getTime();
    const soon = certs.filter((c) => {
      const end = Date.parse(c.notAfter);
      return end > now && end - now < EXPIRING_DAYS * DAY_MS;
    });
    if (soon.length === 0) return pass(`no certificate expires within ${EXPIRING_DAYS} days`);
    return warn(
      soon.map((c) => `${name(c)} expires on ${c.notAfter} (in ${daysLeft(c.notAfter, new Date(now))} days)`),
    );
  },
};

export const certWeakKey: AuditRule = {
  id: 'cert-weak-key',
  severity: 'high',
  area: 'tls',
  title: 'Daemon certificates use strong keys and signatures',
  rationale:
    'RSA keys under 2048 bits can be factored, and SHA-1 signatures can be forged (chosen-prefix collisions).',
  remediation:
    'Issue new certificates with ECDSA P-256 or RSA >= 2048 and SHA-256 (dockward pki issue), then restart dockerd',
  needs: ['certs'],
  check(facts) {
    const certs = factValue(facts.certs);
    if (certs.length === 0) return info('no certificate configured or found');
    const bad: string[] = [];
    for (const c of certs) {
      if (c.keyAlgorithm === 'RSA' && c.keyBits !== undefined && c.keyBits < 2048)
        bad.push(`${name(c)}: RSA ${c.keyBits}-bit key`);
      // A root's self-signature is not checked by anyone: its trust comes from being installed.
      const selfSigned = c.isCa && c.subject === c.issuer;
      if (!selfSigned && /sha-?1|md5|md2/i.test(c.signatureAlgorithm))
        bad.push(`${name(c)}: ${c.signatureAlgorithm} signature`);
    }
    return bad.length > 0
      ? fail(bad)
      : pass(
          ...certs.map(
            (c) =>
              `${name(c)}: ${c.keyAlgorithm}${c.keyBits ? ` ${c.keyBits}` : ''}, ${c.signatureAlgorithm}`,
          ),
        );
  },
};

/** True when a DNS name (possibly `*.example.com`) covers `host`. */
function dnsCovers(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === h) return true;
  if (p.startsWith('*.')) {
    const rest = h.slice(h.indexOf('.') + 1);
    return h.includes('.') && rest === p.slice(2);
  }
  return false;
}

export const certSanMismatch: AuditRule = {
  id: 'cert-san-mismatch',
  severity: 'high',
  area: 'tls',
  title: "The server certificate covers the daemon's listen addresses",
  rationale:
    'A client that verifies the server (as the docker CLI does) refuses a certificate that does not name the address it dialled; users then turn verification off.',
  remediation: 'dockward pki issue --server --san <each listen address and DNS name>, then restart dockerd',
  needs: ['config', 'certs'],
  check(facts) {
    const server = factValue(facts.certs).find((c) => c.role === 'tlscert');
    const endpoints = tcpEndpoints(facts);
    if (endpoints.length === 0) return pass('no tcp listener');
    if (!server) return skip('no server certificate (tlscert) could be read');
    const covers = [...server.dnsNames, ...server.ipAddresses];
    const covered = covers.length > 0 ? covers.join(', ') : 'no subjectAltName at all';
    const wild: string[] = [];
    const missing: string[] = [];
    for (const e of endpoints) {
      if (isWildcardAddress(e.address)) {
        wild.push(`${e.url} binds every address; ${server.path} covers only: ${covered}`);
        continue;
      }
      const ok =
        isIP(e.address) !== 0
          ? server.ipAddresses.some((ip) => ip === e.address)
          : server.dnsNames.some((d) => dnsCovers(d, e.address));
      if (!ok) missing.push(`${e.url} (${e.where}) is not in ${server.path}: it covers ${covered}`);
    }
    if (missing.length > 0) return fail([...missing, ...wild]);
    if (wild.length > 0)
      return warn(
        wild,
        'Make sure clients dial one of the names the certificate covers, or add the missing ones with dockward pki issue --server --san ...',
      );
    return pass(`${server.path} covers ${endpoints.map((e) => e.address).join(', ')}`);
  },
};
