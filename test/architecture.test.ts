// The folders of src/ depend on each other in one direction: no import cycle between modules or
// between folders, and nothing imports the command line. Rules: .dependency-cruiser.cjs. The
// command line itself stays thin: the logic of a command is in the core, which tests call.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

async function check(paths: string[]): Promise<string[]> {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const options = await extractDepcruiseOptions(resolve(root, '.dependency-cruiser.cjs'));
    const result = (await cruise(paths, { ...options, validate: true })).output as ICruiseResult;
    return result.summary.violations.map((v) => `${v.rule.name}: ${[v.from, ...(v.cycle?.map((c) => c.name) ?? [v.to])].join(' -> ')}`);
  } finally {
    process.chdir(cwd);
  }
}

describe('architecture', () => {
  it('src/ has no import cycle between modules or folders, and nothing imports src/cli', async () => {
    expect(await check(['src'])).toEqual([]);
  }, 120_000);

  it('the command line stays thin: src/cli parses flags, calls the core and renders, in under 1,000 lines', () => {
    const dir = join(root, 'src', 'cli');
    const lines = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(dir, f), 'utf8').split('\n').length - 1);
    expect(lines.reduce((a, b) => a + b, 0)).toBeLessThan(1_000);
  });

  it('names the cycle when two folders import each other', async () => {
    const dir = mkdtempSync(join(root, '.tmp-architecture-'));
    try {
      mkdirSync(join(dir, 'policy'));
      mkdirSync(join(dir, 'compile'));
      writeFileSync(join(dir, 'policy', 'lint.mjs'), "import { translate } from '../compile/glob.mjs';\nexport const lint = translate;\n");
      writeFileSync(join(dir, 'compile', 'glob.mjs'), "export const translate = 1;\n");
      writeFileSync(join(dir, 'compile', 'rule.mjs'), "import { lint } from '../policy/lint.mjs';\nexport const rule = lint;\n");
      const rel = relative(root, dir);
      expect(await check([rel])).toContain(`no-folder-cycle: ${rel}/compile -> ${rel}/policy -> ${rel}/compile`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
