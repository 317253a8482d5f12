import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { remoteTempDir, shellQuote, sshAddress, sshArgs, sshFailure } from './provision.js';

describe('hosts provision over the system ssh', () => {
  it('always checks the host key against known_hosts and never prompts', () => {
    const args = sshArgs(
      { target: 'root@198.18.0.11', knownHosts: '/tmp/kh', identity: '/tmp/id', port: 2222 },
      'true',
    );
    const opts = args.join(' ');
    assert.match(opts, /-o BatchMode=yes/);
    assert.match(opts, /-o StrictHostKeyChecking=yes/);
    assert.match(opts, /-o UserKnownHostsFile=\/tmp\/kh/);
    assert.doesNotMatch(opts, /StrictHostKeyChecking=(no|accept-new)/);
    assert.deepEqual(args.slice(-3), ['root@198.18.0.11', '--', 'true']);
    assert.ok(args.includes('-p') && args.includes('2222'));
  });

  it('reads the address of user@host, user@[v6] and a bare host, and refuses a malformed one', () => {
    assert.equal(sshAddress('root@198.18.0.11'), '198.18.0.11');
    assert.equal(sshAddress('root@[fd00:d0c:1::11]'), 'fd00:d0c:1::11');
    assert.equal(sshAddress('web-1.example.com'), 'web-1.example.com');
    assert.throws(() => sshAddress('root@'), /DW_E_USAGE|not USER@HOST/);
  });

  it('quotes words for the remote shell', () => {
    assert.equal(shellQuote('IP:198.18.0.11'), 'IP:198.18.0.11');
    assert.equal(shellQuote("it's; rm -rf /"), `'it'\\''s; rm -rf /'`);
  });

  it('names an unknown host key with the ssh-keyscan and fingerprint check to do', () => {
    const err = sshFailure(
      { target: 'root@198.18.0.12', knownHosts: '/tmp/kh' },
      'dockward --version',
      255,
      'No ED25519 host key is known for 198.18.0.12 and you have requested strict checking.\nHost key verification failed.\n',
    );
    assert.equal(err.code, 'DW_E_SSH_HOST_KEY');
    assert.match(err.hint ?? '', /ssh-keyscan 198\.18\.0\.12/);
    assert.match(err.hint ?? '', /ssh-keygen -lf/);
  });

  it('says so when dockward is not installed on the host', () => {
    const err = sshFailure({ target: 'root@h' }, 'x', 127, 'dockward: not installed (not on PATH)\n');
    assert.equal(err.code, 'DW_E_DEPENDENCY');
    assert.equal(sshFailure({ target: 'root@h' }, 'x', 255, 'Connection refused').code, 'DW_E_SSH');
    assert.equal(sshFailure({ target: 'root@h' }, 'x', 1, 'boom').code, 'DW_E_SSH');
  });

  it('takes the folder mktemp made, and refuses anything else before rm -rf could touch it', async () => {
    const answer = (stdout: string) => async (command: string) => {
      assert.equal(command, 'mktemp -d /tmp/dockward-rotate.XXXXXXXX');
      return { code: 0, stdout, stderr: '' };
    };
    assert.equal(
      await remoteTempDir(answer('/tmp/dockward-rotate.Ab12cd34\n'), 'rotate'),
      '/tmp/dockward-rotate.Ab12cd34',
    );
    for (const bad of ['/', '/tmp/dockward-rotate.x/../..', 'mktemp: not found', '/tmp/dockward-rotateXab']) {
      await assert.rejects(remoteTempDir(answer(bad), 'rotate'), (err: { code?: string; hint?: string }) => {
        assert.equal(err.code, 'DW_E_SSH');
        assert.match(err.hint ?? '', /POSIX mktemp and a writable \/tmp/);
        return true;
      });
    }
  });
});
