/**
 * A strict HTTP/1.1 request-head parser for the gateway's own HTTP layer. It accepts what Docker
 * clients send and refuses anything two parsers could read two ways (request smuggling, header
 * injection): bare CR or LF, obs-fold, whitespace before the colon, a Content-Length that is
 * duplicated, signed, listed or not decimal, any Transfer-Encoding but a single `chunked`, both
 * framings at once, a missing or duplicated Host. What it accepts is then re-framed by the
 * gateway itself, so the bytes dockerd reads are the bytes the policy checked.
 */

export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

export interface ParsedHead {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: 0 | 1;
  /** [name, value, ...] in the order received, names as sent, values without surrounding OWS. */
  rawHeaders: string[];
  framing: Framing;
  /** The client wants the connection kept after this exchange. */
  keepAlive: boolean;
  /** `Connection: Upgrade` with an `Upgrade` header. */
  upgrade: boolean;
  /** `Expect: 100-continue`: the body follows once the gateway says 100 Continue. */
  expectContinue: boolean;
}

export interface HeadRefusal {
  status: 400 | 417 | 431 | 501 | 505;
  reason: string;
}

export type HeadResult =
  | { kind: 'head'; head: ParsedHead /** bytes of the head, CRLFCRLF included */; size: number }
  | { kind: 'incomplete' }
  | { kind: 'refused'; refusal: HeadRefusal };

/** RFC 9110 tchar. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Request target: visible ASCII only (no space, no control, no obs-text). */
const TARGET = /^[\u0021-\u007e]+$/;
const CONTENT_LENGTH = /^[0-9]{1,15}$/;
const NO_BODY: Framing = { kind: 'none' };

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

function refused(status: HeadRefusal['status'], reason: string): HeadResult {
  return { kind: 'refused', refusal: { status, reason } };
}

/**
 * Parses one request head from the start of `buf`. `incomplete` until the blank line arrives;
 * a head (or what has arrived of one) longer than `maxHeadBytes` is refused with 431.
 */
export function parseRequestHead(buf: Buffer, maxHeadBytes: number): HeadResult {
  const end = buf.indexOf(CRLFCRLF);
  if (end === -1) {
    if (buf.length > maxHeadBytes) return refused(431, 'request headers are too large');
    // Refuse early what can never become a valid head (a bare LF, an HTTP/2 preface).
    const early = earlyRefusal(buf);
    return early ?? { kind: 'incomplete' };
  }
  const size = end + 4;
  if (size > maxHeadBytes) return refused(431, 'request headers are too large');
  const text = buf.toString('latin1', 0, end);
  // Every line ends in CRLF: a CR or LF anywhere else is a bare one.
  if (hasBareCrOrLf(text)) return refused(400, 'bare CR or LF in the request head');
  const lines = text.split('\r\n');
  const requestLine = lines[0]!;
  if (requestLine.startsWith('PRI * HTTP/2.0')) {
    return refused(400, 'HTTP/2 with prior knowledge is not supported: use HTTP/1.1');
  }
  const parts = requestLine.split(' ');
  if (parts.length !== 3) return refused(400, 'malformed request line');
  const [method, target, version] = parts as [string, string, string];
  if (!TOKEN.test(method)) return refused(400, 'malformed method');
  if (!TARGET.test(target)) return refused(400, 'malformed request target');
  let minor: 0 | 1;
  if (version === 'HTTP/1.1') minor = 1;
  else if (version === 'HTTP/1.0') minor = 0;
  else if (/^HTTP\/[0-9]\.[0-9]$/.test(version))
    return refused(505, `${version} is not supported: use HTTP/1.1`);
  else return refused(400, 'malformed HTTP version');

  const rawHeaders: string[] = [];
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  let hosts = 0;
  let connection = '';
  let upgradeHeader = false;
  let expect: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith(' ') || line.startsWith('\t'))
      return refused(400, 'obsolete line folding in a header');
    const colon = line.indexOf(':');
    if (colon <= 0) return refused(400, 'malformed header line');
    const name = line.slice(0, colon);
    if (!isToken(name)) return refused(400, `malformed header name "${printable(name)}"`);
    const value = trimOws(line, colon + 1);
    if (hasControlChar(value)) return refused(400, `control character in header ${name}`);
    rawHeaders.push(name, value);
    switch (name.toLowerCase()) {
      case 'content-length':
        if (contentLength !== undefined) return refused(400, 'more than one Content-Length');
        if (!CONTENT_LENGTH.test(value))
          return refused(400, `malformed Content-Length "${printable(value)}"`);
        contentLength = value;
        break;
      case 'transfer-encoding':
        if (transferEncoding !== undefined) return refused(400, 'more than one Transfer-Encoding');
        transferEncoding = value;
        break;
      case 'host':
        hosts++;
        break;
      case 'connection':
        connection += `${connection ? ',' : ''}${value.toLowerCase()}`;
        break;
      case 'upgrade':
        upgradeHeader = true;
        break;
      case 'expect':
        if (expect !== undefined) return refused(400, 'more than one Expect');
        expect = value.toLowerCase();
        break;
    }
  }
  if (minor === 1 && hosts !== 1)
    return refused(400, hosts === 0 ? 'missing Host header' : 'more than one Host');
  if (hosts > 1) return refused(400, 'more than one Host');

  let framing: Framing = NO_BODY;
  if (transferEncoding !== undefined) {
    if (contentLength !== undefined) return refused(400, 'both Transfer-Encoding and Content-Length');
    if (minor === 0) return refused(400, 'Transfer-Encoding in an HTTP/1.0 request');
    if (transferEncoding.toLowerCase() !== 'chunked') {
      return refused(
        501,
        `Transfer-Encoding "${printable(transferEncoding)}" is not supported: only chunked`,
      );
    }
    framing = { kind: 'chunked' };
  } else if (contentLength !== undefined) {
    const length = Number(contentLength);
    if (!Number.isSafeInteger(length)) return refused(400, 'Content-Length too large');
    if (length > 0) framing = { kind: 'length', length };
  }
  if (expect !== undefined && expect !== '100-continue')
    return refused(417, `unsupported Expect "${printable(expect)}"`);

  const tokens = connection === '' ? [] : connection.split(',').map((t) => t.trim());
  const keepAlive = minor === 1 ? !tokens.includes('close') : tokens.includes('keep-alive');
  return {
    kind: 'head',
    size,
    head: {
      method,
      target,
      minor,
      rawHeaders,
      framing,
      keepAlive,
      upgrade: upgradeHeader && tokens.includes('upgrade'),
      expectContinue: expect === '100-continue' && framing.kind !== 'none',
    },
  };
}

/** The field value from `start`, without the optional whitespace (SP, HTAB) around it (no regex: per header). */
export function trimOws(line: string, start: number): string {
  let a = start;
  let b = line.length;
  while (a < b && (line.charCodeAt(a) === 0x20 || line.charCodeAt(a) === 0x09)) a++;
  while (b > a && (line.charCodeAt(b - 1) === 0x20 || line.charCodeAt(b - 1) === 0x09)) b--;
  return line.slice(a, b);
}

function earlyRefusal(buf: Buffer): HeadResult | undefined {
  if (buf.length >= 14 && buf.toString('latin1', 0, 14) === 'PRI * HTTP/2.0') {
    return refused(400, 'HTTP/2 with prior knowledge is not supported: use HTTP/1.1');
  }
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if (b === 0x0a && (i === 0 || buf[i - 1] !== 0x0d))
      return refused(400, 'bare CR or LF in the request head');
    if (b === 0x0d && i + 1 < buf.length && buf[i + 1] !== 0x0a)
      return refused(400, 'bare CR or LF in the request head');
  }
  return undefined;
}

function printable(s: string): string {
  const t = s.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: shown escaped in the refusal
    /[\u0000-\u001f\u007f-\uffff]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
}

/**
 * A CR not followed by LF, or an LF not preceded by CR, anywhere in `text` (a head without its
 * final blank line). The same test as /\r(?!\n)|(?<!\r)\n/, which cost more per request than
 * the two indexOf scans.
 */
export function hasBareCrOrLf(text: string): boolean {
  for (let i = text.indexOf('\r'); i !== -1; i = text.indexOf('\r', i + 1)) {
    if (text.charCodeAt(i + 1) !== 0x0a) return true;
  }
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
    if (i === 0 || text.charCodeAt(i - 1) !== 0x0d) return true;
  }
  return false;
}

/** RFC 9110 tchar, by character code (0-127). */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  TCHAR[c.charCodeAt(0)] = 1;

/** The same test as TOKEN (a header name), by a table: a regex per header cost more. */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** The same test as BAD_VALUE: a control character other than HTAB (field values). */
export function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}
