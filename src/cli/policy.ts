import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { DockwardError, describeError } from '../errors.js';
import { builtinDecider } from '../policy/builtin-roles.js';
import { type CompiledPolicy, compilePolicy, type PolicySummary } from '../policy/compile.js';
import type { Explanation } from '../policy/decision.js';
import { evaluateRequest, type RequestVerdict } from '../gateway/pipeline.js';
import { collect, contextOf } from './context.js';

/** The word that selects the built-in roles instead of a policy file. */
export const BUILTIN_POLICY_NAME = 'builtin';

async function readText(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new DockwardError('DW_E_FILE', `cannot read ${what} ${file}: ${describeError(err)}`, {
      hint: `Check the path; write "${BUILTIN_POLICY_NAME}" to use the built-in roles.`,
      cause: err,
    });
  }
}

/** Loads and compiles a policy file (or the built-in roles for "builtin"); throws DW_E_POLICY when invalid. */
export async function loadPolicyDecider(file: string): Promise<CompiledPolicy> {
  if (file === BUILTIN_POLICY_NAME) return builtinDecider();
  const text = await readText(file, 'policy file');
  return compilePolicy(text.toString('utf8'), file);
}

function renderSummary(s: PolicySummary): string {
  const roles = s.roles.map((r) => {
    const bits = [
      ...(r.builtin ? ['built-in'] : []),
      ...(r.extends.length > 0 ? [`extends ${r.extends.join(', ')}`] : []),
      `${r.allow} allow`,
      `${r.deny} deny`,
    ];
    return `  ${r.name.padEnd(14)} ${bits.join('; ')}${r.description ? `\n  ${' '.repeat(14)} ${r.description}` : ''}`;
  });
  return [
    `${s.file}: valid`,
    `identities     ${s.identities} (the first that matches gives the role)`,
    `default role   ${s.defaultRole ?? 'none: a certificate that matches no identity is denied'}`,
    'roles:',
    ...roles,
    `body checked   ${s.bodyEndpoints.join(', ')}`,
  ].join('\n');
}

interface ExplainOptions {
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

type VerdictData = ReturnType<typeof verdictData>;

function renderVerdict(d: VerdictData, v: RequestVerdict): string {
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

export function policyCommand(): Command {
  const policy = new Command('policy').description(
    'Check a policy file, or explain the decision for one request (FILE may be "builtin").',
  );

  policy
    .command('check <file>')
    .description('Validate a policy file: exit 0 with a summary, or exit 2 naming file:line:col and the fix.')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const { out } = contextOf(cmd);
      const compiled = await loadPolicyDecider(file);
      out.result(compiled.summary(), renderSummary);
    });

  policy
    .command('explain <file>')
    .description('Print the decision for one request, the role and the rule that made it (like `opa eval`).')
    .requiredOption('--identity <cn>', 'the client certificate CN')
    .option('--ou <ou>', 'a certificate OU (repeatable)', collect, [])
    .option('--serial <hex>', 'the certificate serial')
    .option('--san <san>', 'a certificate SAN, DNS:name or IP:addr (repeatable)', collect, [])
    .requiredOption('--request <line>', "the request line, e.g. 'POST /v1.41/containers/create'")
    .option('--body <file>', 'the request body, read as the gateway reads it ("-" for stdin)')
    .option('--content-type <type>', 'the Content-Type sent with --body', 'application/json')
    .option('--exit-code', 'exit 1 when the request would be denied or refused')
    .action(async (file: string, opts: ExplainOptions, cmd: Command) => {
      const { out } = contextOf(cmd);
      const decider = await loadPolicyDecider(file);
      const { method, target } = parseRequestLine(opts.request);
      const body =
        opts.body === undefined
          ? undefined
          : await readText(opts.body === '-' ? '/dev/stdin' : opts.body, 'body file');
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
      const data = verdictData(verdict);
      out.result(data, (d) => renderVerdict(d, verdict));
      if (opts.exitCode && verdict.outcome !== 'allow') {
        throw new DockwardError(
          'DW_E_DENIED',
          `the request would be ${verdict.outcome === 'deny' ? 'denied' : 'refused'}`,
        );
      }
    });

  return policy;
}
