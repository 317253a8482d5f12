import { createServer } from 'node:net';
import { DockwardError, fromSystemError } from '../errors.js';

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
    server.once('error', (err: NodeJS.ErrnoException) => {
      // A listen address is looked up like a host name: one that does not resolve is not ours.
      if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
        reject(
          new DockwardError(
            'DW_E_ADDRESS_UNAVAILABLE',
            `cannot listen on ${host}:${port}: "${host}" is not an address of this machine`,
            {
              hint: 'Listen on an IP address this machine has (`ip -br addr`), 127.0.0.1, or 0.0.0.0 for all.',
              cause: err,
            },
          ),
        );
        return;
      }
      reject(fromSystemError(err) ?? err);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
