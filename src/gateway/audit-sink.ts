import type { Identity } from './identity.js';

/** What the gateway tells the audit log; the file writer (audit-log/) and tests implement it. */
export interface ClientAddress {
  address: string;
  port: number;
}

export interface DecisionRecord {
  requestId: string;
  connId: number;
  client: ClientAddress;
  identity: Identity | null;
  method: string;
  rawPath: string;
  canonicalPath: string;
  apiVersion?: string;
  endpoint: string | null;
  decision: 'allow' | 'deny';
  rule?: string;
  reason?: string;
  userAgent?: string;
}

export interface CompletionRecord {
  requestId: string;
  connId: number;
  status: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  hijacked?: boolean;
  error?: string;
}

export interface ConnectionRecord {
  connId: number;
  /** `limited`: refused or dropped at a connection limit (handshakes, total, per identity). */
  event: 'accepted' | 'denied-address' | 'handshake-failed' | 'closed' | 'revoked-closed' | 'limited';
  client: ClientAddress;
  reason?: string;
  identity?: Identity;
  tlsVersion?: string;
  cipher?: string;
}

export interface AuditSink {
  /** The decision, handed to the OS before the request is forwarded. */
  decision(record: DecisionRecord): Promise<void>;
  completion(record: CompletionRecord): void;
  connection(record: ConnectionRecord): void;
  close(): Promise<void>;
}

/** An audit sink that keeps nothing (only when no --audit-log is given; the gateway says so). */
export const NULL_AUDIT_SINK: AuditSink = {
  decision: async () => undefined,
  completion: () => undefined,
  connection: () => undefined,
  close: async () => undefined,
};
