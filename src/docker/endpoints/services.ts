import type { Endpoint } from './types.js';

/** Swarm service routes (moby cluster router); ids match one segment (`{id}`). */
export const SERVICE_ENDPOINTS: readonly Endpoint[] = [
  {
    name: 'service.list',
    method: 'GET',
    path: '/services',
    area: 'services',
    summary: 'List services (with their specs).',
    body: 'none',
    readonly: true,
  },
  {
    // The spec holds the task template's environment variables.
    name: 'service.inspect',
    method: 'GET',
    path: '/services/{id}',
    area: 'services',
    summary: 'Inspect a service (spec including environment variables).',
    body: 'none',
    readonly: true,
    sensitive: true,
  },
  {
    name: 'service.create',
    method: 'POST',
    path: '/services/create',
    area: 'services',
    summary: 'Create a service (task template: image, mounts, capabilities, networks).',
    body: 'json',
    readonly: false,
  },
  {
    name: 'service.update',
    method: 'POST',
    path: '/services/{id}/update',
    area: 'services',
    summary: 'Update a service spec (`version` query).',
    body: 'json',
    readonly: false,
  },
  {
    name: 'service.delete',
    method: 'DELETE',
    path: '/services/{id}',
    area: 'services',
    summary: 'Remove a service.',
    body: 'none',
    readonly: false,
  },
  {
    name: 'service.logs',
    method: 'GET',
    path: '/services/{id}/logs',
    area: 'services',
    summary: "Read the logs of a service's tasks; with `follow` the stream stays open.",
    streams: 'response',
    body: 'none',
    readonly: true,
    sensitive: true,
  },
];
