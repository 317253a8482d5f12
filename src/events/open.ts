/** Opens the event store a `--store URL` names: `sqlite:FILE` or `postgres://...`. */
import { resolve } from 'node:path';
import { DockwardError } from '../errors.js';
import type { StatePaths } from '../store/paths.js';
import type { EventStore } from './model.js';

/** The default store: a SQLite file in the state folder. */
export function defaultStoreUrl(paths: StatePaths): string {
  return `sqlite:${resolve(paths.home, 'events.db')}`;
}

/** The SQLite file of a `sqlite:` URL, or undefined for a postgres one; throws DW_E_USAGE for anything else. */
export function checkStoreUrl(url: string): { sqliteFile?: string } {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file.length === 0) throw badUrl(url);
    return { sqliteFile: file };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return {};
  throw badUrl(url);
}

export async function openEventStore(url: string): Promise<EventStore> {
  const { sqliteFile: file } = checkStoreUrl(url);
  if (file !== undefined) {
    const { SqliteEventStore } = await import('./sqlite.js');
    return SqliteEventStore.open(file === ':memory:' ? file : resolve(file));
  }
  const { PostgresEventStore } = await import('./postgres.js');
  return PostgresEventStore.open(url);
}

function badUrl(url: string): DockwardError {
  // Never echo a postgres URL back: it may carry a password.
  const shown = url.startsWith('sqlite') ? url : url.replace(/\/\/[^@/]*@/, '//***@');
  return new DockwardError('DW_E_USAGE', `--store "${shown}" is not an event store URL`, {
    hint: 'Write sqlite:FILE (e.g. sqlite:/var/lib/dockward/events.db) or postgres://USER@HOST:PORT/DB.',
  });
}
