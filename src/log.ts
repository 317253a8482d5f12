import { pino, type Logger } from 'pino';

/** JSON logs on stderr (stdout stays for results). Private keys and bodies are never logged. */
export function createLogger(level: string = process.env['DOCKWARD_LOG_LEVEL'] ?? 'info'): Logger {
  return pino(
    { level, base: { app: 'dockward' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination(2),
  );
}

export type { Logger };
