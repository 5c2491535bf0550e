// A bundle file from a clean `check` run: the compiled bundle, the policy sources with paths
// relative to the policy folder (the same on every machine), the policy tests' results, and a
// signature when a key is given. `govern build` writes what this returns.
import { existsSync, statSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { CheckResult } from '../check/check.js';
import { buildBundle, signBundle, type BundleFile } from './bundle.js';

export interface Assembled {
  file: BundleFile;
  tests: { run: number; passed: number; failed: number };
}

/** `targets` are the paths that were checked; `r` must hold a bundle (no policy errors). */
export function assembleBundle(r: CheckResult, targets: string[], key?: KeyObject): Assembled {
  if (!r.bundle) throw new Error('assembleBundle needs a check result with a compiled bundle');
  const first = resolve(targets[0]!);
  const root = targets.length === 1 && existsSync(first) && statSync(first).isDirectory() ? first : process.cwd();
  const rel = (p: string) => relative(root, resolve(p)).split(sep).join('/');
  const files = new Map([...r.sources].map(([p, text]) => [rel(p), text]));
  const failed = r.tests.filter((t) => !t.passed).length;
  const tests = {
    run: r.tests.length,
    passed: r.tests.length - failed,
    failed,
    results: r.tests.map((t) => ({ name: t.name, file: rel(t.file), line: t.line, passed: t.passed, expected: t.expected, ...(t.actual !== undefined ? { actual: t.actual } : {}), ...(t.message ? { message: t.message } : {}) })),
  };
  let file = buildBundle(r.bundle, files, tests);
  if (key) file = signBundle(file, key);
  return { file, tests: { run: tests.run, passed: tests.passed, failed } };
}
