import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ENDPOINT_NAMES } from './index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const docPath = fileURLToPath(new URL('../../../docs/api-endpoints.md', import.meta.url));

describe('docs/api-endpoints.md', () => {
  it('is exactly what scripts/gen-endpoint-docs.ts prints, so the page never drifts from the table', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gen-endpoint-docs.ts'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const committed = readFileSync(docPath, 'utf8');
    assert.ok(
      committed === run.stdout,
      'docs/api-endpoints.md is out of date: run `node --import tsx scripts/gen-endpoint-docs.ts > docs/api-endpoints.md`',
    );
  });

  it('lists every endpoint name', () => {
    const doc = readFileSync(docPath, 'utf8');
    for (const name of ENDPOINT_NAMES) assert.ok(doc.includes(`| \`${name}\` |`), `${name} is missing`);
  });
});
