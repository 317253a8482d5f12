import { pino, type Logger } from 'pino';
import { createRequire } from 'node:module';
import type PinoPretty from 'pino-pretty';

/** How log lines look: JSON lines for machines, or pino-pretty's coloured lines for a person. */
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

export interface LoggerOptions {
  level?: string;
  /** Default: pretty when stderr is a terminal, JSON lines otherwise (pipes, files, journald). */
  format?: LogFormat;
}

/** https://no-color.org: any non-empty NO_COLOR turns colour off. */
export function colorAllowed(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const noColor = env['NO_COLOR'];
  return stream.isTTY === true && (noColor === undefined || noColor === '');
}

/** The log format when none is asked for: DOCKWARD_LOG_FORMAT, else by whether stderr is a terminal. */
export function defaultLogFormat(env: NodeJS.ProcessEnv = process.env): LogFormat {
  const fromEnv = env['DOCKWARD_LOG_FORMAT'];
  if (fromEnv === 'json' || fromEnv === 'pretty') return fromEnv;
  return process.stderr.isTTY === true ? 'pretty' : 'json';
}

/** Logs on stderr (stdout stays for results). Private keys and bodies are never logged. */
export function createLogger(options: LoggerOptions | string = {}): Logger {
  const o = typeof options === 'string' ? { level: options } : options;
  const level = o.level ?? process.env['DOCKWARD_LOG_LEVEL'] ?? 'info';
  const format = o.format ?? defaultLogFormat();
  if (format === 'pretty') {
    // Loaded only for a terminal (about 10 MB resident): a service logging JSON never pays for it.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
    // Synchronous like pino.destination(2): a line logged just before exit is never lost.
    const stream = pretty({
      destination: 2,
      sync: true,
      colorize: colorAllowed(process.stderr),
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,app',
    });
    return pino({ level, base: { app: 'dockward' } }, stream);
  }
  return pino(
    { level, base: { app: 'dockward' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination(2),
  );
}

export type { Logger };
