import { DockwardError, describeError } from '../../errors.js';

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
