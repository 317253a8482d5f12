import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  type CheckFs,
  checkConfig,
  checkFiles,
  countPemCertificates,
  remapIdentity,
  runChecks,
} from './checks.js';
import { parseDockerdArgs } from './cmdline.js';
import { mergeEffectiveConfig } from './effective-config.js';
import type { DaemonConfig } from './keys.js';

const effective = (config: DaemonConfig, line?: string) =>
  mergeEffectiveConfig({
    file: { path: '/etc/docker/daemon.json', config },
    ...(line ? { flags: { where: 'unit', parsed: parseDockerdArgs(['dockerd', ...line.split(' ')]) } } : {}),
  });
const codes = (config: DaemonConfig, options = {}, line?: string) =>
  checkConfig(effective(config, line), options).map((f) => `${f.severity}:${f.code}`);

/** An in-memory file reader; an Error value is thrown as that read's failure. */
function memoryFs(files: Record<string, string | NodeJS.ErrnoException>): CheckFs {
  return {
    async readFile(path: string): Promise<string> {
      const entry = files[path];
      if (entry === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      if (entry instanceof Error) throw entry;
      return entry;
    },
  };
}

// The checks only count PEM armour lines, so placeholder bodies are enough for the CA files.
const pemCert = (n: number): string =>
  Array.from(
    { length: n },
    (_, i) => `-----BEGIN CERTIFICATE-----\nMIIB${i}\n-----END CERTIFICATE-----\n`,
  ).join('');
const realKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const encryptedKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' })
  .toString();

const TLS: DaemonConfig = {
  hosts: ['unix:///var/run/docker.sock', 'tcp://0.0.0.0:2376'],
  tlsverify: true,
  tlscacert: '/etc/docker/tls/ca.pem',
  tlscert: '/etc/docker/tls/cert.pem',
  tlskey: '/etc/docker/tls/key.pem',
};

describe('checkConfig', () => {
  it('refuses icc false with iptables false, which stops dockerd', () => {
    assert.deepEqual(codes({ icc: false, iptables: false }), ['error:icc-needs-iptables']);
    assert.deepEqual(codes({ icc: false }), []);
    assert.deepEqual(codes({ icc: false }, {}, '--iptables=false'), ['error:icc-needs-iptables']);
  });

  it('needs ip6tables for icc false when IPv6 is on', () => {
    assert.deepEqual(codes({ icc: false, ipv6: true, ip6tables: false }), ['error:icc-needs-ip6tables']);
    assert.deepEqual(codes({ icc: false, ipv6: true }), []);
  });

  it('refuses bridge together with bip', () => {
    assert.deepEqual(codes({ bridge: 'br0', bip: '172.20.0.1/16' }), ['error:bridge-bip-conflict']);
  });

  it('warns about live-restore, and refuses it when the node is in an active swarm', () => {
    assert.deepEqual(codes({ 'live-restore': true }), ['warning:live-restore-swarm']);
    assert.deepEqual(codes({ 'live-restore': true }, { swarmActive: true }), ['error:live-restore-swarm']);
  });

  it('refuses a tcp listener without TLS unless the override is given', () => {
    assert.deepEqual(codes({ hosts: ['tcp://0.0.0.0:2375'] }), ['error:tcp-without-tls']);
    assert.deepEqual(codes({ hosts: ['tcp://0.0.0.0:2375'] }, { allowInsecureTcp: true }), [
      'warning:tcp-without-tls',
    ]);
    // A bare host:port is tcp too.
    assert.deepEqual(codes({}, {}, '-H 127.0.0.1:2375'), ['error:tcp-without-tls']);
  });

  it('accepts tls: true alone on tcp, since it implies verification', () => {
    const withTls = { ...TLS, tlsverify: undefined, tls: true } as DaemonConfig;
    assert.deepEqual(codes(withTls), []);
  });

  it('refuses TLS with tlsverify: false on tcp: any client gets in without a certificate', () => {
    assert.deepEqual(codes({ ...TLS, tlsverify: false }), ['error:tcp-tls-without-verify']);
  });

  it('accepts the remote-tls shape: tcp with tlsverify and explicit files', () => {
    assert.deepEqual(codes(TLS), []);
  });

  it('warns when TLS is on but the certificate paths fall back to ~/.docker', () => {
    assert.deepEqual(codes({ hosts: ['tcp://0.0.0.0:2376'], tlsverify: true }), [
      'warning:tls-default-path',
      'warning:tls-default-path',
      'warning:tls-default-path',
    ]);
  });

  it('refuses the system trust bundle as tlscacert', () => {
    assert.deepEqual(codes({ ...TLS, tlscacert: '/etc/ssl/certs/ca-certificates.crt' }), [
      'error:tlscacert-system-bundle',
    ]);
    assert.deepEqual(codes({ ...TLS, tlscacert: '/etc/pki/tls/certs/ca-bundle.crt' }), [
      'error:tlscacert-system-bundle',
    ]);
  });

  it('reports hosts in the file with -H on the command line', () => {
    const findings = checkConfig(effective({ hosts: ['unix:///var/run/docker.sock'] }, '-H fd://'));
    assert.equal(findings[0]?.code, 'hosts-conflict');
    assert.match(findings[0]?.hint ?? '', /drop-in/);
  });

  it('warns that userns-remap moves images under the remapped root', () => {
    const [finding] = checkConfig(effective({ 'userns-remap': 'default' }));
    assert.equal(finding?.code, 'userns-remap-storage');
    assert.match(finding?.message ?? '', /<data-root>\/<uid>\.<gid>/);
  });
});

describe('checkFiles', () => {
  const goodFiles = {
    '/etc/docker/tls/ca.pem': pemCert(1),
    '/etc/docker/tls/cert.pem': pemCert(2),
    '/etc/docker/tls/key.pem': realKey,
  };

  it('finds nothing wrong with present, readable, unencrypted TLS files', async () => {
    assert.deepEqual(await checkFiles(effective(TLS), memoryFs(goodFiles)), []);
  });

  it('reports a missing TLS file as an error and an unreadable one as unchecked', async () => {
    const denied = Object.assign(new Error('EACCES'), { code: 'EACCES' });
    const findings = await checkFiles(
      effective(TLS),
      memoryFs({ '/etc/docker/tls/ca.pem': pemCert(1), '/etc/docker/tls/key.pem': denied }),
    );
    assert.deepEqual(
      findings.map((f) => `${f.severity}:${f.code}:${f.key}`),
      ['error:tls-file-missing:tlscert', 'warning:tls-file-unreadable:tlskey'],
    );
  });

  it('refuses an encrypted private key, which dockerd cannot use', async () => {
    const findings = await checkFiles(
      effective(TLS),
      memoryFs({ ...goodFiles, '/etc/docker/tls/key.pem': encryptedKey }),
    );
    assert.deepEqual(
      findings.map((f) => f.code),
      ['tls-key-encrypted'],
    );
  });

  it('recognises a trust bundle by its content, whatever its path', async () => {
    const findings = await checkFiles(
      effective(TLS),
      memoryFs({ ...goodFiles, '/etc/docker/tls/ca.pem': pemCert(140) }),
    );
    assert.equal(findings[0]?.code, 'tlscacert-system-bundle');
    assert.match(findings[0]?.message ?? '', /140 certificates/);
    const fewer = await checkFiles(
      effective(TLS),
      memoryFs({ ...goodFiles, '/etc/docker/tls/ca.pem': pemCert(3) }),
      {
        maxCaCertificates: 2,
      },
    );
    assert.equal(fewer[0]?.code, 'tlscacert-system-bundle');
  });

  it('refuses files that hold no PEM data', async () => {
    const findings = await checkFiles(
      effective(TLS),
      memoryFs({ ...goodFiles, '/etc/docker/tls/cert.pem': 'hello' }),
    );
    assert.deepEqual(
      findings.map((f) => `${f.code}:${f.key}`),
      ['tls-file-invalid:tlscert'],
    );
  });

  it('needs subuid and subgid ranges for a named remap user', async () => {
    const config = { 'userns-remap': 'builder:builders' };
    const missing = await checkFiles(
      effective(config),
      memoryFs({ '/etc/subuid': 'alice:100000:65536\n', '/etc/subgid': '' }),
    );
    assert.deepEqual(
      missing.map((f) => `${f.severity}:${f.code}`),
      ['error:userns-remap-subids', 'error:userns-remap-subids'],
    );
    const present = await checkFiles(
      effective(config),
      memoryFs({ '/etc/subuid': 'builder:200000:65536\n', '/etc/subgid': 'builders:200000:65536\n' }),
    );
    assert.deepEqual(present, []);
  });

  it('only warns for userns-remap default, since dockerd creates dockremap and its ranges', async () => {
    const findings = await checkFiles(effective({ 'userns-remap': 'default' }), memoryFs({}));
    assert.deepEqual(
      findings.map((f) => `${f.severity}:${f.code}`),
      ['warning:userns-remap-subids', 'warning:userns-remap-subids'],
    );
    assert.deepEqual(remapIdentity('default'), { user: 'dockremap', group: 'dockremap', isDefault: true });
  });

  it('runs the pure and the file checks together', async () => {
    const findings = await runChecks(effective({ ...TLS, icc: false, iptables: false }), {
      fs: memoryFs(goodFiles),
    });
    assert.deepEqual(
      findings.map((f) => f.code),
      ['icc-needs-iptables'],
    );
  });

  it('counts certificates in a PEM bundle', () => {
    assert.equal(countPemCertificates(pemCert(4)), 4);
    assert.equal(countPemCertificates(realKey), 0);
  });
});
