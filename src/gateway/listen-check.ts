import { createServer } from 'node:net';
import { fromSystemError } from '../errors.js';

/**
 * Fails now, with DW_E_ADDRESS_IN_USE / DW_E_LISTEN_DENIED and a fix, when host:port cannot be
 * listened on: commands check this before they issue certificates or start a daemon, so a taken
 * port leaves nothing behind. (Another process may still take the port in between; the real
 * listen then fails with the same error.)
 */
export function assertCanListen(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err) => reject(fromSystemError(err) ?? err));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
