import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { DockwardError } from '../errors.js';
import { tlsFilesIn } from './tls-material.js';
import { ConnectionPool } from './upstream-http/pool.js';
import { type CallOptions, type CallResponse, call } from './upstream-http/request.js';

/** Where the gateway forwards: the daemon's unix socket, or a remote daemon over TLS. */
export interface Upstream {
  readonly url: string;
  /** Persistent connections for ordinary requests and uploads (the gateway's own HTTP/1.1 client). */
  readonly pool: ConnectionPool;
  /** A fresh connection for a hijacked request: it is never returned to the pool. */
  connect(): Socket;
  /** A request of the gateway's own (ownership lookups, events), on the pool. */
  request(options: CallOptions): Promise<CallResponse>;
  destroy(): void;
}

/** Parses `unix:///var/run/docker.sock` or `tcp://host:2376` (TLS with the files in tlsDir). */
export function createUpstream(url: string, options: { tlsDir?: string } = {}): Upstream {
  let connect: () => Socket;
  if (url.startsWith('unix://')) {
    const socketPath = url.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw badUpstream(url);
    connect = () => netConnect({ path: socketPath });
  } else {
    const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(url);
    if (!m) throw badUpstream(url);
    const host = m[1]!.replace(/^\[|\]$/g, '');
    const port = Number(m[2]);
    if (!options.tlsDir) {
      throw new DockwardError('DW_E_USAGE', `a tcp upstream (${url}) needs --upstream-tls-dir`, {
        hint: 'Give a folder with ca.pem, cert.pem and key.pem for the remote daemon: the gateway never speaks plain tcp.',
      });
    }
    const files = tlsFilesIn(options.tlsDir);
    const tlsOptions = {
      ca: readFileSync(files.ca),
      cert: readFileSync(files.cert),
      key: readFileSync(files.key),
      minVersion: 'TLSv1.2' as const,
      ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
    };
    connect = () => tlsConnect({ host, port, ...tlsOptions });
  }
  const pool = new ConnectionPool(connect);
  return {
    url,
    pool,
    connect,
    request: (o) => call(pool, o),
    destroy: () => pool.destroy(),
  };
}

function badUpstream(url: string): DockwardError {
  return new DockwardError('DW_E_USAGE', `--upstream "${url}" is not unix:///path or tcp://host:port`, {
    hint: 'For the local daemon: --upstream unix:///var/run/docker.sock',
  });
}
