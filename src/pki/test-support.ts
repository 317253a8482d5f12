// Test helpers for the PKI (not part of the build: only *.test.ts files import it).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PassphraseSource } from './store.js';

export const noPassphrase: PassphraseSource = async () => undefined;
export const fixedPassphrase =
  (secret: string): PassphraseSource =>
  async () =>
    secret;

/** Runs the real openssl; returns stdout+stderr and the exit status. */
export function openssl(args: string[]): { status: number; output: string } {
  const res = spawnSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (res.error) throw res.error;
  return { status: res.status ?? 1, output: `${res.stdout}${res.stderr}` };
}

/** A fingerprint of a folder tree (paths, modes, contents) to prove a command wrote nothing. */
export function snapshotTree(root: string): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      h.update(`missing:${dir}`);
      return;
    }
    for (const name of entries) {
      const p = join(dir, name);
      const st = statSync(p);
      h.update(`${p}:${st.mode}`);
      if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(root);
  return h.digest('hex');
}
