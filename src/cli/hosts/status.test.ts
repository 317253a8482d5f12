import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressLine, renderStatusTable } from './status.js';

describe('hosts status rendering', () => {
  const rows = [
    { name: 'up1', endpoint: 'tcp://127.0.0.1:1', reachable: true, engineVersion: '20.10.24', rttMs: 3 },
    {
      name: 'bad1',
      endpoint: 'tcp://127.0.0.1:2',
      reachable: false,
      problem: 'certificate' as const,
      error: 'the server certificate does not verify',
    },
  ];

  it('colours only the failing rows red, and only when asked to', () => {
    const colored = renderStatusTable(rows, true).split('\n');
    assert.equal(colored.length, 3);
    const ESC = '\x1b';
    assert.ok(!(colored[1] ?? '').includes(ESC));
    const red = colored[2] ?? '';
    assert.ok(red.startsWith(`${ESC}[31mbad1 `) && red.endsWith(`${ESC}[0m`), red);
    assert.match(red, /CERT: the server certificate does not verify/);
    assert.ok(!renderStatusTable(rows, false).includes(ESC));
  });

  it('draws the progress as a bar and a done/total count', () => {
    assert.equal(progressLine(0, 50, 10), '[..........] 0/50 hosts');
    assert.equal(progressLine(12, 50, 10), '[##........] 12/50 hosts');
    assert.equal(progressLine(50, 50, 10), '[##########] 50/50 hosts');
  });
});
