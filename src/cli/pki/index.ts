import { Command } from 'commander';
import { REVOCATION_REASONS } from '../../pki/revoke.js';
import { contextOf } from '../context.js';
import { collect, parseDaysOption } from '../options.js';
import { pkiCrl, pkiCrlData, renderPkiCrl } from './crl.js';
import { type PkiInitOptions, pkiInit, renderPkiInit } from './init.js';
import { pkiInspect, renderPkiInspect } from './inspect.js';
import { pkiIssue, renderPkiIssue } from './issue.js';
import { pkiList, renderPkiList } from './list.js';
import { pkiRenew, renderPkiRenew } from './renew.js';
import { pkiRevoke, renderPkiRevoke, revokeFailure } from './revoke.js';
import { type PkiSignOptions, pkiSign, renderPkiSign } from './sign.js';

const KEY_TYPES = 'ecdsa-p256 | rsa-2048 | rsa-4096';

/** `dockward pki ...`: declarations only; each subcommand is a function in its own file. */
export function pkiCommand(): Command {
  const pki = new Command('pki').description(
    'The certificate authority: a CA, server and client certificates, revocation (CRL) and renewal.',
  );

  pki
    .command('init')
    .description('Create the CA (pki/ca.pem and the 0600 key pki/ca-key.pem), an empty CRL and the index.')
    .option('--cn <name>', 'common name of the CA', 'dockward CA')
    .option('--key-type <type>', KEY_TYPES, 'ecdsa-p256')
    .option('--days <n>', 'validity in days', parseDaysOption, 3650)
    .option('--encrypt', 'store the CA key encrypted; passphrase from DOCKWARD_CA_PASSPHRASE or a prompt')
    .option('--force', 'replace an existing CA (the old PKI is moved to pki/backups/)')
    .action(async (opts: PkiInitOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await pkiInit(ctx, opts), renderPkiInit);
    });

  const issue = pki
    .command('issue')
    .description('Issue a server or client certificate into pki/issued/NAME/.');
  issue
    .command('server <name>')
    .description('A server certificate (serverAuth) for a dockerd or gateway listener.')
    .option('--san <san>', 'DNS:host or IP:addr (repeatable, at least one)', collect, [])
    .option('--days <n>', 'validity in days', parseDaysOption, 365)
    .option('--key-type <type>', KEY_TYPES, 'ecdsa-p256')
    .action(async (name: string, opts: { san: string[]; days: number; keyType: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const r = await pkiIssue(ctx, {
        kind: 'server',
        name,
        sans: opts.san,
        days: opts.days,
        keyType: opts.keyType,
      });
      ctx.out.result(r, renderPkiIssue);
    });
  issue
    .command('client <name>')
    .description('A client certificate (clientAuth); its OU names the role the gateway grants.')
    .option(
      '--ou <role>',
      'organizational unit: the role (readonly | operator | admin, or a role of --policy FILE); anything else is refused',
    )
    .option('--policy <file>', 'a policy file whose roles --ou may name (the one the gateway runs with)')
    .option('--force', 'issue even when --ou names no known role (prints a warning)')
    .option('--days <n>', 'validity in days', parseDaysOption, 90)
    .option('--key-type <type>', KEY_TYPES, 'ecdsa-p256')
    .action(
      async (
        name: string,
        opts: { ou?: string; policy?: string; force?: boolean; days: number; keyType: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        ctx.out.result(await pkiIssue(ctx, { kind: 'client', name, ...opts }), renderPkiIssue);
      },
    );

  pki
    .command('sign <csr>')
    .description(
      'Sign a server certificate request (from `dockward host request`): only certificates travel, the key stays on the host.',
    )
    .requiredOption(
      '--out <file>',
      'where the certificate goes; the CA certificate is written beside it as ca.pem',
    )
    .option('--name <name>', "name in the PKI (default: the request's CN)")
    .option('--days <n>', 'validity in days', parseDaysOption, 365)
    .option('--replace', 'sign in place of a current server certificate of that name (a new key on the host)')
    .action(async (csr: string, opts: Omit<PkiSignOptions, 'csr'>, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await pkiSign(ctx, { csr, ...opts }), renderPkiSign);
    });

  pki
    .command('list')
    .description('Every certificate with its serial, SANs, expiry, days left and status.')
    .option('--all', 'include certificates superseded by renew')
    .action(async (opts: { all?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await pkiList(ctx, opts), renderPkiList);
    });

  pki
    .command('inspect <name>')
    .description('One certificate in detail, with its renewal history ("ca" for the CA).')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await pkiInspect(ctx, { name }), renderPkiInspect);
    });

  pki
    .command('revoke <name>')
    .description(
      'Revoke a certificate, re-sign pki/crl.pem, and push it over SSH to the hosts provisioned with --mode gateway (their gateways reload and cut the revoked connections).',
    )
    .option('--reason <reason>', REVOCATION_REASONS.join(' | '), 'unspecified')
    .option('--serial <hex>', "revoke this serial from the name's history instead of the current one")
    .option(
      '--no-push',
      'do not send the new CRL over SSH to the hosts provisioned with --mode gateway (hosts push-crl does it later)',
    )
    .action(async (name: string, opts: { reason: string; serial?: string; push: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const r = await pkiRevoke(ctx, { name, ...opts });
      ctx.out.result(r, renderPkiRevoke);
      const failure = revokeFailure(r);
      if (failure) throw failure;
    });

  pki
    .command('crl')
    .description('Show the revoked certificates; --refresh re-signs the CRL with a new validity window.')
    .option('--refresh', 're-sign pki/crl.pem now (run it from cron before the next update date)')
    .option('--days <n>', 'with --refresh: days until the next update', parseDaysOption, 30)
    .action(async (opts: { refresh?: boolean; days: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const r = await pkiCrl(ctx, opts);
      ctx.out.result(pkiCrlData(r), () => renderPkiCrl(r));
    });

  pki
    .command('renew [name]')
    .description(
      'New key and certificate with the same subject and SANs; --within renews only what expires soon.',
    )
    .option('--within <window>', 'only certificates expiring within this window (30d, 2w, 12h)')
    .option('--days <n>', 'validity of the new certificate (default: same as the old one)', parseDaysOption)
    .action(async (name: string | undefined, opts: { within?: string; days?: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await pkiRenew(ctx, { ...(name ? { name } : {}), ...opts }), renderPkiRenew);
    });

  return pki;
}
