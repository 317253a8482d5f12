import type { IncomingMessage } from 'node:http';
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

/** What the stages learn about one request as it flows through them. */
export interface RequestContext {
  requestId: string;
  conn: ConnectionInfo;
  req: IncomingMessage;
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
}
