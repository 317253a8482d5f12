import { DockwardError } from '../../errors.js';
import type { Explanation } from '../../policy/decision.js';
import { evaluateRequest, type RequestVerdict } from '../../gateway/pipeline.js';
import { loadPolicyDecider, readPolicyInput } from '../../policy/load.js';

export interface PolicyExplainOptions {
  file: string;
  identity: string;
  ou: string[];
  serial?: string;
  san: string[];
  request: string;
  body?: string;
  contentType: string;
  exitCode?: boolean;
}

/** Splits `'POST /v1.41/containers/create'` into method and target. */
export function parseRequestLine(text: string): { method: string; target: string } {
  const m = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(text);
  if (!m) {
    throw new DockwardError('DW_E_USAGE', `--request "${text}" is not "METHOD TARGET"`, {
      hint: "Write it as --request 'POST /v1.41/containers/create'.",
    });
  }
  return { method: m[1]!.toUpperCase(), target: m[2]! };
}

/** The verdict as plain data for --json. */
function verdictData(v: RequestVerdict) {
  const c = v.canonical;
  return {
    outcome: v.outcome,
    status: v.status,
    ...(c
      ? {
          request: {
            method: c.method,
            rawTarget: c.rawTarget,
            apiVersion: c.apiVersion ?? null,
            path: c.path,
            query: c.query.toString(),
            upstreamTarget: c.upstreamTarget,
            endpoint: c.route?.endpoint.name ?? null,
          },
        }
      : {}),
    ...(v.outcome === 'refuse'
      ? { code: v.code, reason: v.reason, message: `dockward: ${v.reason}` }
      : {
          decision: v.decision,
          message: v.decision.allow ? null : `dockward: denied by ${v.decision.rule}: ${v.decision.reason}`,
          ...(v.body
            ? {
                body: {
                  bytes: v.body.bytes.length,
                  changed: v.body.changed,
                  canonical: v.body.bytes.toString('utf8'),
                },
              }
            : {}),
        }),
  };
}

export type VerdictData = ReturnType<typeof verdictData>;

export function renderVerdict(d: VerdictData, v: RequestVerdict): string {
  const lines: string[] = [];
  const req = d.request;
  if (v.outcome === 'refuse') {
    lines.push(`decision  refused before the policy (HTTP ${v.status}, ${v.code})`);
    lines.push(`reason    ${v.reason}`);
  } else {
    const dec = v.decision;
    lines.push(`decision  ${dec.allow ? 'allow' : 'deny (HTTP 403)'}`);
    const via = 'via' in dec ? ` (via ${(dec as Explanation).via})` : '';
    lines.push(`role      ${dec.role}${via}`);
    const where = 'trace' in dec ? (dec as Explanation).trace.find((t) => t.decisive)?.where : undefined;
    lines.push(`rule      ${dec.rule}${where ? `  (${where})` : ''}`);
    lines.push(`reason    ${dec.reason}`);
  }
  if (req) {
    const api = req.apiVersion ? `, API ${req.apiVersion}` : '';
    lines.push(
      `request   ${req.method} ${req.rawTarget} -> ${req.endpoint ?? '(unknown endpoint)'} (path ${req.path}${api})`,
    );
  }
  if (v.outcome !== 'refuse') {
    lines.push(
      v.body
        ? `body      read and canonicalized: ${v.body.bytes.length} bytes${v.body.changed ? ' (rewritten: this is what would be forwarded)' : ' (forwarded unchanged)'}`
        : 'body      not read: this policy has no body rule for this endpoint',
    );
    if (v.body?.changed) lines.push(`          ${truncate(v.body.bytes.toString('utf8'), 400)}`);
  }
  const message = d.message;
  if (message) lines.push(`docker    Error response from daemon: ${message}`);
  if (v.outcome !== 'refuse' && 'trace' in v.decision) {
    const trace = (v.decision as Explanation).trace;
    lines.push('rules consulted (denies first; * made the decision):');
    if (trace.length === 0) lines.push('  (none for this endpoint)');
    const w = Math.max(...trace.map((t) => t.rule.length), 10);
    for (const t of trace) {
      lines.push(
        `  ${t.decisive ? '*' : ' '} ${t.effect.padEnd(5)}  ${t.rule.padEnd(w)}  ${t.outcome.padEnd(14)}  ${t.detail}`.trimEnd(),
      );
    }
  }
  return lines.join('\n');
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 3)}...` : s;
}

/** `dockward policy explain FILE`: the decision for one request, the role and the rule that made it. */
export async function policyExplain(
  opts: PolicyExplainOptions,
): Promise<{ data: VerdictData; verdict: RequestVerdict }> {
  const decider = await loadPolicyDecider(opts.file);
  const { method, target } = parseRequestLine(opts.request);
  const body =
    opts.body === undefined
      ? undefined
      : await readPolicyInput(opts.body === '-' ? '/dev/stdin' : opts.body, 'body file');
  const verdict = await evaluateRequest(
    decider,
    { cn: opts.identity, ou: opts.ou, serial: opts.serial ?? '', sans: opts.san },
    {
      method,
      target,
      headers: body ? { 'content-type': opts.contentType } : {},
      ...(body ? { body } : {}),
    },
    { explain: true },
  );
  return { data: verdictData(verdict), verdict };
}

/** --exit-code: a denied or refused request fails the command after its verdict is printed. */
export function explainFailure(
  opts: PolicyExplainOptions,
  verdict: RequestVerdict,
): DockwardError | undefined {
  if (!opts.exitCode || verdict.outcome === 'allow') return undefined;
  return new DockwardError(
    'DW_E_DENIED',
    `the request would be ${verdict.outcome === 'deny' ? 'denied' : 'refused'}`,
  );
}
