import type { Endpoint } from './types.js';

/** Distribution routes (moby `daemon/server/router/distribution`); the image name matches `{name:.*}`. */
export const DISTRIBUTION_ENDPOINTS: readonly Endpoint[] = [
  {
    name: 'distribution.inspect',
    method: 'GET',
    path: '/distribution/{name*}/json',
    area: 'distribution',
    summary: "Ask the image's registry for its manifest digest and platforms.",
    body: 'none',
    readonly: true,
  },
];
