import { Command } from 'commander';
import { DockwardError } from '../errors.js';
import { initCa } from '../pki/init-ca.js';
import { type CertView, inspectCertificate, listCertificates } from '../pki/inventory.js';
import { issueCertificate } from '../pki/issue.js';
import { parseKeyType } from '../pki/keys.js';
import { renewCertificates } from '../pki/renew.js';
import { parseReason, REVOCATION_REASONS, refreshCrl, revokeCertificate } from '../pki/revoke.js';
import { parseWindow } from '../pki/status.js';
import { loadIndex } from '../pki/store.js';
import { collect, contextOf, parseDaysOption } from './context.js';
import { renderTable } from './output.js';
import { cliPassphraseSource } from './passphrase.js';

export function pkiCommand(): Command {
  const pki = new Command('pki').description(
    'The certificate authority: a CA, server and client certificates, revocation (CRL) and renewal.',
  );

  pki
    .command('init')
    .description('Create the CA (pki/ca.pem and the 0600 key pki/ca-key.pem), an empty CRL and the index.')
    .option('--cn <name>', 'common name of the CA', 'dockward CA')
    .option('--key-type <type>', 'ecdsa-p256 | rsa-2048 | rsa-4096', 'ecdsa-p256')
    .option('--days <n>', 'validity in days', parseDaysOption, 3650)
    .option('--encrypt', 'store the CA key encrypted; passphrase from DOCKWARD_CA_PASSPHRASE or a prompt')
    .option('--force', 'replace an existing CA (the old PKI is moved to pki/backups/)')
    .action(
      async (
        opts: { cn: string; keyType: string; days: number; encrypt?: boolean; force?: boolean },
        cmd,
      ) => {
        const { paths, out } = contextOf(cmd);
        const keyType = parseKeyType(opts.keyType);
        const res = await initCa(
          paths,
          {
            cn: opts.cn,
            keyType,
            days: opts.days,
            encrypt: opts.encrypt === true,
            force: opts.force === true,
          },
          cliPassphraseSource(),
        );
        out.result(res, (r) =>
          [
            `CA created: ${r.ca.subject} (${r.ca.keyType}${r.ca.encrypted ? ', key encrypted' : ''})`,
            `  certificate  ${r.caCertPath}`,
            `  key          ${r.caKeyPath} (0600; keep it off the servers)`,
            `  valid until  ${r.ca.notAfter}`,
            ...(r.backupDir ? [`  previous PKI moved to ${r.backupDir}`] : []),
          ].join('\n'),
        );
      },
    );

  const issue = pki
    .command('issue')
    .description('Issue a server or client certificate into pki/issued/NAME/.');
  issue
    .command('server <name>')
    .description('A server certificate (serverAuth) for a dockerd or gateway listener.')
    .option('--san <san>', 'DNS:host or IP:addr (repeatable, at least one)', collect, [])
    .option('--days <n>', 'validity in days', parseDaysOption, 365)
    .option('--key-type <type>', 'ecdsa-p256 | rsa-2048 | rsa-4096', 'ecdsa-p256')
    .action(async (name: string, opts: { san: string[]; days: number; keyType: string }, cmd) => {
      await runIssue(cmd, { kind: 'server', name, sans: opts.san, days: opts.days, keyType: opts.keyType });
    });
  issue
    .command('client <name>')
    .description('A client certificate (clientAuth); its OU names the role the gateway grants.')
    .option('--ou <role>', 'organizational unit: the role (readonly | operator | admin, or a policy role)')
    .option('--days <n>', 'validity in days', parseDaysOption, 90)
    .option('--key-type <type>', 'ecdsa-p256 | rsa-2048 | rsa-4096', 'ecdsa-p256')
    .action(async (name: string, opts: { ou?: string; days: number; keyType: string }, cmd) => {
      await runIssue(cmd, { kind: 'client', name, ou: opts.ou, days: opts.days, keyType: opts.keyType });
    });

  pki
    .command('list')
    .description('Every certificate with its serial, SANs, expiry, days left and status.')
    .option('--all', 'include certificates superseded by renew')
    .action(async (opts: { all?: boolean }, cmd) => {
      const { paths, out } = contextOf(cmd);
      const res = await listCertificates(paths, { all: opts.all === true });
      out.result(res, (r) => renderTable(CERT_HEADERS, [r.ca, ...r.certs].map(certRow)));
    });

  pki
    .command('inspect <name>')
    .description('One certificate in detail, with its renewal history ("ca" for the CA).')
    .action(async (name: string, _opts: unknown, cmd) => {
      const { paths, out } = contextOf(cmd);
      const res = await inspectCertificate(paths, name);
      out.result(res, (r) =>
        [
          describeCert(r.current),
          ...(r.history.length > 0
            ? ['', 'history:', renderTable(CERT_HEADERS, r.history.map(certRow))]
            : []),
        ].join('\n'),
      );
    });

  pki
    .command('revoke <name>')
    .description('Revoke a certificate and re-sign pki/crl.pem.')
    .option('--reason <reason>', REVOCATION_REASONS.join(' | '), 'unspecified')
    .option('--serial <hex>', "revoke this serial from the name's history instead of the current one")
    .action(async (name: string, opts: { reason: string; serial?: string }, cmd) => {
      const { paths, out } = contextOf(cmd);
      const reason = parseReason(opts.reason);
      const res = await revokeCertificate(
        paths,
        { name, reason, ...(opts.serial ? { serial: opts.serial } : {}) },
        cliPassphraseSource(),
      );
      out.result(res, (r) =>
        [
          `revoked ${r.record.name} (serial ${r.record.serial}, reason ${r.record.revocationReason})`,
          `CRL #${r.crl.crlNumber} written to ${r.crl.path} (${r.crl.revoked.length} revoked, next update ${r.crl.nextUpdate})`,
          'Reload the gateway (SIGHUP) so it refuses the certificate; dockerd itself cannot read a CRL.',
        ].join('\n'),
      );
    });

  pki
    .command('crl')
    .description('Show the revoked certificates; --refresh re-signs the CRL with a new validity window.')
    .option('--refresh', 're-sign pki/crl.pem now (run it from cron before the next update date)')
    .option('--days <n>', 'with --refresh: days until the next update', parseDaysOption, 30)
    .action(async (opts: { refresh?: boolean; days: number }, cmd) => {
      const { paths, out } = contextOf(cmd);
      if (opts.refresh) {
        const res = await refreshCrl(paths, cliPassphraseSource(), opts.days);
        out.result(res, (r) => `CRL #${r.crlNumber} written to ${r.path}, next update ${r.nextUpdate}`);
        return;
      }
      const index = await loadIndex(paths);
      const revoked = index.certs
        .filter((c) => c.revokedAt)
        .map((c) => ({
          name: c.name,
          serial: c.serial,
          revokedAt: c.revokedAt!,
          reason: c.revocationReason ?? '',
        }));
      out.result({ path: paths.crl, crlNumber: index.crlNumber, revoked }, (r) =>
        r.revoked.length === 0
          ? `CRL #${r.crlNumber} (${r.path}): nothing revoked`
          : `CRL #${r.crlNumber} (${r.path})\n${renderTable(
              ['NAME', 'SERIAL', 'REVOKED', 'REASON'],
              r.revoked.map((x) => [x.name, x.serial, x.revokedAt, x.reason]),
            )}`,
      );
    });

  pki
    .command('renew [name]')
    .description(
      'New key and certificate with the same subject and SANs; --within renews only what expires soon.',
    )
    .option('--within <window>', 'only certificates expiring within this window (30d, 2w, 12h)')
    .option('--days <n>', 'validity of the new certificate (default: same as the old one)', parseDaysOption)
    .action(async (name: string | undefined, opts: { within?: string; days?: number }, cmd) => {
      const { paths, out } = contextOf(cmd);
      let withinMs: number | undefined;
      if (opts.within !== undefined) {
        withinMs = parseWindow(opts.within);
        if (withinMs === undefined) {
          throw new DockwardError('DW_E_DURATION', `--within "${opts.within}" is not a window`, {
            hint: 'Write it as 30d, 2w or 12h.',
          });
        }
      }
      const res = await renewCertificates(
        paths,
        {
          ...(name ? { name } : {}),
          ...(withinMs !== undefined ? { withinMs } : {}),
          ...(opts.days ? { days: opts.days } : {}),
        },
        cliPassphraseSource(),
      );
      out.result(res, (r) =>
        [
          ...r.renewed.map(
            (x) =>
              `renewed ${x.name}: serial ${x.oldSerial} -> ${x.record.serial}, valid until ${x.record.notAfter}`,
          ),
          ...r.skipped.map((x) => `skipped ${x.name}: ${x.reason}`),
          ...(r.renewed.length === 0 && r.skipped.length === 0 ? ['nothing to renew'] : []),
        ].join('\n'),
      );
    });

  return pki;
}

const CERT_HEADERS = ['NAME', 'KIND', 'SERIAL', 'SANS', 'NOT AFTER', 'DAYS LEFT', 'STATUS'] as const;

function certRow(c: CertView): string[] {
  return [
    c.name,
    c.ou ? `${c.kind}/${c.ou}` : c.kind,
    c.serial,
    c.sans.join(',') || '-',
    c.notAfter.slice(0, 10),
    String(c.daysLeft),
    c.status,
  ];
}

function describeCert(c: CertView): string {
  const rows: [string, string][] = [
    ['name', c.name],
    ['kind', c.kind],
    ['subject', c.subject],
    ['serial', c.serial],
    ['key type', c.keyType],
    ['SANs', c.sans.join(', ') || '-'],
    ['not before', c.notBefore],
    ['not after', c.notAfter],
    ['days left', String(c.daysLeft)],
    ['status', c.status],
    ['sha256', c.fingerprint],
  ];
  if (c.revokedAt) rows.push(['revoked', `${c.revokedAt} (${c.revocationReason ?? 'unspecified'})`]);
  if (c.renewedFrom) rows.push(['renewed from', c.renewedFrom]);
  if (c.path) rows.push(['files', c.path]);
  return rows.map(([k, v]) => `${k.padEnd(13)}${v}`).join('\n');
}

async function runIssue(
  cmd: Command,
  o: {
    kind: 'server' | 'client';
    name: string;
    sans?: string[];
    ou?: string | undefined;
    days: number;
    keyType: string;
  },
): Promise<void> {
  const { paths, out } = contextOf(cmd);
  const keyType = parseKeyType(o.keyType);
  const res = await issueCertificate(
    paths,
    {
      kind: o.kind,
      name: o.name,
      days: o.days,
      keyType,
      ...(o.sans ? { sans: o.sans } : {}),
      ...(o.ou ? { ou: o.ou } : {}),
    },
    cliPassphraseSource(),
  );
  out.result(res, (r) =>
    [
      `issued ${r.record.kind} certificate ${r.record.name} (serial ${r.record.serial})`,
      `  subject      ${r.record.subject}`,
      ...(r.record.sans.length > 0 ? [`  SANs         ${r.record.sans.join(', ')}`] : []),
      `  valid until  ${r.record.notAfter}`,
      `  files        ${r.files.dir}/{ca,cert,key}.pem`,
      ...(r.record.kind === 'client'
        ? [
            `  use          DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=${r.files.dir} docker -H tcp://HOST:2376 info`,
          ]
        : []),
    ].join('\n'),
  );
}
