/**
 * Compiles a policy file (YAML) into a Decider, once, at start-up or reload: parses it (yaml),
 * validates it (zod, schema.ts) and hands the validated spec to the engine (engine.ts), which
 * the built-in roles use too. Every problem is reported with the file, line and column and a
 * way to fix it; nothing half-valid is ever returned.
 */
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { DockwardError } from '../errors.js';
import { unknownKeyIssues, YamlLocator, type YamlPath } from '../text/yaml-locator.js';
import {
  type CompiledPolicy,
  type CompileOptions,
  compileParsed,
  formatIssue,
  type IssueLocator,
  type ParsedPolicy,
  type PolicyIssue,
  pathText,
} from './engine.js';
import { CONDITION_FORMS, KEYS, POLICY } from './schema.js';

export {
  BUILTIN_ROLE_NAMES,
  builtinPolicy,
  type CompiledPolicy,
  formatIssue,
  globMayMatchTemplate,
  isHarmlessRead,
  type PolicyIssue,
  type PolicySummary,
  suggest,
} from './engine.js';

type Path = YamlPath;

// --- locating problems in the YAML --------------------------------------------------------

class Locator extends YamlLocator implements IssueLocator {
  at(path: Path, message: string, hint?: string, key?: string): PolicyIssue {
    const node = this.find(path, key);
    const offset = node?.range?.[0] ?? 0;
    const pos = this.position(offset);
    return {
      file: this.file,
      line: pos.line,
      col: pos.col,
      at: pathText(path),
      message,
      ...(hint ? { hint } : {}),
    };
  }
}

/** Which keys are allowed at a path (for unknown-key hints). */
function keysAt(path: Path): readonly string[] {
  const last = path[path.length - 1];
  if (path.length === 0) return KEYS.policy;
  if (path[0] === 'identities') return path.length === 2 ? KEYS.identity : KEYS.match;
  if (path[0] === 'roles') {
    if (path.length === 2) return KEYS.role;
    if (last === 'when' || last === 'unless') return KEYS.conditions;
    if (last === 'capAdd') return ['except'];
    return KEYS.rule;
  }
  return [];
}

/** The condition a path is inside of, if any. */
function conditionAt(path: Path): string | undefined {
  const i = path.findIndex((s) => s === 'when' || s === 'unless');
  return i === -1 ? undefined : (path[i + 1] as string | undefined);
}

function zodIssues(loc: Locator, error: z.ZodError): PolicyIssue[] {
  const out: PolicyIssue[] = [];
  // An unknown key also fails the "at least one" checks of its object: report only the key.
  const unknownAt = new Set(
    error.issues.filter((i) => i.code === 'unrecognized_keys').map((i) => JSON.stringify(i.path)),
  );
  for (const issue of error.issues) {
    if (issue.code === 'custom' && unknownAt.has(JSON.stringify(issue.path))) continue;
    const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    const cond = conditionAt(path);
    const condHint = cond && CONDITION_FORMS[cond] ? `write it as ${CONDITION_FORMS[cond]}` : undefined;
    if (issue.code === 'unrecognized_keys') {
      out.push(...unknownKeyIssues(loc, path, issue.keys, keysAt(path)));
      continue;
    }
    if (
      path.length > 0 &&
      typeof path[path.length - 1] === 'string' &&
      !loc.has(path) &&
      loc.has(path.slice(0, -1))
    ) {
      const name = path[path.length - 1];
      out.push(loc.at(path.slice(0, -1), `missing "${String(name)}"`, condHint ?? missingHint(String(name))));
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_union') message = `invalid value for ${cond ?? pathText(path)}`;
    out.push(loc.at(path, message, condHint));
  }
  return out;
}

function missingHint(name: string): string | undefined {
  if (name === 'version') return 'start the file with "version: 1"';
  if (name === 'id') return 'give every rule an id, like "id: no-privileged"; it names the rule in denials';
  if (name === 'role') return 'name the role this identity gets, like "role: operator"';
  if (name === 'match') return 'say which certificates this is, like "match: { ou: ci }"';
  return undefined;
}

// --- parse and validate -----------------------------------------------------------------------------

/** Parses and validates a policy file's text: the spec with its YAML locations, or every problem. */
export function parsePolicyText(text: string, file: string): ParsedPolicy | PolicyIssue[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: true, prettyErrors: false });
  const loc = new Locator(doc, lines, file);
  if (doc.errors.length > 0) {
    // Later syntax errors are mostly echoes of the first one.
    return doc.errors.slice(0, 1).map((e) => {
      const pos = lines.linePos(e.pos[0]);
      return {
        file,
        line: pos.line,
        col: pos.col,
        at: '(yaml)',
        message: e.message.split('\n')[0]!,
        hint: 'fix the YAML syntax (indentation, quotes, a duplicate key)',
      };
    });
  }
  if (doc.contents === null) {
    return [
      {
        file,
        line: 1,
        col: 1,
        at: '(top level)',
        message: 'the policy file is empty',
        hint: 'start with "version: 1"',
      },
    ];
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return [
      { file, line: 1, col: 1, at: '(yaml)', message: err instanceof Error ? err.message : String(err) },
    ];
  }
  const parsed = POLICY.safeParse(data);
  if (!parsed.success) return zodIssues(loc, parsed.error);
  return { spec: parsed.data, loc };
}

/** Checks a policy; returns the compiled policy or every problem found, located. */
export function checkPolicy(
  text: string,
  fileName: string,
  options: CompileOptions = {},
): { ok: true; policy: CompiledPolicy } | { ok: false; issues: PolicyIssue[] } {
  const parsed = parsePolicyText(text, fileName);
  if (Array.isArray(parsed)) return { ok: false, issues: parsed };
  const compiled = compileParsed(parsed, options);
  return Array.isArray(compiled) ? { ok: false, issues: compiled } : { ok: true, policy: compiled };
}

/** Compiles a policy file, or throws DW_E_POLICY naming the file, line and column of each problem. */
export function compilePolicy(text: string, fileName: string): CompiledPolicy {
  const res = checkPolicy(text, fileName);
  if (res.ok) return res.policy;
  const shown = res.issues.slice(0, 10).map(formatIssue);
  if (res.issues.length > 10) shown.push(`... and ${res.issues.length - 10} more`);
  const first = res.issues[0]!;
  throw new DockwardError('DW_E_POLICY', `invalid policy:\n${shown.join('\n')}`, {
    hint: first.hint ?? 'see docs/policy.md for the policy file reference',
  });
}
