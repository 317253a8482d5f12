import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { describeError } from '../../errors.js';
import { downstreamResponseHeaders, rawResponseHead, upstreamRequestHeaders } from '../headers.js';
import { sendRawError } from '../http-errors.js';
import { headerValue, type RequestContext } from '../request-context.js';
import { formatRequestHead } from '../upstream-http/exchange.js';
import { ResponseParseError, ResponseParser } from '../upstream-http/response-parser.js';
import type { Upstream } from '../upstream.js';
import { once, RELAY_QUEUE_BYTES, unreachable, withBodyLength } from './common.js';

/**
 * Forwards a request that hijacks the connection (attach, exec start, BuildKit session/grpc,
 * attach/ws): the request goes upstream on a fresh connection; the answer (101 Upgrade, or 200
 * and a raw stream for clients that did not ask to upgrade, or an error) is written verbatim,
 * then bytes flow both ways. Each direction's end is passed on as a half-close, so
 * `echo hi | docker exec -i C cat` still prints `hi` after stdin has ended.
 */
export function forwardHijacked(
  ctx: RequestContext,
  client: Duplex,
  body: Buffer,
  up: Upstream,
  done: () => void,
): void {
  const askedUpgrade = ctx.head.upgrade;
  const c = ctx.canonical!;
  const finish = once(done);
  const headers = withBodyLength(upstreamRequestHeaders(ctx.head.rawHeaders, askedUpgrade), body);
  const upSocket = up.connect();
  ctx.bytesIn += body.length;
  let answered = false;
  let plain: {
    status: number;
    statusText: string;
    rawHeaders: string[];
    chunks: Buffer[];
    size: number;
  } | null = null;
  const fail = (err: Error) => {
    if (answered) return;
    answered = true;
    ctx.error = describeError(err);
    upSocket.destroy();
    if (!ctx.hijacked) ctx.status = sendRawError(client, unreachable(err));
    finish();
  };
  const parser = new ResponseParser(c.method, {
    onHead: (head) => {
      ctx.status = head.status;
      const contentType = headerValue(head.rawHeaders, 'content-type') ?? '';
      // 101, or dockerd hijacking without an upgrade: a 200 head, then raw bytes both ways.
      if (head.status === 101 || (head.status === 200 && RAW_STREAM.test(contentType))) {
        ctx.hijacked = true;
        client.write(rawResponseHead(head.status, head.statusText, head.rawHeaders));
        return false;
      }
      plain = { ...head, chunks: [], size: 0 };
      return true;
    },
    onBody: (piece) => {
      plain!.size += piece.length;
      if (plain!.size > MAX_PLAIN_ANSWER) throw new ResponseParseError('answer too large');
      plain!.chunks.push(Buffer.from(piece));
    },
    onEnd: () => {
      // An error or a plain answer: pass it on and close, as dockerd would.
      answered = true;
      upSocket.destroy();
      const p = plain!;
      const bodyOut = Buffer.concat(p.chunks, p.size);
      ctx.bytesOut += bodyOut.length;
      const hdrs = downstreamResponseHeaders(p.rawHeaders).filter((_, i, a) =>
        i % 2 === 0 ? a[i]!.toLowerCase() !== 'content-length' : a[i - 1]!.toLowerCase() !== 'content-length',
      );
      hdrs.push('Content-Length', String(bodyOut.length), 'Connection', 'close');
      client.end(Buffer.concat([Buffer.from(rawResponseHead(p.status, p.statusText, hdrs)), bodyOut]));
      finish();
    },
  });
  const onData = (chunk: Buffer) => {
    let used: number;
    try {
      used = parser.push(chunk);
    } catch (err) {
      fail(err as Error);
      return;
    }
    if (!ctx.hijacked) return;
    // The head is out: from here on bytes flow both ways untouched.
    answered = true;
    upSocket.removeListener('data', onData);
    upSocket.removeListener('error', fail);
    upSocket.removeListener('close', onClose);
    client.removeListener('close', onClientGone);
    upSocket.pause();
    if (used < chunk.length) {
      ctx.bytesOut += chunk.length - used;
      client.write(chunk.subarray(used));
    }
    splice(ctx, client, upSocket, finish);
  };
  const onClose = () => {
    if (answered) return;
    if (parser.closed()) return; // a close-delimited plain answer ended (onEnd ran)
    fail(new Error('dockerd closed the connection before answering'));
  };
  const onClientGone = () => {
    if (ctx.hijacked || answered) return;
    answered = true;
    upSocket.destroy();
    finish();
  };
  client.once('close', onClientGone);
  upSocket.on('data', onData);
  upSocket.on('error', fail);
  upSocket.on('close', onClose);
  (upSocket as Socket).setNoDelay?.(true);
  upSocket.write(
    Buffer.concat([Buffer.from(formatRequestHead(c.method, c.upstreamTarget, headers), 'latin1'), body]),
  );
}

/** The content types with which dockerd hijacks a connection without an upgrade. */
const RAW_STREAM = /vnd\.docker\.(raw|multiplexed)-stream/;

/** The most a non-hijacking answer (an error) may take before it is refused. */
const MAX_PLAIN_ANSWER = 1024 * 1024;

/**
 * Pipes two sockets both ways. Each end is passed on as a half-close (never a destroy, which
 * would drop bytes still queued); a socket that closes or fails takes the other with it after
 * its queued bytes had a chance to leave.
 */
function splice(ctx: RequestContext, client: Duplex, upstream: Duplex, done: () => void): void {
  let clientClosed = false;
  let upstreamClosed = false;
  const settle = () => {
    if (clientClosed && upstreamClosed) done();
  };
  const pump = (from: Duplex, to: Duplex, count: (n: number) => void) => {
    from.on('data', (chunk: Buffer) => {
      count(chunk.length);
      // A bounded queue (RELAY_QUEUE_BYTES) per direction: a peer that does not read stops the
      // other side's reading (`cat /dev/zero` to a client that never reads stays bounded).
      if (!to.write(chunk) && to.writableLength >= RELAY_QUEUE_BYTES && !from.isPaused()) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => to.end());
  };
  pump(client, upstream, (n) => {
    ctx.bytesIn += n;
  });
  pump(upstream, client, (n) => {
    ctx.bytesOut += n;
  });
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.on('close', () => {
    clientClosed = true;
    // The client is gone: nothing more can be delivered to it.
    upstream.destroy();
    settle();
  });
  upstream.on('close', () => {
    upstreamClosed = true;
    // dockerd is done: let the queued output reach the client, then close it.
    client.end();
    setTimeout(() => client.destroy(), 30_000).unref();
    settle();
  });
  upstream.resume();
  client.resume();
}
