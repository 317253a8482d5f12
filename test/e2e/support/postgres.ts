/**
 * A private PostgreSQL for a test: Debian's `postgresql` binaries, `initdb` in a temp folder, its
 * own port on 127.0.0.1 and its socket in that folder. Never a system cluster. PostgreSQL refuses
 * to run as root, so as root it runs as the `postgres` user (runuser).
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort, runCommand } from '../harness/index.js';

export interface PrivatePostgres {
  url: string;
  port: number;
  dir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

/** The folder of Debian's server binaries (initdb, pg_ctl), newest version first. */
export function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : undefined;
}

function asPostgres(bin: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

export async function startPostgres(): Promise<PrivatePostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error("PostgreSQL is not installed: apt-get install postgresql (Debian's package)");
  const dir = mkdtempSync(join(tmpdir(), 'dw-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const id = await runCommand('id', ['-u', 'postgres']);
    const gid = await runCommand('id', ['-g', 'postgres']);
    chownSync(dir, Number(id.stdout.trim()), Number(gid.stdout.trim()));
  }
  const port = await freeLoopbackPort();
  const run = async (args: string[], what: string) => {
    const [cmd, argv] = asPostgres(join(bin, args[0]!), args.slice(1));
    const r = await runCommand(cmd, argv, { timeoutMs: 60_000, cwd: dir });
    if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  };
  await run(['initdb', '-D', data, '-U', 'dockward', '--auth=trust', '-E', 'UTF8', '--no-sync'], 'initdb');
  const pg: PrivatePostgres = {
    url: `postgres://dockward@127.0.0.1:${port}/postgres`,
    port,
    dir,
    start: () =>
      run(
        [
          'pg_ctl',
          '-D',
          data,
          '-l',
          join(dir, 'postgres.log'),
          '-w',
          '-o',
          `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off`,
          'start',
        ],
        'pg_ctl start',
      ),
    stop: () => run(['pg_ctl', '-D', data, '-m', 'fast', '-w', 'stop'], 'pg_ctl stop'),
    cleanup: async () => {
      await pg.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await pg.start();
  return pg;
}
