// Finds and reads policy files: size and encoding checks, YAML parsing with positions, and the
// JSON Schema check (ajv) with errors mapped back to the YAML text. Never throws on bad input:
// every problem becomes a diagnostic and the other files go on.
import { readFileSync, statSync } from 'node:fs';
import { displayPath, findPolicyFiles } from './files.js';
import type { Code, Diagnostic } from '../diagnostics/diagnostic.js';
import { closest } from '../diagnostics/diagnostic.js';
import { schemaCode } from '../diagnostics/codes.js';
import { validatePolicyFile, type SchemaError } from './schema.js';
import type { PolicyFile } from './schema-types.js';
import { visit } from 'yaml';
import { diag, fileDiag, newSource, parseYaml, spanAt, spanOf, type SourceFile } from './source.js';

export { displayPath, findPolicyFiles } from './files.js';
import { BUILTIN_FIELDS, FIELD_ALIASES } from './vocabulary.js';

/** Larger policy files are refused: a generated file this big is a mistake, and parsing it would stall a hook. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

export interface LoadedPolicy {
  file: SourceFile;
  /** Present when the file parsed and matched the schema. */
  data?: PolicyFile;
}

export interface LoadResult {
  files: SourceFile[];
  policies: LoadedPolicy[];
  cedarFiles: SourceFile[];
  diagnostics: Diagnostic[];
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Reads one file; returns undefined (with a diagnostic) when it cannot be used at all. */
export function readSource(abs: string, diagnostics: Diagnostic[]): SourceFile | undefined {
  const path = displayPath(abs);
  let bytes: Buffer;
  try {
    const size = statSync(abs).size;
    if (size > MAX_FILE_BYTES) {
      diagnostics.push(fileDiag(path, 'error', 'file/too-large', `${path} is ${(size / 1048576).toFixed(1)} MB; policy files may be at most ${MAX_FILE_BYTES / 1048576} MB.`, 'Split the rules into several files, or move generated data out of the policy folder.'));
      return undefined;
    }
    bytes = readFileSync(abs);
  } catch (e) {
    diagnostics.push(fileDiag(path, 'error', 'file/unreadable', `cannot read ${path}: ${(e as Error).message}`, 'Check the path and its permissions.'));
    return undefined;
  }
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const prefix = bytes.subarray(0, at).toString('utf8');
    let line = 1;
    let col = 1;
    for (const ch of prefix) { if (ch === '\n') { line++; col = 1; } else col++; }
    diagnostics.push({ code: 'file/encoding', severity: 'error', message: `${path} is not UTF-8 text (invalid byte at offset ${at}).`, help: 'Save the file as UTF-8.', file: path, line, column: col, endLine: line, endColumn: col + 1 });
    return undefined;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const kind = /\.cedar$/i.test(abs) ? 'cedar' : 'yaml';
  return newSource(path, text, kind);
}

function firstInvalidUtf8(bytes: Buffer): number {
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try { decoder.decode(bytes.subarray(0, mid + 1), { stream: true }); lo = mid + 1; } catch { hi = mid; }
    // stream mode accepts a truncated sequence at the end, so the first failing prefix marks the byte.
  }
  return lo;
}

/** Parses and schema-checks one YAML policy file. */
export function parsePolicy(file: SourceFile, diagnostics: Diagnostic[]): LoadedPolicy {
  const parsed = parseYaml(file, 'yaml');
  diagnostics.push(...parsed.diagnostics);
  if (!('data' in parsed)) return { file };
  const unpaired = loneSurrogates(file);
  if (unpaired.length) {
    diagnostics.push(...unpaired);
    return { file };
  }
  const data = parsed.data;
  if (data === null || data === undefined) {
    diagnostics.push(fileDiag(file.path, 'warning', 'policy/empty-file', `${file.path} is empty.`, 'Add rules (see `govern init`), or delete the file.'));
    return { file };
  }
  const errors = validatePolicyFile(data);
  if (errors.length) {
    for (const d of schemaDiagnostics(file, errors)) diagnostics.push(d);
    return { file };
  }
  return { file, data: data as PolicyFile };
}

/** A UTF-16 surrogate without its pair: not a character, and Cedar cannot take it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Strings (keys and values) holding an escape such as `"\ud800"` that names half a character. */
function loneSurrogates(file: SourceFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!file.doc) return out;
  visit(file.doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !LONE_SURROGATE.test(node.value)) return;
      const [start, end] = node.range ?? [0, 0];
      const unit = LONE_SURROGATE.exec(node.value)![0].charCodeAt(0).toString(16);
      out.push(diag(file, spanOf(file, start, end), 'error', 'policy/invalid-unicode', `this string holds \\u${unit}, half of a UTF-16 surrogate pair, which is not a character.`, 'Write the character itself, or its full escape (`\\U0001F600` or the pair `\\ud83d\\ude00` in a double-quoted string).'));
    },
  });
  return out;
}

const CONDITION_KEYS = ['all', 'any', 'not', 'detected', 'cedar', ...Object.keys(FIELD_ALIASES)];

/** Turns ajv's errors into one clear diagnostic per problem, pointing at the offending YAML. */
export function schemaDiagnostics(file: SourceFile, errors: SchemaError[]): Diagnostic[] {
  // ajv reports every failed branch of a oneOf; keep only the deepest errors of each subtree.
  // Type and oneOf errors of a branch that did not apply are noise when any other error says more
  // about the same value or one inside it; errors that name a key or a value are always kept.
  const branchNoise = (k: string) => k === 'type' || k === 'oneOf' || k === 'anyOf';
  const deepest = errors.filter((e) => !branchNoise(e.keyword) || !errors.some((o) => o !== e && !(branchNoise(o.keyword) && o.instancePath === e.instancePath) && (o.instancePath === e.instancePath || o.instancePath.startsWith(e.instancePath + '/'))));
  const out = new Map<string, Diagnostic>();
  const typeErrors = new Map<string, Set<string>>();
  for (const e of deepest) {
    const path = pointerToPath(e.instancePath);
    const where = describePath(path);
    let d: Diagnostic | undefined;
    switch (e.keyword) {
      case 'additionalProperties': {
        const name = String(e.params.additionalProperty);
        const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
        const isCondition = allowed.includes('detected');
        const candidates = isCondition ? [...CONDITION_KEYS, ...BUILTIN_FIELDS.keys(), 'category', ...allowed] : allowed;
        const guess = closest(name, candidates);
        const help = guess
          ? `Did you mean \`${guess}\`?`
          : isCondition
            ? 'A condition names a field (agent.trust, resource.path, context.NAME, cost.usd, ...) or all/any/not/detected/cedar.'
            : `Allowed here: ${allowed.join(', ')}.`;
        d = diag(file, spanAt(file, [...path, name], true), 'error', 'schema/unknown-field', `unknown field \`${name}\` in ${where}.`, help);
        break;
      }
      case 'required':
        d = diag(file, spanAt(file, path), 'error', 'schema/missing-field', `${where} needs \`${String(e.params.missingProperty)}\`.`, `Add \`${String(e.params.missingProperty)}:\`.`);
        break;
      case 'enum':
        d = diag(file, spanAt(file, path), 'error', 'schema/invalid-value', `${where} must be one of ${(e.params.allowedValues as unknown[]).map(String).join(', ')}.`, guessHelp(e.data, e.params.allowedValues as unknown[]));
        break;
      case 'pattern':
        d = diag(file, spanAt(file, path), 'error', 'schema/invalid-value', `${where} is not valid: ${JSON.stringify(e.data)}.`, path[path.length - 1] === 'id' ? 'Rule ids use lower-case letters, digits, ".", "_" and "-", and start with a letter or digit.' : `It must match ${String(e.params.pattern)}.`);
        break;
      case 'type': {
        const set = typeErrors.get(e.instancePath) ?? new Set();
        for (const t of ([] as string[]).concat(e.params.type as string | string[])) set.add(t);
        typeErrors.set(e.instancePath, set);
        continue;
      }
      case 'oneOf':
        if (typeErrors.has(e.instancePath)) continue;
        d = diag(file, spanAt(file, path), 'error', 'schema/wrong-type', `${where} has the wrong shape.`, 'See schemas/policy.schema.json for the forms this field takes.');
        break;
      case 'minItems':
      case 'minProperties':
      case 'minLength':
        d = diag(file, spanAt(file, path), 'error', 'schema/empty', `${where} is empty.`, 'Give it a value, or remove it.');
        break;
      default: {
        // `> 0` is out of range as `>= 0` is: one code for each side of a range.
        d = diag(file, spanAt(file, path), 'error', schemaCode('schema', e.keyword), `${where} ${e.message ?? 'is not valid'}.`);
      }
    }
    out.set(`${d.code}@${e.instancePath}@${d.message}`, d);
  }
  for (const [ptr, types] of typeErrors) {
    const path = pointerToPath(ptr);
    const where = describePath(path);
    const want = [...types].map((t) => (t === 'array' ? 'a list' : t === 'object' ? 'a mapping' : `a ${t}`));
    out.set(`type@${ptr}`, diag(file, spanAt(file, path), 'error', 'schema/wrong-type', `${where} must be ${want.join(' or ')}.`, path.length ? undefined : 'A policy file is a mapping with `rules:` and, optionally, `name:`, `version:` and `tests:`.'));
  }
  return [...out.values()];
}

/** `rules[2].when.trust`, as a reader finds it in the file. */
export function describePath(path: (string | number)[]): string {
  if (!path.length) return 'the file';
  return '`' + path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('') + '`';
}

function guessHelp(value: unknown, allowed: unknown[]): string | undefined {
  if (typeof value !== 'string') return undefined;
  const g = closest(value, allowed.map(String));
  return g ? `Did you mean \`${g}\`?` : undefined;
}

export function pointerToPath(ptr: string): (string | number)[] {
  if (!ptr) return [];
  return ptr.slice(1).split('/').map((s) => {
    const u = s.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(u) ? Number(u) : u;
  });
}

/** Reads, parses and schema-checks every policy file under the given paths. */
export function loadPolicies(paths: string[]): LoadResult {
  const diagnostics: Diagnostic[] = [];
  const files: SourceFile[] = [];
  const policies: LoadedPolicy[] = [];
  const cedarFiles: SourceFile[] = [];
  for (const abs of findPolicyFiles(paths, diagnostics)) {
    const file = readSource(abs, diagnostics);
    if (!file) continue;
    files.push(file);
    if (file.kind === 'cedar') {
      file.lines.addNewLine(0);
      for (let i = 0; i < file.text.length; i++) if (file.text[i] === '\n') file.lines.addNewLine(i + 1);
      cedarFiles.push(file);
    } else {
      policies.push(parsePolicy(file, diagnostics));
    }
  }
  return { files, policies, cedarFiles, diagnostics };
}
