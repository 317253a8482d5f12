import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEndpointByName } from '../docker/endpoints/index.js';
import { canonicalBody, checkContentType, DEFAULT_BODY_LIMIT, foldKey } from './canonical-body.js';

const endpoint = (name: string) => {
  const e = findEndpointByName(name);
  assert.ok(e, `no endpoint ${name}`);
  return e;
};
const JSON_CT = 'application/json';

function run(name: string, body: string | Buffer, ct: string | undefined = JSON_CT, limit?: number) {
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return canonicalBody(endpoint(name), raw, ct, limit === undefined ? {} : { limit });
}

function canonical(name: string, body: string, ct: string | undefined = JSON_CT): string {
  const res = run(name, body, ct);
  assert.ok(res.ok, `refused: ${res.ok ? '' : res.reason}`);
  return res.bytes.toString('utf8');
}

function refusal(name: string, body: string | Buffer, ct: string | undefined = JSON_CT, limit?: number) {
  const res = run(name, body, ct, limit);
  assert.ok(!res.ok, `accepted: ${res.ok ? res.bytes.toString() : ''}`);
  return res;
}

describe('canonical body: key resolution', () => {
  const cases: [string, string, string, string][] = [
    [
      'renames lower-case keys to Docker canonical names at every depth',
      'container.create',
      '{"image":"testbox","hostconfig":{"privileged":true,"capadd":["NET_ADMIN"]}}',
      '{"Image":"testbox","HostConfig":{"Privileged":true,"CapAdd":["NET_ADMIN"]}}',
    ],
    [
      'renames upper-case keys',
      'container.create',
      '{"IMAGE":"testbox","HOSTCONFIG":{"PIDMODE":"host"}}',
      '{"Image":"testbox","HostConfig":{"PidMode":"host"}}',
    ],
    [
      'renames keys of Resources, which HostConfig embeds',
      'container.create',
      '{"HostConfig":{"devices":[{"pathonhost":"/dev/sda"}],"memory":1}}',
      '{"HostConfig":{"Devices":[{"PathOnHost":"/dev/sda"}],"Memory":1}}',
    ],
    [
      'renames keys inside Mounts and their volume driver options, but not the option names',
      'container.create',
      '{"HostConfig":{"mounts":[{"type":"volume","volumeoptions":{"driverconfig":{"options":{"o":"bind","Device":"/"}}}}]}}',
      '{"HostConfig":{"Mounts":[{"Type":"volume","VolumeOptions":{"DriverConfig":{"Options":{"o":"bind","Device":"/"}}}}]}}',
    ],
    [
      'keeps unknown fields as they are (dockerd ignores them)',
      'container.create',
      '{"Image":"x","SomethingNew":{"a":1},"hostConfig":{"FutureField":true}}',
      '{"Image":"x","SomethingNew":{"a":1},"HostConfig":{"FutureField":true}}',
    ],
    [
      'keeps map keys exactly (labels are case-sensitive in Go maps)',
      'container.create',
      '{"labels":{"Team":"a","team":"b"}}',
      '{"Labels":{"Team":"a","team":"b"}}',
    ],
    [
      'turns a StrSlice given as a string into the array dockerd makes of it',
      'container.create',
      '{"HostConfig":{"CapAdd":"SYS_ADMIN"},"Cmd":"echo hi"}',
      '{"HostConfig":{"CapAdd":["SYS_ADMIN"]},"Cmd":["echo hi"]}',
    ],
    [
      'keeps number text exactly, beyond double precision',
      'container.create',
      '{"HostConfig":{"Memory":9007199254740993,"CpuPercent":1.50e2}}',
      '{"HostConfig":{"Memory":9007199254740993,"CpuPercent":1.50e2}}',
    ],
    [
      'keeps null for objects and fields (Go leaves the zero value)',
      'container.create',
      '{"Image":"x","HostConfig":null,"Cmd":null}',
      '{"Image":"x","HostConfig":null,"Cmd":null}',
    ],
    [
      'decodes \\u escapes in keys before resolving them',
      'container.create',
      '{"\\u0048ostConfig":{"\\u0050rivileged":true}}',
      '{"HostConfig":{"Privileged":true}}',
    ],
    [
      'canonicalizes an exec create body',
      'container.exec',
      '{"user":"root","privileged":true,"cmd":["id"]}',
      '{"User":"root","Privileged":true,"Cmd":["id"]}',
    ],
    [
      'canonicalizes a container update body (Resources at the top level)',
      'container.update',
      '{"devices":[],"restartpolicy":{"name":"always"}}',
      '{"Devices":[],"RestartPolicy":{"Name":"always"}}',
    ],
    [
      'canonicalizes the mounts of a service spec and keeps its other fields as sent',
      'service.create',
      '{"name":"s","tasktemplate":{"containerspec":{"image":"x","mounts":[{"type":"bind","source":"/"}]}},"mode":{"replicated":{}}}',
      '{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"x","Mounts":[{"Type":"bind","Source":"/"}]}},"Mode":{"replicated":{}}}',
    ],
    [
      'canonicalizes a volume create body',
      'volume.create',
      '{"name":"v","driveropts":{"o":"bind","device":"/"}}',
      '{"Name":"v","DriverOpts":{"o":"bind","device":"/"}}',
    ],
    [
      'canonicalizes the nested endpoint settings of NetworkingConfig',
      'container.create',
      '{"networkingconfig":{"endpointsconfig":{"net1":{"ipamconfig":{"ipv4address":"10.0.0.2"}}}}}',
      '{"NetworkingConfig":{"EndpointsConfig":{"net1":{"IPAMConfig":{"IPv4Address":"10.0.0.2"}}}}}',
    ],
    [
      'passes the body of an endpoint without a schema through, compacted',
      'service.create',
      '{ "Name" : "web" , "TaskTemplate" : { } }',
      '{"Name":"web","TaskTemplate":{}}',
    ],
  ];
  for (const [title, name, input, output] of cases) {
    it(title, () => assert.equal(canonical(name, input), output));
  }

  it('gives the policy the canonical value and says when the bytes changed', () => {
    const res = run('container.create', '{"image":"x"}');
    assert.ok(res.ok);
    assert.equal(res.changed, true);
    assert.deepEqual(JSON.parse(JSON.stringify(res.value)), { Image: 'x' });
    const same = run('container.create', '{"Image":"x"}');
    assert.ok(same.ok);
    assert.equal(same.changed, false);
  });

  it('keeps a "__proto__" key as plain data', () => {
    const res = run('container.create', '{"__proto__":{"Privileged":true},"Image":"x"}');
    assert.ok(res.ok);
    assert.equal((res.value as Record<string, unknown>)['Image'], 'x');
    assert.equal(Object.getPrototypeOf(res.value), null);
    assert.equal(res.bytes.toString(), '{"__proto__":{"Privileged":true},"Image":"x"}');
  });
});

describe('canonical body: refusals', () => {
  const cases: [string, string, string, RegExp][] = [
    [
      'an exact duplicate key at the top level',
      'container.create',
      '{"Image":"a","Image":"b"}',
      /"Image" twice/,
    ],
    [
      'keys that differ only by case',
      'container.create',
      '{"HostConfig":{},"hostconfig":{"Privileged":true}}',
      /"hostconfig" twice \(same field as "HostConfig"\)/,
    ],
    [
      'case-variant duplicates deep inside HostConfig',
      'container.create',
      '{"HostConfig":{"Privileged":false,"PRIVILEGED":true}}',
      /HostConfig has the key "PRIVILEGED" twice/,
    ],
    [
      'case-variant duplicates inside a Mounts item',
      'container.create',
      '{"HostConfig":{"Mounts":[{"Type":"volume","type":"bind","Source":"/"}]}}',
      /HostConfig.Mounts\[0\] has the key "type" twice/,
    ],
    [
      'an exact duplicate inside a map',
      'container.create',
      '{"Labels":{"a":"1","a":"2"}}',
      /Labels has the key "a" twice/,
    ],
    [
      'case-variant duplicates inside an unknown object',
      'container.create',
      '{"Future":{"Deep":{"x":1,"X":2}}}',
      /Future.Deep has the key "X" twice/,
    ],
    [
      'duplicates folded by Go beyond ASCII inside an unknown object (U+017F is "s")',
      'container.create',
      '{"Future":{"s":1,"\u017f":2}}',
      /twice/,
    ],
    [
      'a key with U+017F that Go folds onto HostConfig',
      'container.create',
      '{"Ho\u017ftConfig":{"Privileged":true}}',
      /non-ASCII/,
    ],
    [
      'a key with the Kelvin sign that Go folds onto NetworkMode',
      'container.create',
      '{"HostConfig":{"Networ\u212aMode":"host"}}',
      /non-ASCII/,
    ],
    [
      'a key with a dotless i that newer Go folds onto Privileged',
      'container.create',
      '{"HostConfig":{"Pr\u0131vileged":true}}',
      /non-ASCII/,
    ],
    [
      'Privileged at the top level (dockerd 20.10 applies it when HostConfig is absent)',
      'container.create',
      '{"Image":"x","Privileged":true}',
      /"Privileged" at the top level/,
    ],
    [
      'Binds at the top level next to a null HostConfig',
      'container.create',
      '{"Image":"x","HostConfig":null,"binds":["/:/h"]}',
      /"Binds" at the top level/,
    ],
    ['Devices at the top level', 'container.create', '{"Devices":[]}', /"Devices" at the top level/],
    [
      'Privileged given as a number',
      'container.create',
      '{"HostConfig":{"Privileged":1}}',
      /HostConfig.Privileged must be true or false, got the number 1/,
    ],
    [
      'Privileged given as a string',
      'container.create',
      '{"HostConfig":{"Privileged":"true"}}',
      /must be true or false/,
    ],
    [
      'exec Privileged given as a string',
      'container.exec',
      '{"Privileged":"yes"}',
      /Privileged must be true or false/,
    ],
    [
      'Binds given as a string',
      'container.create',
      '{"HostConfig":{"Binds":"/:/h"}}',
      /Binds must be an array of strings/,
    ],
    [
      'CapAdd holding a number',
      'container.create',
      '{"HostConfig":{"CapAdd":[1]}}',
      /CapAdd must be a string or an array of strings/,
    ],
    [
      'HostConfig given as an array',
      'container.create',
      '{"HostConfig":[]}',
      /HostConfig must be a JSON object/,
    ],
    [
      'a label value that is not a string',
      'container.create',
      '{"Labels":{"a":1}}',
      /Labels\["a"\] must be a string/,
    ],
    [
      'a top-level array for a create',
      'container.create',
      '[{"Image":"x"}]',
      /needs a JSON object body, got an array/,
    ],
    ['a top-level string for a create', 'container.exec', '"x"', /needs a JSON object body/],
    ['null for a create', 'volume.create', 'null', /needs a JSON object body, got null/],
    ['an empty create body', 'container.create', '', /needs a JSON object body/],
    [
      'a second JSON document after the first',
      'container.create',
      '{"Image":"x"} {"HostConfig":{}}',
      /unexpected data after the end of the JSON document/,
    ],
    ['a UTF-8 byte-order mark', 'container.create', '\ufeff{"Image":"x"}', /byte-order mark/],
    ['malformed JSON', 'container.create', '{"Image":"x",}', /not valid JSON/],
    ['whitespace only', 'container.create', '  \n', /not valid JSON: unexpected end of input/],
    [
      'a start body (host configuration below API 1.24)',
      'container.start',
      '{"Privileged":true}',
      /container.start takes no request body \(dockerd applies a start body/,
    ],
    [
      'a body on another endpoint that takes none',
      'container.kill',
      'signal=KILL',
      /container.kill takes no request body/,
    ],
  ];
  for (const [title, name, input, reason] of cases) {
    it(`refuses ${title} with 400`, () => {
      const res = refusal(name, input);
      assert.equal(res.status, 400);
      assert.equal(res.code, 'DW_E_BAD_REQUEST');
      assert.match(res.reason, reason);
    });
  }

  it('refuses invalid UTF-8 with 400', () => {
    const res = refusal('container.create', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]));
    assert.match(res.reason, /not valid UTF-8/);
  });

  it('refuses a body over the limit with 413, before parsing it', () => {
    const body = `{"Labels":{"pad":"${'a'.repeat(DEFAULT_BODY_LIMIT)}"},"HostConfig":{"Privileged":true}}`;
    const res = refusal('container.create', body);
    assert.equal(res.status, 413);
    assert.equal(res.code, 'DW_E_BODY_TOO_LARGE');
    assert.match(res.reason, /over the 4194304-byte limit/);
  });

  it('accepts a body exactly at a custom limit and refuses one byte more', () => {
    const body = '{"Image":"x"}';
    assert.ok(run('container.create', body, JSON_CT, body.length).ok);
    assert.equal(refusal('container.create', `${body} `, JSON_CT, body.length).status, 413);
  });

  it('refuses nesting deeper than the JSON cost limit (32 by default) before parsing', () => {
    const deep = `{"Future":${'['.repeat(120)}${']'.repeat(120)}}`;
    const res = refusal('container.create', deep);
    assert.equal(res.status, 413);
    assert.equal(res.code, 'DW_E_JSON_TOO_COMPLEX');
    assert.match(res.reason, /nests deeper than 32 levels \(--json-max-depth\)/);
  });

  it('refuses a body of more keys than the JSON cost limit, fast', () => {
    const keys: string[] = [];
    for (let i = 0; i < 424_000; i++) keys.push(`"k${i}":""`);
    const body = `{"Image":"x","Labels":{${keys.join(',')}}}`;
    const started = performance.now();
    const res = refusal('container.create', body, JSON_CT, 8 * 1024 * 1024);
    assert.ok(performance.now() - started < 500, 'refused before parsing');
    assert.equal(res.code, 'DW_E_JSON_TOO_COMPLEX');
    assert.match(res.reason, /more than 5000 keys and array items \(--json-max-keys\)/);
  });
});

describe('canonical body: content type', () => {
  const accepted = [
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset=UTF-8',
    'application/json; charset="utf-8"',
    'application/json; charset=utf8',
    'application/json;',
  ];
  for (const ct of accepted) {
    it(`accepts "${ct}"`, () => assert.equal(checkContentType(ct), undefined));
  }
  const refused: [string | undefined, RegExp][] = [
    [undefined, /no Content-Type/],
    ['', /no Content-Type/],
    ['text/plain', /must be application\/json/],
    ['application/json-patch+json', /must be application\/json/],
    ['application/x-www-form-urlencoded', /must be application\/json/],
    ['application/json; charset=latin1', /charset "latin1" is not supported/],
    ['application/json; charset=utf-16', /charset "utf-16" is not supported/],
    ['application/json; charset', /malformed parameter/],
  ];
  for (const [ct, reason] of refused) {
    it(`refuses a body sent with ${ct === undefined ? 'no Content-Type' : `"${ct}"`}`, () => {
      const res = canonicalBody(endpoint('container.create'), Buffer.from('{"Image":"x"}'), ct);
      assert.ok(!res.ok);
      assert.equal(res.status, 400);
      assert.match(res.reason, reason);
    });
  }

  it('accepts an empty body with no Content-Type where dockerd does (a commit with no config)', () => {
    const res = canonicalBody(endpoint('image.commit'), Buffer.alloc(0), undefined);
    assert.ok(res.ok);
    assert.equal(res.bytes.length, 0);
    assert.equal(res.value, undefined);
  });

  it('turns the empty object some clients send to container start into no body', () => {
    for (const body of ['{}', ' { } ', 'null']) {
      const res = canonicalBody(endpoint('container.start'), Buffer.from(body), undefined);
      assert.ok(res.ok);
      assert.equal(res.bytes.length, 0);
      assert.equal(res.changed, true);
    }
  });

  it('passes a tar body through untouched', () => {
    const tar = Buffer.from([0, 1, 2, 3]);
    const res = canonicalBody(endpoint('build'), tar, 'application/x-tar');
    assert.ok(res.ok);
    assert.equal(res.bytes.equals(tar), true);
    assert.equal(res.changed, false);
  });
});

describe('foldKey', () => {
  const same: [string, string][] = [
    ['HostConfig', 'hostconfig'],
    ['HostConfig', 'Ho\u017ftConfig'],
    ['NetworkMode', 'Networ\u212aMode'],
    ['Privileged', 'Pr\u0131vileged'],
    ['Image', '\u0130mage'],
    ['\u00e9t\u00e9', '\u00c9T\u00c9'],
  ];
  for (const [a, b] of same) it(`folds "${b}" like "${a}"`, () => assert.equal(foldKey(a), foldKey(b)));
  it('keeps keys apart that Go keeps apart', () => {
    assert.notEqual(foldKey('Cap_Add'), foldKey('CapAdd'));
    assert.notEqual(foldKey('\u00df'), foldKey('SS'));
  });
});
