import { Command } from 'commander';
import { listCertificates } from '../pki/inventory.js';
import { ensureCa, ensureCertificate } from '../pki/bootstrap.js';
import { contextOf } from './context.js';
import { renderTable } from './output.js';
import { cliPassphraseSource } from './passphrase.js';

/**
 * `dockward up` (`npm start`): the first-run experience. Today it sets up the PKI in the state
 * folder (CA, an admin client certificate) and lists it; the gateway joins it in a later release.
 */
export function upCommand(): Command {
  return new Command('up')
    .description(
      'First run: create the PKI in the state folder if missing, issue an admin client certificate, list it.',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const { paths, out } = contextOf(cmd);
      const passphrase = cliPassphraseSource();
      const createdCa = await ensureCa(paths, passphrase);
      const admin = await ensureCertificate(
        paths,
        { kind: 'client', name: 'admin', ou: 'admin' },
        passphrase,
      );
      const list = await listCertificates(paths);
      out.result({ home: paths.home, createdCa, admin, certificates: list }, (r) =>
        [
          `${r.createdCa ? 'created' : 'found'} the CA in ${paths.pki}`,
          `${r.admin.created ? 'issued' : 'found'} the admin client certificate in ${r.admin.dir}`,
          '',
          renderTable(
            ['NAME', 'KIND', 'SERIAL', 'NOT AFTER', 'DAYS LEFT', 'STATUS'],
            [r.certificates.ca, ...r.certificates.certs].map((c) => [
              c.name,
              c.ou ? `${c.kind}/${c.ou}` : c.kind,
              c.serial,
              c.notAfter.slice(0, 10),
              String(c.daysLeft),
              c.status,
            ]),
          ),
          '',
          'Next: issue a server certificate for a Docker host, e.g.',
          '  dockward pki issue server myhost --san DNS:myhost.example.com --san IP:192.0.2.10',
        ].join('\n'),
      );
    });
}
