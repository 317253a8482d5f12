/** Opens the event store a `--store URL` names: `sqlite:FILE` or `postgres://...`. */
import { resolve } from 'node:path';
import { DockwardError } from '../errors.js';
import type { StatePaths } from '../store/paths.js';
import type { EventStore } from './model.js';

/** The default store: a SQLite file in the state folder. */
export function defaultStoreUrl(paths: StatePaths): string {
  return `sqlite:${resolve(paths.home, 'events.db')}`;
}

export async function openEventStore(url: string): Promise<EventStore> {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file.length === 0) throw badUrl(url);
    const { SqliteEventStore } = await import('./sqlite.js');
    return SqliteEventStore.open(file === ':memory:' ? file : resolve(file));
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { PostgresEventStore } = await import('./postgres.js');
    return PostgresEventStore.open(url);
  }
  throw badUrl(url);
}

function badUrl(url: string): DockwardError {
  // Never echo a postgres URL back: it may carry a password.
  const shown = url.startsWith('sqlite') ? url : url.replace(/\/\/[^@/]*@/, '//***@');
  return new DockwardError('DW_E_USAGE', `--store "${shown}" is not an event store URL`, {
    hint: 'Write sqlite:FILE (e.g. sqlite:/var/lib/dockward/events.db) or postgres://USER@HOST:PORT/DB.',
  });
}
