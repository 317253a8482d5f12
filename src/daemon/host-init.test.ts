import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connectInstructions,
  defaultSans,
  externalAddresses,
  parseListen,
  serverNameFor,
} from './host-init.js';

describe('init defaults', () => {
  it('puts the host name, its addresses (not link-local IPv6) and 127.0.0.1 in the server SANs', () => {
    const interfaces = {
      lo: [
        { address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '', cidr: null },
      ],
      eth0: [
        {
          address: '192.0.2.10',
          family: 'IPv4',
          internal: false,
          netmask: '255.255.255.0',
          mac: '',
          cidr: null,
        },
        {
          address: 'fe80::1',
          family: 'IPv6',
          internal: false,
          netmask: 'ffff:ffff:ffff:ffff::',
          mac: '',
          cidr: null,
          scopeid: 2,
        },
        {
          address: '2001:db8::10',
          family: 'IPv6',
          internal: false,
          netmask: 'ffff:ffff:ffff:ffff::',
          mac: '',
          cidr: null,
          scopeid: 0,
        },
      ],
    } as unknown as Parameters<typeof defaultSans>[1];
    assert.deepEqual(defaultSans('Docker-1.example.com', interfaces), [
      'DNS:docker-1.example.com',
      'IP:127.0.0.1',
      'IP:192.0.2.10',
      'IP:2001:db8::10',
    ]);
  });

  it('leaves out a host name that is not a DNS name', () => {
    assert.deepEqual(defaultSans('bad_name!', {}), ['IP:127.0.0.1']);
  });

  it('parses --listen as an IP and port, and refuses names and bad ports', () => {
    assert.deepEqual(parseListen('0.0.0.0:2376'), { address: '0.0.0.0', port: 2376 });
    assert.deepEqual(parseListen('[::]:2376'), { address: '::', port: 2376 });
    assert.throws(() => parseListen('example.com:2376'), { code: 'DW_E_USAGE' });
    assert.throws(() => parseListen('127.0.0.1:99999'), { code: 'DW_E_USAGE' });
    assert.throws(() => parseListen('127.0.0.1'), { code: 'DW_E_USAGE' });
  });

  it('names the server certificate after the host, or dockerd when the name cannot be a PKI name', () => {
    assert.equal(serverNameFor('Web-1.Example.com'), 'web-1.example.com');
    assert.equal(serverNameFor('-'), 'dockerd');
  });

  it('tells clients to dial the DNS name, with env lines and a docker context command', () => {
    const c = connectInstructions(
      ['DNS:web-1', 'IP:127.0.0.1', 'IP:192.0.2.10'],
      2376,
      '/h/pki/issued/web-1-admin',
      'web-1',
    );
    assert.equal(c.host, 'tcp://web-1:2376');
    assert.deepEqual(c.env, [
      'export DOCKER_HOST=tcp://web-1:2376',
      'export DOCKER_TLS_VERIFY=1',
      'export DOCKER_CERT_PATH=/h/pki/issued/web-1-admin',
    ]);
    assert.equal(
      c.context,
      'docker context create web-1 --docker "host=tcp://web-1:2376,ca=/h/pki/issued/web-1-admin/ca.pem,cert=/h/pki/issued/web-1-admin/cert.pem,key=/h/pki/issued/web-1-admin/key.pem"',
    );
  });

  it('falls back to a non-loopback address, bracketed when IPv6', () => {
    assert.equal(
      connectInstructions(['IP:127.0.0.1', 'IP:2001:db8::10'], 2376, '/d', 'x').host,
      'tcp://[2001:db8::10]:2376',
    );
  });
});

describe('the addresses init checks the served certificate on', () => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '', cidr: null }],
    eth0: [
      {
        address: '198.18.0.11',
        family: 'IPv4',
        internal: false,
        netmask: '255.255.255.0',
        mac: '',
        cidr: null,
      },
      {
        address: 'fd00:d0c:1::11',
        family: 'IPv6',
        internal: false,
        netmask: 'ffff::',
        mac: '',
        cidr: null,
        scopeid: 0,
      },
      {
        address: 'fe80::1',
        family: 'IPv6',
        internal: false,
        netmask: 'ffff::',
        mac: '',
        cidr: null,
        scopeid: 2,
      },
    ],
  } as unknown as Parameters<typeof externalAddresses>[2];
  const sans = ['DNS:h1', 'IP:127.0.0.1', 'IP:198.18.0.11', 'IP:fd00:d0c:1::11', 'IP:198.18.0.99'];

  it("are this host's own non-loopback addresses in the certificate (IPv4 only for 0.0.0.0)", () => {
    assert.deepEqual(externalAddresses(sans, { address: '0.0.0.0' }, interfaces), ['198.18.0.11']);
    assert.deepEqual(externalAddresses(sans, { address: '::' }, interfaces), [
      '198.18.0.11',
      'fd00:d0c:1::11',
    ]);
  });

  it('is only the listen address when dockerd binds one', () => {
    assert.deepEqual(externalAddresses(sans, { address: 'fd00:d0c:1::11' }, interfaces), ['fd00:d0c:1::11']);
    assert.deepEqual(externalAddresses(sans, { address: '127.0.0.1' }, interfaces), []);
  });
});
