// Test and bench helpers for the fleet (only *.test.ts files and bench/ import it).
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

/** TLS material of a stub: its server certificate and key, and the CA it trusts for clients. */
export interface StubTls {
  cert: string;
  key: string;
  ca: string;
}

export interface EngineStub {
  port: number;
  endpoint: string;
  server: Server;
  close(): Promise<void>;
}

const VERSION = JSON.stringify({ Version: '20.10.24', ApiVersion: '1.41', MinAPIVersion: '1.12' });
const INFO = JSON.stringify({ Containers: 3, ContainersRunning: 1, ServerVersion: '20.10.24' });

/**
 * A mutual-TLS HTTPS server on a loopback port answering `/_ping`, `/version`, `/info` and
 * `/containers/json` the way dockerd does (status, content type, the JSON fields dockward reads).
 * It stands in for dockerd where a real one per endpoint cannot run (fifty of them in the bench).
 */
export async function startEngineStub(tls: StubTls): Promise<EngineStub> {
  const server = createServer(
    { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const path = (req.url ?? '').replace(/^\/v\d+\.\d+/, '').split('?')[0];
      const json = (body: string) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.41' });
        res.end(body);
      };
      if (path === '/_ping') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Api-Version': '1.41' });
        res.end('OK');
      } else if (path === '/version') json(VERSION);
      else if (path === '/info') json(INFO);
      else if (path === '/containers/json') json('[]');
      else {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end('{"message":"page not found"}');
      }
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    endpoint: `tcp://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
