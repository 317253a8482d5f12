import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { type DockwardError, toHttpStatus } from '../errors.js';
import type { ResponseSink } from './http/response.js';

/** The JSON body dockerd uses for errors, so the docker CLI prints `Error response from daemon: ...`. */
export function errorBody(err: DockwardError): string {
  return JSON.stringify({ message: `dockward: ${err.message}` });
}

/** Answers an ordinary request with a Docker-style JSON error. */
export function sendError(res: ResponseSink, err: DockwardError): number {
  const status = toHttpStatus(err);
  const body = errorBody(err);
  if (res.headersSent) {
    res.destroy();
    return status;
  }
  res.writeHead(status, undefined, [
    'Content-Type',
    'application/json',
    'Content-Length',
    String(Buffer.byteLength(body)),
    'X-Dockward-Error',
    err.code,
  ]);
  res.end(body);
  return status;
}

/** Answers on a raw socket (upgrade requests, parse errors) and closes it. */
export function sendRawError(socket: Duplex, err: DockwardError): number {
  const status = toHttpStatus(err);
  const body = errorBody(err);
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Dockward-Error: ${err.code}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  // Give the error a moment to leave, then make sure the connection is gone.
  setTimeout(() => socket.destroy(), 1000).unref();
  return status;
}
