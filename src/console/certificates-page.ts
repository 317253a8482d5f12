/** Certificates: the PKI's certificates on an expiry timeline, revoke and renew behind a confirmation. */
import { html } from 'hono/html';
import { listCertificates } from '../pki/inventory.js';
import { renewCertificates } from '../pki/renew.js';
import { revokeCertificate } from '../pki/revoke.js';
import type { ConsoleContext } from './context.js';
import { type Html, layout, ragForDays } from './layout.js';

const RAG_COLOURS = { red: '#b3261e', amber: '#c77700', green: '#1b7f3b' } as const;

export async function certificatesPage(
  ctx: ConsoleContext,
  notice: string | undefined,
  admin: boolean,
): Promise<Html> {
  const { ca, certs } = await listCertificates(ctx.paths, { all: true });
  const current = certs.filter((c) => c.status !== 'superseded');
  const timeline = [ca, ...current.filter((c) => c.status !== 'revoked')];
  const charts = [
    {
      canvas: 'expiry',
      config: {
        type: 'bar',
        data: {
          labels: timeline.map((c) => c.name),
          datasets: [
            {
              label: 'days left',
              data: timeline.map((c) => c.daysLeft),
              backgroundColor: timeline.map((c) => RAG_COLOURS[ragForDays(c.daysLeft)]),
            },
          ],
        },
        options: { indexAxis: 'y', plugins: { legend: { display: false } } },
      },
    },
  ];
  const body = html`
${notice ? html`<p id="notice" class="green">${notice}</p>` : ''}
<h2>Expiry timeline</h2>
<div class="chart"><canvas id="expiry"></canvas></div>
<h2>Certificates</h2>
<table id="certificates"><thead><tr><th>name</th><th>kind</th><th>role (OU)</th><th>serial</th><th>expires</th>
<th>days left</th><th>status</th><th>actions</th></tr></thead><tbody>
${[ca, ...current].map(
  (c) => html`<tr data-cert="${c.name}">
<td>${c.name}</td><td>${c.kind}</td><td>${c.ou ?? ''}</td><td><code>${c.serial}</code></td><td>${c.notAfter}</td>
<td class="${ragForDays(c.daysLeft)}">${c.daysLeft}</td><td class="status">${c.status}${c.revokedAt ? ` (${c.revokedAt})` : ''}</td>
<td>${
    c.kind === 'ca' || !admin
      ? ''
      : html`${c.status === 'revoked' ? '' : html`<a href="/certificates/${c.name}/revoke">revoke</a> · `}<a href="/certificates/${c.name}/renew">renew</a>`
  }</td></tr>`,
)}
</tbody></table>
${admin ? '' : html`<p class="note">Actions need a client certificate with the admin role.</p>`}`;
  return layout('certificates', 'Certificates', body, charts);
}

export function confirmPage(ctx: ConsoleContext, action: 'revoke' | 'renew', name: string): Html {
  const what =
    action === 'revoke'
      ? 'Revoke it: the CRL is re-signed and every gateway watching it refuses this certificate within seconds.'
      : 'Renew it: a new key and certificate with the same subject, OU and SANs; the old one stays valid until it expires.';
  const body = html`<p>Certificate <strong>${name}</strong>. ${what}</p>
<form method="post" action="/certificates/${name}/${action}">
<input type="hidden" name="token" value="${ctx.formToken}">
${action === 'revoke' ? html`<label>reason <select name="reason"><option>unspecified</option><option>keyCompromise</option><option>affiliationChanged</option><option>superseded</option><option>cessationOfOperation</option><option>privilegeWithdrawn</option></select></label>` : ''}
<button class="danger" id="confirm" type="submit">Confirm ${action} of ${name}</button> <a href="/certificates">cancel</a>
</form>`;
  return layout('certificates', `${action === 'revoke' ? 'Revoke' : 'Renew'} ${name}?`, body);
}

export async function revoke(ctx: ConsoleContext, name: string, reason: string): Promise<string> {
  const { record, crl } = await revokeCertificate(
    ctx.paths,
    { name, reason: reason as Parameters<typeof revokeCertificate>[1]['reason'] & string },
    ctx.passphrase,
  );
  ctx.logger.info({ name, serial: record.serial, crl: crl.crlNumber }, 'console: revoked a certificate');
  return `Revoked ${name} (serial ${record.serial}); CRL #${crl.crlNumber} written to ${crl.path}.`;
}

export async function renew(ctx: ConsoleContext, name: string): Promise<string> {
  const res = await renewCertificates(ctx.paths, { name }, ctx.passphrase);
  const r = res.renewed[0];
  ctx.logger.info({ name, serial: r?.record.serial }, 'console: renewed a certificate');
  return r
    ? `Renewed ${name}: new serial ${r.record.serial}, expires ${r.record.notAfter}.`
    : `${name} was not renewed.`;
}
