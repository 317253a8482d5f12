/** Every audit rule, in report order: daemon configuration, daemon files, TLS, listeners, containers, host. */
import type { AuditRule } from '../model.js';
import { caKeyOnHost, clientKeyExposed } from './keys.js';
import {
  certExpired,
  certExpiring,
  certSanMismatch,
  certWeakKey,
  tlscacertSystemBundle,
} from './certificates.js';
import {
  containerCapabilities,
  containerHostIpc,
  containerHostNetwork,
  containerHostPid,
  containerHostUserns,
  containerHostUts,
  containerNoNewPrivileges,
  containerPrivileged,
  containerSeccompUnconfined,
  containerSensitiveDirs,
  dockerSockMounted,
  sensitiveMount,
} from './containers.js';
import { DAEMON_FILE_RULES } from './daemon-files.js';
import { logLevelInfo, remoteLogging } from './daemon-logging.js';
import {
  iccRestricted,
  iptablesEnabled,
  noInsecureRegistries,
  userlandProxyDisabled,
} from './daemon-network.js';
import {
  authorizationPlugin,
  cgroupParent,
  defaultUlimits,
  dmBasesize,
  liveRestore,
  noAufs,
  noExperimental,
  noNewPrivileges,
  rootlessMode,
  seccompProfile,
  usernsRemap,
} from './daemon-runtime.js';
import { dockerGroupMembers } from './docker-group.js';
import { tcpWithoutTls, tlsAuth, tlsWithoutVerify } from './listeners.js';
import { tlsPortRestricted } from './firewall.js';
import { revocationUnenforceable } from './revocation.js';

export const ALL_RULES: readonly AuditRule[] = [
  // CIS section 2, in benchmark order.
  rootlessMode,
  iccRestricted,
  logLevelInfo,
  iptablesEnabled,
  noInsecureRegistries,
  noAufs,
  tlsAuth,
  defaultUlimits,
  usernsRemap,
  cgroupParent,
  dmBasesize,
  authorizationPlugin,
  remoteLogging,
  noNewPrivileges,
  liveRestore,
  userlandProxyDisabled,
  seccompProfile,
  noExperimental,
  // CIS section 3.
  ...DAEMON_FILE_RULES,
  // TLS material.
  tlscacertSystemBundle,
  certExpired,
  certExpiring,
  certWeakKey,
  certSanMismatch,
  caKeyOnHost,
  clientKeyExposed,
  // Listeners as probed.
  tcpWithoutTls,
  tlsWithoutVerify,
  tlsPortRestricted,
  revocationUnenforceable,
  // CIS section 5 and beyond, over every container.
  containerCapabilities,
  containerPrivileged,
  containerSensitiveDirs,
  containerHostNetwork,
  containerHostPid,
  containerHostIpc,
  containerHostUts,
  containerSeccompUnconfined,
  containerNoNewPrivileges,
  containerHostUserns,
  dockerSockMounted,
  sensitiveMount,
  // The host.
  dockerGroupMembers,
];
