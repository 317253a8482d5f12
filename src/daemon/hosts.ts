/**
 * dockerd's listen addresses (`-H` / `hosts`), parsed the way moby's `opts.ParseHost` does: a bare
 * `host:port` is tcp, `tcp://` fills in 127.0.0.1 and port 2375 (2376 with TLS), `fd://` is
 * systemd socket activation.
 */
import { isIP } from 'node:net';

export interface DaemonHost {
  scheme: 'tcp' | 'unix' | 'fd';
  /** The address as given. */
  raw: string;
  /** Canonical form: `tcp://0.0.0.0:2376`, `unix:///var/run/docker.sock`, `fd://`. */
  normalized: string;
  /** tcp only. */
  host?: string;
  port?: number;
  /** unix only. */
  path?: string;
}

/** Parses one `-H` value; throws Error with dockerd's reason when dockerd would refuse it. */
export function parseDaemonHost(value: string, options: { tls?: boolean } = {}): DaemonHost {
  const raw = value;
  const addr = value.trim();
  if (addr === '')
    return { scheme: 'unix', raw, normalized: 'unix:///var/run/docker.sock', path: '/var/run/docker.sock' };
  const sep = addr.indexOf('://');
  const scheme = sep < 0 ? 'tcp' : addr.slice(0, sep);
  const rest = sep < 0 ? addr : addr.slice(sep + 3);
  switch (scheme) {
    case 'tcp':
      return parseTcp(raw, rest, options.tls ?? false);
    case 'unix': {
      const path = rest === '' ? '/var/run/docker.sock' : rest;
      return { scheme: 'unix', raw, normalized: `unix://${path}`, path };
    }
    case 'fd':
      return { scheme: 'fd', raw, normalized: addr };
    default:
      throw new Error(`invalid bind address format "${addr}" (dockerd listens on unix://, tcp:// or fd://)`);
  }
}

function parseTcp(raw: string, rest: string, tls: boolean): DaemonHost {
  const defaultPort = tls ? 2376 : 2375;
  if (/[/?#]/.test(rest.replace(/\/$/, '')))
    throw new Error(`no path or query allowed in tcp address "${raw}"`);
  let hostPart = rest.replace(/\/$/, '');
  let portPart = '';
  if (hostPart.startsWith('[')) {
    const end = hostPart.indexOf(']');
    if (end < 0) throw new Error(`invalid IPv6 address in "${raw}"`);
    portPart = hostPart.slice(end + 1).replace(/^:/, '');
    hostPart = hostPart.slice(1, end);
  } else if (isIP(hostPart) === 6) {
    portPart = '';
  } else {
    const colon = hostPart.lastIndexOf(':');
    if (colon >= 0) {
      portPart = hostPart.slice(colon + 1);
      hostPart = hostPart.slice(0, colon);
    }
  }
  const host = hostPart === '' ? '127.0.0.1' : hostPart;
  const port = portPart === '' ? defaultPort : Number(portPart);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`invalid port in tcp address "${raw}"`);
  const shown = isIP(host) === 6 ? `[${host}]` : host;
  return { scheme: 'tcp', raw, normalized: `tcp://${shown}:${port}`, host, port };
}

/** True for 127.0.0.0/8, ::1 and `localhost`: reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
