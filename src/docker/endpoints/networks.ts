import type { Endpoint } from './types.js';

/**
 * Network routes, in dockerd's order (moby `daemon/server/router/network`). dockerd matches
 * network ids with `{id:.+}` for GET and `{id:.*}` elsewhere, so ids may contain `/`.
 */
export const NETWORK_ENDPOINTS: readonly Endpoint[] = [
  {
    // dockerd registers `/networks/` as well; with no StrictSlash it is a distinct route.
    name: 'network.list',
    method: 'GET',
    path: '/networks',
    altPaths: ['/networks/'],
    area: 'networks',
    summary: 'List networks.',
    body: 'none',
    readonly: true,
  },
  {
    name: 'network.inspect',
    method: 'GET',
    path: '/networks/{id+}',
    area: 'networks',
    summary: 'Inspect a network (configuration, IPAM, connected containers).',
    body: 'none',
    readonly: true,
  },
  {
    name: 'network.create',
    method: 'POST',
    path: '/networks/create',
    area: 'networks',
    summary: 'Create a network (driver, IPAM, options).',
    body: 'json',
    readonly: false,
  },
  {
    name: 'network.connect',
    method: 'POST',
    path: '/networks/{id*}/connect',
    area: 'networks',
    summary: 'Connect a container to a network.',
    body: 'json',
    readonly: false,
  },
  {
    name: 'network.disconnect',
    method: 'POST',
    path: '/networks/{id*}/disconnect',
    area: 'networks',
    summary: 'Disconnect a container from a network.',
    body: 'json',
    readonly: false,
  },
  {
    name: 'network.prune',
    method: 'POST',
    path: '/networks/prune',
    area: 'networks',
    summary: 'Delete unused networks.',
    body: 'none',
    readonly: false,
    minApi: '1.25',
  },
  {
    name: 'network.delete',
    method: 'DELETE',
    path: '/networks/{id*}',
    area: 'networks',
    summary: 'Remove a network.',
    body: 'none',
    readonly: false,
  },
];
