import { DockwardError, describeError } from '../../errors.js';
import { downstreamResponseHeaders } from '../headers.js';
import { sendError } from '../http-errors.js';
import type { ResponseSink } from '../http/response.js';
import type { RequestContext } from '../request-context.js';
import type { ExchangeHandler, UpstreamExchange } from '../upstream-http/exchange.js';

/** The refusal when dockerd cannot be reached (or fails mid-answer before the head). */
export function unreachable(err: unknown): DockwardError {
  return new DockwardError('DW_E_UPSTREAM', `the Docker daemon is unreachable: ${describeError(err)}`, {
    cause: err,
  });
}

/**
 * How much of a response body may wait for the client before dockerd's side is paused. A 64 KiB
 * chunk from the socket is already over a TLS socket's 16 KiB high-water mark, so pausing
 * whenever write() returns false stopped and restarted the reader for every chunk of a
 * `docker save`; a bounded deeper queue keeps it flowing.
 */
export const RELAY_QUEUE_BYTES = 1024 * 1024;

/** The headers with Content-Length set to the (canonical) body's length. */
export function withBodyLength(headers: string[], body: Buffer | undefined): string[] {
  if (!body) return headers;
  const out: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === 'content-length') continue;
    out.push(headers[i]!, headers[i + 1]!);
  }
  out.push('Content-Length', String(body.length));
  return out;
}

/** `Expect: 100-continue` was answered by the gateway's own server; the upstream hop has none. */
export function withoutExpect(headers: string[]): string[] {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === 'expect') return [...headers.slice(0, i), ...headers.slice(i + 2)];
  }
  return headers;
}

/** Calls `done` once, whichever of the transport's events ends the request first. */
export function once(done: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    done();
  };
}

/**
 * Relays dockerd's answer to the client, as pooled and streamed both do: the head at once when
 * the body has no length (events, logs -f must show it before the first event), a sized body's
 * last piece with the end (head, body and end then leave in one write), at most
 * RELAY_QUEUE_BYTES waiting for a slow client before dockerd's side is paused. A failure before
 * the head is a 502 Docker-style error; inside the body it cuts the client's connection.
 */
export function relayResponse(
  ctx: RequestContext,
  res: ResponseSink,
  finish: () => void,
  exchange: () => UpstreamExchange | undefined,
): ExchangeHandler {
  // One pause at a time: several pieces of one socket read may pass the bound before it takes effect.
  let paused = false;
  return {
    onHead(head) {
      ctx.status = head.status;
      res.writeHead(head.status, head.statusText, downstreamResponseHeaders(head.rawHeaders));
      // A sized or empty answer goes out with its end; a stream shows its head now.
      if (head.framing === 'chunked' || head.framing === 'close') res.flushHeaders();
    },
    onBody(piece, last) {
      ctx.bytesOut += piece.length;
      if (last) {
        res.end(piece);
        return;
      }
      res.write(piece);
      if (!paused && res.writableLength >= RELAY_QUEUE_BYTES) {
        paused = true;
        const ex = exchange();
        ex?.pause();
        res.once('drain', () => {
          paused = false;
          ex?.resume();
        });
      }
    },
    onEnd() {
      if (!res.writableEnded) res.end();
      finish();
    },
    onError(err, headSeen) {
      ctx.error ??= describeError(err);
      if (!headSeen && !res.headersSent && !res.destroyed) ctx.status = sendError(res, unreachable(err));
      else res.destroy();
      finish();
    },
  };
}
