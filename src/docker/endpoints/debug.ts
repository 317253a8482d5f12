import type { Endpoint } from './types.js';

/**
 * Debug routes (moby `daemon/server/router/debug`): expvar and Go's pprof. dockerd 20.10 serves
 * them even without `--debug`, to any method and only without the `/vX.Y` prefix; since API 1.48
 * they are GET routes reachable with the prefix too. Only GET is listed: any other method is
 * unknown here and so refused, which is the safe side of that difference. Every one is
 * `adminOnly` (and `sensitive`): none is needed to run containers.
 */
export const DEBUG_ENDPOINTS: readonly Endpoint[] = [
  {
    // expvar includes the daemon's full command line and memory statistics.
    name: 'debug.vars',
    method: 'GET',
    path: '/debug/vars',
    area: 'debug',
    summary: "The daemon's exported variables (command line, memory statistics).",
    body: 'none',
    readonly: true,
    adminOnly: true,
    sensitive: true,
  },
  {
    name: 'debug.pprof.index',
    method: 'GET',
    path: '/debug/pprof/',
    area: 'debug',
    summary: 'Index of the available Go runtime profiles.',
    body: 'none',
    readonly: true,
    adminOnly: true,
    sensitive: true,
  },
  {
    name: 'debug.pprof.cmdline',
    method: 'GET',
    path: '/debug/pprof/cmdline',
    area: 'debug',
    summary: "The daemon's command line.",
    body: 'none',
    readonly: true,
    adminOnly: true,
    sensitive: true,
  },
  {
    // Samples the CPU for `seconds` (30 by default) before answering.
    name: 'debug.pprof.profile',
    method: 'GET',
    path: '/debug/pprof/profile',
    area: 'debug',
    summary: 'A CPU profile taken over `seconds`.',
    streams: 'response',
    body: 'none',
    readonly: true,
    adminOnly: true,
    sensitive: true,
  },
  {
    name: 'debug.pprof.symbol',
    method: 'GET',
    path: '/debug/pprof/symbol',
    area: 'debug',
    summary: 'Look up program counters as function names.',
    body: 'none',
    readonly: true,
    adminOnly: true,
    sensitive: true,
  },
  {
    name: 'debug.pprof.trace',
    method: 'GET',
    path: '/debug/pprof/trace',
    area: 'debug',
    summary: 'An execution trace taken over `seconds`.',
    streams: 'response',
    body: 'none',
    readonly: true,
    adminOnly: true,
    sensitive: true,
  },
  {
    // heap, goroutine (full stacks with `debug=2`), allocs, block, mutex, threadcreate.
    name: 'debug.pprof.lookup',
    method: 'GET',
    path: '/debug/pprof/{profile}',
    area: 'debug',
    summary: 'A named runtime profile (heap, goroutine, allocs, block, mutex, threadcreate).',
    body: 'none',
    readonly: true,
    adminOnly: true,
    sensitive: true,
  },
];
