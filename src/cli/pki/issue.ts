import { type CertKind, type IssueResult, issueCertificate } from '../../pki/issue.js';
import { parseKeyType } from '../../pki/keys.js';
import { loadPolicyDecider } from '../../policy/load.js';
import { assertKnownRole } from '../../policy/role-names.js';
import { DockwardError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { cliPassphraseSource } from '../passphrase.js';

export interface PkiIssueOptions {
  kind: CertKind;
  name: string;
  days: number;
  keyType: string;
  sans?: string[];
  /** client: the role the gateway grants. */
  ou?: string;
  /** client: the policy file whose roles --ou may also name. */
  policy?: string;
  /** client: issue an OU that names no known role anyway. */
  force?: boolean;
}

/** `dockward pki issue server|client NAME`. */
export async function pkiIssue(ctx: CommandContext, opts: PkiIssueOptions): Promise<IssueResult> {
  if (opts.kind === 'client') await checkOu(ctx, opts);
  else if (opts.policy !== undefined || opts.force) {
    throw new DockwardError('DW_E_USAGE', '--policy and --force apply to client certificates only');
  }
  return issueCertificate(
    ctx.paths,
    {
      kind: opts.kind,
      name: opts.name,
      days: opts.days,
      keyType: parseKeyType(opts.keyType),
      ...(opts.sans ? { sans: opts.sans } : {}),
      ...(opts.ou ? { ou: opts.ou } : {}),
    },
    cliPassphraseSource(),
  );
}

/** An OU must name a role before anything is signed: a typo would silently become readonly. */
async function checkOu(ctx: CommandContext, opts: PkiIssueOptions): Promise<void> {
  if (opts.ou === undefined) {
    if (opts.policy !== undefined) await loadPolicyDecider(opts.policy); // still a usage check
    return;
  }
  await assertKnownRole(opts.ou, {
    ...(opts.policy !== undefined ? { policyFile: opts.policy } : {}),
    force: opts.force === true,
    warn: (line) => ctx.out.info(line),
  });
}

export function renderPkiIssue(r: IssueResult): string {
  return [
    `issued ${r.record.kind} certificate ${r.record.name} (serial ${r.record.serial})`,
    `  subject      ${r.record.subject}`,
    ...(r.record.sans.length > 0 ? [`  SANs         ${r.record.sans.join(', ')}`] : []),
    `  valid until  ${r.record.notAfter}`,
    `  files        ${r.files.dir}/{ca,cert,key}.pem`,
    ...(r.record.kind === 'client'
      ? [`  use          DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=${r.files.dir} docker -H tcp://HOST:2376 info`]
      : []),
  ].join('\n');
}
