// Golden cases: each folder under test/cases/diagnostics is a policy folder whose `govern check`
// output (plain, as a hook prints it) is kept in expected.txt; each file under test/cases/compile
// is a policy whose Cedar and schema are kept beside it. Run `npx vitest -u` to accept changes.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { check } from '../src/check/check.js';
import { renderHuman } from '../src/diagnostics/render.js';
import { bundleFiles } from '../src/compile/files.js';

const root = join(import.meta.dirname, 'cases');

describe('diagnostics', () => {
  const dir = join(root, 'diagnostics');
  for (const name of readdirSync(dir).sort()) {
    if (!statSync(join(dir, name)).isDirectory()) continue;
    it(name, async () => {
      const cwd = process.cwd();
      process.chdir(join(dir, name));
      try {
        const r = check(['.']);
        const out = renderHuman(r.diagnostics.filter((d) => d.file !== 'expected.txt'), r.sources);
        await expect(out).toMatchFileSnapshot(join(dir, name, 'expected.txt'));
      } finally {
        process.chdir(cwd);
      }
    });
  }
});

describe('compiled Cedar', () => {
  const dir = join(root, 'compile');
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    it(name, async () => {
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        const r = check([name], { tests: false });
        expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const files = bundleFiles(r.bundle!);
        const text = `${files['policies.cedar']}\n// ---- warnings.cedar\n${files['warnings.cedar']}\n// ---- schema.cedarschema\n${files['schema.cedarschema']}`;
        await expect(text).toMatchFileSnapshot(join(dir, name.replace(/\.yaml$/, '.cedar')));
      } finally {
        process.chdir(cwd);
      }
    });
  }
});
