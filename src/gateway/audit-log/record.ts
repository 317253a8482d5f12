/**
 * The gateway's audit-log records: one JSON line per request decision, per request completion and
 * per connection event. These zod schemas are the source of the types; `docs/audit-log.md`
 * describes every field.
 */
import { z } from 'zod';

/** A lowercase hex SHA-256 digest. */
const hexDigest = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');

/** The `prev` of the very first record of a chain. */
export const ZERO_HASH = '0'.repeat(64);

export const AUDIT_RECORD_TYPES = ['request', 'response', 'connection'] as const;
export const DECISIONS = ['allow', 'deny'] as const;
export const CONNECTION_EVENTS = [
  'accepted',
  'denied-address',
  'handshake-failed',
  'closed',
  'revoked-closed',
  'limited',
] as const;

/** The peer of a TCP connection as the socket reports it (X-Forwarded-For is never trusted). */
export const ClientSchema = z.object({
  address: z.string().min(1),
  port: z.number().int().min(0).max(65535),
});

/** Who the client certificate says the caller is. */
export const IdentitySchema = z.object({
  cn: z.string(),
  ou: z.array(z.string()).optional(),
  /** Certificate serial number, hex. */
  serial: z.string(),
  /** SHA-256 fingerprint of the client certificate. */
  fingerprint: z.string().optional(),
});

/** The DECISION record: written, and handed to the kernel, before the request is forwarded. */
export const RequestBodySchema = z.object({
  type: z.literal('request'),
  requestId: z.string().min(1),
  connId: z.string().min(1),
  client: ClientSchema,
  identity: IdentitySchema.nullable(),
  method: z.string().min(1),
  /** The request target exactly as the client sent it. */
  rawPath: z.string(),
  /** The path as dockerd's router sees it (version prefix split off, decoded, cleaned). */
  canonicalPath: z.string(),
  /** The `/vX.Y` prefix the client asked for, without the `v`. */
  apiVersion: z.string().optional(),
  /** The route-table name (`container.exec.create`), or null for an unknown endpoint. */
  endpoint: z.string().nullable(),
  decision: z.enum(DECISIONS),
  /** The policy rule that decided, e.g. `operator/no-privileged`. */
  rule: z.string().optional(),
  reason: z.string().optional(),
  userAgent: z.string().optional(),
});

/** The COMPLETION record of a request: written when the response (or hijacked stream) ends. */
export const ResponseBodySchema = z.object({
  type: z.literal('response'),
  requestId: z.string().min(1),
  connId: z.string().min(1),
  /** The status sent to the client (the gateway's own, e.g. 403 or 502, when it answered itself). */
  status: z.number().int().min(100).max(599),
  bytesIn: z.number().int().nonnegative(),
  bytesOut: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  hijacked: z.boolean().optional(),
  error: z.string().optional(),
});

/** A connection event: accepted, refused by address or handshake, closed. */
export const ConnectionBodySchema = z.object({
  type: z.literal('connection'),
  connId: z.string().min(1),
  event: z.enum(CONNECTION_EVENTS),
  client: ClientSchema,
  reason: z.string().optional(),
  identity: IdentitySchema.optional(),
  tlsVersion: z.string().optional(),
  cipher: z.string().optional(),
});

/** Fields every record carries; the writer fills them in. */
const commonShape = {
  v: z.literal(1),
  /** 1, 2, 3 ... along the whole chain, across rotated files. */
  seq: z.number().int().positive(),
  /** ISO 8601 UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
  time: z.iso.datetime({ precision: 3 }),
  /** The `hash` of the previous record of the chain, or 64 zeros for the first record. */
  prev: hexDigest,
  /** SHA-256 of the canonical form of this record without `hash` (see `canonicalJson`). */
  hash: hexDigest,
};

export const RequestRecordSchema = RequestBodySchema.extend(commonShape);
export const ResponseRecordSchema = ResponseBodySchema.extend(commonShape);
export const ConnectionRecordSchema = ConnectionBodySchema.extend(commonShape);

/** One line of the audit log. */
export const AuditRecordSchema = z.discriminatedUnion('type', [
  RequestRecordSchema,
  ResponseRecordSchema,
  ConnectionRecordSchema,
]);

const optionalTime = { time: z.iso.datetime({ precision: 3 }).optional() };

/** What a caller hands to the writer: a record without the fields the writer fills in. */
export const AuditRecordInputSchema = z.discriminatedUnion('type', [
  RequestBodySchema.extend(optionalTime),
  ResponseBodySchema.extend(optionalTime),
  ConnectionBodySchema.extend(optionalTime),
]);

export type AuditClient = z.infer<typeof ClientSchema>;
export type AuditIdentity = z.infer<typeof IdentitySchema>;
export type AuditRecordType = (typeof AUDIT_RECORD_TYPES)[number];
export type ConnectionEvent = (typeof CONNECTION_EVENTS)[number];
export type RequestRecord = z.infer<typeof RequestRecordSchema>;
export type ResponseRecord = z.infer<typeof ResponseRecordSchema>;
export type ConnectionRecord = z.infer<typeof ConnectionRecordSchema>;
export type AuditRecord = z.infer<typeof AuditRecordSchema>;
export type RequestRecordInput = z.input<typeof RequestBodySchema> & { time?: string };
export type ResponseRecordInput = z.input<typeof ResponseBodySchema> & { time?: string };
export type ConnectionRecordInput = z.input<typeof ConnectionBodySchema> & { time?: string };
/** The argument of `AuditLogWriter.append`: `AuditRecord` minus `v`, `seq`, `prev`, `hash`; `time` optional. */
export type AuditRecordInput = RequestRecordInput | ResponseRecordInput | ConnectionRecordInput;
