import { readFileSync } from 'node:fs';
import { Agent, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Pool } from 'undici';
import { DockwardError } from '../errors.js';
import { tlsFilesIn } from './tls-material.js';

/** Where the gateway forwards: the daemon's unix socket, or a remote daemon over TLS. */
export interface Upstream {
  readonly url: string;
  /** Pooled keep-alive connections for ordinary requests (undici: a fraction of http.request's CPU). */
  readonly pool: Pool;
  /** Node's agent, for callers that need `http.request` (the hijacked path builds its own request). */
  readonly agent: Agent;
  /** The `http.request` options that reach the daemon (socketPath or host/port + TLS). */
  readonly requestOptions: { socketPath?: string; host?: string; port?: number };
  /** A fresh connection for a hijacked request: it is never returned to the pool. */
  connect(): Socket;
  destroy(): void;
}

/** Parses `unix:///var/run/docker.sock` or `tcp://host:2376` (TLS with the files in tlsDir). */
export function createUpstream(url: string, options: { tlsDir?: string } = {}): Upstream {
  // No idle timeout: /events and `logs -f` may stay silent for hours.
  const poolOptions = { connections: null, pipelining: 1, bodyTimeout: 0, headersTimeout: 0 } as const;
  const agentOptions: AgentOptions = {
    keepAlive: true,
    maxSockets: 256,
    maxFreeSockets: 64,
    scheduling: 'lifo',
  };
  if (url.startsWith('unix://')) {
    const socketPath = url.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw badUpstream(url);
    const agent = new Agent(agentOptions);
    const pool = new Pool('http://docker', { ...poolOptions, socketPath });
    return {
      url,
      pool,
      agent,
      requestOptions: { socketPath },
      connect: () => netConnect({ path: socketPath }),
      destroy: () => {
        agent.destroy();
        void pool.destroy().catch(() => undefined);
      },
    };
  }
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
    servername: /^[\d.]+$|:/.test(host) ? undefined : host,
  };
  const agent = new HttpsAgent({ ...agentOptions, ...tlsOptions });
  const origin = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const pool = new Pool(origin, {
    ...poolOptions,
    connect: { ...tlsOptions, ...(tlsOptions.servername ? { servername: tlsOptions.servername } : {}) },
  });
  return {
    url,
    pool,
    agent,
    requestOptions: { host, port },
    connect: () => tlsConnect({ host, port, ...tlsOptions }),
    destroy: () => {
      agent.destroy();
      void pool.destroy().catch(() => undefined);
    },
  };
}

function badUpstream(url: string): DockwardError {
  return new DockwardError('DW_E_USAGE', `--upstream "${url}" is not unix:///path or tcp://host:port`, {
    hint: 'For the local daemon: --upstream unix:///var/run/docker.sock',
  });
}
