import { Readable } from 'node:stream';
import { UpstreamExchange, formatRequestHead } from './exchange.js';
import type { ConnectionPool } from './pool.js';

export interface CallOptions {
  method: string;
  path: string;
  /** A JSON body (sent with Content-Type: application/json). */
  body?: string;
  signal?: AbortSignal;
}

export interface CallResponse {
  statusCode: number;
  /** The body, read at the consumer's pace. */
  body: Readable;
}

/** A request of the gateway's own (ownership lookups, its /events follower) on the pool. */
export function call(pool: ConnectionPool, options: CallOptions): Promise<CallResponse> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? null : Buffer.from(options.body);
    const headers = ['Host', 'docker'];
    if (payload) headers.push('Content-Type', 'application/json', 'Content-Length', String(payload.length));
    let body: Readable | undefined;
    const exchange = new UpstreamExchange(
      pool,
      options.method,
      formatRequestHead(options.method, options.path, headers),
      payload,
      null,
      {
        onHead: (head) => {
          body = new Readable({
            read: () => exchange.resume(),
            // A body dropped unread (an error status) must not hold its connection open.
            destroy: (err, cb) => {
              exchange.abort();
              cb(err);
            },
          });
          resolve({ statusCode: head.status, body });
        },
        onBody: (piece) => {
          if (!body!.push(Buffer.from(piece))) exchange.pause();
        },
        onEnd: () => body!.push(null),
        onError: (err) => {
          if (body) body.destroy(err);
          else reject(err);
        },
      },
    );
    options.signal?.addEventListener(
      'abort',
      () => {
        exchange.abort();
        const err = new Error('aborted');
        if (body) body.destroy(err);
        else reject(err);
      },
      { once: true },
    );
  });
}
