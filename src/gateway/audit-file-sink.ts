import type { Logger } from 'pino';
import { type AuditLogOptions, AuditLogWriter } from './audit-log/index.js';
import type { AuditIdentity } from './audit-log/record.js';
import { type AuditSink, type ClientAddress, NULL_AUDIT_SINK } from './audit-sink.js';
import type { Identity } from './identity.js';

function identityRecord(identity: Identity): AuditIdentity {
  return { cn: identity.cn, ou: identity.ou, serial: identity.serial, fingerprint: identity.fingerprint };
}

function clientRecord(client: ClientAddress): ClientAddress {
  return { address: client.address || 'unknown', port: client.port };
}

/**
 * Wraps the hash-chained writer as the gateway's audit sink. A decision record that cannot be
 * written rejects (the gateway then refuses the request); a completion or connection record that
 * cannot be written (the log failed, or was closed at shutdown) is reported, never thrown into
 * the event handler that produced it.
 */
export function auditSinkFor(writer: AuditLogWriter, logger?: Logger): AuditSink {
  const append = (record: Parameters<AuditLogWriter['append']>[0]) => {
    try {
      writer.append(record);
    } catch (err) {
      logger?.error({ err: (err as Error).message, type: record.type }, 'audit record not written');
    }
  };
  return {
    async decision(r) {
      // Resolves once write(2) returned: the record survives a kill -9 of the gateway.
      await writer.appendDurable({
        type: 'request',
        requestId: r.requestId,
        connId: String(r.connId),
        client: clientRecord(r.client),
        identity: r.identity ? identityRecord(r.identity) : null,
        method: r.method || '?',
        rawPath: r.rawPath,
        canonicalPath: r.canonicalPath,
        ...(r.apiVersion ? { apiVersion: r.apiVersion } : {}),
        endpoint: r.endpoint,
        decision: r.decision,
        ...(r.rule ? { rule: r.rule } : {}),
        ...(r.reason ? { reason: r.reason } : {}),
        ...(r.userAgent ? { userAgent: r.userAgent } : {}),
      });
    },
    completion(r) {
      append({
        type: 'response',
        requestId: r.requestId,
        connId: String(r.connId),
        // 499: the client went away before any status was sent (nginx's convention).
        status: r.status >= 100 && r.status <= 599 ? r.status : 499,
        bytesIn: r.bytesIn,
        bytesOut: r.bytesOut,
        durationMs: r.durationMs,
        ...(r.hijacked ? { hijacked: true } : {}),
        ...(r.error ? { error: r.error } : {}),
      });
    },
    connection(r) {
      append({
        type: 'connection',
        connId: String(r.connId),
        event: r.event,
        client: clientRecord(r.client),
        ...(r.reason ? { reason: r.reason } : {}),
        ...(r.identity ? { identity: identityRecord(r.identity) } : {}),
        ...(r.tlsVersion ? { tlsVersion: r.tlsVersion } : {}),
        ...(r.cipher ? { cipher: r.cipher } : {}),
      });
    },
    close: () => writer.close(),
  };
}

/** The audit sink for --audit-log FILE, or none (the gateway warns at start-up). */
export async function openAuditSink(path: string | undefined, logger: Logger): Promise<AuditSink> {
  if (!path) return NULL_AUDIT_SINK;
  return (await openAuditLog(path, logger)).sink;
}

/** Opens --audit-log FILE: the writer (for the live feed) and the sink over it. */
export async function openAuditLog(
  path: string,
  logger: Logger,
  /** Rotation and retention (`--audit-log-max-size` and the keep flags). */
  retention: Pick<
    AuditLogOptions,
    'maxBytes' | 'keep' | 'maxTotalBytes' | 'maxAgeMs' | 'isExported' | 'onRetention'
  > = {},
): Promise<{ writer: AuditLogWriter; sink: AuditSink }> {
  const writer = await AuditLogWriter.open(path, {
    ...retention,
    onError: (err) =>
      logger.error({ err: err.message }, 'the audit log failed: requests are refused from now on'),
  });
  logger.info({ path, seq: writer.opened.seq }, 'audit log open');
  return { writer, sink: auditSinkFor(writer, logger) };
}
