import { type InitCaResult, initCa } from '../../pki/init-ca.js';
import { parseKeyType } from '../../pki/keys.js';
import type { CommandContext } from '../context.js';
import { cliPassphraseSource } from '../passphrase.js';

export interface PkiInitOptions {
  cn: string;
  keyType: string;
  days: number;
  encrypt?: boolean;
  force?: boolean;
}

/** `dockward pki init`: the CA, an empty CRL and the index. */
export async function pkiInit(ctx: CommandContext, opts: PkiInitOptions): Promise<InitCaResult> {
  return initCa(
    ctx.paths,
    {
      cn: opts.cn,
      keyType: parseKeyType(opts.keyType),
      days: opts.days,
      encrypt: opts.encrypt === true,
      force: opts.force === true,
    },
    cliPassphraseSource(),
  );
}

export function renderPkiInit(r: InitCaResult): string {
  return [
    `CA created: ${r.ca.subject} (${r.ca.keyType}${r.ca.encrypted ? ', key encrypted' : ''})`,
    `  certificate  ${r.caCertPath}`,
    `  key          ${r.caKeyPath} (0600; keep it off the servers)`,
    `  valid until  ${r.ca.notAfter}`,
    ...(r.backupDir ? [`  previous PKI moved to ${r.backupDir}`] : []),
  ].join('\n');
}
