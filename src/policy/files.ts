// Finding policy files on disk. Kept apart from parsing so that the fast path of `eval`, which only
// hashes the files to find its cached bundle, loads no YAML parser.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { fileDiag } from '../diagnostics/diagnostic.js';

export function displayPath(abs: string, cwd = process.cwd()): string {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep + sep) ? rel.split(sep).join('/') : abs;
}

export const POLICY_EXT = /\.(ya?ml|cedar)$/i;

/** Expands the given paths (files or folders, recursively) into policy files, sorted. */
export function findPolicyFiles(paths: string[], diagnostics: Diagnostic[]): string[] {
  const found = new Set<string>();
  for (const p of paths) {
    const abs = resolve(p);
    let st;
    try {
      st = statSync(abs);
    } catch {
      diagnostics.push(fileDiag(displayPath(abs), 'error', 'file/not-found', `${p} does not exist.`, 'Pass a policy file or a folder of them, or run `govern init` to create policies/.'));
      continue;
    }
    if (st.isDirectory()) {
      const before = found.size;
      walk(abs, found);
      if (found.size === before) {
        diagnostics.push(fileDiag(displayPath(abs), 'error', 'policy/no-policies', `${displayPath(abs)} holds no policy files (*.yaml, *.yml, *.cedar).`, 'Point govern at the folder that holds your policies, or run `govern init` to write the default pack.'));
      }
    } else {
      found.add(abs);
    }
  }
  return [...found].sort();
}

function walk(dir: string, out: Set<string>): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && POLICY_EXT.test(e.name)) out.add(p);
  }
}

