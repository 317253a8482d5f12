import type { Endpoint } from './types.js';

/** Swarm config routes (moby cluster router). Unlike secrets, configs are returned with their data. */
export const CONFIG_ENDPOINTS: readonly Endpoint[] = [
  {
    name: 'config.list',
    method: 'GET',
    path: '/configs',
    area: 'configs',
    summary: 'List configs, with their data.',
    body: 'none',
    readonly: true,
    sensitive: true,
  },
  {
    name: 'config.create',
    method: 'POST',
    path: '/configs/create',
    area: 'configs',
    summary: 'Create a config (the body carries the base64 data).',
    body: 'json',
    readonly: false,
  },
  {
    name: 'config.delete',
    method: 'DELETE',
    path: '/configs/{id}',
    area: 'configs',
    summary: 'Remove a config.',
    body: 'none',
    readonly: false,
  },
  {
    name: 'config.inspect',
    method: 'GET',
    path: '/configs/{id}',
    area: 'configs',
    summary: 'Inspect a config, with its data.',
    body: 'none',
    readonly: true,
    sensitive: true,
  },
  {
    name: 'config.update',
    method: 'POST',
    path: '/configs/{id}/update',
    area: 'configs',
    summary: "Update a config's labels (`version` query).",
    body: 'json',
    readonly: false,
  },
];
