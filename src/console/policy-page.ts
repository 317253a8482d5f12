/** Policy: the roles in force and an "explain this request" form over the policy's own explain. */
import { readFile } from 'node:fs/promises';
import { html } from 'hono/html';
import { builtinDecider } from '../policy/builtin-roles.js';
import { type CompiledPolicy, compilePolicy } from '../policy/compile.js';
import type { Explanation } from '../policy/decision.js';
import { evaluateRequest } from '../gateway/pipeline.js';
import type { ConsoleContext } from './context.js';
import { type Html, layout } from './layout.js';

/** The policy the gateways of this state folder use: `policy.yaml` when present, else the built-in roles. */
async function loadPolicy(ctx: ConsoleContext): Promise<{ policy: CompiledPolicy; file: string }> {
  const text = await readFile(ctx.paths.policy, 'utf8').catch(() => undefined);
  if (text === undefined) return { policy: builtinDecider(), file: 'built-in roles' };
  return { policy: compilePolicy(text, ctx.paths.policy), file: ctx.paths.policy };
}

export interface ExplainForm {
  identity?: string;
  ou?: string;
  request?: string;
  body?: string;
}

export async function policyPage(ctx: ConsoleContext, form: ExplainForm): Promise<Html> {
  const { policy, file } = await loadPolicy(ctx);
  const summary = policy.summary();
  let verdict: Html | string = '';
  if (form.identity && form.request) {
    const m = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(form.request);
    if (!m) {
      verdict = html`<p id="verdict" class="red">"${form.request}" is not "METHOD PATH", e.g. POST /v1.41/containers/create</p>`;
    } else {
      const body = form.body && form.body.trim() !== '' ? Buffer.from(form.body, 'utf8') : undefined;
      const v = await evaluateRequest(
        policy,
        {
          cn: form.identity,
          ou: (form.ou ?? '')
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
          serial: '',
          sans: [],
        },
        {
          method: m[1]!.toUpperCase(),
          target: m[2]!,
          headers: body ? { 'content-type': 'application/json' } : {},
          ...(body ? { body } : {}),
        },
        { explain: true },
      );
      if (v.outcome === 'refuse') {
        verdict = html`<div id="verdict"><p class="red" id="decision">refused before the policy (HTTP ${v.status}): ${v.reason}</p></div>`;
      } else {
        const d = v.decision;
        const trace = 'trace' in d ? (d as Explanation).trace : [];
        verdict = html`<div id="verdict"><p class="${d.allow ? 'green' : 'red'}" id="decision">${d.allow ? 'allow' : 'deny (HTTP 403)'}</p>
<p>role <strong>${d.role}</strong>${'via' in d ? ` (via ${(d as Explanation).via})` : ''}; rule <code>${d.rule}</code>: ${d.reason}</p>
<table><thead><tr><th></th><th>effect</th><th>rule</th><th>outcome</th><th>detail</th><th>where</th></tr></thead><tbody>
${trace.map((t) => html`<tr><td>${t.decisive ? '*' : ''}</td><td>${t.effect}</td><td>${t.rule}</td><td>${t.outcome}</td><td>${t.detail}</td><td>${t.where}</td></tr>`)}
</tbody></table></div>`;
      }
    }
  }
  const body = html`<p>Policy: <code>${file}</code>. ${summary.identities} identity rules; default role
${summary.defaultRole ?? 'none (unmatched certificates are denied)'}.</p>
<h2>Roles</h2>
<table id="roles"><thead><tr><th>role</th><th>extends</th><th>allow rules</th><th>deny rules</th><th>description</th></tr></thead><tbody>
${summary.roles.map(
  (r) =>
    html`<tr><td>${r.name}${r.builtin ? ' (built-in)' : ''}</td><td>${r.extends.join(', ')}</td><td>${r.allow}</td><td>${r.deny}</td><td>${r.description ?? ''}</td></tr>`,
)}
</tbody></table>
<h2>Explain this request</h2>
<form method="get" action="/policy" id="explain">
<label>identity (CN) <input name="identity" value="${form.identity ?? ''}"></label>
<label>OU (roles, comma separated) <input name="ou" value="${form.ou ?? ''}"></label>
<label>request <input name="request" size="50" value="${form.request ?? ''}" placeholder="POST /v1.41/containers/create"></label><br>
<label>JSON body<br><textarea name="body" rows="5" cols="80">${form.body ?? ''}</textarea></label><br>
<button type="submit" id="explain-button">Explain</button></form>
${verdict}`;
  return layout('policy', 'Policy', body);
}
