/**
 * The monitor's unit tests use the same alert receivers as the e2e suites (webhook, syslog over
 * UDP and TCP on loopback, and a polling wait). They live with the e2e support because e2e code
 * never imports src/; tests under src/ may import test helpers. Excluded from the build.
 */
export {
  SyslogTcpReceiver,
  SyslogUdpReceiver,
  WebhookReceiver,
  waitFor,
} from '../../test/e2e/support/alert-receivers.js';
