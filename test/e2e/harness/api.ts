import { request } from 'node:http';

/** A complete, buffered Engine API answer. */
export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** How to send one request over a unix socket. */
export interface UnixRequestOptions {
  method?: string;
  /** JSON-encoded when an object, sent as is when a string. */
  body?: string | object;
  headers?: Record<string, string>;
  /** The whole exchange must finish within this; default 10 s. */
  timeoutMs?: number;
}

/** Sends one HTTP request to a unix socket (a private dockerd) and buffers the answer. */
export function requestUnix(
  socketPath: string,
  path: string,
  options: UnixRequestOptions = {},
): Promise<ApiResponse> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: options.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    // A deadline for the whole exchange, not only idle time: a daemon that trickles must not hang a test.
    const timer = setTimeout(
      () => req.destroy(new Error(`${path} on ${socketPath}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

/** True when `GET /_ping` on the socket answers 200 OK. */
export async function pingUnix(socketPath: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const res = await requestUnix(socketPath, '/_ping', { timeoutMs });
    return res.status === 200 && res.body === 'OK';
  } catch {
    return false;
  }
}
