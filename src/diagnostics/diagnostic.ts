// The one error type of every stage: a stable code, a severity and a place in a file.
// Stages collect diagnostics and go on; the CLI sorts and renders them. Imports nothing.

import type { Code } from './codes.js';

export type { Code } from './codes.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Position {
  line: number; // 1-based
  column: number; // 1-based
}

export interface Diagnostic {
  /** Stable, documented code such as `schema/unknown-field` or `lint/shadowed-rule` (diagnostics/codes.ts). */
  code: Code;
  severity: Severity;
  message: string;
  /** What to do about it. */
  help?: string;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** The rule the diagnostic is about, when it is about one rule (for tools: no need to read the message). */
  rule?: string;
  /** Another place that explains this one, e.g. the first definition of a duplicate id (and its rule's id, when it is a rule). */
  related?: { message: string; file: string; line: number; column: number; rule?: string }[];
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
}

export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return [...list].sort(compareDiagnostics);
}

export function countBySeverity(list: Diagnostic[]): Record<Severity, number> {
  const n = { error: 0, warning: 0, info: 0 };
  for (const d of list) n[d.severity]++;
  return n;
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate within a small edit distance, or undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** A diagnostic that belongs to a file as a whole (empty file, bad encoding, too large). */
export function fileDiag(path: string, severity: Severity, code: Code, message: string, help?: string): Diagnostic {
  return { code, severity, message, ...(help ? { help } : {}), file: path, line: 1, column: 1, endLine: 1, endColumn: 1 };
}
