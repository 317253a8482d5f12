import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listeningChild } from './child.js';

export const HAPROXY_BIN = '/usr/sbin/haproxy';

export interface HaproxyOptions {
  /** Folder for the config, the combined PEM and the log. */
  dir: string;
  port: number;
  socketPath: string;
  /** ca.pem, cert.pem, key.pem of the server certificate. */
  tlsDir: string;
}

/** The config text: mTLS on 127.0.0.1:port, GET-only, an allow list of paths, the socket as the one server. */
export function haproxyConfig(o: { port: number; socketPath: string; pem: string; ca: string }): string {
  const api = '^(/v[0-9.]+)?';
  const allowed = ['/_ping', '/version', '/info', '/containers/json', '/images/json', '/events'];
  return [
    'global',
    '  maxconn 4096',
    '  log stderr format raw local0 err',
    '',
    'defaults',
    '  mode http',
    '  log global',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    '',
    'frontend docker_mtls',
    `  bind 127.0.0.1:${o.port} ssl crt ${o.pem} ca-file ${o.ca} verify required`,
    '  http-request deny unless METH_GET || METH_HEAD',
    ...allowed.map(
      (p) => `  http-request allow if { path,url_dec -m reg ${api}${p.replaceAll('.', '\\.')}$ }`,
    ),
    '  http-request deny',
    '  default_backend docker_socket',
    '',
    'backend docker_socket',
    `  server dockerd ${o.socketPath}`,
    '',
  ].join('\n');
}

/** True when the HAProxy binary exists and runs. */
export function haproxyAvailable(): boolean {
  return spawnSync(HAPROXY_BIN, ['-v'], { stdio: 'ignore' }).status === 0;
}

/** Starts HAProxy in the foreground (`-db`) and waits for its port; `stop` kills it by pid. */
export async function startHaproxy(o: HaproxyOptions): Promise<{ pid: number; stop: () => Promise<void> }> {
  const pem = join(o.dir, 'haproxy.pem');
  // HAProxy wants the certificate and its key in one file.
  writeFileSync(
    pem,
    `${readFileSync(join(o.tlsDir, 'cert.pem'), 'utf8')}\n${readFileSync(join(o.tlsDir, 'key.pem'), 'utf8')}`,
    { mode: 0o600 },
  );
  const cfg = join(o.dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    haproxyConfig({ port: o.port, socketPath: o.socketPath, pem, ca: join(o.tlsDir, 'ca.pem') }),
  );
  const check = spawnSync(HAPROXY_BIN, ['-c', '-q', '-f', cfg], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy config rejected: ${check.stderr}${check.stdout}`);
  const child: ChildProcess = spawn(HAPROXY_BIN, ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return listeningChild(child, o.port, () => `haproxy did not listen on ${o.port}: ${stderr}`);
}
