import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { DockwardError } from '../errors.js';
import { sendError, sendRawError } from './http-errors.js';
import type { RequestIO } from './pipeline.js';
import type { RequestHead } from './request-context.js';

/**
 * The pipeline's view of a request parsed by Node's HTTP server: an ordinary request
 * (`'request'`: a response object) or an upgrade (`'upgrade'`: the raw socket and the bytes
 * after the head). Both read their body through `readBodyWithin`, with the pipeline's limit.
 */
export function plainRequestIO(req: IncomingMessage, res: ServerResponse): RequestIO {
  const head: RequestHead = {
    method: req.method ?? '',
    target: req.url ?? '',
    rawHeaders: req.rawHeaders,
    upgrade: false,
  };
  const length = req.headers['content-length'];
  let body: Promise<Buffer> | undefined;
  return {
    head,
    bodyless: req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0'),
    readBody: (limit) => {
      body ??= readBodyWithin(req, limit);
      return body;
    },
    bodyStream: () => req,
    discardBody: () => {
      if (body === undefined) req.resume();
    },
    refuse: (err) => sendError(res, err),
    response: () => res,
    takeOver: () => takeOver(req),
  };
}

export function upgradeRequestIO(req: IncomingMessage, socket: Duplex, rest: Buffer): RequestIO {
  (socket as Socket).allowHalfOpen = true;
  const head: RequestHead = {
    method: req.method ?? '',
    target: req.url ?? '',
    rawHeaders: req.rawHeaders,
    upgrade: true,
  };
  const length = req.headers['content-length'];
  let body: Promise<Buffer> | undefined;
  return {
    head,
    bodyless: req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0'),
    readBody: (limit) => {
      body ??= readUpgradeBody(req, socket, rest, limit);
      return body;
    },
    bodyStream: () => {
      throw new Error('an upgrade request has no streamed body');
    },
    discardBody: () => undefined, // the refusal closes the connection
    refuse: (err) => sendRawError(socket, err),
    response: () => {
      throw new Error('an upgrade request is answered on its socket');
    },
    takeOver: () => socket,
  };
}

function tooLarge(limit: number): DockwardError {
  return new DockwardError('DW_E_BODY_TOO_LARGE', `request body over ${limit} bytes`);
}

/** The whole body (Node de-chunks it), refused as soon as it passes `limit`. */
async function readBodyWithin(req: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Detaches a socket from Node's HTTP parser once a request's body has been read. */
function takeOver(req: IncomingMessage): Socket {
  const socket = req.socket as Socket;
  for (const event of ['data', 'end', 'drain', 'timeout'] as const) socket.removeAllListeners(event);
  socket.setTimeout(0);
  socket.allowHalfOpen = true;
  return socket;
}

/** The body of an upgrade request (exec start carries JSON): Content-Length bytes after the head. */
async function readUpgradeBody(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  limit: number,
): Promise<Buffer> {
  const text = req.headers['content-length'] ?? '0';
  const length = /^[0-9]{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(length)) {
    throw new DockwardError('DW_E_BAD_REQUEST', 'bad Content-Length on an upgrade request');
  }
  if (length > limit) throw tooLarge(limit);
  if (head.length >= length) {
    if (head.length > length) socket.unshift(head.subarray(length));
    return head.subarray(0, length);
  }
  const chunks = [head];
  let have = head.length;
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= length) {
        socket.off('data', onData);
        socket.pause();
        const all = Buffer.concat(chunks);
        if (all.length > length) socket.unshift(all.subarray(length));
        resolve(all.subarray(0, length));
      }
    };
    socket.on('data', onData);
    socket.once('end', () =>
      reject(new DockwardError('DW_E_BAD_REQUEST', 'connection ended inside the request body')),
    );
  });
}
