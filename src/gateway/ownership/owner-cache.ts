/**
 * What the gateway learnt about Docker objects' owners, kept only while dockerd's `/events`
 * stream says nothing changed. Container, volume and network labels are fixed at creation, so an
 * entry goes stale only when its object is destroyed, renamed or another object takes its name;
 * each of those sends an event naming the object's id and name, and every entry for that id or
 * name is dropped. A lookup that started before an event is not stored (its answer may predate
 * the change). While the watcher is down the cache is off: every request looks up afresh.
 */
import type { ObjectKind } from './references.js';

/** One object as the gateway saw it through the upstream socket. */
export interface ObjectFacts {
  /** False when dockerd answered 404. Never cached. */
  exists: boolean;
  id?: string;
  name?: string;
  /** The owner label, when the object has one. */
  owner?: string;
  /** For an exec: the container it runs in. */
  containerId?: string;
  /** For a network: one of dockerd's own (`bridge`, `none`), which every identity may use. */
  predefined?: boolean;
}

interface Entry {
  facts: ObjectFacts;
  at: number;
}

/** An upper bound even with a live watcher, against a missed event. */
const MAX_AGE_MS = 5 * 60_000;
const MAX_ENTRIES = 10_000;

export class OwnerCache {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;
  private live = false;

  constructor(private readonly now: () => number = Date.now) {}

  /** The events watcher is connected (true) or not (false: cache off and emptied). */
  setLive(live: boolean): void {
    this.live = live;
    this.generation++;
    this.entries.clear();
  }

  get isLive(): boolean {
    return this.live;
  }

  /** A token to pass back to `store`: a store after an intervening event is dropped. */
  begin(): number {
    return this.generation;
  }

  get(kind: ObjectKind, ref: string): ObjectFacts | undefined {
    if (!this.live) return undefined;
    const key = `${kind}:${ref}`;
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() - e.at > MAX_AGE_MS) {
      this.entries.delete(key);
      return undefined;
    }
    return e.facts;
  }

  store(kind: ObjectKind, ref: string, facts: ObjectFacts, token: number): void {
    // Exec ids are never reused and an exec never changes container: those may always be kept.
    // Image names move between images without a reliable event per spelling: never cached.
    if (!this.live || !facts.exists || kind === 'image' || (token !== this.generation && kind !== 'exec'))
      return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(`${kind}:${ref}`, { facts, at: this.now() });
  }

  /** An event about an object: drop every entry for its id or name. */
  invalidate(kind: ObjectKind, id: string | undefined, name: string | undefined): void {
    this.generation++;
    const prefix = `${kind}:`;
    for (const [key, e] of this.entries) {
      if (!key.startsWith(prefix)) continue;
      const ref = key.slice(prefix.length);
      if (
        (id !== undefined && (e.facts.id === id || ref === id)) ||
        (name !== undefined && (e.facts.name === name || ref === name))
      )
        this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
