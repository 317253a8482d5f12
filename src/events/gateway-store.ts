/**
 * `dockward gateway --store URL`: a shipper in the gateway's process that tails the gateway's own
 * audit log into the event store. The request path never waits on the store: records go to the
 * local log first (as without --store), and the shipper follows the file.
 */
import type { Logger } from 'pino';
import { DockwardError, describeError, isDockwardError } from '../errors.js';
import { loadHeadSigner } from './head-signature.js';
import type { EventStore } from './model.js';
import { openEventStore } from './open.js';
import { AuditShipper } from './shipper.js';

export async function startStoreShipper(
  storeUrl: string,
  auditLog: string | undefined,
  logger: Logger,
  /** The gateway's TLS certificate and key: each chain head shipped is signed with them. */
  tls?: { cert: string; key: string },
): Promise<{ stop(): Promise<void>; exportedSeq(): number }> {
  if (!auditLog) {
    throw new DockwardError('DW_E_USAGE', '--store needs --audit-log', {
      hint: 'The store receives what the local audit log holds: pass --audit-log FILE too.',
    });
  }
  // Loaded once, before shipping: a key that does not match the certificate is an error at start.
  const signer = tls ? await loadHeadSigner(tls.cert, tls.key) : undefined;
  // A store that is down at start must not keep the gateway down: retry in the background.
  let stopped = false;
  let running: { store: EventStore; shipper: AuditShipper } | undefined;
  const opening = (async () => {
    let warned = false;
    while (!stopped) {
      try {
        const store = await openEventStore(storeUrl);
        if (stopped) {
          await store.close();
          return;
        }
        const shipper = new AuditShipper({ store, logPath: auditLog, logger, ...(signer ? { signer } : {}) });
        shipper.start();
        running = { store, shipper };
        logger.info(
          { store: store.kind, source: shipper.source, signedHeads: signer !== undefined },
          'shipping the audit log to the event store',
        );
        return;
      } catch (err) {
        if (isDockwardError(err) && err.code === 'DW_E_USAGE') throw err;
        if (!warned)
          logger.warn(
            { err: describeError(err) },
            'event store unreachable; the audit log keeps the records, retrying',
          );
        warned = true;
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  })();
  // A bad URL is a usage error at start; an unreachable store is not.
  await Promise.race([opening, new Promise((r) => setTimeout(r, 3000))]);
  return {
    exportedSeq: () => running?.shipper.exportedSeq ?? -1,
    stop: async () => {
      stopped = true;
      if (running) {
        await running.shipper.drain(2000);
        await running.shipper.stop();
        await running.store.close();
      }
      await opening.catch(() => undefined);
    },
  };
}
