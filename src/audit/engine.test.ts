import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockwardError } from '../errors.js';
import { atLeast, failsAt, parseSeverity, runRules, selectRules, summarize } from './engine.js';
import type { AuditRule } from './model.js';
import { ALL_RULES } from './rules/index.js';
import { effective, factsWith, ok } from './rules/test-support.js';

const rule = (over: Partial<AuditRule>): AuditRule => ({
  id: 'x',
  severity: 'high',
  area: 'host',
  title: 't',
  rationale: 'r',
  remediation: 'fix it',
  needs: [],
  check: () => ({ status: 'pass', evidence: ['fine'] }),
  ...over,
});

describe('runRules', () => {
  it('reports a rule whose fact is missing as skipped with the reason', () => {
    const report = runRules(factsWith(), [rule({ needs: ['engine'] })]);
    const f = report.findings[0]!;
    assert.equal(f.status, 'skip');
    assert.match(f.evidence[0]!, /engine not available: not collected/);
  });

  it('adds a failing audit-input finding naming each unreadable input, and skips the rules needing it', () => {
    const facts = factsWith({
      config: {
        state: 'error',
        reason: '/etc/docker/daemon.json:3:5: unexpected token',
        where: '/etc/docker/daemon.json',
      },
      files: { state: 'error', reason: 'cannot read /etc/group: EACCES' },
    });
    const report = runRules(facts, [rule({ id: 'c', needs: ['config'] })]);
    const input = report.findings.find((f) => f.id === 'audit-input');
    assert.ok(input);
    assert.equal(input.status, 'fail');
    assert.equal(input.severity, 'high');
    assert.deepEqual(input.evidence, [
      'config: /etc/docker/daemon.json:3:5: unexpected token',
      'files: cannot read /etc/group: EACCES',
    ]);
    assert.equal(report.findings.find((f) => f.id === 'c')?.status, 'skip');
    assert.equal(failsAt(report, 'high'), true);
  });

  it('turns a rule that throws into a failing finding instead of crashing', () => {
    const report = runRules(factsWith(), [
      rule({
        check: () => {
          throw new Error('boom');
        },
      }),
    ]);
    assert.equal(report.findings[0]?.status, 'fail');
    assert.match(report.findings[0]!.evidence[0]!, /boom/);
  });

  it('uses the outcome remediation over the rule remediation', () => {
    const report = runRules(factsWith(), [
      rule({ check: () => ({ status: 'fail', evidence: ['e'], remediation: 'chmod 660 /x' }) }),
    ]);
    assert.equal(report.findings[0]?.remediation, 'chmod 660 /x');
  });

  it('counts statuses and failing severities in the summary', () => {
    const report = runRules(factsWith({ config: ok(effective({})) }));
    assert.equal(report.summary.total, report.findings.length);
    const failing = report.findings.filter((f) => f.status === 'fail').length;
    assert.equal(report.summary.byStatus.fail, failing);
    assert.equal(
      Object.values(report.summary.failBySeverity).reduce((a, b) => a + b, 0),
      failing,
    );
    assert.equal(report.summary.target, 'root /fixture');
  });

  it('never passes a rule when every fact is missing', () => {
    const report = runRules(factsWith());
    for (const f of report.findings) assert.notEqual(f.status, 'pass', f.id);
  });
});

describe('failsAt and severities', () => {
  const report = { findings: [], summary: summarize([], 't') };
  it('orders severities from info to critical', () => {
    assert.equal(atLeast('critical', 'high'), true);
    assert.equal(atLeast('low', 'medium'), false);
  });
  it('is false for an empty report and true only at or below the failing severity', () => {
    assert.equal(failsAt(report, 'info'), false);
    const r = runRules(factsWith(), [
      rule({ severity: 'medium', check: () => ({ status: 'fail', evidence: [] }) }),
    ]);
    assert.equal(failsAt(r, 'medium'), true);
    assert.equal(failsAt(r, 'high'), false);
  });
  it('ignores warnings', () => {
    const r = runRules(factsWith(), [
      rule({ severity: 'critical', check: () => ({ status: 'warn', evidence: [] }) }),
    ]);
    assert.equal(failsAt(r, 'info'), false);
  });
  it('parses a level and suggests the closest for a typo', () => {
    assert.equal(parseSeverity('HIGH'), 'high');
    assert.throws(
      () => parseSeverity('hihg'),
      (err: unknown) =>
        err instanceof DockwardError &&
        err.code === 'DW_E_USAGE' &&
        /Did you mean "high"/.test(err.hint ?? ''),
    );
  });
});

describe('selectRules', () => {
  it('selects by id, by CIS number and by CIS section', () => {
    assert.deepEqual(
      selectRules(ALL_RULES, { include: ['tls-auth'] }).map((r) => r.id),
      ['tls-auth'],
    );
    assert.deepEqual(
      selectRules(ALL_RULES, { include: ['3.16'] }).map((r) => r.id),
      ['docker-sock-mode'],
    );
    assert.equal(selectRules(ALL_RULES, { include: ['3'] }).length, 24);
    assert.equal(selectRules(ALL_RULES, { include: ['2'] }).length, 18);
  });
  it('excludes by id or number, and accepts comma-separated lists', () => {
    const left = selectRules(ALL_RULES, { exclude: ['2.2,tls-auth'] });
    assert.equal(left.length, ALL_RULES.length - 2);
    assert.ok(!left.some((r) => r.id === 'icc-restricted' || r.id === 'tls-auth'));
  });
  it('refuses an unknown selector with a did-you-mean hint', () => {
    assert.throws(
      () => selectRules(ALL_RULES, { include: ['tls-auht'] }),
      (err: unknown) =>
        err instanceof DockwardError &&
        err.code === 'DW_E_USAGE' &&
        /Did you mean "tls-auth"/.test(err.hint ?? ''),
    );
    assert.throws(() => selectRules(ALL_RULES, { exclude: ['9.99'] }), DockwardError);
  });
});

describe('ALL_RULES', () => {
  it('has unique ids, and CIS sections 2 and 3 complete', () => {
    const ids = ALL_RULES.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length);
    const cis = new Set(ALL_RULES.flatMap((r) => (r.cis ? [r.cis] : [])));
    for (let i = 1; i <= 18; i++) assert.ok(cis.has(`2.${i}`), `2.${i}`);
    for (let i = 1; i <= 24; i++) assert.ok(cis.has(`3.${i}`), `3.${i}`);
    for (const n of ['5.4', '5.5', '5.6', '5.10', '5.16', '5.17', '5.21', '5.22', '5.26', '5.31', '5.32'])
      assert.ok(cis.has(n), n);
  });
  it('includes every beyond-CIS id the issue names', () => {
    const ids = new Set(ALL_RULES.map((r) => r.id));
    for (const id of [
      'tcp-without-tls',
      'tls-without-verify',
      'tlscacert-system-bundle',
      'cert-expired',
      'cert-expiring',
      'cert-weak-key',
      'cert-san-mismatch',
      'ca-key-on-host',
      'sensitive-mount',
      'docker-group-members',
      'client-key-exposed',
    ])
      assert.ok(ids.has(id), id);
  });
});
