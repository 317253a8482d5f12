import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colorAllowed, defaultLogFormat } from './log.js';

describe('log format and colour', () => {
  it('colours only a terminal, and never with a non-empty NO_COLOR', () => {
    assert.equal(colorAllowed({ isTTY: true }, {}), true);
    assert.equal(colorAllowed({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(colorAllowed({ isTTY: true }, { NO_COLOR: '' }), true);
    assert.equal(colorAllowed({ isTTY: false }, {}), false);
    assert.equal(colorAllowed({}, {}), false);
  });

  it('takes DOCKWARD_LOG_FORMAT when it names a format', () => {
    assert.equal(defaultLogFormat({ DOCKWARD_LOG_FORMAT: 'json' }), 'json');
    assert.equal(defaultLogFormat({ DOCKWARD_LOG_FORMAT: 'pretty' }), 'pretty');
    // Otherwise by whether stderr is a terminal (the test runner's is a pipe).
    assert.equal(defaultLogFormat({ DOCKWARD_LOG_FORMAT: 'xml' }), process.stderr.isTTY ? 'pretty' : 'json');
  });
});
