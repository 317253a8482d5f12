/**
 * Extended POSIX ACL entries of many files in one `getfacl` run (Node has no xattr API, and one
 * process per file would dominate the audit's time). Without getfacl the ACLs are unknown
 * (undefined), which the rules treat as "mode bits only".
 */
import { execFile } from 'node:child_process';

/** Parses `getfacl` output into the named entries per file (`user:bob:rw-`), masked by `mask::`. */
export function parseGetfacl(output: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string | undefined;
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    const file = /^# file: (.*)$/.exec(line);
    if (file) {
      current = `/${file[1]!.replace(/^\/+/, '')}`;
      out.set(current, []);
      continue;
    }
    if (!current || line === '' || line.startsWith('#')) continue;
    // `user:bob:rw-	#effective:r--`: what counts is the effective permission.
    const m = /^(user|group):([^:]+):([rwx-]{3})(?:\s+#effective:([rwx-]{3}))?$/.exec(line);
    if (m) out.get(current)!.push(`${m[1]}:${m[2]}:${m[4] ?? m[3]}`);
  }
  return out;
}

/** Named ACL entries of each path (absolute paths on this machine); undefined when getfacl is not installed. */
export function readAcls(
  paths: readonly string[],
  timeoutMs = 5000,
): Promise<Map<string, string[]> | undefined> {
  if (paths.length === 0) return Promise.resolve(new Map());
  return new Promise((resolve) => {
    execFile(
      'getfacl',
      ['--absolute-names', '--', ...paths],
      { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout) => {
        const code = (err as NodeJS.ErrnoException | null)?.code;
        if (code === 'ENOENT') return resolve(undefined);
        // getfacl exits non-zero when one path is missing; the others are still printed.
        resolve(parseGetfacl(stdout ?? ''));
      },
    );
  });
}
