/**
 * What keeps the audit trail from being cut silently, around the log writer: signed chain heads
 * (FILE.heads, the live feed, the gateway's own log) and the warnings of retention about records
 * not exported yet. `docs/audit-log.md` ("Signed heads", "Rotation and retention").
 */
import type { Logger } from 'pino';
import { loadKeySigner } from '../events/head-signature.js';
import { defaultSource } from '../events/shipper.js';
import { describeError } from '../errors.js';
import { HeadKeeper } from './audit-log/heads.js';
import type { AuditLogWriter, RetentionEvent } from './audit-log/writer.js';

/** Signed heads of `writer`'s log, with the gateway's TLS key; `stop()` after the writer closed. */
export async function startHeadKeeper(
  writer: AuditLogWriter,
  tls: { cert: string; key: string },
  logger: Logger,
): Promise<HeadKeeper> {
  const signer = await loadKeySigner(tls.cert, tls.key);
  const keeper = new HeadKeeper({
    writer,
    signer,
    source: defaultSource(writer.path),
    onHead: (head) => {
      // A copy outside the file: the journal / syslog keeps what the heads file may lose.
      logger.info(
        { seq: head.seq, hash: head.hash, start: head.start, signature: head.signature },
        'audit chain head signed',
      );
      writer.notify({ feed: 'head', ...head, certificate: undefined });
    },
    onError: (err) => logger.error({ err: describeError(err) }, 'cannot write a signed audit chain head'),
  });
  await keeper.sign(); // the head the log has at start, so a cut right after a restart shows too
  logger.info({ heads: keeper.path }, 'signing audit chain heads');
  return keeper;
}

/** Logs a retention warning and sends it to the live feed as an alert. */
export function reportRetention(writer: () => AuditLogWriter | undefined, logger: Logger) {
  return (event: RetentionEvent): void => {
    logger.warn({ file: event.file, lastSeq: event.lastSeq, why: event.why }, event.message);
    writer()?.notify({
      feed: 'alert',
      rule: `audit-log-${event.kind}`,
      priority: event.kind === 'deleting-unexported' ? 'high' : 'medium',
      output: event.message,
      file: event.file,
      lastSeq: event.lastSeq,
      time: new Date().toISOString(),
    });
  };
}
