import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDocker } from './docker-cli.js';
import type { PrivateDockerd } from './dockerd.js';
import { BUSYBOX_PATH } from './requirements.js';
import { runCommand } from './run.js';

/** The tag the suites use for the busybox test image. */
export const TEST_IMAGE = 'testbox:latest';

/** The busybox applets linked into the image's /bin. */
export const BUSYBOX_APPLETS = [
  'sh',
  'echo',
  'cat',
  'ls',
  'sleep',
  'true',
  'false',
  'id',
  'env',
  'top',
  'ps',
  'wc',
  'head',
  'tail',
  'printf',
  'touch',
  'mkdir',
  'rm',
  'hostname',
  'whoami',
  'date',
  'yes',
] as const;

/** Lays out a minimal root filesystem: static busybox, applet links, root (and nobody) in passwd/group. */
function writeRootfs(root: string): void {
  for (const dir of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev'])
    mkdirSync(join(root, dir), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  chmodSync(join(root, 'root'), 0o700);
  copyFileSync(BUSYBOX_PATH, join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  for (const applet of BUSYBOX_APPLETS) symlinkSync('busybox', join(root, 'bin', applet));
  writeFileSync(
    join(root, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
}

/**
 * Builds the busybox test image in the daemon (no registry can be reached here) and returns its tag.
 * A tag that exists already is kept, so suites may call this freely.
 */
export async function buildBusyboxImage(dockerd: PrivateDockerd, tag = TEST_IMAGE): Promise<string> {
  const env = dockerd.env;
  if ((await runDocker(['image', 'inspect', '--format', '{{.Id}}', tag], { env })).code === 0) return tag;
  const work = mkdtempSync(join(tmpdir(), 'dw-image-'));
  try {
    const root = join(work, 'rootfs');
    writeRootfs(root);
    const tarPath = join(work, 'rootfs.tar');
    // numeric-owner + owner/group 0: files in the image belong to root whoever built it.
    const tar = await runCommand(
      'tar',
      ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tarPath, '.'],
      {
        timeoutMs: 60_000,
      },
    );
    if (tar.code !== 0) throw new Error(`tar failed: ${tar.stderr}`);
    const imported = await runDocker(['import', '--change', 'CMD ["sh"]', tarPath, tag], {
      env,
      timeoutMs: 120_000,
    });
    if (imported.code !== 0)
      throw new Error(`docker import ${tag} failed (${imported.code}): ${imported.stderr}`);
    return tag;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
