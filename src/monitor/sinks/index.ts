/** Parses `--sink` values and opens the sinks they name. */
import type { Logger } from 'pino';
import { DockwardError } from '../../errors.js';
import type { AlertSink } from '../model.js';
import { FileSink } from './file.js';
import { StdoutSink } from './stdout.js';
import { EventStoreSink } from './store.js';
import { parseSyslogUrl, SyslogSink, type SyslogTarget } from './syslog.js';
import { parseWebhookUrl, WebhookSink } from './webhook.js';

export { FileSink } from './file.js';
export { formatAlertLine, StdoutSink } from './stdout.js';
export { formatSyslog, frameOctetCounting, parseSyslogUrl, SyslogSink } from './syslog.js';
export { parseWebhookUrl, WebhookSink, webhookSpoolDir } from './webhook.js';

/** A parsed `--sink` value. */
export type SinkSpec =
  | { kind: 'stdout' }
  | { kind: 'file'; path: string }
  | { kind: 'webhook'; url: string }
  | { kind: 'syslog'; target: SyslogTarget }
  | { kind: 'store'; url: string };

const SINK_HINT =
  'Use --sink stdout, file:PATH, webhook:http(s)://HOST/PATH, syslog:udp://HOST:PORT, syslog:tcp://HOST:PORT or store:sqlite:FILE|store:postgres://....';

/** `stdout` | `file:PATH` | `webhook:URL` | `syslog:udp://H:P` | `syslog:tcp://H:P`; DW_E_USAGE otherwise. */
export function parseSinkSpec(text: string): SinkSpec {
  if (text === 'stdout') return { kind: 'stdout' };
  const colon = text.indexOf(':');
  const kind = colon === -1 ? text : text.slice(0, colon);
  const rest = colon === -1 ? '' : text.slice(colon + 1);
  switch (kind) {
    case 'file':
      if (rest === '')
        throw new DockwardError('DW_E_USAGE', `--sink ${text}: no file path`, { hint: SINK_HINT });
      return { kind: 'file', path: rest };
    case 'webhook':
      return { kind: 'webhook', url: parseWebhookUrl(rest).href };
    case 'syslog':
      return { kind: 'syslog', target: parseSyslogUrl(rest) };
    case 'store':
      if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(rest))
        throw new DockwardError('DW_E_USAGE', `--sink ${text}: not an event store URL`, { hint: SINK_HINT });
      return { kind: 'store', url: rest };
    default:
      throw new DockwardError('DW_E_USAGE', `--sink ${text}: unknown sink "${kind}"`, { hint: SINK_HINT });
  }
}

export interface OpenSinkOptions {
  /** stdout sink: JSON lines instead of human lines. */
  json: boolean;
  /** Root of the webhook spools. */
  spoolDir: string;
  stdout?: { write(chunk: string): unknown };
  logger?: Pick<Logger, 'warn' | 'info'>;
}

/** Opens one sink (the webhook's spool is created and locked here). */
export async function openSink(spec: SinkSpec, options: OpenSinkOptions): Promise<AlertSink> {
  switch (spec.kind) {
    case 'stdout':
      return new StdoutSink(options.json, options.stdout);
    case 'file':
      return new FileSink(spec.path);
    case 'webhook':
      return WebhookSink.open({
        url: spec.url,
        spoolDir: options.spoolDir,
        ...(options.logger ? { logger: options.logger } : {}),
      });
    case 'syslog':
      return new SyslogSink({ target: spec.target, ...(options.logger ? { logger: options.logger } : {}) });
    case 'store':
      return new EventStoreSink(spec.url);
  }
}
