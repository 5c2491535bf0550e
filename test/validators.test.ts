// The precompiled schema validators: up to date with their schemas, and reporting exactly the
// errors that ajv compiling the schema reports, which the diagnostics are built from.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null; sha256?: string };

/** Loads a generated CommonJS module from its source (the tests run on src/, not on the build). */
function load(out: string): Validate {
  const module = { exports: {} as Validate };
  const code = readFileSync(join(ROOT, out), 'utf8');
  new Function('module', 'exports', 'require', code)(module, module.exports, createRequire(join(ROOT, out)));
  return module.exports;
}

const cases: Record<string, unknown[]> = {
  'schemas/policy.schema.json': [
    { name: 'ok', rules: [{ id: 'a', match: { category: 'DELETE' }, when: { 'cost.usd': { gt: 5 } }, effect: 'deny' }] },
    { rules: [{ id: 'Not An Id', effect: 'maybe', match: { agnt: 'x', category: ['delete'] }, when: [{ trust: { gt: 'high' } }, {}] }] },
    { rules: 'none', tests: [{ name: '', request: 1, expect: 'allow', facts: { trust: 101, budget: { used_pct: -1 } } }], extra: true },
    { rules: [{ id: 'b', effect: 'allow', when: { any: [{ not: { detected: [] } }, { 'resource.path': { glob: ['a/*', ''] } }] } }] },
  ],
  'schemas/config.schema.json': [{}, { policies: 1, unknown: {} }, { budgets: 'none' }],
};

describe('the precompiled schema validators', () => {
  it('are generated from their schemas and up to date', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-validators.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  for (const [schema, docs] of Object.entries(cases)) {
    it(`report what ajv reports for ${schema}`, () => {
      const pre = load(`src/policy/validators/${schema.split('/')[1]!.replace(/\.json$/, '')}.cts`);
      const compiled = new Ajv({ allErrors: true, verbose: true, strict: false }).compile(JSON.parse(readFileSync(join(ROOT, schema), 'utf8'))) as Validate;
      for (const doc of docs) {
        expect(pre(doc)).toBe(compiled(doc));
        expect(pre.errors ?? null).toEqual(compiled.errors ?? null);
      }
    });
  }
});
