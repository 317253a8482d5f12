/**
 * The owner label: what the gateway writes on the objects a non-admin identity creates, and the
 * label filter it adds to the lists and prunes of a role limited to its own objects (`own: true`).
 * Pure functions over the canonical request; the rewrite happens after the policy decided, on the
 * canonical value the policy read, and the re-serialized bytes are what is forwarded.
 */
import type { Endpoint } from '../../docker/endpoints/index.js';
import { DockwardError } from '../../errors.js';
import { canonicalBody } from '../../policy/canonical-body.js';
import type { Decision, PolicyIdentity } from '../../policy/decision.js';
import { parseStrictJson } from '../../text/strict-json.js';

export const OWNER_LABEL = 'io.dockward.owner';

/** How the gateway names a client: its certificate CN (as in the audit log). */
export function ownerName(identity: PolicyIdentity): string {
  return identity.cn;
}

/**
 * Admin may create objects for others (its own `io.dockward.owner` is kept as written); every
 * other role gets its objects labelled, whatever it sent.
 */
export function labelsCreations(decision: Decision): boolean {
  return decision.role !== 'admin';
}

/** Endpoints whose JSON body carries the created object's `Labels`. */
export const LABELLED_BODIES: ReadonlySet<string> = new Set([
  'container.create',
  'volume.create',
  'network.create',
]);

/** `POST /build` takes its image labels as a JSON query parameter. */
export const LABELLED_QUERIES: ReadonlySet<string> = new Set(['build']);

/** Lists and prunes that an `own` role sees through a label filter. */
export const FILTERED_LISTS: ReadonlySet<string> = new Set([
  'container.list',
  'container.prune',
  'volume.list',
  'volume.prune',
  'network.list',
  'network.prune',
]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The canonical create body with the owner label set (a client-supplied one is overwritten).
 * The canonical text is spliced, not re-serialized from the value, so numbers keep their exact
 * text; the result is canonicalized again, so the value and the bytes forwarded stay one.
 */
export function labelBody(endpoint: Endpoint, body: LabelledBody, owner: string): LabelledBody {
  const value = body.value;
  if (!isRecord(value)) throw new DockwardError('DW_E_BAD_REQUEST', 'a create body must be a JSON object');
  const labels = value.Labels;
  if (labels !== undefined && labels !== null && !isRecord(labels))
    throw new DockwardError('DW_E_BAD_REQUEST', 'Labels must be a JSON object of strings');
  const text = body.bytes.toString('utf8');
  const root = parseStrictJson(text);
  if (root.kind !== 'object')
    throw new DockwardError('DW_E_BAD_REQUEST', 'a create body must be a JSON object');
  const members: string[] = [];
  root.entries.forEach((e, i) => {
    const end = i + 1 < root.entries.length ? root.entries[i + 1]!.keyOffset - 1 : text.length - 1;
    if (e.key !== 'Labels') members.push(text.slice(e.keyOffset, end));
  });
  members.push(`"Labels":${JSON.stringify({ ...(labels ?? {}), [OWNER_LABEL]: owner })}`);
  const res = canonicalBody(endpoint, Buffer.from(`{${members.join(',')}}`, 'utf8'), 'application/json', {
    limit: Number.MAX_SAFE_INTEGER,
  });
  if (!res.ok) throw new DockwardError(res.code, res.reason);
  return { bytes: res.bytes, value: res.value, changed: true };
}

/** A canonical body (as the canonicalize stage gives it). */
export interface LabelledBody {
  bytes: Buffer;
  value: unknown;
  changed: boolean;
}

/** The one value of a JSON query parameter (dockerd reads the first; two are refused here). */
function oneParam(query: URLSearchParams, name: string): unknown {
  const all = query.getAll(name);
  if (all.length > 1)
    throw new DockwardError('DW_E_BAD_REQUEST', `the query parameter "${name}" is given twice`);
  if (all.length === 0 || all[0] === '') return undefined;
  try {
    return JSON.parse(all[0]!) as unknown;
  } catch {
    throw new DockwardError('DW_E_BAD_REQUEST', `the query parameter "${name}" is not valid JSON`);
  }
}

/** `build`'s `labels` query parameter with the owner label set. */
export function labelBuildQuery(query: URLSearchParams, owner: string): void {
  const labels = oneParam(query, 'labels');
  if (labels !== undefined && labels !== null && !isRecord(labels))
    throw new DockwardError('DW_E_BAD_REQUEST', 'the "labels" query parameter must be a JSON object');
  query.set('labels', JSON.stringify({ ...(labels ?? {}), [OWNER_LABEL]: owner }));
}

/**
 * A list's `filters` with `label=io.dockward.owner=<owner>` added. dockerd ANDs label filters,
 * so the client's own filters still narrow the list but can never widen it. Both of dockerd's
 * forms are read: `{"label":["k=v"]}` and the older `{"label":{"k=v":true}}`.
 */
export function filterOwnList(query: URLSearchParams, owner: string): void {
  const filters = oneParam(query, 'filters');
  if (filters !== undefined && filters !== null && !isRecord(filters))
    throw new DockwardError('DW_E_BAD_REQUEST', 'the "filters" query parameter must be a JSON object');
  const out: Record<string, unknown> = { ...(filters ?? {}) };
  const want = `${OWNER_LABEL}=${owner}`;
  const label = out.label;
  if (label === undefined || label === null) out.label = [want];
  else if (Array.isArray(label)) out.label = [...label, want];
  else if (isRecord(label)) out.label = { ...label, [want]: true };
  else throw new DockwardError('DW_E_BAD_REQUEST', 'the "label" filter must be a list');
  query.set('filters', JSON.stringify(out));
}
