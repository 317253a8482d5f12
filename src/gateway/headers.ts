/** Headers that belong to one hop and are never forwarded (RFC 9110 §7.6.1), plus ones we set. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The request headers sent upstream, from the client's raw header list: hop-by-hop headers and
 * anything naming a client address (`X-Forwarded-*`, `Forwarded`, `X-Real-IP`) are dropped, since
 * the only identity that counts is the verified certificate.
 */
export function upstreamRequestHeaders(rawHeaders: readonly string[], keepUpgrade: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (lower.startsWith('x-forwarded-') || lower === 'forwarded' || lower === 'x-real-ip') continue;
    if (HOP_BY_HOP.has(lower) && !(keepUpgrade && (lower === 'connection' || lower === 'upgrade'))) continue;
    out.push(name, rawHeaders[i + 1]!);
  }
  return out;
}

/** The lengths of the hop-by-hop names: a name of another length is not one (no lowercasing). */
const HOP_BY_HOP_LENGTHS = new Set([...HOP_BY_HOP].map((h) => h.length));

/** The response headers sent back to the client (hop-by-hop removed; the gateway frames the body). */
export function downstreamResponseHeaders(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (HOP_BY_HOP_LENGTHS.has(name.length) && HOP_BY_HOP.has(name.toLowerCase())) continue;
    out.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  return out;
}

/** A response head written verbatim on a hijacked socket (101, or 200 + raw stream). */
export function rawResponseHead(
  status: number,
  statusMessage: string,
  rawHeaders: readonly string[],
): string {
  let head = `HTTP/1.1 ${status} ${statusMessage}\r\n`;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  }
  return `${head}\r\n`;
}
