import { ChunkedDecoder } from '../http/chunked.js';
import { hasBareCrOrLf, hasControlChar, isToken, trimOws } from '../http/request-head.js';

/**
 * A strict parser for dockerd's answers on an upstream connection (RFC 9112), fed the bytes as
 * they arrive. It refuses what a proxy could read differently from the daemon (obs-fold, bare
 * CR/LF, duplicate or signed Content-Length, Content-Length with Transfer-Encoding, any coding
 * but a lone `chunked`, chunk extensions, trailers): the caller answers a refusal with a 502 and
 * never reuses the connection. No library parser fits here without Node's HTTP objects (undici's
 * llhttp is internal), hence the table test next to this file.
 */

/** How the body of a response is delimited. */
export type ResponseFraming = 'none' | 'length' | 'chunked' | 'close';

export interface ResponseHead {
  status: number;
  statusText: string;
  /** Raw header name/value pairs, as received. */
  rawHeaders: string[];
  framing: ResponseFraming;
  /** The Content-Length when framing is 'length', else -1. */
  length: number;
  /** Whether the daemon keeps the connection open after this response. */
  keepAlive: boolean;
}

export interface ResponseEvents {
  /** The final head (1xx other than 101 skipped). Return false to stop parsing here (hijack). */
  onHead(head: ResponseHead): boolean | undefined;
  /** A piece of body; `last` when it completes a sized body. */
  onBody(piece: Buffer, last: boolean): void;
  /** The body ended as framed (not called for a close-delimited body: see `closed()`). */
  onEnd(): void;
}

/** The most a response head may take (dockerd's are a few hundred bytes). */
export const MAX_RESPONSE_HEAD = 64 * 1024;
const MAX_LENGTH_DIGITS = 15;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d) ?([^\x00-\x08\x0a-\x1f\x7f]*)$/;

export class ResponseParseError extends Error {}

type State = 'head' | 'body' | 'done' | 'detached';

export class ResponseParser {
  private state: State = 'head';
  private pending: Buffer | null = null;
  private framing: ResponseFraming = 'none';
  private remaining = 0;
  private decoder: ChunkedDecoder | null = null;
  private headSeen = false;

  constructor(
    private readonly method: string,
    private readonly events: ResponseEvents,
  ) {}

  /** True once a response was complete (framed end, or a close-delimited end via closed()). */
  get done(): boolean {
    return this.state === 'done';
  }

  /** True once any byte of a final response head was parsed (the request reached the daemon). */
  get started(): boolean {
    return this.headSeen || this.pending !== null;
  }

  /**
   * Parses `input`; returns how many bytes were used. Fewer than given once the response is
   * complete or parsing stopped after a head (101, or onHead returned false): the rest is not
   * part of this response. Throws ResponseParseError for anything refused.
   */
  push(input: Buffer): number {
    let i = 0;
    while (i < input.length) {
      if (this.state === 'head') {
        const used = this.pushHead(input.subarray(i));
        i += used;
        continue;
      }
      if (this.state !== 'body') return i;
      i += this.pushBody(input.subarray(i));
    }
    return i;
  }

  /**
   * The connection ended. Returns true when that ends the response properly (a close-delimited
   * body, or a response already complete); false when the response was cut short.
   */
  closed(): boolean {
    if (this.state === 'done' || this.state === 'detached') return true;
    if (this.state === 'body' && this.framing === 'close') {
      this.state = 'done';
      this.events.onEnd();
      return true;
    }
    return false;
  }

  private pushHead(input: Buffer): number {
    const prior = this.pending ? this.pending.length : 0;
    const buf = this.pending ? Buffer.concat([this.pending, input]) : input;
    // Resume the search just before the new bytes (a terminator may straddle two reads).
    const end = buf.indexOf('\r\n\r\n', Math.max(0, prior - 3), 'latin1');
    if (end === -1) {
      if (buf.length > MAX_RESPONSE_HEAD) throw new ResponseParseError('response head too large');
      this.pending = Buffer.from(buf);
      return input.length;
    }
    if (end + 4 > MAX_RESPONSE_HEAD) throw new ResponseParseError('response head too large');
    this.pending = null;
    const head = this.parseHead(buf.toString('latin1', 0, end));
    const used = end + 4 - prior;
    if (head.status < 200 && head.status !== 101) return used; // 1xx: the final head follows
    this.headSeen = true;
    const go = this.events.onHead(head);
    if (head.status === 101 || go === false) {
      this.state = 'detached';
      return used;
    }
    this.framing = head.framing;
    if (head.framing === 'none') this.finish();
    else {
      this.state = 'body';
      this.remaining = head.length;
      if (head.framing === 'chunked') this.decoder = new ChunkedDecoder();
    }
    return used;
  }

  private pushBody(input: Buffer): number {
    if (this.framing === 'close') {
      this.events.onBody(input, false);
      return input.length;
    }
    if (this.framing === 'length') {
      const n = Math.min(this.remaining, input.length);
      this.remaining -= n;
      // The last piece is delivered before onEnd: a transport may send it with the end.
      this.events.onBody(n === input.length ? input : input.subarray(0, n), this.remaining === 0);
      if (this.remaining === 0) this.finish();
      return n;
    }
    let used: number;
    try {
      used = this.decoder!.push(input, (piece) => this.events.onBody(piece, false));
    } catch (err) {
      throw new ResponseParseError(`malformed chunked response: ${(err as Error).message}`);
    }
    if (this.decoder!.done) this.finish();
    return used;
  }

  private finish(): void {
    this.state = 'done';
    this.events.onEnd();
  }

  private parseHead(text: string): ResponseHead {
    // One pass over the whole head: every CR must start a CRLF and every LF end one.
    if (hasBareCrOrLf(text)) throw new ResponseParseError('bare CR or LF in the head');
    const lines = text.split('\r\n');
    const m = STATUS_LINE.exec(lines[0]!);
    if (!m) throw new ResponseParseError('malformed status line');
    const minor = Number(m[1]);
    const status = Number(m[2]);
    const rawHeaders: string[] = [];
    let length = -1;
    let lengths = 0;
    let codings = 0;
    let chunked = false;
    let close = minor === 0;
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k]!;
      if (line.startsWith(' ') || line.startsWith('\t')) throw new ResponseParseError('obs-fold in a header');
      const colon = line.indexOf(':');
      if (colon <= 0) throw new ResponseParseError('malformed header line');
      const name = line.slice(0, colon);
      if (!isToken(name)) throw new ResponseParseError('malformed header name');
      const value = trimOws(line, colon + 1);
      // Field values: visible ASCII, obs-text, SP and HTAB; no other control character.
      if (hasControlChar(value)) throw new ResponseParseError('control character in a header value');
      rawHeaders.push(name, value);
      // Only three names matter here; most headers skip the lowercasing by their length.
      const n = name.length;
      if (n !== 14 && n !== 17 && n !== 10) continue;
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        lengths++;
        if (!/^\d+$/.test(value) || value.length > MAX_LENGTH_DIGITS) {
          throw new ResponseParseError('malformed Content-Length');
        }
        length = Number(value);
      } else if (lower === 'transfer-encoding') {
        codings++;
        chunked = value.toLowerCase() === 'chunked';
        if (!chunked) throw new ResponseParseError(`Transfer-Encoding "${value}" is not accepted`);
      } else if (lower === 'connection') {
        const tokens = value
          .toLowerCase()
          .split(',')
          .map((t) => t.trim());
        if (tokens.includes('close')) close = true;
        else if (minor === 0 && tokens.includes('keep-alive')) close = false;
      }
    }
    if (lengths > 1) throw new ResponseParseError('more than one Content-Length');
    if (codings > 1) throw new ResponseParseError('more than one Transfer-Encoding');
    if (lengths > 0 && codings > 0) throw new ResponseParseError('both Content-Length and Transfer-Encoding');
    if (chunked && minor === 0) throw new ResponseParseError('chunked in an HTTP/1.0 response');
    const noBody = this.method === 'HEAD' || status < 200 || status === 204 || status === 304;
    let framing: ResponseFraming;
    if (noBody) framing = 'none';
    else if (chunked) framing = 'chunked';
    else if (lengths > 0) framing = length === 0 ? 'none' : 'length';
    else framing = 'close';
    return {
      status,
      statusText: m[3]!,
      rawHeaders,
      framing,
      length: framing === 'length' ? length : -1,
      keepAlive: !close && framing !== 'close',
    };
  }
}
