import type { Endpoint } from './types.js';

/** Swarm secret routes (moby cluster router). dockerd never returns a secret's data. */
export const SECRET_ENDPOINTS: readonly Endpoint[] = [
  {
    name: 'secret.list',
    method: 'GET',
    path: '/secrets',
    area: 'secrets',
    summary: 'List secrets (metadata only).',
    body: 'none',
    readonly: true,
  },
  {
    name: 'secret.create',
    method: 'POST',
    path: '/secrets/create',
    area: 'secrets',
    summary: 'Create a secret (the body carries the base64 data).',
    body: 'json',
    readonly: false,
    secretBody: true,
  },
  {
    name: 'secret.delete',
    method: 'DELETE',
    path: '/secrets/{id}',
    area: 'secrets',
    summary: 'Remove a secret.',
    body: 'none',
    readonly: false,
  },
  {
    name: 'secret.inspect',
    method: 'GET',
    path: '/secrets/{id}',
    area: 'secrets',
    summary: 'Inspect a secret (metadata only).',
    body: 'none',
    readonly: true,
  },
  {
    name: 'secret.update',
    method: 'POST',
    path: '/secrets/{id}/update',
    area: 'secrets',
    summary: "Update a secret's labels (`version` query).",
    body: 'json',
    readonly: false,
  },
];
