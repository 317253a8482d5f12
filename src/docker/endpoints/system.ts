import type { Endpoint } from './types.js';

/**
 * System, session and gRPC routes (moby `daemon/server/router/system`, `session`, `grpc`).
 * dockerd's system router also answers `OPTIONS /{anyroute:.*}` with an empty 200 for CORS; no
 * client needs it, so it is left out and the gateway refuses it as unknown.
 */
export const SYSTEM_ENDPOINTS: readonly Endpoint[] = [
  {
    name: 'system.ping',
    method: 'GET',
    path: '/_ping',
    area: 'system',
    summary: 'Health check; headers carry API version, OS type, builder version and swarm state.',
    body: 'none',
    readonly: true,
  },
  {
    // One of only two HEAD routes dockerd has (the other is the archive stat); clients try it first.
    name: 'system.ping.head',
    method: 'HEAD',
    path: '/_ping',
    area: 'system',
    summary: 'Health check without a body (the CLI tries HEAD first, then falls back to GET).',
    body: 'none',
    readonly: true,
  },
  {
    name: 'system.events',
    method: 'GET',
    path: '/events',
    area: 'system',
    summary: 'Stream daemon events (container, image, network, volume, exec, ...) as they happen.',
    streams: 'response',
    body: 'none',
    readonly: true,
  },
  {
    name: 'system.info',
    method: 'GET',
    path: '/info',
    area: 'system',
    summary: 'Daemon-wide information: counts, storage and logging drivers, security options.',
    body: 'none',
    readonly: true,
  },
  {
    name: 'system.version',
    method: 'GET',
    path: '/version',
    area: 'system',
    summary: 'Engine and component versions, and the API version range the daemon speaks.',
    body: 'none',
    readonly: true,
  },
  {
    name: 'system.df',
    method: 'GET',
    path: '/system/df',
    area: 'system',
    summary: 'Disk usage of images, containers, volumes and the build cache.',
    body: 'none',
    readonly: true,
  },
  {
    // dockerd logs in to the registry named in the body with the password in the body.
    name: 'system.auth',
    method: 'POST',
    path: '/auth',
    area: 'system',
    summary: 'Check registry credentials; the daemon contacts the registry given in the body.',
    body: 'json',
    readonly: false,
    secretBody: true,
  },
  {
    name: 'session',
    method: 'POST',
    path: '/session',
    area: 'system',
    summary: 'Open a BuildKit session (HTTP/2 over the upgraded connection) for a build.',
    hijack: 'h2c',
    streams: 'both',
    body: 'none',
    readonly: false,
    deprecatedSince: '1.53',
  },
  {
    // The BuildKit control API: whoever reaches it can run builds (RUN steps) on the host.
    name: 'grpc',
    method: 'POST',
    path: '/grpc',
    area: 'system',
    summary: 'BuildKit gRPC API (HTTP/2 over the upgraded connection), used by buildx.',
    hijack: 'h2c',
    streams: 'both',
    body: 'none',
    readonly: false,
    sensitive: true,
    deprecatedSince: '1.53',
  },
];
