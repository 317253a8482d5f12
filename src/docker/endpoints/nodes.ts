import type { Endpoint } from './types.js';

/** Swarm node routes (moby cluster router). */
export const NODE_ENDPOINTS: readonly Endpoint[] = [
  {
    name: 'node.list',
    method: 'GET',
    path: '/nodes',
    area: 'nodes',
    summary: 'List swarm nodes.',
    body: 'none',
    readonly: true,
  },
  {
    name: 'node.inspect',
    method: 'GET',
    path: '/nodes/{id}',
    area: 'nodes',
    summary: 'Inspect a swarm node.',
    body: 'none',
    readonly: true,
  },
  {
    name: 'node.delete',
    method: 'DELETE',
    path: '/nodes/{id}',
    area: 'nodes',
    summary: 'Remove a node from the swarm.',
    body: 'none',
    readonly: false,
  },
  {
    name: 'node.update',
    method: 'POST',
    path: '/nodes/{id}/update',
    area: 'nodes',
    summary: 'Update a node (role, availability, labels; `version` query).',
    body: 'json',
    readonly: false,
  },
];
