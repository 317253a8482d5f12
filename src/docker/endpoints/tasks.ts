import type { Endpoint } from './types.js';

/** Swarm task routes (moby cluster router). */
export const TASK_ENDPOINTS: readonly Endpoint[] = [
  {
    name: 'task.list',
    method: 'GET',
    path: '/tasks',
    area: 'tasks',
    summary: 'List swarm tasks.',
    body: 'none',
    readonly: true,
  },
  {
    name: 'task.inspect',
    method: 'GET',
    path: '/tasks/{id}',
    area: 'tasks',
    summary: 'Inspect a task (its spec includes environment variables).',
    body: 'none',
    readonly: true,
    sensitive: true,
  },
  {
    name: 'task.logs',
    method: 'GET',
    path: '/tasks/{id}/logs',
    area: 'tasks',
    summary: "Read a task's logs; with `follow` the stream stays open.",
    streams: 'response',
    body: 'none',
    readonly: true,
    sensitive: true,
  },
];
