/** CIS 2.2, 2.4, 2.5, 2.16: the daemon's network settings. */
import type { AuditRule } from '../model.js';
import {
  daemonJsonFix,
  describeSetting,
  fail,
  HARDEN_BASELINE,
  pass,
  setting,
  settingIs,
  factValue,
} from './rule-support.js';

export const iccRestricted: AuditRule = {
  id: 'icc-restricted',
  cis: '2.2',
  severity: 'medium',
  area: 'daemon-config',
  title: 'Network traffic between containers on the default bridge is restricted',
  rationale:
    'With icc on, every container on the default bridge can reach every other one on any port; a compromised container can attack its neighbours.',
  remediation: daemonJsonFix({ icc: false }, HARDEN_BASELINE),
  needs: ['config'],
  check: settingIs('icc', false),
};

export const iptablesEnabled: AuditRule = {
  id: 'iptables-enabled',
  cis: '2.4',
  severity: 'medium',
  area: 'daemon-config',
  title: 'Docker is allowed to make changes to iptables',
  rationale:
    'dockerd keeps the firewall in step with container networking (and icc: false needs it); turned off, published ports and isolation depend on hand-written rules.',
  remediation:
    'Remove "iptables": false from daemon.json (or --iptables=false from the command line), then restart dockerd',
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const evidence = describeSetting(effective, 'iptables');
    return setting(effective, 'iptables')?.value === false ? fail([evidence]) : pass(evidence);
  },
};

/** dockerd always treats 127.0.0.0/8 as insecure; listing it changes nothing. */
function isLoopbackRegistry(entry: string): boolean {
  return /^(localhost|127\.\d+\.\d+\.\d+|::1)(:\d+)?(\/\d+)?$/.test(entry) || entry === '127.0.0.0/8';
}

export const noInsecureRegistries: AuditRule = {
  id: 'no-insecure-registries',
  cis: '2.5',
  severity: 'medium',
  area: 'daemon-config',
  title: 'Insecure registries are not used',
  rationale:
    'An insecure registry is pulled from over plain HTTP or unverified TLS: anyone on the path can substitute the images this host runs.',
  remediation:
    'Remove "insecure-registries" from daemon.json (give the registry a trusted certificate under /etc/docker/certs.d/<registry>/ca.crt), then restart dockerd',
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const list = (effective.config['insecure-registries'] ?? []).filter((r) => !isLoopbackRegistry(r));
    const evidence = describeSetting(effective, 'insecure-registries');
    return list.length > 0
      ? fail([`${evidence}: ${list.join(', ')} used without TLS verification`])
      : pass(evidence);
  },
};

export const userlandProxyDisabled: AuditRule = {
  id: 'userland-proxy-disabled',
  cis: '2.16',
  severity: 'low',
  area: 'daemon-config',
  title: 'The userland proxy is disabled',
  rationale:
    'With hairpin NAT available, docker-proxy processes only add attack surface: one process per published port, with traffic that bypasses iptables accounting.',
  remediation: daemonJsonFix({ 'userland-proxy': false }),
  needs: ['config'],
  check: settingIs('userland-proxy', false),
};
