import type { Endpoint } from './types.js';

/**
 * Exec instance routes (registered by dockerd's container router; the exec is created with
 * `container.exec`). dockerd matches the exec id with `{id:.*}` / `{name:.*}`, hence `{id*}`.
 */
export const EXEC_ENDPOINTS: readonly Endpoint[] = [
  {
    name: 'exec.inspect',
    method: 'GET',
    path: '/exec/{id*}/json',
    area: 'exec',
    summary: 'Inspect an exec instance (command, running state, exit code).',
    body: 'none',
    readonly: true,
  },
  {
    // Hijacked unless the body says Detach; the CLI always asks for `Upgrade: tcp`.
    name: 'exec.start',
    method: 'POST',
    path: '/exec/{id*}/start',
    area: 'exec',
    summary: 'Run an exec instance; its stdio goes over the hijacked connection.',
    hijack: 'tcp',
    streams: 'both',
    body: 'json',
    readonly: false,
    sensitive: true,
  },
  {
    name: 'exec.resize',
    method: 'POST',
    path: '/exec/{id*}/resize',
    area: 'exec',
    summary: "Resize an exec instance's TTY (`h`, `w` query).",
    body: 'none',
    readonly: false,
  },
];
