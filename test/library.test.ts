// The library API as a program uses it: `openGovernor` on a project folder, decisions through the
// same runtime as `govern eval` (a real SQLite file, the real cedar-wasm), check and compile.
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ConfigError, openGovernor, PolicyError, RequestError, type GovernorOptions } from '../src/index.js';
import { ROOT, tempTree } from './helpers.js';

function project(config = ''): string {
  const dir = tempTree({ 'govern.config.yaml': config });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  return dir;
}

describe('openGovernor', () => {
  it('decides allow, deny and escalate as govern eval does, and records in the state file', async () => {
    const dir = project();
    const gov = await openGovernor({ cwd: dir });
    try {
      expect((await gov.decide({ agent: 'coder', action: 'write_file', resource: 'file:tmp/a.txt', environment: 'dev' })).decision).toBe('allow');
      const deny = await gov.decide({ agent: 'coder', action: 'read_file', resource: 'file:secrets/db.yaml', environment: 'dev' });
      expect(deny).toMatchObject({ decision: 'deny', tier: 3, route: 'rules' });
      expect(deny.reasons.some((r) => r.rule && /policies\/.*\.yaml:\d+:\d+$/.test(r.source ?? ''))).toBe(true);
      expect((await gov.decide({ agent: 'ops', action: 'delete', resource: 'k8s:pod/web-1', environment: 'staging' })).decision).toBe('escalate');
    } finally {
      await gov.close();
    }
    expect(existsSync(join(dir, '.govern', 'state.db'))).toBe(true);
  });

  it('explains a decision: the rules matched and the findings, never the secret', async () => {
    const dir = project();
    const gov = await openGovernor({ cwd: dir, noState: true });
    try {
      const key = ['AKIA', 'QYLPMN5HFIQR7XYZ'].join('');
      const { decision, explanation } = await gov.explain({ agent: 'coder', action: 'send', content: `key ${key}`, environment: 'dev' });
      expect(decision.decision).toBe('deny');
      expect(explanation.findings.map((f) => f.kind)).toContain('aws-access-key');
      expect(explanation.rules.some((r) => r.status === 'matched')).toBe(true);
      expect(JSON.stringify({ decision, explanation })).not.toContain(key);
    } finally {
      await gov.close();
    }
    expect(existsSync(join(dir, '.govern', 'state.db'))).toBe(false);
  });

  it('refuses a malformed request with a typed error and its code', async () => {
    const gov = await openGovernor({ cwd: project(), noState: true });
    try {
      const e = await gov.decide({ agent: 'coder', action: 'x', surprise: 1 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RequestError);
      expect((e as RequestError).code).toBe('decision/invalid-request');
    } finally {
      await gov.close();
    }
  });

  it('hands out its own copy of a decision: editing it changes no later decision', async () => {
    const gov = await openGovernor({ cwd: project() });
    try {
      const req = { agent: 'coder', action: 'read_file', resource: 'file:secrets/db.yaml', environment: 'dev' };
      const first = await gov.decide(req);
      const before = JSON.parse(JSON.stringify(first));
      expect(first.decision).toBe('deny');
      Object.assign(first, { decision: 'allow', tier: 0 });
      first.reasons.length = 0;
      first.warnings.push({ rule: null, message: 'edited' } as never);
      Object.assign(first.facts, { category: 'READ', detectors: [] });
      const { decision, explanation } = await gov.explain(req);
      explanation.rules.length = 0;
      const again = await gov.decide(req);
      for (const d of [decision, again]) {
        expect(d.route).toBe('cache');
        expect({ decision: d.decision, tier: d.tier, reasons: d.reasons, warnings: d.warnings, facts: d.facts }).toEqual({ decision: 'deny', tier: before.tier, reasons: before.reasons, warnings: before.warnings, facts: before.facts });
      }
    } finally {
      await gov.close();
    }
  });

  it('decides at the time given, and names a time that is not a valid Date', async () => {
    const gov = await openGovernor({ cwd: project(), noState: true });
    try {
      const req = { agent: 'coder', action: 'write_file', resource: 'file:tmp/a.txt', environment: 'dev' };
      expect((await gov.decide(req, { now: new Date('2026-03-01T05:30:00Z') })).facts.hour).toBe(5);
      // A Date made in another realm (a vm context, a worker's structured clone) is a Date too.
      expect((await gov.decide(req, { now: runInNewContext('new Date("2026-03-01T07:00:00Z")') as Date })).facts.hour).toBe(7);
      const bad: [unknown, RegExp][] = [
        [{ now: new Date(NaN) }, /^decide: options\.now must be a valid Date, not an invalid Date\.$/],
        [{ now: '2026-01-01' }, /^decide: options\.now must be a valid Date, not the string "2026-01-01"; pass new Date\("2026-01-01"\)\.$/],
        [{ now: 0 }, /^decide: options\.now must be a valid Date, not number\.$/],
        [null, /^decide: options must be an object such as \{ now: new Date\(\) \}, not null\.$/],
      ];
      for (const [opts, message] of bad) {
        const e = await gov.decide(req, opts as { now?: Date }).catch((x: unknown) => x);
        // The caller's mistake, not the agent's: not a RequestError.
        expect(e).toBeInstanceOf(TypeError);
        expect((e as Error).message).toMatch(message);
      }
      await expect(gov.explain(req, { now: new Date(NaN) })).rejects.toThrow(/^explain: options\.now must be a valid Date/);
    } finally {
      await gov.close();
    }
  });

  it('names an option it does not know or of the wrong type, before it reads anything', async () => {
    const dir = project();
    const bad: [unknown, RegExp][] = [
      [{ cwd: dir, nostate: true }, /^openGovernor: "nostate" is not an option; did you mean noState\? Options: cwd, config, policies, state, bundle, noState\.$/],
      [{ cwd: 5 }, /^openGovernor: options\.cwd must be a path \(a non-empty string\), not number\.$/],
      [{ cwd: dir, state: '' }, /^openGovernor: options\.state must be a path \(a non-empty string\), not an empty string\.$/],
      [{ cwd: dir, noState: 'yes' }, /^openGovernor: options\.noState must be true or false, not string\.$/],
      [null, /^openGovernor: options must be an object such as \{ cwd: process\.cwd\(\) \}, not null\.$/],
    ];
    for (const [opts, message] of bad) {
      const e = await openGovernor(opts as GovernorOptions).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TypeError);
      expect((e as Error).message).toMatch(message);
    }
    // The misspelt option did not open a state file as if it were not there.
    expect(existsSync(join(dir, '.govern'))).toBe(false);
    const gov = await openGovernor({ cwd: dir, noState: true });
    try {
      expect((await gov.decide({ agent: 'coder', action: 'write_file', resource: 'file:tmp/a.txt', environment: 'dev' })).decision).toBe('allow');
    } finally {
      await gov.close();
    }
  });

  it('checks and compiles policies that do not decide yet, with diagnostics and positions', async () => {
    const dir = project();
    const gov = await openGovernor({ cwd: dir, noState: true });
    const good = gov.check();
    expect(good).toMatchObject({ ok: true });
    expect(good.tests.length).toBeGreaterThan(0);
    const compiled = gov.compile();
    expect(compiled.hash).toBe(good.hash);
    expect(Object.keys(compiled.files).sort()).toEqual(['manifest.json', 'policies.cedar', 'schema.cedarschema', 'warnings.cedar']);

    writeFileSync(join(dir, 'policies', 'broken.yaml'), 'rules:\n  - id: a\n    effect: allow\n    match: {agent: x}\n    colour: red\n');
    const bad = gov.check({ tests: false });
    expect(bad.ok).toBe(false);
    expect(bad.diagnostics.find((d) => d.severity === 'error')).toMatchObject({ code: 'schema/unknown-field', line: 5, column: 5 });
    expect(() => gov.compile()).toThrow(PolicyError);
    await expect(gov.decide({ agent: 'x', action: 'read' })).rejects.toThrow(PolicyError);
    await gov.close();
  });

  it('reports a configuration that is not valid when opened', async () => {
    const dir = project('policies: 12\nbogus: true\n');
    await expect(openGovernor({ cwd: dir })).rejects.toThrow(ConfigError);
  });
});
