// The library API as a program uses it: `openGovernor` on a project folder, decisions through the
// same runtime as `govern eval` (a real SQLite file, the real cedar-wasm), check and compile.
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, openGovernor, PolicyError, RequestError } from '../src/index.js';
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
