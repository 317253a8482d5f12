import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type DockerdCandidate,
  findDockerdForSocket,
  inodesOfSocketPath,
  matchDockerd,
  parseProcNetUnix,
  socketInodeOfLink,
  unixHostsOfArgs,
} from './process.js';

// Shaped like the kernel's /proc/net/unix: listening sockets have Flags 00010000.
const NET_UNIX = `Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 41001 /run/dw/a.sock
0000000000000000: 00000003 00000000 00000000 0001 03 41002 /run/dw/a.sock
0000000000000000: 00000002 00000000 00010000 0001 01 41003 /tmp/with space/b.sock
0000000000000000: 00000002 00000000 00010000 0001 01 41004 @abstract-name
0000000000000000: 00000003 00000000 00000000 0001 03 41005
`;

describe('/proc/net/unix parsing', () => {
  it('reads inode, path and the listening flag of each bound socket', () => {
    const rows = parseProcNetUnix(NET_UNIX);
    assert.deepEqual(rows, [
      { inode: 41001, path: '/run/dw/a.sock', listening: true },
      { inode: 41002, path: '/run/dw/a.sock', listening: false },
      { inode: 41003, path: '/tmp/with space/b.sock', listening: true },
    ]);
  });

  it('picks only the listening inode of a socket path (accepted connections share the path)', () => {
    assert.deepEqual([...inodesOfSocketPath(parseProcNetUnix(NET_UNIX), '/run/dw/./a.sock')], [41001]);
  });

  it('reads the inode of a socket fd link and ignores other fds', () => {
    assert.equal(socketInodeOfLink('socket:[41001]'), 41001);
    assert.equal(socketInodeOfLink('/var/lib/docker/x.db'), undefined);
    assert.equal(socketInodeOfLink('anon_inode:[eventpoll]'), undefined);
  });
});

describe('matching a dockerd to its socket', () => {
  const a: DockerdCandidate = {
    pid: 10,
    args: ['dockerd', '-H', 'unix:///run/dw/a.sock'],
    socketInodes: new Set([7, 8]),
  };
  const b: DockerdCandidate = {
    pid: 20,
    args: ['/usr/bin/dockerd', '--config-file', '/x/daemon.json'],
    socketInodes: new Set([41001]),
  };

  it('prefers the process holding the socket inode over one whose -H names the path', () => {
    // b sets hosts in daemon.json: only the inode can name it.
    const m = matchDockerd([a, b], '/run/dw/a.sock', new Set([41001]));
    assert.deepEqual(m, { pid: 20, args: b.args, where: '/proc/20/cmdline', matchedBy: 'socket-inode' });
  });

  it('falls back to the -H flags when no fd matches (fds unreadable)', () => {
    const m = matchDockerd([{ ...a, socketInodes: new Set() }, b], '/run/dw/a.sock', new Set([99]));
    assert.equal(m?.pid, 10);
    assert.equal(m?.matchedBy, 'host-flag');
  });

  it('reads -H in every spelling dockerd accepts', () => {
    assert.deepEqual(
      unixHostsOfArgs(['dockerd', '-Hunix:///a.sock', '--host=unix:///b.sock', '-H', 'tcp://0.0.0.0:2375']),
      ['/a.sock', '/b.sock'],
    );
  });

  it('finds nobody when two processes claim the path by flags only', () => {
    const twin = { ...a, pid: 11, socketInodes: new Set<number>() };
    assert.equal(
      matchDockerd([{ ...a, socketInodes: new Set() }, twin], '/run/dw/a.sock', new Set()),
      undefined,
    );
  });
});

describe('findDockerdForSocket over a /proc tree', () => {
  const proc = mkdtempSync(join(tmpdir(), 'dw-proc-'));
  after(() => rmSync(proc, { recursive: true, force: true }));

  const addProcess = (pid: number, comm: string, argv: string[], links: string[]) => {
    mkdirSync(join(proc, String(pid), 'fd'), { recursive: true });
    writeFileSync(join(proc, String(pid), 'comm'), `${comm}\n`);
    writeFileSync(join(proc, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
    // A dangling symlink reads back like the kernel's fd links.
    for (const [i, l] of links.entries()) symlinkSync(l, join(proc, String(pid), 'fd', String(i)));
  };
  mkdirSync(join(proc, 'net'));
  writeFileSync(join(proc, 'net', 'unix'), NET_UNIX);
  addProcess(300, 'containerd', ['containerd'], ['socket:[41001]']);
  addProcess(301, 'dockerd', ['dockerd', '-H', 'unix:///other.sock'], ['socket:[5]', '/dev/null']);
  addProcess(302, 'dockerd', ['dockerd', '--config-file', '/etc/dw.json'], ['/dev/null', 'socket:[41001]']);

  it('names the dockerd whose open fds include the listening socket', async () => {
    const m = await findDockerdForSocket('/run/dw/a.sock', { procRoot: proc });
    assert.deepEqual(m, {
      pid: 302,
      args: ['dockerd', '--config-file', '/etc/dw.json'],
      where: '/proc/302/cmdline',
      matchedBy: 'socket-inode',
    });
  });

  it('returns undefined for a socket no dockerd serves', async () => {
    assert.equal(await findDockerdForSocket('/run/nobody.sock', { procRoot: proc }), undefined);
  });
});
