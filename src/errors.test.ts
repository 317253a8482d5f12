import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DockwardError, ERROR_CODES, toExitCode, toHttpStatus } from './errors.js';

describe('errors', () => {
  it('documents every error code in docs/errors.md, and documents no code that does not exist', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/`(DW_E_[A-Z_]+)`/g)].map((m) => m[1]));
    for (const code of Object.keys(ERROR_CODES))
      assert.ok(documented.has(code), `${code} is not in docs/errors.md`);
    for (const code of documented)
      assert.ok(code! in ERROR_CODES, `docs/errors.md names unknown code ${code}`);
  });

  it('maps bad input to exit 2 and HTTP 400, and upstream failures to exit 1 and HTTP 502', () => {
    assert.equal(toExitCode(new DockwardError('DW_E_SAN_INVALID', 'x')), 2);
    assert.equal(toHttpStatus(new DockwardError('DW_E_SAN_INVALID', 'x')), 400);
    assert.equal(toExitCode(new DockwardError('DW_E_UPSTREAM', 'x')), 1);
    assert.equal(toHttpStatus(new DockwardError('DW_E_UPSTREAM', 'x')), 502);
    assert.equal(toExitCode(new Error('plain')), 1);
  });
});
