// A policy file as read from disk: its text, its YAML document with positions, and a way to turn
// a path inside the document (as ajv and the linter name it) into a line and column.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Document, type Node, type Pair } from 'yaml';
import type { Code, Diagnostic, Severity } from '../diagnostics/diagnostic.js';

export interface Span {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface SourceFile {
  /** Path as shown to the user (relative to the working directory when inside it). */
  path: string;
  text: string;
  kind: 'yaml' | 'cedar';
  doc?: Document.Parsed;
  lines: LineCounter;
}

export type DocPath = (string | number)[];

/** A source file not parsed yet. */
export function newSource(path: string, text: string, kind: SourceFile['kind'] = 'yaml'): SourceFile {
  return { path, text, kind, lines: new LineCounter() };
}

const splitLines = new WeakMap<SourceFile, string[]>();

/** The text of a 1-based line of the file (split once per file: rules and spans ask for many). */
export function lineText(file: SourceFile, line: number): string {
  let lines = splitLines.get(file);
  if (!lines) splitLines.set(file, (lines = file.text.split('\n')));
  return lines[line - 1] ?? '';
}

export function spanOf(file: SourceFile, start: number, end: number): Span {
  const a = file.lines.linePos(start);
  const b = file.lines.linePos(Math.max(start, end));
  return { line: a.line, column: a.col, endLine: b.line, endColumn: b.col };
}

/** The node at `path`, or the nearest ancestor that exists. `key: true` points at the map key. */
export function nodeAt(file: SourceFile, path: DocPath, key = false): Node | undefined {
  let node: unknown = file.doc?.contents;
  let last: Node | undefined = node as Node | undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (isMap(node)) {
      const pair = (node.items as Pair[]).find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) return last;
      if (key && i === path.length - 1) return (pair.key as Node) ?? last;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(seg)];
    } else {
      return last;
    }
    if (node && typeof node === 'object' && 'range' in (node as object)) last = node as Node;
    else return last;
  }
  return last;
}

export function spanAt(file: SourceFile, path: DocPath, key = false): Span {
  const node = nodeAt(file, path, key);
  if (!node?.range) return { line: 1, column: 1, endLine: 1, endColumn: 1 };
  const [start, valueEnd] = node.range;
  // A block collection's range runs to the next key; one line is enough to point at it.
  const s = spanOf(file, start, valueEnd);
  if (s.endLine > s.line) {
    return { line: s.line, column: s.column, endLine: s.line, endColumn: lineText(file, s.line).length + 1 };
  }
  return s;
}

export function diag(
  file: SourceFile,
  span: Span,
  severity: Severity,
  code: Code,
  message: string,
  help?: string,
): Diagnostic {
  return { code, severity, message, ...(help ? { help } : {}), file: file.path, ...span };
}

export { fileDiag } from '../diagnostics/diagnostic.js';

function yamlMessage(m: string): string {
  return m.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * Parses a YAML file with positions (the document and line table are kept on `file`). `data` is
 * unset when the YAML is broken; syntax errors are `<prefix>/syntax`. Aliases are limited, so a
 * file cannot expand into gigabytes.
 */
export function parseYaml(file: SourceFile, prefix: 'yaml' | 'config' | 'policy'): { data?: unknown; diagnostics: Diagnostic[] } {
  file.lines = new LineCounter();
  const doc = parseDocument(file.text, { lineCounter: file.lines, prettyErrors: false, uniqueKeys: true });
  file.doc = doc;
  const diagnostics = doc.errors.map((e) => diag(file, spanOf(file, e.pos[0], e.pos[1]), 'error', `${prefix}/syntax`, yamlMessage(e.message), 'Fix the YAML syntax; a YAML linter or your editor shows the structure.'));
  if (diagnostics.length) return { diagnostics };
  for (const w of doc.warnings) diagnostics.push(diag(file, spanOf(file, w.pos[0], w.pos[1]), 'warning', `${prefix}/warning`, yamlMessage(w.message)));
  try {
    return { data: doc.toJS({ maxAliasCount: 100 }) as unknown, diagnostics };
  } catch (e) {
    diagnostics.push(diag(file, spanOf(file, 0, 0), 'error', `${prefix}/syntax`, (e as Error).message, 'Use fewer aliases, or write the values out.'));
    return { diagnostics };
  }
}


/** YAML text for data that govern writes (distilled rules): block style, keys in the order given, no line folding. */
export function stringifyYaml(data: unknown): string {
  return stringify(data, { lineWidth: 0, indent: 2, aliasDuplicateObjects: false });
}
