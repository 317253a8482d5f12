import type { TLSSocket } from 'node:tls';
import type { Decision } from '../policy/decision.js';
import type { ClientAddress } from './audit-sink.js';
import type { CanonicalRequest } from './canonical-request.js';
import type { Identity } from './identity.js';

/** One admitted, authenticated client connection. */
export interface ConnectionInfo {
  connId: number;
  client: ClientAddress;
  identity: Identity;
  socket: TLSSocket;
  openedAt: number;
  /** Requests in flight (or hijacked streams) on this connection. */
  active: number;
}

/**
 * A request head as the HTTP layer parsed it: what the stages read. It carries no transport
 * object, so the same stages run for a plain request, an upgrade, `policy explain` and the
 * policy tests.
 */
export interface RequestHead {
  method: string;
  /** The request target exactly as sent. */
  target: string;
  /** [name, value, name, value, ...] in the order received, names as sent. */
  rawHeaders: readonly string[];
  /** The client asked to upgrade the connection (`Connection: Upgrade` + `Upgrade`). */
  upgrade: boolean;
}

/** What the stages learn about one request as it flows through them. */
export interface RequestContext {
  requestId: string;
  conn: ConnectionInfo;
  head: RequestHead;
  startedAt: bigint;
  canonical?: CanonicalRequest;
  decision?: Decision;
  /** The canonical body bytes to forward, when the policy read the body. */
  body?: Buffer;
  /** The canonical body as data, for the policy. */
  bodyValue?: unknown;
  bytesIn: number;
  bytesOut: number;
  status?: number;
  hijacked?: boolean;
  error?: string;
  /** The identity holding one of its stream slots until this request completes. */
  streamSlot?: string;
}

/** The first value of a header (case-insensitive name) in a raw [name, value, ...] list. */
export function headerValue(raw: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === lower) return raw[i + 1];
  return undefined;
}
