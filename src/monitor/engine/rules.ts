/**
 * Monitor rule files: Falco-like YAML (a list of `rule`, `list` and `macro` entries) read with
 * `yaml` (for line/column), checked with zod, then compiled as one set. Any problem in any file
 * refuses the whole set: the monitor never runs half a rule set. docs/monitor-rules.md is the
 * reference.
 */
import { isScalar, LineCounter, type Document, parseDocument } from 'yaml';
import { z } from 'zod';
import { closestName as suggest } from '../../text/closest-name.js';
import { unknownKeyIssues, YamlLocator, type YamlPath } from '../../text/yaml-locator.js';
import { DockwardError } from '../../errors.js';
import { PRIORITIES, type Priority } from '../model.js';
import {
  ConditionError,
  type ConditionScope,
  compileCondition,
  type Predicate,
  RESERVED_WORDS,
} from './condition.js';
import { DEFAULT_RULES_FILE, DEFAULT_RULES_YAML } from './default-rules.js';
import { type EventFields, FIELDS, type FieldValue } from './fields.js';

/** A piece of an output template: literal text or a field reference. */
export type OutputPart = { text: string } | { field: string };

/** A rule ready to evaluate. */
export interface CompiledRule {
  readonly name: string;
  readonly desc: string;
  readonly priority: Priority;
  readonly tags: readonly string[];
  readonly enabled: boolean;
  readonly test: Predicate;
  readonly exceptions: readonly { readonly name: string; readonly test: Predicate }[];
  readonly output: readonly OutputPart[];
  /** Fields shown in `output_fields`: those the output names, then the rate/throttle keys. */
  readonly outputFields: readonly string[];
  /** Fire once `count` matches of one key arrive within `withinMs` (event time). */
  readonly rate?: { readonly count: number; readonly withinMs: number; readonly by: readonly string[] };
  /** After an alert, suppress the same rule and key for `withinMs` (event time). */
  readonly throttle?: { readonly withinMs: number; readonly by: readonly string[] };
  /** Fire when `of` takes a value not seen before for the key; the first value is learned silently. */
  readonly newValue?: { readonly of: string; readonly by: readonly string[] };
  /** `file:line` of the entry that defined the rule. */
  readonly definedAt: string;
}

/** A compiled, complete rule set (defaults and user files merged). */
export interface RuleSet {
  /** Every rule, enabled or not, in definition order. */
  readonly rules: readonly CompiledRule[];
  readonly lists: ReadonlyMap<string, readonly string[]>;
  readonly macros: readonly string[];
}

// --- schema -------------------------------------------------------------------------------

const keyFields = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const RuleEntrySchema = z.strictObject({
  rule: z.string().min(1),
  desc: z.string().optional(),
  condition: z.string().min(1).optional(),
  output: z.string().min(1).optional(),
  priority: z.string().optional(),
  tags: z.array(z.string()).optional(),
  enabled: z.boolean().optional(),
  exceptions: z.array(z.strictObject({ name: z.string().min(1), condition: z.string().min(1) })).optional(),
  rate: z
    .strictObject({
      count: z.number().int().min(1).max(100_000),
      within: z.string(),
      by: keyFields.optional(),
    })
    .optional(),
  throttle: z.strictObject({ within: z.string(), by: keyFields.optional() }).optional(),
  new_value: z.strictObject({ of: z.string().min(1), by: keyFields }).optional(),
});
const ListEntrySchema = z.strictObject({
  list: z.string().min(1),
  items: z.array(z.union([z.string(), z.number()])),
  append: z.boolean().optional(),
});
const MacroEntrySchema = z.strictObject({ macro: z.string().min(1), condition: z.string().min(1) });

type RuleEntry = z.infer<typeof RuleEntrySchema>;
const RULE_KEYS = Object.keys(RuleEntrySchema.shape);
const ENTRY_KEYS: Record<string, readonly string[]> = {
  rule: RULE_KEYS,
  list: Object.keys(ListEntrySchema.shape),
  macro: Object.keys(MacroEntrySchema.shape),
  exceptions: ['name', 'condition'],
  rate: ['count', 'within', 'by'],
  throttle: ['within', 'by'],
  new_value: ['of', 'by'],
};

// --- locating problems --------------------------------------------------------------------

type Path = YamlPath;

/** One problem, located in a file. */
export interface RuleIssue {
  file: string;
  line: number;
  col: number;
  message: string;
  hint?: string;
}

class Locator extends YamlLocator {
  constructor(
    doc: Document,
    lines: LineCounter,
    private readonly text: string,
    file: string,
  ) {
    super(doc, lines, file);
  }

  private issue(offset: number, message: string, hint?: string): RuleIssue {
    const pos = this.position(offset);
    return { file: this.file, line: pos.line, col: pos.col, message, ...(hint ? { hint } : {}) };
  }

  at(path: Path, message: string, hint?: string, key?: string): RuleIssue {
    return this.issue(this.find(path, key)?.range?.[0] ?? 0, message, hint);
  }

  /**
   * A problem at an offset of a string value: the value's characters are matched against the
   * scalar's source text, which may be quoted, escaped, folded or a block scalar.
   */
  inValue(path: Path, valueOffset: number, value: string, message: string, hint?: string): RuleIssue {
    const node = this.find(path);
    const range = node?.range;
    if (!range || !isScalar(node)) return this.at(path, message, hint);
    const source = this.text.slice(0, range[1]);
    let j = range[0];
    if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') j++;
    if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') {
      const nl = source.indexOf('\n', j);
      j = nl === -1 ? j : nl + 1;
    }
    let mapped = j;
    for (let i = 0; i <= valueOffset && i < value.length; i++) {
      const ch = value[i]!;
      if (/\s/.test(ch)) {
        while (j < source.length && /\s/.test(source[j]!)) j++;
        mapped = j;
        continue;
      }
      while (j < source.length && /\s/.test(source[j]!)) j++;
      let k = j;
      while (k < source.length && source[k] !== ch) k++;
      if (k >= source.length) break;
      mapped = k;
      j = k + 1;
    }
    if (valueOffset >= value.length) mapped = Math.min(j, range[1]);
    return this.issue(mapped, message, hint);
  }
}

function zodIssues(loc: Locator, base: Path, kind: string, error: z.ZodError): RuleIssue[] {
  const out: RuleIssue[] = [];
  for (const issue of error.issues) {
    const rel = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    const path = [...base, ...rel];
    if (issue.code === 'unrecognized_keys') {
      const last = [...rel].reverse().find((s): s is string => typeof s === 'string');
      const allowed = ENTRY_KEYS[rel.length === 0 ? kind : (last ?? kind)] ?? [];
      out.push(...unknownKeyIssues(loc, path, issue.keys, allowed));
      continue;
    }
    const name = rel[rel.length - 1];
    if (typeof name === 'string' && !loc.has(path) && loc.has(path.slice(0, -1))) {
      out.push(loc.at(path.slice(0, -1), `missing "${name}"`));
      continue;
    }
    out.push(loc.at(path, `${rel.join('.') || kind}: ${issue.message}`));
  }
  return out;
}

// --- reading entries ----------------------------------------------------------------------

/** Where a value came from, so a problem found while compiling points into the right file. */
interface Origin {
  loc: Locator;
  path: Path;
}
type Sourced<T> = { value: T; at: Origin };

interface RuleDraft {
  name: string;
  definedAt: string;
  fields: { [K in keyof RuleEntry]?: Sourced<RuleEntry[K]> };
  at: Origin;
}
interface ListDraft {
  items: string[];
  at: Origin;
}
interface MacroDraft {
  condition: string;
  at: Origin;
}

/** Everything read from the files so far, merged by name; later entries win. */
class Drafts {
  readonly rules = new Map<string, RuleDraft>();
  readonly lists = new Map<string, ListDraft>();
  readonly macros = new Map<string, MacroDraft>();
  readonly issues: RuleIssue[] = [];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function readFile(text: string, file: string, drafts: Drafts): void {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: true, prettyErrors: false });
  const loc = new Locator(doc, lines, text, file);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lines.linePos(e.pos[0]);
    drafts.issues.push({
      file,
      line: pos.line,
      col: pos.col,
      message: e.message.split('\n')[0]!,
      hint: 'fix the YAML syntax (indentation, quotes, a duplicate key)',
    });
    return;
  }
  if (doc.contents === null) return; // an empty file holds no rules
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    drafts.issues.push({ file, line: 1, col: 1, message: err instanceof Error ? err.message : String(err) });
    return;
  }
  if (!Array.isArray(data)) {
    drafts.issues.push(
      loc.at(
        [],
        'a rules file is a YAML list of entries',
        'start each entry with "- rule:", "- list:" or "- macro:"',
      ),
    );
    return;
  }
  for (const [index, entry] of (data as unknown[]).entries()) {
    const base: Path = [index];
    const record = entry !== null && typeof entry === 'object' && !Array.isArray(entry) ? entry : undefined;
    const kind = record ? ['rule', 'list', 'macro'].find((k) => k in record) : undefined;
    if (!kind) {
      drafts.issues.push(
        loc.at(
          base,
          'an entry must be a rule, a list or a macro',
          'start it with "rule:", "list:" or "macro:"',
        ),
      );
      continue;
    }
    const at = (path: Path): Origin => ({ loc, path: [...base, ...path] });
    const definedAt = (): string => {
      const i = loc.at(base, '');
      return `${i.file}:${i.line}`;
    };
    if (kind === 'list') {
      const parsed = ListEntrySchema.safeParse(entry);
      if (!parsed.success) {
        drafts.issues.push(...zodIssues(loc, base, kind, parsed.error));
        continue;
      }
      const { list, items, append } = parsed.data;
      if (!NAME.test(list) || RESERVED_WORDS.has(list)) {
        drafts.issues.push(
          loc.at([...base, 'list'], `"${list}" is not a valid list name`, 'use letters, digits and _'),
        );
        continue;
      }
      const previous = append ? (drafts.lists.get(list)?.items ?? []) : [];
      drafts.lists.set(list, { items: [...previous, ...items.map(String)], at: at([]) });
      continue;
    }
    if (kind === 'macro') {
      const parsed = MacroEntrySchema.safeParse(entry);
      if (!parsed.success) {
        drafts.issues.push(...zodIssues(loc, base, kind, parsed.error));
        continue;
      }
      const { macro, condition } = parsed.data;
      if (!NAME.test(macro) || RESERVED_WORDS.has(macro)) {
        drafts.issues.push(
          loc.at([...base, 'macro'], `"${macro}" is not a valid macro name`, 'use letters, digits and _'),
        );
        continue;
      }
      drafts.macros.set(macro, { condition, at: at(['condition']) });
      continue;
    }
    const parsed = RuleEntrySchema.safeParse(entry);
    if (!parsed.success) {
      drafts.issues.push(...zodIssues(loc, base, kind, parsed.error));
      continue;
    }
    const spec = parsed.data;
    const existing = drafts.rules.get(spec.rule);
    if (!existing && spec.condition === undefined) {
      drafts.issues.push(
        loc.at(
          base,
          `rule "${spec.rule}" has no condition and changes no earlier rule`,
          'add a condition, or check the rule name',
        ),
      );
      continue;
    }
    // A later entry with the name of an earlier rule changes the fields it sets (e.g. enabled: false).
    const draft: RuleDraft = existing ?? { name: spec.rule, definedAt: definedAt(), fields: {}, at: at([]) };
    const fields = draft.fields as Record<string, Sourced<unknown>>;
    for (const [key, value] of Object.entries(spec)) {
      if (key !== 'rule' && value !== undefined) fields[key] = { value, at: at([key]) };
    }
    if (spec.condition !== undefined && existing) {
      draft.definedAt = definedAt();
      draft.at = at([]);
    }
    drafts.rules.set(spec.rule, draft);
  }
}

// --- compiling ----------------------------------------------------------------------------

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `60s`, `5m`, `1h`, `2d` in milliseconds, or undefined when malformed. */
export function parseRuleDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 && ms <= 30 * 86_400_000 ? ms : undefined;
}

/** Accepts Falco's spellings in any case; `info` is `informational`. */
function parsePriority(text: string): Priority | undefined {
  const p = text.trim().toLowerCase();
  const name = p === 'info' ? 'informational' : p;
  return (PRIORITIES as readonly string[]).includes(name) ? (name as Priority) : undefined;
}

const OUTPUT_FIELD = /%([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)/g;

function parseOutput(text: string): { parts: OutputPart[]; refs: { field: string; offset: number }[] } {
  const parts: OutputPart[] = [];
  const refs: { field: string; offset: number }[] = [];
  let last = 0;
  for (const m of text.matchAll(OUTPUT_FIELD)) {
    if (m.index > last) parts.push({ text: text.slice(last, m.index) });
    parts.push({ field: m[1]! });
    refs.push({ field: m[1]!, offset: m.index });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return { parts, refs };
}

/** Renders an output template over an event; a field the event lacks shows as `<NA>` (as Falco). */
export function renderOutput(parts: readonly OutputPart[], fields: EventFields): string {
  let out = '';
  for (const part of parts) {
    if ('text' in part) out += part.text;
    else out += formatValue(fields[part.field]);
  }
  return out;
}

function formatValue(v: FieldValue | undefined): string {
  if (v === undefined) return '<NA>';
  if (Array.isArray(v)) return v.length === 0 ? '[]' : v.join(',');
  return String(v);
}

function unknownFieldHint(name: string): string {
  const close = suggest(name, Object.keys(FIELDS));
  return close
    ? `did you mean "${close}"? docs/monitor-rules.md lists every field`
    : 'docs/monitor-rules.md lists every field';
}

function compileDrafts(drafts: Drafts): RuleSet {
  const issues = drafts.issues;
  const lists = new Map<string, readonly string[]>();
  for (const [name, l] of drafts.lists) lists.set(name, l.items);

  // Macros compile on first use; a cycle or an invalid macro is reported once, at the macro.
  const macroCache = new Map<string, Predicate | 'failed'>();
  const compiling = new Set<string>();
  const scope: ConditionScope = {
    fields: FIELDS,
    lists,
    macroNames: () => [...drafts.macros.keys()],
    macro(name) {
      const draft = drafts.macros.get(name);
      if (!draft) return undefined;
      const cached = macroCache.get(name);
      if (cached === 'failed') return () => false;
      if (cached) return cached;
      if (compiling.has(name)) {
        issues.push(draft.at.loc.at(draft.at.path, `macro "${name}" refers to itself`, 'break the cycle'));
        macroCache.set(name, 'failed');
        return () => false;
      }
      compiling.add(name);
      const test = compileAt(draft.condition, draft.at);
      compiling.delete(name);
      macroCache.set(name, test ?? 'failed');
      return test ?? (() => false);
    },
  };
  function compileAt(text: string, at: Origin): Predicate | undefined {
    try {
      return compileCondition(text, scope);
    } catch (err) {
      if (!(err instanceof ConditionError)) throw err;
      issues.push(at.loc.inValue(at.path, err.offset, text, err.message, err.hint));
      return undefined;
    }
  }
  for (const name of drafts.macros.keys()) scope.macro(name);

  const rules: CompiledRule[] = [];
  for (const draft of drafts.rules.values()) {
    const f = draft.fields;
    const missing = (['condition', 'output', 'priority'] as const).filter((k) => f[k] === undefined);
    if (missing.length > 0) {
      issues.push(
        draft.at.loc.at(
          draft.at.path,
          `rule "${draft.name}" has no ${missing.join(', ')}`,
          'every rule needs a condition, an output and a priority',
        ),
      );
      continue;
    }
    const cond = f.condition!;
    const test = compileAt(cond.value!, cond.at);
    const exceptions: { name: string; test: Predicate }[] = [];
    (f.exceptions?.value ?? []).forEach((ex, i) => {
      const at = f.exceptions!.at;
      const t = compileAt(ex.condition, { loc: at.loc, path: [...at.path, i, 'condition'] });
      if (t) exceptions.push({ name: ex.name, test: t });
    });
    const prio = f.priority!;
    const priority = parsePriority(prio.value!);
    if (!priority)
      issues.push(
        prio.at.loc.at(
          prio.at.path,
          `unknown priority "${prio.value}"`,
          `use one of: ${PRIORITIES.join(', ')}`,
        ),
      );
    const out = f.output!;
    const { parts, refs } = parseOutput(out.value!);
    for (const ref of refs) {
      if (!(ref.field in FIELDS))
        issues.push(
          out.at.loc.inValue(
            out.at.path,
            ref.offset,
            out.value!,
            `unknown field "%${ref.field}" in output`,
            unknownFieldHint(ref.field),
          ),
        );
    }
    const keyOf = (
      src: Sourced<unknown> | undefined,
      by: string | string[] | undefined,
      sub: string,
    ): string[] => {
      const list = by === undefined ? [] : Array.isArray(by) ? by : [by];
      list.forEach((name, i) => {
        if (!(name in FIELDS) && src)
          issues.push(
            src.at.loc.at(
              [...src.at.path, sub, ...(Array.isArray(by) ? [i] : [])],
              `unknown field "${name}"`,
              unknownFieldHint(name),
            ),
          );
      });
      return list;
    };
    const duration = (src: Sourced<unknown>, within: string): number => {
      const ms = parseRuleDuration(within);
      if (ms === undefined)
        issues.push(
          src.at.loc.at(
            [...src.at.path, 'within'],
            `"${within}" is not a duration`,
            'write e.g. 500ms, 60s, 5m, 1h or 2d (at most 30d)',
          ),
        );
      return ms ?? 0;
    };
    const rate = f.rate?.value
      ? {
          count: f.rate.value.count,
          withinMs: duration(f.rate, f.rate.value.within),
          by: keyOf(f.rate, f.rate.value.by, 'by'),
        }
      : undefined;
    const throttle = f.throttle?.value
      ? {
          withinMs: duration(f.throttle, f.throttle.value.within),
          by: keyOf(f.throttle, f.throttle.value.by, 'by'),
        }
      : undefined;
    let newValue: CompiledRule['newValue'];
    if (f.new_value?.value) {
      const nv = f.new_value;
      keyOf(nv, nv.value!.of, 'of');
      newValue = { of: nv.value!.of, by: keyOf(nv, nv.value!.by, 'by') };
    }
    if (!test || !priority) continue;
    const outputFields = [
      ...new Set([...refs.map((r) => r.field), ...(rate?.by ?? []), ...(throttle?.by ?? [])]),
    ];
    rules.push({
      name: draft.name,
      desc: f.desc?.value ?? '',
      priority,
      tags: f.tags?.value ?? [],
      enabled: f.enabled?.value ?? true,
      test,
      exceptions,
      output: parts,
      outputFields,
      ...(rate ? { rate } : {}),
      ...(throttle ? { throttle } : {}),
      ...(newValue ? { newValue } : {}),
      definedAt: draft.definedAt,
    });
  }
  if (issues.length > 0) throw rulesError(issues);
  return { rules, lists, macros: [...drafts.macros.keys()] };
}

/** One line per problem: `file:line:col: message`. */
export function formatRuleIssue(i: RuleIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.message}`;
}

function rulesError(issues: RuleIssue[]): DockwardError {
  const shown = issues.slice(0, 10).map((i) => formatRuleIssue(i) + (i.hint ? ` (${i.hint})` : ''));
  if (issues.length > 10) shown.push(`... and ${issues.length - 10} more`);
  return new DockwardError('DW_E_MONITOR_RULES', `invalid monitor rules:\n${shown.join('\n')}`, {
    hint: issues[0]?.hint ?? 'see docs/monitor-rules.md for the rules file reference',
  });
}

/**
 * Compiles one rules file on its own (without the default rules, so it may name only its own
 * lists and macros); throws DW_E_MONITOR_RULES naming `file:line:col` of every problem.
 */
export function parseRules(text: string, file: string): RuleSet {
  const drafts = new Drafts();
  readFile(text, file, drafts);
  return compileDrafts(drafts);
}

/**
 * The rule set the monitor runs: the default rules (unless `defaults: false`), then each file in
 * order; a later entry with a rule's name changes or disables it, a list or macro with the same
 * name replaces it (`append: true` extends a list). All or nothing: any problem throws.
 */
export function loadRuleSet(options: {
  files?: { text: string; path: string }[];
  defaults?: boolean;
}): RuleSet {
  const drafts = new Drafts();
  if (options.defaults !== false) readFile(DEFAULT_RULES_YAML, DEFAULT_RULES_FILE, drafts);
  for (const f of options.files ?? []) readFile(f.text, f.path, drafts);
  return compileDrafts(drafts);
}
