/**
 * The gateway's HTTP/1.1 request parser as a table: each row is raw bytes and what the parser
 * must make of them. The smuggling rows are the framing cases of the bypass corpus and of the
 * gateway fault suite, plus the classic request-smuggling and header-injection forms.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkedDecoder } from './chunked.js';
import { hasBareCrOrLf, hasControlChar, isToken, parseRequestHead } from './request-head.js';

const MAX = 16 * 1024;
const h = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
const get = (...headers: string[]) => h(['GET /_ping HTTP/1.1', 'Host: docker', ...headers]);
const post = (...headers: string[]) => h(['POST /containers/create HTTP/1.1', 'Host: docker', ...headers]);

type Expect =
  | { status: number; reason?: RegExp }
  | { framing: string; keepAlive?: boolean; upgrade?: boolean };

const table: [string, Buffer, Expect][] = [
  // accepted
  ['a plain GET', get(), { framing: 'none', keepAlive: true }],
  ['Connection: close', get('Connection: close'), { framing: 'none', keepAlive: false }],
  ['HTTP/1.0 closes unless keep-alive', h(['GET /_ping HTTP/1.0']), { framing: 'none', keepAlive: false }],
  [
    'HTTP/1.0 keep-alive',
    h(['GET /_ping HTTP/1.0', 'Connection: keep-alive']),
    { framing: 'none', keepAlive: true },
  ],
  ['Content-Length', post('Content-Length: 12'), { framing: 'length:12' }],
  ['Content-Length: 0 is no body', post('Content-Length: 0'), { framing: 'none' }],
  ['Content-Length with leading zeros', post('Content-Length: 007'), { framing: 'length:7' }],
  ['chunked', post('Transfer-Encoding: chunked'), { framing: 'chunked' }],
  ['chunked in any case', post('Transfer-Encoding: Chunked'), { framing: 'chunked' }],
  ['OWS around a value', post('Content-Length: \t 5 \t'), { framing: 'length:5' }],
  [
    'an upgrade',
    h(['POST /exec/x/start HTTP/1.1', 'Host: d', 'Connection: Upgrade', 'Upgrade: tcp']),
    { framing: 'none', upgrade: true },
  ],
  [
    'Upgrade without Connection: Upgrade is no upgrade',
    get('Upgrade: tcp'),
    { framing: 'none', upgrade: false },
  ],
  ['obs-text in a value', get('X-Name: caf\u00e9'), { framing: 'none' }],

  // smuggling: framing
  [
    'CL + TE (CVE-2024-41110 form)',
    post('Content-Length: 0', 'Transfer-Encoding: chunked'),
    { status: 400, reason: /both/ },
  ],
  ['TE + CL', post('Transfer-Encoding: chunked', 'Content-Length: 4'), { status: 400, reason: /both/ }],
  [
    'two different Content-Lengths',
    post('Content-Length: 52', 'Content-Length: 2'),
    { status: 400, reason: /more than one Content-Length/ },
  ],
  [
    'two equal Content-Lengths',
    post('Content-Length: 2', 'Content-Length: 2'),
    { status: 400, reason: /more than one Content-Length/ },
  ],
  [
    'a Content-Length list',
    post('Content-Length: 2, 2'),
    { status: 400, reason: /malformed Content-Length/ },
  ],
  [
    'a signed Content-Length',
    post('Content-Length: +5'),
    { status: 400, reason: /malformed Content-Length/ },
  ],
  [
    'a negative Content-Length',
    post('Content-Length: -1'),
    { status: 400, reason: /malformed Content-Length/ },
  ],
  ['a hex Content-Length', post('Content-Length: 0x10'), { status: 400, reason: /malformed Content-Length/ }],
  ['an empty Content-Length', post('Content-Length:'), { status: 400, reason: /malformed Content-Length/ }],
  [
    'a Content-Length with a space inside',
    post('Content-Length: 1 2'),
    { status: 400, reason: /malformed Content-Length/ },
  ],
  [
    'a huge Content-Length',
    post(`Content-Length: ${'9'.repeat(20)}`),
    { status: 400, reason: /malformed Content-Length/ },
  ],
  ['TE gzip, chunked', post('Transfer-Encoding: gzip, chunked'), { status: 501 }],
  ['TE chunked, identity', post('Transfer-Encoding: chunked, identity'), { status: 501 }],
  ['TE identity', post('Transfer-Encoding: identity'), { status: 501 }],
  ['TE xchunked', post('Transfer-Encoding: xchunked'), { status: 501 }],
  [
    'TE with a vertical tab',
    post('Transfer-Encoding: \u000bchunked'),
    { status: 400, reason: /control character/ },
  ],
  [
    'two TE headers',
    post('Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'),
    { status: 400, reason: /more than one Transfer-Encoding/ },
  ],
  [
    'TE in HTTP/1.0',
    h(['POST /x HTTP/1.0', 'Transfer-Encoding: chunked']),
    { status: 400, reason: /HTTP\/1\.0/ },
  ],
  ['a space before the colon', post('Transfer-Encoding : chunked'), { status: 400, reason: /header name/ }],
  ['a tab before the colon', post('Content-Length\t: 5'), { status: 400, reason: /header name/ }],
  ['obs-fold', post('Content-Length: 5', ' 6'), { status: 400, reason: /folding/ }],
  ['obs-fold with a tab', get('X-A: b', '\tc'), { status: 400, reason: /folding/ }],
  // smuggling: line endings and control characters
  [
    'a bare LF between headers',
    Buffer.from('GET /_ping HTTP/1.1\r\nHost: d\nX: y\r\n\r\n', 'latin1'),
    { status: 400, reason: /bare CR or LF/ },
  ],
  [
    'a bare CR in a value',
    Buffer.from('GET /_ping HTTP/1.1\r\nHost: d\r\nX: a\rb\r\n\r\n', 'latin1'),
    { status: 400, reason: /bare CR or LF/ },
  ],
  [
    'LF-only line endings',
    Buffer.from('GET /_ping HTTP/1.1\nHost: d\n\n', 'latin1'),
    { status: 400, reason: /bare CR or LF/ },
  ],
  ['a NUL in a value', get('X: a\u0000b'), { status: 400, reason: /control character/ }],
  ['DEL in a value', get('X: a\u007fb'), { status: 400, reason: /control character/ }],
  ['a header without a colon', get('NoColon'), { status: 400, reason: /malformed header line/ }],
  ['an empty header name', get(': v'), { status: 400, reason: /malformed header line/ }],
  ['a non-token header name', get('X@Y: v'), { status: 400, reason: /header name/ }],
  // request line
  ['no Host', h(['GET /_ping HTTP/1.1']), { status: 400, reason: /missing Host/ }],
  ['two Hosts', get('Host: other'), { status: 400, reason: /more than one Host/ }],
  [
    'two spaces in the request line',
    h(['GET  /_ping HTTP/1.1', 'Host: d']),
    { status: 400, reason: /request line/ },
  ],
  ['a space in the target', h(['GET /a b HTTP/1.1', 'Host: d']), { status: 400, reason: /request line/ }],
  ['a tab in the target', h(['GET /a\tb HTTP/1.1', 'Host: d']), { status: 400, reason: /request target/ }],
  [
    'obs-text in the target',
    h(['GET /caf\u00e9 HTTP/1.1', 'Host: d']),
    { status: 400, reason: /request target/ },
  ],
  ['a lower-case version', h(['GET / http/1.1', 'Host: d']), { status: 400, reason: /version/ }],
  ['HTTP/2.0 on the request line', h(['GET / HTTP/2.0', 'Host: d']), { status: 505 }],
  ['HTTP/0.9 style', Buffer.from('GET /\r\n\r\n', 'latin1'), { status: 400, reason: /request line/ }],
  ['a non-token method', h(['G(T / HTTP/1.1', 'Host: d']), { status: 400, reason: /method/ }],
  [
    'HTTP/2 prior knowledge',
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
    { status: 400, reason: /HTTP\/2/ },
  ],
  ['Expect other than 100-continue', post('Content-Length: 1', 'Expect: something'), { status: 417 }],
  ['a head over the limit', get(`X-Big: ${'a'.repeat(17 * 1024)}`), { status: 431 }],
];

function framingOf(f: { kind: string; length?: number }): string {
  return f.kind === 'length' ? `length:${f.length}` : f.kind;
}

describe('request head parser (table)', () => {
  for (const [name, bytes, expected] of table) {
    it(name, () => {
      const r = parseRequestHead(bytes, MAX);
      if ('status' in expected) {
        assert.equal(r.kind, 'refused', `accepted: ${JSON.stringify(r)}`);
        if (r.kind !== 'refused') return;
        assert.equal(r.refusal.status, expected.status, r.refusal.reason);
        if (expected.reason) assert.match(r.refusal.reason, expected.reason);
      } else {
        assert.equal(r.kind, 'head', JSON.stringify(r));
        if (r.kind !== 'head') return;
        assert.equal(framingOf(r.head.framing), expected.framing);
        assert.equal(r.size, bytes.length);
        if (expected.keepAlive !== undefined) assert.equal(r.head.keepAlive, expected.keepAlive);
        if (expected.upgrade !== undefined) assert.equal(r.head.upgrade, expected.upgrade);
      }
    });
  }

  it('waits for the rest of a head, and refuses early what can never be one', () => {
    assert.equal(parseRequestHead(Buffer.from('GET /_ping HTTP/1.1\r\nHo'), MAX).kind, 'incomplete');
    assert.equal(parseRequestHead(Buffer.from('GET /_ping HTTP/1.1\nHost'), MAX).kind, 'refused');
    assert.equal(parseRequestHead(Buffer.from('PRI * HTTP/2.0\r\n'), MAX).kind, 'refused');
    assert.equal(parseRequestHead(Buffer.alloc(MAX + 1, 0x61), MAX).kind, 'refused');
  });

  it('keeps the header names as sent and the values without OWS, in order', () => {
    const r = parseRequestHead(get('X-One:  a ', 'x-two:b'), MAX);
    assert.ok(r.kind === 'head');
    assert.deepEqual(r.head.rawHeaders, ['Host', 'docker', 'X-One', 'a', 'x-two', 'b']);
  });

  it('leaves the bytes after the head (body, next request) to the caller', () => {
    const bytes = Buffer.concat([post('Content-Length: 2'), Buffer.from('{}GET /')]);
    const r = parseRequestHead(bytes, MAX);
    assert.ok(r.kind === 'head');
    assert.equal(bytes.subarray(r.size).toString(), '{}GET /');
  });
});

describe('chunked body decoder (table)', () => {
  const decode = (text: string, split = 0): { body: string; used: number; done: boolean } => {
    const d = new ChunkedDecoder();
    const input = Buffer.from(text, 'latin1');
    let body = '';
    let used = 0;
    const parts = split > 0 ? [input.subarray(0, split), input.subarray(split)] : [input];
    for (const p of parts) {
      if (d.done) break;
      used += d.push(p, (piece) => {
        body += piece.toString('latin1');
      });
    }
    return { body, used, done: d.done };
  };

  const ok: [string, string, string][] = [
    ['one chunk', '5\r\nhello\r\n0\r\n\r\n', 'hello'],
    ['two chunks', '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n', 'abcde'],
    ['upper-case hex', 'A\r\n0123456789\r\n0\r\n\r\n', '0123456789'],
    ['leading zeros', '0003\r\nabc\r\n0\r\n\r\n', 'abc'],
    ['an empty body', '0\r\n\r\n', ''],
  ];
  for (const [name, text, body] of ok) {
    it(`decodes ${name}, whole and split at every byte`, () => {
      assert.deepEqual(decode(text), { body, used: text.length, done: true });
      for (let s = 1; s < text.length; s++) assert.equal(decode(text, s).body, body, `split at ${s}`);
    });
  }

  it('stops at the end of the body, leaving the next request', () => {
    const r = decode('1\r\na\r\n0\r\n\r\nGET / HTTP/1.1');
    assert.equal(r.used, '1\r\na\r\n0\r\n\r\n'.length);
  });

  const bad: [string, string, RegExp][] = [
    ['a chunk extension', '5;ext=1\r\nhello\r\n0\r\n\r\n', /extensions/],
    ['an extension on the last chunk', '0;x\r\n\r\n', /extensions/],
    ['an oversize chunk size', '100000000\r\n', /too large/],
    ['a long zero-padded size', '000000000005\r\nhello\r\n0\r\n\r\n', /too large/],
    ['a signed size', '+5\r\nhello\r\n0\r\n\r\n', /malformed chunk size/],
    ['a space after the size', '5 \r\nhello\r\n0\r\n\r\n', /malformed chunk size/],
    ['a 0x prefix', '0x5\r\nhello\r\n0\r\n\r\n', /malformed chunk size/],
    ['an empty size line', '\r\nhello\r\n', /empty chunk size/],
    ['a bare LF after the size', '5\nhello\r\n0\r\n\r\n', /malformed chunk size/],
    ['a bare CR after the size', '5\rhello\r\n', /bare CR/],
    ['more data than the size says', '3\r\nhello\r\n0\r\n\r\n', /longer than its size/],
    ['a bare LF after the data', '5\r\nhello\n0\r\n\r\n', /longer than its size/],
    ['a trailer field', '0\r\nX-Trailer: 1\r\n\r\n', /trailer/],
  ];
  for (const [name, text, reason] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => decode(text), reason);
    });
  }
});

describe('bare CR or LF', () => {
  it('finds exactly what /\\r(?!\\n)|(?<!\\r)\\n/ finds, for every string of a, CR, LF up to 7 long', () => {
    const regex = /\r(?!\n)|(?<!\r)\n/;
    let texts = [''];
    let checked = 0;
    for (let len = 0; len <= 7; len++) {
      for (const t of texts) {
        assert.equal(hasBareCrOrLf(t), regex.test(t), JSON.stringify(t));
        checked++;
      }
      texts = texts.flatMap((t) => [`${t}a`, `${t}\r`, `${t}\n`]);
    }
    assert.equal(checked, 3280);
  });
});

describe('header name and value characters', () => {
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the regex the table replaced
  const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;
  it('agree with the regexes they replaced, for every latin1 character alone and inside text', () => {
    assert.equal(isToken(''), TOKEN.test(''));
    assert.equal(hasControlChar(''), BAD_VALUE.test(''));
    for (let c = 0; c < 256; c++) {
      const ch = String.fromCharCode(c);
      for (const text of [ch, `a${ch}`, `${ch}Z`, `x-${ch}-y`, ch + ch]) {
        assert.equal(isToken(text), TOKEN.test(text), `name ${JSON.stringify(text)}`);
        assert.equal(hasControlChar(text), BAD_VALUE.test(text), `value ${JSON.stringify(text)}`);
      }
    }
    assert.equal(isToken('\u0100abc'), false);
    assert.equal(hasControlChar('caf\u00e9\u0100'), false);
  });
});
