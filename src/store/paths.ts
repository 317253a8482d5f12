import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Resolves the state folder: `--home`, else `DOCKWARD_HOME`, else `~/.dockward`. */
export function resolveHome(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag && flag.length > 0) return resolve(flag);
  const fromEnv = env['DOCKWARD_HOME'];
  if (fromEnv && fromEnv.length > 0) return resolve(fromEnv);
  return join(homedir(), '.dockward');
}

/** Every path of the state folder in one place (DESIGN.md, "The state folder"). */
export function statePaths(home: string) {
  const pki = join(home, 'pki');
  return {
    home,
    pki,
    caCert: join(pki, 'ca.pem'),
    caKey: join(pki, 'ca-key.pem'),
    crl: join(pki, 'crl.pem'),
    index: join(pki, 'index.json'),
    issued: join(pki, 'issued'),
    issuedDir: (name: string) => join(pki, 'issued', name),
    backups: join(pki, 'backups'),
    lock: join(home, '.lock'),
    hosts: join(home, 'hosts.json'),
    policy: join(home, 'policy.yaml'),
    audit: join(home, 'audit'),
  };
}

export type StatePaths = ReturnType<typeof statePaths>;
