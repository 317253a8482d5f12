/**
 * The syslog sink: RFC 5424 messages over UDP (one datagram each, RFC 5426) or TCP with
 * octet-counting framing (RFC 6587 §3.4.1: `LEN SP MSG`, so a message may hold newlines).
 * PRI is facility * 8 + the severity of the alert's priority; the structured data element
 * `dockward@32473` carries rule, priority, uuid and source, and MSG is the alert's JSON.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DockwardError, describeError } from '../../errors.js';
import { type Alert, type AlertSink, PRIORITIES } from '../model.js';

/** Syslog facilities by name (RFC 5424 table 1). */
export const FACILITIES: Record<string, number> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/** The SD-ID of our element; 32473 is the private enterprise number RFC 5612 reserves for examples. */
export const SD_ID = 'dockward@32473';

export interface SyslogTarget {
  transport: 'udp' | 'tcp';
  host: string;
  port: number;
  facility: number;
}

/** `udp://HOST:PORT` or `tcp://HOST:PORT`, optional `?facility=local0` (default `auth`). */
export function parseSyslogUrl(text: string): SyslogTarget {
  const bad = (why: string) =>
    new DockwardError('DW_E_USAGE', `--sink syslog:${text}: ${why}`, {
      hint: 'Write it as --sink syslog:udp://127.0.0.1:514 or syslog:tcp://logs.example.com:601?facility=local0.',
    });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad('not a URL');
  }
  const transport = url.protocol === 'udp:' ? 'udp' : url.protocol === 'tcp:' ? 'tcp' : undefined;
  if (!transport) throw bad('the scheme must be udp:// or tcp://');
  if (url.hostname === '') throw bad('no host');
  if (url.port === '') throw bad('no port');
  const name = url.searchParams.get('facility') ?? 'auth';
  const facility = FACILITIES[name];
  if (facility === undefined)
    throw bad(`unknown facility "${name}" (one of ${Object.keys(FACILITIES).join(', ')})`);
  return { transport, host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port), facility };
}

/** The severity (0 emergency .. 7 debug) of a priority, spelled any case; unknown → notice. */
export function severityOf(priority: string): number {
  const i = (PRIORITIES as readonly string[]).indexOf(priority.toLowerCase());
  return i === -1 ? 5 : i;
}

/** Escapes a structured-data PARAM-VALUE: `"`, `\` and `]` get a backslash (RFC 5424 §6.3.3). */
function sdValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** PRINTUSASCII without spaces, at most `max` characters; `-` when empty (RFC 5424 NILVALUE). */
function header(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** One RFC 5424 message for an alert. */
export function formatSyslog(alert: Alert, facility: number, procId: string = String(process.pid)): string {
  const pri = facility * 8 + severityOf(alert.priority);
  const sd = `[${SD_ID} rule="${sdValue(alert.rule)}" priority="${sdValue(alert.priority)}" uuid="${sdValue(alert.uuid)}" source="${sdValue(alert.source)}"]`;
  return `<${pri}>1 ${header(alert.time, 64)} ${header(alert.hostname || osHostname(), 255)} dockward ${header(procId, 128)} alert ${sd} ${JSON.stringify(alert)}`;
}

/** RFC 6587 octet counting: the byte length, a space, the message. */
export function frameOctetCounting(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

export interface SyslogSinkOptions {
  target: SyslogTarget;
  /** TCP: first reconnect delay (default 250 ms), doubling up to 10 s. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long `close()` keeps trying to send what is queued (default 5 s). */
  closeTimeoutMs?: number;
  logger?: Pick<Logger, 'warn'>;
}

/** Sends alerts to a syslog receiver. TCP keeps one connection and resends across reconnects. */
export class SyslogSink implements AlertSink {
  readonly name: string;
  private readonly target: SyslogTarget;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly closeTimeoutMs: number;
  private readonly logger: Pick<Logger, 'warn'> | undefined;
  private udp: UdpSocket | undefined;
  private tcp: Socket | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();

  constructor(options: SyslogSinkOptions) {
    this.target = options.target;
    const t = options.target;
    this.name = `syslog:${t.transport}://${isIP(t.host) === 6 ? `[${t.host}]` : t.host}:${t.port}`;
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
    this.logger = options.logger;
  }

  /** Sends one message; messages go out one at a time, in order. */
  deliver(alert: Alert): Promise<void> {
    const message = formatSyslog(alert, this.target.facility);
    const next = this.chain.then(() =>
      this.target.transport === 'udp' ? this.sendUdp(message) : this.sendTcp(frameOctetCounting(message)),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    const timer = sleep(this.closeTimeoutMs, undefined, { ref: false }).then(() => this.abort.abort());
    await Promise.race([this.chain, timer]);
    this.abort.abort();
    await this.chain;
    this.udp?.close();
    this.udp = undefined;
    if (this.tcp) await new Promise<void>((resolve) => this.tcp!.end(resolve));
    this.tcp?.destroy();
    this.tcp = undefined;
  }

  private sendUdp(message: string): Promise<void> {
    if (!this.udp) {
      this.udp = createSocket(isIP(this.target.host) === 6 ? 'udp6' : 'udp4');
      this.udp.on('error', (err) => this.logger?.warn({ err: err.message }, 'syslog UDP socket error'));
      this.udp.unref();
    }
    const udp = this.udp;
    return new Promise((resolve, reject) => {
      udp.send(message, this.target.port, this.target.host, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Writes the frame, reconnecting with backoff until a connection takes it or the sink closes. */
  private async sendTcp(frame: Buffer): Promise<void> {
    let backoff = this.initialBackoffMs;
    for (;;) {
      if (this.abort.signal.aborted) throw new Error(`${this.name} closed before the alert was sent`);
      try {
        const socket = this.tcp ?? (await this.connect());
        await new Promise<void>((resolve, reject) => {
          socket.write(frame, (err) => (err ? reject(err) : resolve()));
        });
        return;
      } catch (err) {
        this.tcp?.destroy();
        this.tcp = undefined;
        this.logger?.warn(
          { sink: this.name, err: describeError(err), retryInMs: backoff },
          'syslog send failed',
        );
        await sleep(backoff, undefined, { signal: this.abort.signal }).catch(() => undefined);
        backoff = Math.min(backoff * 2, this.maxBackoffMs);
      }
    }
  }

  private connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: this.target.host, port: this.target.port });
      const fail = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.off('error', fail);
        socket.setKeepAlive(true, 30_000);
        // Later errors and closes: forget the socket; the next send reconnects.
        socket.on('error', () => undefined);
        socket.on('close', () => {
          if (this.tcp === socket) this.tcp = undefined;
        });
        socket.resume(); // a receiver that talks back must not fill our buffers
        this.tcp = socket;
        resolve(socket);
      });
    });
  }
}
