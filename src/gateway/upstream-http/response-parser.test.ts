/**
 * The upstream response parser as a table: each row is what dockerd (or something pretending to
 * be it) sends, and what the parser must make of it. Every accepted row is also fed split at
 * every byte boundary and one byte at a time, and must give the same result.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ResponseHead, ResponseParseError, ResponseParser } from './response-parser.js';

const raw = (s: string) => Buffer.from(s, 'latin1');
const head = (...lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

interface Outcome {
  status: number;
  framing: string;
  keepAlive: boolean;
  body: string;
  /** The response ended as framed (or at close, for close-delimited). */
  ended: boolean;
  /** Bytes left after the response (the next response's, or raw after a hijack). */
  rest: string;
  headers?: string[];
}

interface Row {
  name: string;
  input: string;
  method?: string;
  /** The connection closes after the input. */
  close?: boolean;
  /** onHead returns false (the hijacked transport stops at the head). */
  detach?: boolean;
  expect: Partial<Outcome> | { refused: RegExp } | { cut: true };
}

function run(row: Row, pieces: Buffer[]): Outcome | { refused: string } | { cut: true } {
  let h: ResponseHead | undefined;
  const body: Buffer[] = [];
  let ended = false;
  const parser = new ResponseParser(row.method ?? 'GET', {
    onHead: (x) => {
      h = x;
      return row.detach ? false : undefined;
    },
    onBody: (p) => body.push(Buffer.from(p)),
    onEnd: () => {
      ended = true;
    },
  });
  let rest = '';
  try {
    for (const piece of pieces) {
      if (ended || rest !== '' || (h && (h.status === 101 || row.detach))) {
        rest += piece.toString('latin1');
        continue;
      }
      const used = parser.push(piece);
      rest += piece.subarray(used).toString('latin1');
    }
  } catch (err) {
    assert.ok(err instanceof ResponseParseError, `not a ResponseParseError: ${err}`);
    return { refused: (err as Error).message };
  }
  if (row.close && !parser.closed()) return { cut: true };
  return {
    status: h?.status ?? 0,
    framing: h?.framing ?? '',
    keepAlive: h?.keepAlive ?? false,
    body: Buffer.concat(body).toString('latin1'),
    ended,
    rest,
    headers: h?.rawHeaders ?? [],
  };
}

const ok200 = 'HTTP/1.1 200 OK';
const rows: Row[] = [
  // accepted framings
  {
    name: 'Content-Length',
    input: head(ok200, 'Content-Length: 5') + 'hello',
    expect: { status: 200, framing: 'length', keepAlive: true, body: 'hello', ended: true, rest: '' },
  },
  {
    name: 'raw header pairs kept as sent',
    input: head(ok200, 'Api-Version:  1.47 ', 'Content-Length: 0'),
    expect: { headers: ['Api-Version', '1.47', 'Content-Length', '0'], framing: 'none', ended: true },
  },
  {
    name: 'Content-Length: 0 has no body',
    input: head(ok200, 'Content-Length: 0'),
    expect: { framing: 'none', body: '', ended: true, keepAlive: true },
  },
  {
    name: 'leading zeros in Content-Length',
    input: head(ok200, 'Content-Length: 003') + 'abc',
    expect: { framing: 'length', body: 'abc', ended: true },
  },
  {
    name: 'bytes after a sized body are not its own',
    input: head(ok200, 'Content-Length: 2') + 'hiEXTRA',
    expect: { body: 'hi', ended: true, rest: 'EXTRA' },
  },
  {
    name: 'chunked',
    input: head(ok200, 'Transfer-Encoding: chunked') + '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    expect: { framing: 'chunked', body: 'hello world', ended: true, keepAlive: true, rest: '' },
  },
  {
    name: 'chunked in any case',
    input: head(ok200, 'Transfer-Encoding: Chunked') + 'a\r\n0123456789\r\n0\r\n\r\n',
    expect: { framing: 'chunked', body: '0123456789', ended: true },
  },
  {
    name: 'chunked stream not yet ended (events, logs -f)',
    input: head(ok200, 'Transfer-Encoding: chunked') + '3\r\nabc\r\n',
    expect: { framing: 'chunked', body: 'abc', ended: false },
  },
  {
    name: 'close-delimited ends at close',
    input: head(ok200) + 'all of it',
    close: true,
    expect: { framing: 'close', body: 'all of it', ended: true, keepAlive: false },
  },
  {
    name: 'Connection: close',
    input: head(ok200, 'Connection: close', 'Content-Length: 1') + 'x',
    expect: { keepAlive: false, ended: true, body: 'x' },
  },
  {
    name: 'HTTP/1.0 closes unless keep-alive',
    input: head('HTTP/1.0 200 OK', 'Content-Length: 1') + 'x',
    expect: { keepAlive: false, ended: true },
  },
  {
    name: 'HTTP/1.0 keep-alive',
    input: head('HTTP/1.0 200 OK', 'Connection: keep-alive', 'Content-Length: 1') + 'x',
    expect: { keepAlive: true, ended: true },
  },
  {
    name: 'HEAD: no body whatever the length says',
    method: 'HEAD',
    input: head(ok200, 'Content-Length: 42'),
    expect: { framing: 'none', ended: true, body: '', rest: '' },
  },
  {
    name: '204 has no body',
    input: head('HTTP/1.1 204 No Content'),
    expect: { status: 204, framing: 'none', ended: true, keepAlive: true },
  },
  {
    name: '304 has no body',
    input: head('HTTP/1.1 304 Not Modified', 'Content-Length: 10'),
    expect: { status: 304, framing: 'none', ended: true },
  },
  {
    name: '1xx skipped',
    input: head('HTTP/1.1 100 Continue') + head(ok200, 'Content-Length: 2') + 'ok',
    expect: { status: 200, body: 'ok', ended: true },
  },
  {
    name: 'two 1xx skipped',
    input: head('HTTP/1.1 100 Continue') + head('HTTP/1.1 102 Processing') + head('HTTP/1.1 204 No Content'),
    expect: { status: 204, ended: true },
  },
  {
    name: 'empty reason phrase',
    input: head('HTTP/1.1 200 ', 'Content-Length: 0'),
    expect: { status: 200, ended: true },
  },
  {
    name: 'no reason phrase at all',
    input: head('HTTP/1.1 404', 'Content-Length: 0'),
    expect: { status: 404, ended: true },
  },
  {
    name: 'an error answer',
    input:
      head('HTTP/1.1 404 Not Found', 'Content-Type: application/json', 'Content-Length: 13') +
      '{"message":1}',
    expect: { status: 404, body: '{"message":1}', ended: true },
  },
  {
    name: '101 stops at the head: the rest is raw',
    input: head('HTTP/1.1 101 UPGRADED', 'Connection: Upgrade', 'Upgrade: tcp') + 'RAW',
    expect: { status: 101, ended: false, rest: 'RAW' },
  },
  {
    name: 'a hijacked 200 stops at the head when told',
    detach: true,
    input: head(ok200, 'Content-Type: application/vnd.docker.raw-stream') + '\x01\x00RAW',
    expect: { status: 200, ended: false, rest: '\x01\x00RAW', body: '' },
  },
  // cut short
  {
    name: 'a sized body cut by close',
    input: head(ok200, 'Content-Length: 10') + 'abc',
    close: true,
    expect: { cut: true },
  },
  {
    name: 'a chunked body cut by close',
    input: head(ok200, 'Transfer-Encoding: chunked') + '5\r\nab',
    close: true,
    expect: { cut: true },
  },
  { name: 'a head cut by close', input: 'HTTP/1.1 200 OK\r\nContent-Le', close: true, expect: { cut: true } },
  { name: 'nothing at all before close', input: '', close: true, expect: { cut: true } },
  // refused: ambiguous or malformed framing
  {
    name: 'Content-Length and Transfer-Encoding',
    input: head(ok200, 'Content-Length: 3', 'Transfer-Encoding: chunked') + '0\r\n\r\n',
    expect: { refused: /both Content-Length and Transfer-Encoding/ },
  },
  {
    name: 'duplicate Content-Length (same value)',
    input: head(ok200, 'Content-Length: 3', 'Content-Length: 3') + 'abc',
    expect: { refused: /more than one Content-Length/ },
  },
  {
    name: 'duplicate Content-Length (different values)',
    input: head(ok200, 'Content-Length: 3', 'Content-Length: 4') + 'abcd',
    expect: { refused: /more than one Content-Length/ },
  },
  {
    name: 'list Content-Length',
    input: head(ok200, 'Content-Length: 3, 3'),
    expect: { refused: /Content-Length/ },
  },
  {
    name: 'signed Content-Length',
    input: head(ok200, 'Content-Length: +3'),
    expect: { refused: /Content-Length/ },
  },
  {
    name: 'negative Content-Length',
    input: head(ok200, 'Content-Length: -1'),
    expect: { refused: /Content-Length/ },
  },
  {
    name: 'hex Content-Length',
    input: head(ok200, 'Content-Length: 0x10'),
    expect: { refused: /Content-Length/ },
  },
  {
    name: 'empty Content-Length',
    input: head(ok200, 'Content-Length:'),
    expect: { refused: /Content-Length/ },
  },
  {
    name: 'oversize Content-Length',
    input: head(ok200, 'Content-Length: 1234567890123456'),
    expect: { refused: /Content-Length/ },
  },
  { name: 'TE gzip', input: head(ok200, 'Transfer-Encoding: gzip'), expect: { refused: /not accepted/ } },
  {
    name: 'TE gzip, chunked',
    input: head(ok200, 'Transfer-Encoding: gzip, chunked'),
    expect: { refused: /not accepted/ },
  },
  {
    name: 'TE chunked, chunked',
    input: head(ok200, 'Transfer-Encoding: chunked, chunked'),
    expect: { refused: /not accepted/ },
  },
  {
    name: 'two TE headers',
    input: head(ok200, 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'),
    expect: { refused: /more than one Transfer-Encoding/ },
  },
  {
    name: 'TE identity',
    input: head(ok200, 'Transfer-Encoding: identity'),
    expect: { refused: /not accepted/ },
  },
  {
    name: 'chunked in HTTP/1.0',
    input: head('HTTP/1.0 200 OK', 'Transfer-Encoding: chunked'),
    expect: { refused: /HTTP\/1\.0/ },
  },
  {
    name: 'chunk extension',
    input: head(ok200, 'Transfer-Encoding: chunked') + '5;x=y\r\nhello\r\n0\r\n\r\n',
    expect: { refused: /extensions/ },
  },
  {
    name: 'oversize chunk size',
    input: head(ok200, 'Transfer-Encoding: chunked') + '100000000\r\n',
    expect: { refused: /chunk size too large/ },
  },
  {
    name: 'chunk size with whitespace',
    input: head(ok200, 'Transfer-Encoding: chunked') + '5 \r\nhello\r\n0\r\n\r\n',
    expect: { refused: /malformed chunk size/ },
  },
  {
    name: 'chunk data longer than its size',
    input: head(ok200, 'Transfer-Encoding: chunked') + '2\r\nhello\r\n0\r\n\r\n',
    expect: { refused: /longer than its size/ },
  },
  {
    name: 'chunk size line ended by a bare LF',
    input: head(ok200, 'Transfer-Encoding: chunked') + '5\nhello\r\n',
    expect: { refused: /malformed chunk size/ },
  },
  {
    name: 'trailer fields',
    input: head(ok200, 'Transfer-Encoding: chunked') + '0\r\nX-Trailer: 1\r\n\r\n',
    expect: { refused: /trailer/ },
  },
  {
    name: 'obs-fold',
    input: head(ok200, 'X-A: 1', ' folded', 'Content-Length: 0'),
    expect: { refused: /obs-fold/ },
  },
  {
    name: 'bare LF inside the head',
    input: 'HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 0\r\n\r\n',
    expect: { refused: /bare CR or LF/ },
  },
  {
    name: 'bare CR inside the head',
    input: 'HTTP/1.1 200 OK\r\nX-A: 1\rContent-Length: 0\r\n\r\n',
    expect: { refused: /bare CR or LF/ },
  },
  {
    name: 'LF-only line endings',
    input: 'HTTP/1.1 200 OK\nContent-Length: 0\n\n',
    close: true,
    expect: { cut: true },
  },
  {
    name: 'space before the colon',
    input: head(ok200, 'Content-Length : 0'),
    expect: { refused: /header name/ },
  },
  { name: 'no colon', input: head(ok200, 'Content-Length 0'), expect: { refused: /malformed header line/ } },
  { name: 'empty header name', input: head(ok200, ': x'), expect: { refused: /malformed header line/ } },
  { name: 'NUL in a value', input: head(ok200, 'X-A: a\x00b'), expect: { refused: /control character/ } },
  { name: 'HTTP/2 status line', input: head('HTTP/2 200 OK'), expect: { refused: /status line/ } },
  { name: 'HTTP/1.2 status line', input: head('HTTP/1.2 200 OK'), expect: { refused: /status line/ } },
  { name: 'two-digit status', input: head('HTTP/1.1 20 OK'), expect: { refused: /status line/ } },
  { name: 'status 099', input: head('HTTP/1.1 099 X'), expect: { refused: /status line/ } },
  { name: 'lower-case protocol', input: head('http/1.1 200 OK'), expect: { refused: /status line/ } },
  { name: 'garbage', input: head('SSH-2.0-OpenSSH'), expect: { refused: /status line/ } },
  {
    name: 'head too large',
    input: `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70 * 1024)}`,
    expect: { refused: /too large/ },
  },
];

/** The ways to feed a row: whole, split at every byte boundary, one byte at a time. */
function splits(input: Buffer): Buffer[][] {
  const out: Buffer[][] = [[input]];
  for (let at = 1; at < input.length; at++) out.push([input.subarray(0, at), input.subarray(at)]);
  if (input.length > 1) out.push([...input].map((b) => Buffer.from([b])));
  return out;
}

describe('upstream response parser', () => {
  for (const row of rows) {
    it(row.name, () => {
      const input = raw(row.input);
      const feeds = input.length > 4096 ? [[input]] : splits(input);
      for (const pieces of feeds) {
        const got = run(row, pieces);
        const where = `split ${pieces.map((p) => p.length).join('+')}`;
        if ('refused' in row.expect) {
          assert.ok('refused' in got, `${where}: expected a refusal, got ${JSON.stringify(got)}`);
          assert.match(got.refused, row.expect.refused, where);
        } else if ('cut' in row.expect) {
          assert.deepEqual(got, { cut: true }, where);
        } else {
          assert.ok(!('refused' in got) && !('cut' in got), `${where}: ${JSON.stringify(got)}`);
          for (const [k, v] of Object.entries(row.expect)) {
            assert.deepEqual((got as unknown as Record<string, unknown>)[k], v, `${where}: ${k}`);
          }
        }
      }
    });
  }
});
