import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseListenStream } from '../rules/rule-support.js';
import { parseGetfacl } from './fs-acl.js';
import { groupMembers, parseGroup, parsePasswd } from './fs-identity.js';

describe('parseGetfacl', () => {
  it('keeps named entries with their effective permissions, per file', () => {
    const out = parseGetfacl(
      [
        '# file: /var/run/docker.sock',
        '# owner: root',
        '# group: docker',
        'user::rw-',
        'user:bob:rwx\t#effective:rw-',
        'group::rw-',
        'group:ops:r--',
        'mask::rw-',
        'other::---',
        '',
        '# file: /etc/docker',
        'user::rwx',
        'group::r-x',
        'other::r-x',
        '',
      ].join('\n'),
    );
    assert.deepEqual(out.get('/var/run/docker.sock'), ['user:bob:rw-', 'group:ops:r--']);
    assert.deepEqual(out.get('/etc/docker'), []);
  });
});

describe('passwd and group', () => {
  it('counts listed members and users whose primary group it is', () => {
    const users = parsePasswd('root:x:0:0::/root:/bin/sh\nbob:x:1001:999::/home/bob:/bin/sh\nbroken line\n');
    const groups = parseGroup('docker:x:999:alice, carol\n');
    const ids = { users, groups, userName: () => undefined, groupName: () => undefined };
    assert.deepEqual(groupMembers(ids, groups[0]!), ['alice', 'bob', 'carol']);
    assert.equal(users.length, 2);
  });
});

describe('parseListenStream', () => {
  it('reads ports, addresses and unix paths as systemd does', () => {
    assert.deepEqual(parseListenStream('2375'), { address: '', port: 2375 });
    assert.deepEqual(parseListenStream('127.0.0.1:2375'), { address: '127.0.0.1', port: 2375 });
    assert.deepEqual(parseListenStream('[::1]:2376'), { address: '::1', port: 2376 });
    assert.equal(parseListenStream('/run/docker.sock'), undefined);
    assert.equal(parseListenStream('@abstract'), undefined);
  });
});
