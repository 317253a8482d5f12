import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseServiceName, quoteExecArg, renderServiceUnit, unitName, writablePaths } from './unit.js';

describe('service units', () => {
  const spec = {
    name: 'gateway' as const,
    exec: '/usr/local/bin/dockward',
    args: [
      '--listen',
      '0.0.0.0:2376',
      '--audit-log',
      '/var/log/dockward/gateway.log',
      '--policy',
      '/etc/dockward/policy.yaml',
    ],
    user: 'dockward',
    groups: ['docker'],
    writable: ['/var/log/dockward'],
  };

  it('names units dockward-NAME.service and knows only gateway and monitor', () => {
    assert.equal(unitName(parseServiceName('gateway')), 'dockward-gateway.service');
    assert.equal(unitName(parseServiceName('monitor')), 'dockward-monitor.service');
    assert.throws(() => parseServiceName('console'), /no service "console"/);
  });

  it('passes the flags through to ExecStart and hardens the service', () => {
    const unit = renderServiceUnit(spec);
    assert.match(
      unit,
      /^ExecStart=\/usr\/local\/bin\/dockward gateway --listen 0\.0\.0\.0:2376 --audit-log \/var\/log\/dockward\/gateway\.log --policy \/etc\/dockward\/policy\.yaml$/m,
    );
    for (const line of [
      'User=dockward',
      'Group=dockward',
      'SupplementaryGroups=docker',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'Restart=on-failure',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'ReadWritePaths=/var/lib/dockward /var/log/dockward',
      'WantedBy=multi-user.target',
    ])
      assert.ok(unit.split('\n').includes(line), line);
  });

  it('gives the monitor no reload and runs as root when no user could be made', () => {
    const unit = renderServiceUnit({ ...spec, name: 'monitor', args: [], user: undefined, groups: [] });
    assert.doesNotMatch(unit, /ExecReload|User=|SupplementaryGroups/);
    assert.match(unit, /^ExecStart=\/usr\/local\/bin\/dockward monitor$/m);
  });

  it('quotes arguments systemd would split or expand', () => {
    assert.equal(quoteExecArg('/a/b'), '/a/b');
    assert.equal(quoteExecArg('a b'), '"a b"');
    assert.equal(quoteExecArg('100%'), '100%%');
    assert.equal(quoteExecArg('$HOME'), '"$$HOME"');
    assert.equal(quoteExecArg('say "hi"'), '"say \\"hi\\""');
    assert.throws(() => quoteExecArg('a\nb'), /line break/);
  });

  it('makes the folders the flags write to writable, and wants them absolute', () => {
    assert.deepEqual(
      writablePaths([
        '--audit-log',
        '/var/log/gw/a.log',
        '--audit-feed=/run/dockward/feed.sock',
        '--store',
        'sqlite:/srv/ev.db',
      ]),
      ['/var/log/gw', '/run/dockward', '/srv'],
    );
    assert.deepEqual(writablePaths(['--store', 'postgres://u@h:5432/db']), []);
    assert.throws(() => writablePaths(['--audit-log', 'gateway.log']), /needs an absolute path/);
  });
});
