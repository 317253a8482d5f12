import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { runRules } from '../engine.js';
import type { AuditReport } from '../model.js';
import { container, effective, factsWith, file, ok } from '../rules/test-support.js';
import { formatJson } from './json.js';
import { formatJunit, xmlEscape } from './junit.js';
import { formatSarif } from './sarif.js';
import { formatTable } from './table.js';

const SCHEMA = new URL('../../../test/fixtures/audit/sarif-schema-2.1.0-rtm.5.json', import.meta.url);

/** A report with every status: fails (config, a privileged container), warn, info, skip, audit-input. */
function sampleReport(): AuditReport {
  return runRules(
    factsWith({
      config: ok(effective({ hosts: ['tcp://0.0.0.0:2375'] })),
      files: ok([file({ mode: 0o606 })]),
      engine: ok({
        info: {},
        version: {},
        containers: [container({ name: '/evil <&> "x"', privileged: true, running: false })],
      }),
      dockerGroup: ok({ group: 'docker', members: ['alice'] }),
      keys: { state: 'error', reason: '/etc/docker/key.pem: cannot read: EACCES' },
    }),
  );
}

/** The official schema is draft-04; ajv speaks draft-07, which reads it the same once `id` is `$id`. */
function sarifValidator() {
  const schema = JSON.parse(readFileSync(SCHEMA, 'utf8')) as Record<string, unknown>;
  schema.$id = schema.id;
  delete schema.id;
  delete schema.$schema;
  // unicodeRegExp off: the schema's `language` pattern has a stray `]` that only the u flag rejects.
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:[^\s]*$/i);
  ajv.addFormat('uri-reference', /^[^\s]*$/);
  ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
  return ajv.compile(schema);
}

describe('formatSarif', () => {
  it('validates against the SARIF 2.1.0 schema', () => {
    const validate = sarifValidator();
    const log = JSON.parse(formatSarif(sampleReport(), { toolVersion: '0.1.0' }));
    assert.equal(validate(log), true, JSON.stringify(validate.errors, null, 2));
  });

  it('fails schema validation for a broken log (the check can fail)', () => {
    const validate = sarifValidator();
    const log = JSON.parse(formatSarif(sampleReport(), { toolVersion: '0.1.0' }));
    log.runs[0].results[0].level = 'fatal';
    assert.equal(validate(log), false);
  });

  it('describes every rule and reports only fail and warn findings, with levels by severity', () => {
    const report = sampleReport();
    const log = JSON.parse(
      formatSarif(report, { toolVersion: '0.1.0', docsUrl: 'https://example.test/audit' }),
    );
    const run = log.runs[0];
    assert.equal(run.tool.driver.rules.length, report.findings.length);
    const tlsRule = run.tool.driver.rules.find((r: { id: string }) => r.id === 'tls-auth');
    assert.equal(tlsRule.helpUri, 'https://example.test/audit#tls-auth');
    assert.match(tlsRule.help.text, /Fix: dockward daemon harden --profile remote-tls --write/);
    const statuses = new Set(run.results.map((r: { properties: { status: string } }) => r.properties.status));
    assert.deepEqual([...statuses].sort(), ['fail', 'warn']);
    const priv = run.results.find((r: { ruleId: string }) => r.ruleId === 'container-privileged');
    assert.equal(priv.level, 'error');
    const group = run.results.find((r: { ruleId: string }) => r.ruleId === 'docker-group-members');
    assert.equal(group.level, 'warning');
    const sock = run.results.find((r: { ruleId: string }) => r.ruleId === 'docker-sock-mode');
    assert.equal(sock.locations[0].physicalLocation.artifactLocation.uri, 'file:///var/run/docker.sock');
    for (const r of run.results) assert.equal(run.tool.driver.rules[r.ruleIndex].id, r.ruleId);
  });
});

describe('formatJson', () => {
  it('writes the documented schema: findings with id, cis, severity, status, title, evidence, remediation, and a summary', () => {
    const out = JSON.parse(formatJson(sampleReport()));
    assert.deepEqual(Object.keys(out), ['findings', 'summary']);
    const f = out.findings.find((x: { id: string }) => x.id === 'tls-auth');
    assert.deepEqual(Object.keys(f), [
      'id',
      'cis',
      'severity',
      'status',
      'title',
      'evidence',
      'remediation',
      'area',
    ]);
    assert.equal(f.cis, '2.7');
    assert.equal(out.findings.find((x: { id: string }) => x.id === 'tcp-without-tls').cis, null);
    assert.deepEqual(Object.keys(out.summary), ['target', 'total', 'byStatus', 'failBySeverity']);
  });

  it('escapes evidence with quotes and control characters', () => {
    const out = formatJson(sampleReport());
    assert.doesNotThrow(() => JSON.parse(out));
    assert.match(out, /evil <&> \\"x\\"/);
  });
});

describe('formatJunit', () => {
  it('writes one testcase per finding, failure for fail and skipped for skip', () => {
    const report = sampleReport();
    const xml = formatJunit(report);
    assert.equal((xml.match(/<testcase /g) ?? []).length, report.findings.length);
    assert.equal((xml.match(/<failure /g) ?? []).length, report.summary.byStatus.fail);
    assert.equal((xml.match(/<skipped /g) ?? []).length, report.summary.byStatus.skip);
    assert.match(xml, /evil &lt;&amp;&gt; &quot;x&quot;/);
    assert.doesNotMatch(xml, /evil <&>/);
  });

  it('escapes XML specials and drops characters XML cannot hold', () => {
    assert.equal(xmlEscape(`a<b>&"c'\u0001\u0007d\ud800e`), 'a&lt;b&gt;&amp;&quot;c&apos;de');
    assert.equal(xmlEscape('ok 😀\ttab'), 'ok 😀\ttab');
  });
});

describe('formatTable', () => {
  it('groups by area, shows the fix for failures and ends with a summary line', () => {
    const text = formatTable(sampleReport(), { color: false });
    assert.ok(text.indexOf('Daemon configuration (CIS 2)') < text.indexOf('Containers (CIS 5)'));
    assert.match(text, /FAIL {2}high {5}tls-auth \(2\.7\)/);
    assert.match(text, /fix: dockward daemon harden --profile remote-tls --write/);
    assert.match(
      text,
      /\d+ checks on root \/fixture: \d+ pass, \d+ fail \(\d+ critical, .*\), \d+ warn, \d+ info, \d+ skip\n$/,
    );
    assert.ok(!text.includes('\x1b['));
  });

  it('colors statuses only when asked', () => {
    assert.ok(formatTable(sampleReport(), { color: true }).includes('\x1b[31mFAIL'));
  });
});
