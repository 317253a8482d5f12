import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RawEvent } from '../model.js';
import { createEngine } from './engine.js';
import { loadRuleSet } from './rules.js';
import {
  at,
  connectionRecord,
  createEvent,
  DOCKER_EVENTS,
  execEvent,
  inspectOf,
  OLIVIA,
  ORIGIN,
  requestRecord,
  variantOf,
} from './test-support.js';

const RULES = loadRuleSet({});

/** The rule names the events raise, in order, through one fresh engine. */
function fired(events: RawEvent[]): string[] {
  const engine = createEngine(RULES, { hostname: 'test-host', uuid: () => 'u' });
  return events.flatMap((e) => engine.evaluate(e).map((a) => a.rule));
}

function count(names: string[], rule: string): number {
  return names.filter((n) => n === rule).length;
}

const bind = (source: string) => variantOf({ hostConfig: { Binds: [`${source}:/mnt`] } });

describe('default monitor rules', () => {
  it('load and compile, all enabled', () => {
    assert.equal(RULES.rules.length, 12);
    assert.ok(RULES.rules.every((r) => r.enabled));
  });

  it('raise nothing for a plain container created, started, exec-ed as a user and removed', () => {
    const events: RawEvent[] = [
      createEvent('benign'),
      { source: 'docker', origin: ORIGIN, event: DOCKER_EVENTS[5]!, container: inspectOf('benign') },
      execEvent('benign', { entrypoint: 'id', user: '1000' }),
      { source: 'docker', origin: ORIGIN, event: DOCKER_EVENTS[45]! },
    ];
    assert.deepEqual(fired(events), []);
  });

  describe('Privileged container', () => {
    it('fires once for a --privileged container and not for a plain one', () => {
      const rule = 'Privileged container';
      assert.equal(count(fired([createEvent('priv')]), rule), 1);
      assert.equal(count(fired([createEvent('benign')]), rule), 0);
    });

    it('does not fire again for the start of the same container', () => {
      const start = { ...DOCKER_EVENTS[0]!, status: 'start', Action: 'start' };
      const names = fired([
        createEvent('priv'),
        { source: 'docker', origin: ORIGIN, event: start, container: inspectOf('priv') },
      ]);
      assert.equal(count(names, 'Privileged container'), 1);
    });
  });

  describe('Sensitive host mount', () => {
    const rule = 'Sensitive host mount';
    for (const source of [
      '/var/run/docker.sock',
      '/run/containerd/containerd.sock',
      '/',
      '/etc',
      '/etc/ssl',
      '/root',
      '/proc',
      '/var/lib/docker',
      '/srv/x/docker.sock',
    ]) {
      it(`fires for a bind mount of ${source}`, () => {
        assert.equal(count(fired([createEvent('benign', bind(source))]), rule), 1);
      });
    }

    it('fires for a --mount type=bind seen only in HostConfig.Mounts', () => {
      const c = variantOf({ hostConfig: { Mounts: [{ Type: 'bind', Source: '/etc', Target: '/x' }] } });
      assert.equal(count(fired([createEvent('benign', c)]), rule), 1);
    });

    it('fires once for the captured container with docker.sock and /etc mounted', () => {
      assert.equal(count(fired([createEvent('priv')]), rule), 1);
    });

    for (const source of ['/srv/data', '/etcetera', '/home/me/etc', '/tmp']) {
      it(`does not fire for a bind mount of ${source}`, () => {
        assert.equal(count(fired([createEvent('benign', bind(source))]), rule), 0);
      });
    }

    it('does not fire for a named volume', () => {
      const c = variantOf({
        hostConfig: { Binds: ['data:/data'] },
        mounts: [
          {
            Type: 'volume',
            Name: 'data',
            Source: '/var/lib/docker/volumes/data/_data',
            Destination: '/data',
          },
        ],
      });
      assert.equal(count(fired([createEvent('benign', c)]), rule), 0);
    });
  });

  describe('Host namespace shared', () => {
    const rule = 'Host namespace shared';
    for (const [key, label] of [
      ['NetworkMode', 'network'],
      ['PidMode', 'pid'],
      ['IpcMode', 'ipc'],
    ] as const) {
      it(`fires for the host ${label} namespace`, () => {
        assert.equal(
          count(fired([createEvent('benign', variantOf({ hostConfig: { [key]: 'host' } }))]), rule),
          1,
        );
      });
    }

    it('fires once when all three are shared', () => {
      assert.equal(count(fired([createEvent('priv')]), rule), 1);
    });

    it('does not fire for the default, none or another container namespace', () => {
      const c = variantOf({
        hostConfig: { NetworkMode: 'none', PidMode: 'container:abc', IpcMode: 'shareable' },
      });
      assert.equal(count(fired([createEvent('benign'), createEvent('benign', c)]), rule), 0);
    });
  });

  describe('Dangerous capability added', () => {
    const rule = 'Dangerous capability added';
    for (const cap of [
      'CAP_SYS_ADMIN',
      'SYS_MODULE',
      'sys_ptrace',
      'NET_ADMIN',
      'BPF',
      'DAC_READ_SEARCH',
      'SYS_RAWIO',
      'ALL',
    ]) {
      it(`fires for --cap-add ${cap}`, () => {
        assert.equal(
          count(fired([createEvent('benign', variantOf({ hostConfig: { CapAdd: [cap] } }))]), rule),
          1,
        );
      });
    }

    it('does not fire for a harmless capability', () => {
      const c = variantOf({ hostConfig: { CapAdd: ['CAP_NET_BIND_SERVICE', 'CHOWN'] } });
      assert.equal(count(fired([createEvent('benign', c)]), rule), 0);
    });
  });

  describe('Terminal shell in container', () => {
    const rule = 'Terminal shell in container';
    for (const [entrypoint, args] of [
      ['sh', []],
      ['/bin/bash', ['-l']],
      ['ash', []],
      ['zsh', []],
      ['dash', []],
      ['busybox', ['sh']],
      ['/bin/busybox', ['ash', '-c', 'id']],
    ] as const) {
      it(`fires for docker exec -it ${[entrypoint, ...args].join(' ')}`, () => {
        const e = execEvent('benign', { entrypoint, arguments: [...args], tty: true });
        assert.equal(count(fired([e]), rule), 1);
      });
    }

    it('does not fire for a shell without a tty, or for another program with one', () => {
      const noTty = execEvent('benign', { entrypoint: 'sh', arguments: ['-c', 'true'] });
      const top = execEvent('benign', { entrypoint: 'top', tty: true });
      assert.equal(count(fired([noTty, top]), rule), 0);
    });

    it('fires on exec_start only, not also on exec_create', () => {
      const start = execEvent('benign', { entrypoint: 'sh', tty: true });
      const create: RawEvent = {
        ...(start as Extract<RawEvent, { event: unknown }>),
        event: { ...(start as Extract<RawEvent, { event: unknown }>).event, Action: 'exec_create: sh' },
      };
      assert.equal(count(fired([create, start]), rule), 1);
    });
  });

  describe('Exec as root or privileged', () => {
    const rule = 'Exec as root or privileged';
    it('fires for an exec without -u in a container without a user', () => {
      assert.equal(count(fired([execEvent('benign', { entrypoint: 'id' })]), rule), 1);
    });

    for (const user of ['root', '0', '0:0', 'root:wheel']) {
      it(`fires for docker exec -u ${user}`, () => {
        assert.equal(count(fired([execEvent('benign', { entrypoint: 'id', user })]), rule), 1);
      });
    }

    it('fires for docker exec --privileged as a user', () => {
      assert.equal(
        count(fired([execEvent('benign', { entrypoint: 'id', user: '1000', privileged: true })]), rule),
        1,
      );
    });

    it('does not fire for docker exec -u 1000', () => {
      assert.equal(count(fired([execEvent('benign', { entrypoint: 'id', user: '1000' })]), rule), 0);
    });

    it('does not fire for a health check exec, whose command is the container health check', () => {
      const health = execEvent('hc', { entrypoint: '/bin/sh', arguments: ['-c', 'true'] });
      assert.deepEqual(fired([health]), []);
    });

    it('does fire for the same command in a container whose health check differs', () => {
      assert.equal(
        count(fired([execEvent('benign', { entrypoint: '/bin/sh', arguments: ['-c', 'true'] })]), rule),
        1,
      );
    });
  });

  describe('Image from untrusted registry', () => {
    const rule = 'Image from untrusted registry';
    it('fires for evil.example.com/x:1 and not for testbox:latest (docker.io)', () => {
      assert.equal(count(fired([createEvent('evil')]), rule), 1);
      assert.equal(count(fired([createEvent('benign')]), rule), 0);
    });

    it('reads the registry from the event when the inspect is missing', () => {
      const raw = createEvent('evil') as Extract<RawEvent, { event: unknown }>;
      const { container: _dropped, ...bare } = raw;
      assert.equal(count(fired([bare]), rule), 1);
    });
  });

  describe('Burst of policy denials', () => {
    const rule = 'Burst of policy denials';
    const deny = (s: number, cn = 'olivia') =>
      requestRecord({
        time: at(s),
        decision: 'deny',
        rule: 'operator/no-privileged',
        identity: { ...OLIVIA, cn },
      });

    it('fires once for five denials of one identity within a minute', () => {
      assert.equal(count(fired([0, 5, 10, 15, 20].map((s) => deny(s))), rule), 1);
    });

    it('does not fire for four denials, for denials spread out, or spread over identities', () => {
      assert.equal(count(fired([0, 5, 10, 15].map((s) => deny(s))), rule), 0);
      assert.equal(count(fired([0, 40, 80, 120, 160].map((s) => deny(s))), rule), 0);
      assert.equal(count(fired(['a', 'b', 'c', 'd', 'e'].map((cn, i) => deny(i, cn))), rule), 0);
    });

    it('does not count allowed requests', () => {
      const allowed = [0, 1, 2, 3, 4].map((s) => requestRecord({ time: at(s) }));
      assert.equal(count(fired(allowed), rule), 0);
    });
  });

  describe('Connection scanning', () => {
    const rule = 'Connection scanning';
    const failed = (s: number, address = '127.0.0.9') =>
      connectionRecord({
        time: at(s),
        event: s % 2 === 0 ? 'handshake-failed' : 'denied-address',
        client: { address, port: 50000 + s },
        reason: 'untrusted: certificate is not signed by the gateway CA (untrusted)',
      });

    it('fires once for five refused connections from one address within a minute', () => {
      assert.equal(count(fired([0, 1, 2, 3, 4, 5, 6].map((s) => failed(s))), rule), 1);
    });

    it('does not fire for accepted connections, or refusals from different addresses', () => {
      const ok = [0, 1, 2, 3, 4].map((s) => connectionRecord({ time: at(s), identity: OLIVIA }));
      const spread = [1, 2, 3, 4, 5].map((n) => failed(n, `127.0.0.${n}`));
      assert.equal(count(fired([...ok, ...spread]), rule), 0);
    });
  });

  describe('Identity from new address', () => {
    const rule = 'Identity from new address';
    const accepted = (address: string, cn = 'olivia') =>
      connectionRecord({ identity: { ...OLIVIA, cn }, client: { address, port: 41000 } });

    it('learns the first address silently and fires once for a second one', () => {
      const names = fired([
        accepted('127.0.0.1'),
        accepted('127.0.0.1'),
        accepted('127.0.0.2'),
        accepted('127.0.0.2'),
      ]);
      assert.equal(count(names, rule), 1);
    });

    it('does not fire for the same address again, or for another identity first seen', () => {
      assert.equal(
        count(fired([accepted('127.0.0.1'), accepted('127.0.0.1'), accepted('127.0.0.2', 'bob')]), rule),
        0,
      );
    });
  });

  describe('Revoked certificate used', () => {
    const rule = 'Revoked certificate used';
    it('fires for a handshake refused because the certificate is revoked (both gateway paths)', () => {
      const crl = connectionRecord({
        event: 'handshake-failed',
        reason: 'revoked: certificate revoked (CERT_REVOKED)',
      });
      const list = connectionRecord({
        event: 'handshake-failed',
        client: { address: '127.0.0.3', port: 1 },
        identity: OLIVIA,
        reason: 'revoked: certificate revoked (CERT_REVOKED)',
      });
      assert.equal(count(fired([crl]), rule), 1);
      assert.equal(count(fired([list]), rule), 1);
    });

    it('fires once for a client retrying with the same certificate', () => {
      const again = () =>
        connectionRecord({
          event: 'handshake-failed',
          identity: OLIVIA,
          reason: 'revoked: certificate revoked (CERT_REVOKED)',
        });
      assert.equal(count(fired([again(), again(), again()]), rule), 1);
    });

    it('does not fire for a valid certificate or an expired one', () => {
      const valid = connectionRecord({ identity: OLIVIA });
      const expired = connectionRecord({
        event: 'handshake-failed',
        reason: 'expired: certificate has expired (CERT_HAS_EXPIRED)',
      });
      assert.equal(count(fired([valid, expired]), rule), 0);
    });
  });

  describe('Daemon configuration reloaded', () => {
    it('fires for the daemon reload event dockerd sends on SIGHUP, and not for other daemon-free events', () => {
      const reload = DOCKER_EVENTS.find((m) => m.Type === 'daemon')!;
      assert.deepEqual(fired([{ source: 'docker', origin: ORIGIN, event: reload }]), [
        'Daemon configuration reloaded',
      ]);
      assert.deepEqual(fired([{ source: 'docker', origin: ORIGIN, lifecycle: 'connected' }]), []);
    });
  });

  it('replaying the whole captured dockerd session raises each container rule once', () => {
    const inspects: Record<string, Record<string, unknown>> = {
      priv: inspectOf('priv'),
      benign: inspectOf('benign'),
      evil: inspectOf('evil'),
      hc: inspectOf('hc'),
    };
    const events: RawEvent[] = DOCKER_EVENTS.map((event) => {
      const name = event.Actor.Attributes?.name ?? '';
      const container = inspects[name];
      return container
        ? { source: 'docker', origin: ORIGIN, event, container }
        : { source: 'docker', origin: ORIGIN, event };
    });
    assert.deepEqual(fired(events).sort(), [
      'Daemon configuration reloaded',
      'Dangerous capability added',
      'Host namespace shared',
      'Image from untrusted registry',
      'Privileged container',
      'Sensitive host mount',
    ]);
  });
});
