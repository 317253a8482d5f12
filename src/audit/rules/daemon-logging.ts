/** CIS 2.3 and 2.13: the daemon's logging. */
import type { AuditRule } from '../model.js';
import { daemonJsonFix, describeSetting, fail, info, pass, setting, factValue } from './rule-support.js';

export const logLevelInfo: AuditRule = {
  id: 'log-level-info',
  cis: '2.3',
  severity: 'low',
  area: 'daemon-config',
  title: "The daemon's logging level is 'info'",
  rationale:
    "'info' records what an investigation needs; 'debug' floods the logs (and may record request details), 'warn' and above drop events worth keeping.",
  remediation: daemonJsonFix({ 'log-level': 'info' }),
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const value = setting(effective, 'log-level')?.value;
    const evidence = describeSetting(effective, 'log-level');
    return value === undefined || value === 'info' ? pass(evidence) : fail([evidence]);
  },
};

/** Drivers that keep container logs on this host (a collector may still ship them). */
const LOCAL_DRIVERS = new Set(['json-file', 'local', 'journald', 'none', '']);

export const remoteLogging: AuditRule = {
  id: 'remote-logging',
  cis: '2.13',
  severity: 'low',
  area: 'daemon-config',
  title: 'Centralized and remote logging is configured',
  rationale:
    'Logs kept only on the host disappear with it, and an intruder with root can edit them; a remote copy survives.',
  remediation:
    'Ship the json-file logs with a collector, or set a remote driver in daemon.json, e.g. {"log-driver": "syslog", "log-opts": {"syslog-address": "tcp+tls://logs.example:6514"}}',
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const driver = String(setting(effective, 'log-driver')?.value ?? 'json-file');
    const evidence = describeSetting(effective, 'log-driver');
    if (driver === 'none') return fail([`${evidence}: container logs are discarded`]);
    // A local driver is fine when a collector ships the files; the audit cannot see collectors.
    if (LOCAL_DRIVERS.has(driver))
      return info(`${evidence}: logs stay on this host; check that a collector ships them elsewhere`);
    return pass(evidence);
  },
};
