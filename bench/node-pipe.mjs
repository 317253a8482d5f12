// The Node floor for the gateway's figures: a bare mTLS relay written with Node's own `tls` and
// `net`, piping each client connection's bytes to a fresh connection to dockerd's socket. No HTTP
// parsing, no policy, no audit, no pool: nothing a gateway could leave out. Whatever the gateway
// costs above this is dockward's; what this costs is Node's TLS and streams on this machine.
//   node bench/node-pipe.mjs <port> <dockerd socket> <tls dir: ca.pem cert.pem key.pem>
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';

const [port, socketPath, dir] = process.argv.slice(2);
if (!port || !socketPath || !dir) {
  console.error('usage: node bench/node-pipe.mjs <port> <dockerd socket> <tls dir>');
  process.exit(2);
}
const server = tls.createServer(
  {
    ca: readFileSync(join(dir, 'ca.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    key: readFileSync(join(dir, 'key.pem')),
    requestCert: true,
    rejectUnauthorized: true,
  },
  (client) => {
    const upstream = net.connect(socketPath);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  },
);
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
