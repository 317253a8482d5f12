// Builds the C load client (bench/c/load-client.c: epoll + OpenSSL) with gcc into
// bench/results/.build/, once per source change. Needs the Debian packages gcc and libssl-dev
// (.ci/run installs them).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './rig.js';

const SOURCE = join(REPO, 'bench', 'c', 'load-client.c');
const BINARY = join(REPO, 'bench', 'results', '.build', 'load-client');

/** The path of the built client; builds it when missing or older than its source. */
export function cLoadClient(): string {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return BINARY;
  mkdirSync(join(REPO, 'bench', 'results', '.build'), { recursive: true });
  const args = ['-O2', '-Wall', '-o', BINARY, SOURCE, '-lssl', '-lcrypto'];
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(
      `cannot build the C load client (gcc ${args.join(' ')}): ${r.error?.message ?? r.stderr}\n` +
        'Install the compiler and OpenSSL headers: apt-get install gcc libssl-dev',
    );
  }
  console.error(`bench: built the C load client: gcc ${args.join(' ')}`);
  return BINARY;
}
