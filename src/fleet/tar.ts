/**
 * In-memory gzip tarballs for CI bundles, through tar-stream: the key never touches a temp folder
 * on its way into the archive.
 */
import { Buffer } from 'node:buffer';
import { buffer as collect } from 'node:stream/consumers';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { DockwardError } from '../errors.js';

/** One regular file of a tarball. */
export interface TarEntry {
  name: string;
  mode: number;
  data: string | Uint8Array;
}

/** A gzip-compressed archive of small regular files (short relative names only). */
export async function gzipTar(entries: readonly TarEntry[], mtime: Date = new Date()): Promise<Buffer> {
  for (const e of entries) {
    // Bundles are extracted by users in CI; a name that climbs out of the folder is a bug here.
    if (e.name.split('/').includes('..') || e.name.startsWith('/') || e.name === '') {
      throw new DockwardError('DW_E_INTERNAL', `tar entry name "${e.name}" is not a short relative name`);
    }
  }
  const archive = pack();
  const gzipped = collect(archive.pipe(createGzip()));
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : Buffer.from(e.data);
    archive.entry({ name: e.name, mode: e.mode & 0o7777, mtime, uid: 0, gid: 0, type: 'file' }, data);
  }
  archive.finalize();
  return gzipped;
}
