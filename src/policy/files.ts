// Finding policy files on disk. Kept apart from parsing so that the fast path of `eval`, which only
// hashes the files to find its cached bundle, loads no YAML parser.
// Nothing that could hold a policy is skipped without a diagnostic: symbolic links are followed
// while they stay inside the repository, and reported when they leave it, dangle or loop;
// names starting with "." are skipped with a warning.
import { existsSync, lstatSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Code, Diagnostic } from '../diagnostics/diagnostic.js';
import { fileDiag } from '../diagnostics/diagnostic.js';

export function displayPath(abs: string, cwd = process.cwd()): string {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep + sep) ? rel.split(sep).join('/') : abs;
}

export const POLICY_EXT = /\.(ya?ml|cedar)$/i;

/** Folders that are never policy folders, skipped without a word: version control, govern's own state, packages. */
const NOT_POLICIES = new Set(['.git', '.govern', 'node_modules']);

/**
 * The repository a policy folder belongs to: the nearest folder at or above it holding `.git` or
 * `govern.config.yaml`; without one, the folder itself. Symbolic links may point anywhere inside it.
 */
export function repositoryRoot(dir: string): string {
  const start = realpathSync(dir);
  for (let d = start; ; d = dirname(d)) {
    if (existsSync(join(d, '.git')) || existsSync(join(d, 'govern.config.yaml'))) return d;
    if (dirname(d) === d) return start;
  }
}

function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

/** Expands the given paths (files or folders, recursively) into policy files, sorted. */
export function findPolicyFiles(paths: string[], diagnostics: Diagnostic[]): string[] {
  const found = new Map<string, string>();
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
      const real = realpathSync(abs);
      new Walk(repositoryRoot(abs), found, diagnostics).dir(abs, new Set([real]));
      if (found.size === before) {
        diagnostics.push(fileDiag(displayPath(abs), 'error', 'policy/no-policies', `${displayPath(abs)} holds no policy files (*.yaml, *.yml, *.cedar).`, 'Point govern at the folder that holds your policies, or run `govern init` to write the default pack.'));
      }
    } else {
      const real = realpathSync(abs);
      if (!found.has(real)) found.set(real, abs);
    }
  }
  return [...found.values()].sort();
}

class Walk {
  constructor(private root: string, private found: Map<string, string>, private diagnostics: Diagnostic[]) {}

  private report(p: string, severity: 'error' | 'warning', code: Code, message: string, help: string): void {
    this.diagnostics.push(fileDiag(displayPath(p), severity, code, message, help));
  }

  /** `ancestors`: the real paths of the folders being walked, to find a link back into one of them. */
  dir(dir: string, ancestors: Set<string>): void {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (NOT_POLICIES.has(e.name)) continue;
      const p = join(dir, e.name);
      // `govern distill` keeps the earlier versions of its rules there, on purpose not in force.
      if (e.name === '.history' && basename(dir) === 'distilled' && e.isDirectory()) continue;
      const shown = displayPath(p);
      if (e.name.startsWith('.')) {
        if (e.isDirectory() || e.isSymbolicLink() || POLICY_EXT.test(e.name)) {
          this.report(p, 'warning', 'file/skipped', `${shown} is not read: names starting with "." are skipped.`, 'Rename it without the leading "." to have it read, or move it out of the policy folder.');
        }
        continue;
      }
      let st: Stats = lstatSync(p);
      let real = p;
      if (st.isSymbolicLink()) {
        try {
          real = realpathSync(p);
          st = statSync(real);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ELOOP') this.report(p, 'error', 'file/symlink-loop', `${shown} is a symbolic link that leads back to itself.`, 'Point the link at a file or folder, or remove it.');
          else if (code === 'ENOENT') this.report(p, 'error', 'file/symlink-broken', `${shown} is a symbolic link to something that does not exist.`, 'Fix the link\'s target, or remove the link.');
          else this.report(p, 'error', 'file/unreadable', `cannot follow the symbolic link ${shown}: ${(err as Error).message}`, 'Check the link and its permissions.');
          continue;
        }
        if (!st.isDirectory() && !POLICY_EXT.test(e.name)) continue;
        if (!inside(real, this.root)) {
          this.report(p, 'error', 'file/symlink-outside', `${shown} is a symbolic link to ${real}, outside the repository (${this.root}).`, 'Policies are read from the repository only, so that what is reviewed is what applies: copy the file in, or link to a place inside the repository.');
          continue;
        }
      } else if (st.isDirectory() || st.isFile()) {
        real = realpathSync(p);
      }
      if (st.isDirectory()) {
        if (ancestors.has(real)) {
          this.report(p, 'error', 'file/symlink-loop', `${shown} leads back into a folder that contains it.`, 'Remove the link, or point it at a folder outside this one.');
          continue;
        }
        this.dir(p, new Set([...ancestors, real]));
      } else if (POLICY_EXT.test(e.name)) {
        if (!st.isFile()) {
          this.report(p, 'error', 'file/not-regular', `${shown} is not a regular file (a pipe, socket or device).`, 'Policy files are plain files; remove this one or rename it.');
          continue;
        }
        const first = this.found.get(real);
        if (first !== undefined) {
          this.report(p, 'warning', 'file/duplicate', `${shown} is the same file as ${displayPath(first)} (through a symbolic link); it is read once.`, 'Remove one of the two names.');
          continue;
        }
        this.found.set(real, p);
      }
    }
  }
}
