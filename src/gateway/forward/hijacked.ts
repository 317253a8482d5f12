import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { describeError } from '../../errors.js';
import { downstreamResponseHeaders, rawResponseHead, upstreamRequestHeaders } from '../headers.js';
import { sendRawError } from '../http-errors.js';
import type { RequestContext } from '../request-context.js';
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
  const upReq = httpRequest({
    ...up.requestOptions,
    agent: false,
    createConnection: () => up.connect(),
    method: c.method,
    path: c.upstreamTarget,
    headers,
    setHost: false,
  });
  ctx.bytesIn += body.length;
  const onClientGone = () => {
    if (!ctx.hijacked) {
      upReq.destroy();
      finish();
    }
  };
  client.once('close', onClientGone);
  upReq.on('error', (err) => {
    ctx.error = describeError(err);
    if (!ctx.hijacked) ctx.status = sendRawError(client, unreachable(err));
    finish();
  });
  upReq.on('upgrade', (upRes: IncomingMessage, upSocket: Duplex, upHead: Buffer) => {
    ctx.status = upRes.statusCode ?? 101;
    ctx.hijacked = true;
    client.write(rawResponseHead(ctx.status, upRes.statusMessage ?? 'Switching Protocols', upRes.rawHeaders));
    if (upHead.length > 0) {
      ctx.bytesOut += upHead.length;
      client.write(upHead);
    }
    splice(ctx, client, upSocket, finish);
  });
  upReq.on('response', (upRes: IncomingMessage) => {
    ctx.status = upRes.statusCode ?? 502;
    const raw = /vnd\.docker\.(raw|multiplexed)-stream/.test(String(upRes.headers['content-type'] ?? ''));
    if (ctx.status === 200 && raw) {
      // dockerd hijacked without an upgrade: a 200 head, then raw bytes both ways until close.
      ctx.hijacked = true;
      client.write(rawResponseHead(200, upRes.statusMessage ?? 'OK', upRes.rawHeaders));
      // Backpressure both ways: a peer that does not read stops the other side's reading once a
      // bounded queue waits for it (`cat /dev/zero` to a client that never reads grew without
      // bound), and reading resumes when the queue has drained.
      upRes.on('data', (chunk: Buffer) => {
        ctx.bytesOut += chunk.length;
        client.write(chunk);
        if (client.writableLength >= RELAY_QUEUE_BYTES && !upRes.isPaused()) {
          upRes.pause();
          client.once('drain', () => upRes.resume());
        }
      });
      upRes.on('end', () => client.end());
      const upSocket = upRes.socket;
      client.on('data', (chunk: Buffer) => {
        ctx.bytesIn += chunk.length;
        if (!upSocket.write(chunk)) {
          client.pause();
          upSocket.once('drain', () => client.resume());
        }
      });
      client.resume();
      client.on('end', () => upRes.socket.end());
      const close = () => {
        client.destroy();
        upRes.socket.destroy();
        finish();
      };
      client.on('close', close);
      upRes.socket.on('close', close);
      return;
    }
    // An error or a plain answer: pass it on and close, as dockerd would.
    const chunks: Buffer[] = [];
    upRes.on('data', (chunk: Buffer) => chunks.push(chunk));
    upRes.on('end', () => {
      const bodyOut = Buffer.concat(chunks);
      ctx.bytesOut += bodyOut.length;
      const hdrs = downstreamResponseHeaders(upRes.rawHeaders).filter((_, i, a) =>
        i % 2 === 0 ? a[i]!.toLowerCase() !== 'content-length' : a[i - 1]!.toLowerCase() !== 'content-length',
      );
      hdrs.push('Content-Length', String(bodyOut.length), 'Connection', 'close');
      client.end(
        Buffer.concat([
          Buffer.from(rawResponseHead(ctx.status ?? 502, upRes.statusMessage ?? '', hdrs)),
          bodyOut,
        ]),
      );
      finish();
    });
  });
  upReq.end(body);
}

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
      if (!to.write(chunk)) {
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
