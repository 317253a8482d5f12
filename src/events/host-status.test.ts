import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostStatusEvents } from './host-status.js';

describe('fleet checks as store events', () => {
  it('keeps what the status row saw, stamps the run time and who checked, and drops absent fields', () => {
    const events = hostStatusEvents(
      [
        {
          name: 'up1',
          endpoint: 'tcp://10.0.0.1:2376',
          reachable: true,
          engineVersion: '28.0.1',
          apiVersion: '1.48',
          containersRunning: 2,
          containersTotal: 5,
          serverCertDaysLeft: 300,
          clientCertDaysLeft: 80,
          rttMs: 3,
        },
        {
          name: 'down1',
          endpoint: 'tcp://10.0.0.2:2376',
          reachable: false,
          problem: 'unreachable',
          error: 'ECONNREFUSED',
        },
      ],
      '2026-01-01T00:00:00.000Z',
      'hosts status',
    );
    assert.deepEqual(events, [
      {
        time: '2026-01-01T00:00:00.000Z',
        checkedBy: 'hosts status',
        host: 'up1',
        endpoint: 'tcp://10.0.0.1:2376',
        reachable: true,
        engineVersion: '28.0.1',
        containersRunning: 2,
        containersTotal: 5,
        serverCertDaysLeft: 300,
        clientCertDaysLeft: 80,
      },
      {
        time: '2026-01-01T00:00:00.000Z',
        checkedBy: 'hosts status',
        host: 'down1',
        endpoint: 'tcp://10.0.0.2:2376',
        reachable: false,
        error: 'ECONNREFUSED',
      },
    ]);
  });
});
