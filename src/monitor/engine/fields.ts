/**
 * Normalises raw monitor events (gateway audit records, Docker events enriched with inspects)
 * into one flat map of dotted fields that rule conditions and output templates read.
 * `docs/monitor-rules.md` documents every field; `FIELDS` is the list the rule parser checks
 * names against.
 */
import { parseImageRef } from '../../policy/image-ref.js';
import type { ConnectionRecord, RequestRecord } from '../../gateway/audit-log/record.js';
import type { RawEvent } from '../model.js';

export type FieldValue = string | number | boolean | string[];
export type FieldType = 'string' | 'number' | 'boolean' | 'list';

/** One event as rules see it: only the fields the event has are present. */
export type EventFields = Readonly<Record<string, FieldValue>>;

/** Every field a condition or output template may name, with its type. */
export const FIELDS: Readonly<Record<string, FieldType>> = {
  'evt.source': 'string',
  'evt.type': 'string',
  'evt.time': 'string',
  'evt.origin': 'string',
  'client.address': 'string',
  'client.port': 'number',
  'user.identity': 'string',
  'user.ou': 'list',
  'user.serial': 'string',
  'req.id': 'string',
  'req.endpoint': 'string',
  'req.method': 'string',
  'req.path': 'string',
  'req.raw_path': 'string',
  'req.api_version': 'string',
  'req.decision': 'string',
  'req.rule': 'string',
  'req.reason': 'string',
  'req.user_agent': 'string',
  'resp.status': 'number',
  'resp.bytes_in': 'number',
  'resp.bytes_out': 'number',
  'resp.duration_ms': 'number',
  'resp.hijacked': 'boolean',
  'resp.error': 'string',
  'conn.id': 'string',
  'conn.event': 'string',
  'conn.reason': 'string',
  'conn.tls_version': 'string',
  'conn.cipher': 'string',
  'daemon.origin': 'string',
  'docker.type': 'string',
  'docker.action': 'string',
  'docker.action_detail': 'string',
  'docker.actor_id': 'string',
  'docker.scope': 'string',
  'source.error': 'string',
  'container.id': 'string',
  'container.name': 'string',
  'container.image': 'string',
  'container.image_id': 'string',
  'container.reconciled': 'boolean',
  'container.privileged': 'boolean',
  'container.mounts': 'list',
  'container.network_mode': 'string',
  'container.pid_mode': 'string',
  'container.ipc_mode': 'string',
  'container.uts_mode': 'string',
  'container.userns_mode': 'string',
  'container.cap_add': 'list',
  'container.devices': 'list',
  'container.security_opt': 'list',
  'container.user': 'string',
  'container.cmdline': 'string',
  'image.registry': 'string',
  'image.repository': 'string',
  'image.tag': 'string',
  'exec.id': 'string',
  'exec.cmdline': 'string',
  'exec.process': 'string',
  'exec.args': 'list',
  'exec.tty': 'boolean',
  'exec.user': 'string',
  'exec.effective_user': 'string',
  'exec.privileged': 'boolean',
  'exec.healthcheck': 'boolean',
};

/** Source labels as falcosidekick shows them. */
export function alertSource(fields: EventFields): string {
  return fields['evt.source'] === 'gateway' ? 'dockward-gateway' : 'dockward-docker';
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function strList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Sets a field only when it has a value, so `exists` means "the event says so". */
function put(out: Record<string, FieldValue>, name: string, value: FieldValue | undefined | null): void {
  if (value !== undefined && value !== null) out[name] = value;
}

function putImage(out: Record<string, FieldValue>, image: string | undefined): void {
  if (!image) return;
  put(out, 'container.image', image);
  const ref = parseImageRef(image);
  if (ref.kind !== 'named') return;
  // `testbox:latest` is `docker.io/library/testbox`, as dockerd itself resolves it.
  const slash = ref.repository.indexOf('/');
  put(out, 'image.registry', ref.repository.slice(0, slash));
  put(out, 'image.repository', ref.repository);
  put(out, 'image.tag', ref.tag ?? (ref.digest ? undefined : 'latest'));
}

/** `CAP_SYS_ADMIN`, `sys_admin` and `SYS_ADMIN` all name one capability: dockerd accepts each. */
export function normalizeCapability(cap: string): string {
  const upper = cap.trim().toUpperCase();
  return upper.startsWith('CAP_') ? upper.slice(4) : upper;
}

/** Host paths are compared without a trailing slash (`/etc/` is `/etc`). */
function normalizeHostPath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') || '/' : path;
}

/** The host sources of a container's bind mounts: `Binds`, `HostConfig.Mounts` and inspect `Mounts`. */
function hostMounts(container: Json, hostConfig: Json): string[] {
  const found = new Set<string>();
  for (const bind of strList(hostConfig.Binds)) {
    const source = bind.split(':')[0] ?? '';
    // `name:/dst` is a named volume, not a host path.
    if (source.startsWith('/')) found.add(normalizeHostPath(source));
  }
  const lists = [hostConfig.Mounts, container.Mounts];
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const m of list) {
      const mount = obj(m);
      if (!mount || String(mount.Type ?? '').toLowerCase() !== 'bind') continue;
      const source = str(mount.Source);
      if (source?.startsWith('/')) found.add(normalizeHostPath(source));
    }
  }
  return [...found];
}

function containerFields(out: Record<string, FieldValue>, container: Json): void {
  const config = obj(container.Config) ?? {};
  const hostConfig = obj(container.HostConfig) ?? {};
  put(out, 'container.id', str(container.Id));
  const name = str(container.Name);
  if (name) put(out, 'container.name', name.replace(/^\//, ''));
  putImage(out, str(config.Image));
  put(out, 'container.image_id', str(container.Image));
  put(
    out,
    'container.privileged',
    typeof hostConfig.Privileged === 'boolean' ? hostConfig.Privileged : false,
  );
  put(out, 'container.mounts', hostMounts(container, hostConfig));
  put(out, 'container.network_mode', str(hostConfig.NetworkMode));
  put(out, 'container.pid_mode', str(hostConfig.PidMode));
  put(out, 'container.ipc_mode', str(hostConfig.IpcMode));
  put(out, 'container.uts_mode', str(hostConfig.UTSMode));
  put(out, 'container.userns_mode', str(hostConfig.UsernsMode));
  put(out, 'container.cap_add', strList(hostConfig.CapAdd).map(normalizeCapability));
  const devices = Array.isArray(hostConfig.Devices) ? hostConfig.Devices : [];
  put(
    out,
    'container.devices',
    devices.map((d) => str(obj(d)?.PathOnHost)).filter((d): d is string => d !== undefined),
  );
  put(out, 'container.security_opt', strList(hostConfig.SecurityOpt));
  put(out, 'container.user', str(config.User) ?? '');
  const cmd = [...strList(config.Entrypoint), ...strList(config.Cmd)];
  if (cmd.length > 0) put(out, 'container.cmdline', cmd.join(' '));
}

/** The command a health check runs, as dockerd execs it (`CMD-SHELL x` is `/bin/sh -c x`). */
function healthcheckCommand(container: Json | undefined): string[] | undefined {
  const test = strList(obj(obj(container?.Config)?.Healthcheck)?.Test);
  if (test[0] === 'CMD') return test.slice(1);
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  return undefined;
}

const MULTI_CALL = new Set(['busybox', 'toybox']);

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function isRootUser(user: string): boolean {
  const name = user.split(':')[0] ?? '';
  return name === 'root' || name === '0';
}

function execFields(
  out: Record<string, FieldValue>,
  detail: string | undefined,
  exec: Json | undefined,
  container: Json | undefined,
): void {
  const process = obj(exec?.ProcessConfig);
  let argv: string[];
  if (process) {
    argv = [str(process.entrypoint) ?? '', ...strList(process.arguments)];
    put(out, 'exec.tty', process.tty === true);
    put(out, 'exec.privileged', process.privileged === true);
    const user = str(process.user) ?? '';
    put(out, 'exec.user', user);
    // An exec without -u runs as the container's user, and a container without one as root.
    const effective = user || str(obj(container?.Config)?.User) || 'root';
    put(out, 'exec.effective_user', isRootUser(effective) ? 'root' : effective);
  } else {
    // Without the exec inspect only the event's ": <cmd>" text is known (split on spaces).
    argv = (detail ?? '').trim().split(/\s+/).filter(Boolean);
  }
  put(out, 'exec.id', str(exec?.ID));
  if (argv.length === 0 || argv[0] === '') return;
  put(out, 'exec.cmdline', argv.join(' '));
  let program = baseName(argv[0] ?? '');
  let args = argv.slice(1);
  if (MULTI_CALL.has(program) && args.length > 0) {
    program = baseName(args[0] ?? '');
    args = args.slice(1);
  }
  put(out, 'exec.process', program);
  put(out, 'exec.args', args);
  const health = healthcheckCommand(container);
  put(out, 'exec.healthcheck', health !== undefined && health.join('\0') === argv.join('\0'));
}

/** Who is on the other end: a request and a connection record both carry the client and its certificate. */
function peerFields(out: Record<string, FieldValue>, r: RequestRecord | ConnectionRecord): void {
  put(out, 'client.address', r.client.address);
  put(out, 'client.port', r.client.port);
  if (r.identity) {
    put(out, 'user.identity', r.identity.cn);
    put(out, 'user.ou', r.identity.ou ?? []);
    put(out, 'user.serial', r.identity.serial);
  }
  put(out, 'conn.id', r.connId);
}

function dockerTime(time: number, timeNano: number | undefined): string {
  const ms = timeNano !== undefined ? Math.floor(timeNano / 1e6) : time * 1000;
  return new Date(ms).toISOString();
}

/**
 * Normalises one raw event into rule fields; undefined for an event no rule can use (a
 * response record's fields are kept: they carry the request id and status).
 */
export function toFields(event: RawEvent): EventFields | undefined {
  const out: Record<string, FieldValue> = {};
  put(out, 'evt.source', event.source);
  put(out, 'evt.origin', event.origin);
  if (event.source === 'gateway') {
    const r = event.record;
    put(out, 'evt.type', r.type);
    put(out, 'evt.time', r.time);
    if (r.type === 'request') {
      peerFields(out, r);
      put(out, 'req.id', r.requestId);
      put(out, 'req.endpoint', r.endpoint ?? 'unknown');
      put(out, 'req.method', r.method);
      put(out, 'req.path', r.canonicalPath);
      put(out, 'req.raw_path', r.rawPath);
      put(out, 'req.api_version', r.apiVersion);
      put(out, 'req.decision', r.decision);
      put(out, 'req.rule', r.rule);
      put(out, 'req.reason', r.reason);
      put(out, 'req.user_agent', r.userAgent);
    } else if (r.type === 'response') {
      put(out, 'conn.id', r.connId);
      put(out, 'req.id', r.requestId);
      put(out, 'resp.status', r.status);
      put(out, 'resp.bytes_in', r.bytesIn);
      put(out, 'resp.bytes_out', r.bytesOut);
      put(out, 'resp.duration_ms', r.durationMs);
      put(out, 'resp.hijacked', r.hijacked ?? false);
      put(out, 'resp.error', r.error);
    } else {
      peerFields(out, r);
      put(out, 'conn.event', r.event);
      put(out, 'conn.reason', r.reason);
      put(out, 'conn.tls_version', r.tlsVersion);
      put(out, 'conn.cipher', r.cipher);
    }
    return out;
  }
  put(out, 'daemon.origin', event.origin);
  if ('lifecycle' in event) {
    put(out, 'evt.type', `source.${event.lifecycle}`);
    put(out, 'source.error', event.error);
    return out;
  }
  const msg = event.event;
  if (typeof msg?.Type !== 'string' || typeof msg.Action !== 'string') return undefined;
  // Exec and health actions carry a ": <detail>" suffix (`exec_start: sh -c id`).
  const colon = msg.Action.indexOf(': ');
  const action = colon === -1 ? msg.Action : msg.Action.slice(0, colon);
  const detail = colon === -1 ? undefined : msg.Action.slice(colon + 2);
  put(out, 'evt.type', msg.Type);
  put(out, 'evt.time', dockerTime(msg.time, msg.timeNano));
  put(out, 'docker.type', msg.Type);
  put(out, 'docker.action', action);
  put(out, 'docker.action_detail', detail);
  put(out, 'docker.actor_id', msg.Actor?.ID);
  put(out, 'docker.scope', msg.scope);
  if (msg.Type === 'container') {
    const attrs = msg.Actor?.Attributes ?? {};
    put(out, 'container.id', msg.Actor?.ID);
    put(out, 'container.name', attrs.name);
    putImage(out, attrs.image);
    put(out, 'container.reconciled', event.reconciled === true);
    if (event.container) containerFields(out, event.container);
    if (action === 'exec_create' || action === 'exec_start' || action === 'exec_die') {
      execFields(out, detail, event.exec, event.container);
      put(out, 'exec.id', attrs.execID);
    }
  }
  return out;
}
