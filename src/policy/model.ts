// From schema-valid YAML to the rules the compiler and the linter work on: shorthand expanded,
// fields resolved against the vocabulary, custom attributes typed by their use, environments
// normalized, and every node keeping its place in the file for diagnostics.
import type { Code, Diagnostic } from '../diagnostics/diagnostic.js';
import { closest } from '../diagnostics/diagnostic.js';
import type { LoadedPolicy } from './load.js';
import type { Condition, Operators, PolicyTest, Rule, Scalar } from './schema-types.js';
import { diag, spanAt, type DocPath, type SourceFile, type Span } from './source.js';
import {
  BUILTIN_FIELDS, CATEGORIES, CATEGORY_FIELD, CUSTOM_PREFIXES, FIELD_ALIASES, findingNames, isKnownFinding,
  normalizeEnvironment, type Category, type Field, type FieldType,
} from './vocabulary.js';

export type Effect = Rule['effect'];

/**
 * How deep `all`, `any` and `not` may nest. Each level is a level of brackets in the compiled
 * Cedar, and Cedar's wasm build crashes at about 130; real policies stay within a few.
 */
export const MAX_CONDITION_DEPTH = 16;

export interface MatchIR {
  agent?: string[];
  category?: Category[];
  action?: string[];
  resource?: string[];
  environment?: string[];
  namespace?: string[];
}

export type CmpOp = 'eq' | 'ne' | 'in' | 'not_in' | 'gt' | 'gte' | 'lt' | 'lte' | 'glob' | 'not_glob' | 'contains' | 'contains_any' | 'exists';

export type Cond =
  | { kind: 'all'; items: Cond[]; span: Span }
  | { kind: 'any'; items: Cond[]; span: Span }
  | { kind: 'not'; item: Cond; span: Span }
  | { kind: 'detected'; names: string[]; span: Span }
  | { kind: 'cedar'; text: string; span: Span }
  | { kind: 'category'; op: 'in' | 'not_in'; values: Category[]; span: Span }
  | { kind: 'cmp'; field: string; op: CmpOp; value: Scalar | Scalar[] | boolean | { field: string }; span: Span };

export interface RuleIR {
  id: string;
  effect: Effect;
  audit: boolean;
  message?: string;
  description?: string;
  refs: string[];
  file: SourceFile;
  /** Where the rule starts (its `id:`), shown as the decision's source. */
  span: Span;
  path: DocPath;
  match: MatchIR;
  /** The top-level conjuncts of `when`. */
  when: Cond[];
  /** The YAML rule as written, for the manifest's content hash and for subsumption. */
  raw: Rule;
  /** Some of the rule could not be understood (an error was reported); lints that compare rules skip it. */
  invalid?: boolean;
}

export interface TestIR {
  test: PolicyTest;
  file: SourceFile;
  span: Span;
  path: DocPath;
}

export interface PolicyModel {
  rules: RuleIR[];
  tests: TestIR[];
  /** Types of the attributes policies declare by using them (`resource.X`, `context.X`). */
  custom: Map<string, Field>;
  /** Field of each typed use, first seen, for conflict messages. */
  diagnostics: Diagnostic[];
}

export function sourceOf(rule: RuleIR): string {
  return `${rule.file.path}:${rule.span.line}:${rule.span.column}`;
}

class Builder {
  rules: RuleIR[] = [];
  tests: TestIR[] = [];
  custom = new Map<string, Field>();
  firstUse = new Map<string, { type: FieldType; where: string }>();
  diagnostics: Diagnostic[] = [];

  constructor(private file: SourceFile) {}

  setFile(f: SourceFile) { this.file = f; }

  err(path: DocPath, code: Code, message: string, help?: string, key = false, severity: 'error' | 'warning' = 'error') {
    this.diagnostics.push(diag(this.file, spanAt(this.file, path, key), severity, code, message, help));
  }

  /** Resolves a field name to its definition, declaring custom attributes as they are used. */
  field(name: string, type: FieldType | undefined, path: DocPath): Field | undefined {
    const full = FIELD_ALIASES[name] ?? name;
    const b = BUILTIN_FIELDS.get(full);
    if (b) return b;
    for (const [prefix, base] of Object.entries(CUSTOM_PREFIXES)) {
      if (!full.startsWith(prefix)) continue;
      const attr = full.slice(prefix.length);
      const t = type ?? this.custom.get(full)?.type ?? 'String';
      const prev = this.firstUse.get(full);
      if (prev && type && prev.type !== type) {
        this.err(path, 'policy/type-conflict', `\`${full}\` is used as ${article(type)} here but as ${article(prev.type)} at ${prev.where}.`, 'Use one type for an attribute across all policies.', true);
        return undefined;
      }
      if (type && !prev) this.firstUse.set(full, { type, where: `${this.file.path}:${spanAt(this.file, path, true).line}` });
      const f: Field = { path: full, base: base as Field['base'], attrs: base === 'context' ? ['attrs', attr] : [attr], type: t, optional: true, custom: true };
      if (type || !this.custom.has(full)) this.custom.set(full, f);
      return f;
    }
    const guess = closest(full, [...BUILTIN_FIELDS.keys(), ...Object.keys(FIELD_ALIASES)]);
    this.err(path, 'policy/unknown-field', `\`${name}\` is not a field of the request.`, guess ? `Did you mean \`${guess}\`?` : 'Fields: agent.id, agent.team, agent.trust, resource.*, context.*, action, environment, namespace, command, hour, risk, cost.usd, cost.tokens, budget.used_pct, budget.exceeded.', true);
    return undefined;
  }

  rule(r: Rule, path: DocPath): void {
    const errorsBefore = this.diagnostics.filter((d) => d.severity === 'error').length;
    const match: MatchIR = {};
    const m = r.match ?? {};
    const list = (v: string | string[] | undefined) => (v === undefined ? undefined : ([] as string[]).concat(v));
    if (m.agent) match.agent = list(m.agent);
    if (m.category) match.category = list(m.category) as Category[];
    if (m.action) match.action = list(m.action)!.map((a) => a.toLowerCase());
    if (m.resource) match.resource = list(m.resource);
    if (m.environment) match.environment = list(m.environment)!.map(normalizeEnvironment);
    if (m.namespace) match.namespace = list(m.namespace);
    const when: Cond[] = [];
    if (r.when !== undefined) {
      const items = Array.isArray(r.when) ? r.when : [r.when];
      items.forEach((c, i) => {
        const p = Array.isArray(r.when) ? [...path, 'when', i] : [...path, 'when'];
        const conds = this.condition(c as Condition, p);
        when.push(...conds);
      });
    }
    if (r.audit && r.effect !== 'allow') this.err([...path, 'audit'], 'lint/audit-not-allow', `\`audit\` only changes the tier of an allow; rule \`${r.id}\` is a ${r.effect}.`, 'Remove `audit`, or make the rule an allow.', true, 'warning');
    this.rules.push({
      id: r.id, effect: r.effect, audit: r.audit === true, refs: r.refs ?? [], file: this.file,
      ...(r.message !== undefined ? { message: r.message } : {}),
      ...(r.description !== undefined ? { description: r.description } : {}),
      span: spanAt(this.file, [...path, 'id'], true), path, match, when, raw: r,
      ...(this.diagnostics.filter((d) => d.severity === 'error').length > errorsBefore ? { invalid: true } : {}),
    });
  }

  /** One YAML condition mapping becomes one or more conjuncts. `depth`: the all/any/not around it. */
  condition(c: Condition, path: DocPath, depth = 0): Cond[] {
    const out: Cond[] = [];
    for (const [key, value] of Object.entries(c)) {
      const p = [...path, key];
      const span = spanAt(this.file, p, true);
      if ((key === 'all' || key === 'any' || key === 'not') && depth >= MAX_CONDITION_DEPTH) {
        this.err(p, 'policy/too-deep', `conditions are nested more than ${MAX_CONDITION_DEPTH} deep here (all, any and not inside each other).`, 'Flatten the condition: `not: {any: [...]}` is `all` of the negations, a list of values replaces an `any` of equalities, and several rules can replace one deep rule.', true);
        continue;
      }
      if (key === 'all' || key === 'any') {
        const items = (value as Condition[]).map((v, i) => this.group(v, [...p, i], depth + 1));
        out.push({ kind: key, items, span });
      } else if (key === 'not') {
        out.push({ kind: 'not', item: this.group(value as Condition, p, depth + 1), span });
      } else if (key === 'detected') {
        const names = ([] as string[]).concat(value as string | string[]);
        names.forEach((n, i) => {
          if (!isKnownFinding(n)) {
            const g = closest(n, findingNames());
            this.err(Array.isArray(value) ? [...p, i] : p, 'lint/unknown-detector', `no detector reports \`${n}\`, so this condition can never hold.`, g ? `Did you mean \`${g}\`?` : `Known: ${findingNames().join(', ')}.`);
          }
        });
        out.push({ kind: 'detected', names, span });
      } else if (key === 'cedar') {
        out.push({ kind: 'cedar', text: value as string, span: spanAt(this.file, p) });
      } else if (key === CATEGORY_FIELD) {
        out.push(...this.category(value as Scalar | Scalar[] | Operators, p, span));
      } else {
        out.push(...this.test(key, value as Scalar | Scalar[] | Operators, p, span));
      }
    }
    return out;
  }

  group(c: Condition, path: DocPath, depth: number): Cond {
    const items = this.condition(c, path, depth);
    return items.length === 1 ? items[0]! : { kind: 'all', items, span: spanAt(this.file, path) };
  }

  category(value: Scalar | Scalar[] | Operators, path: DocPath, span: Span): Cond[] {
    const check = (vals: Scalar[], p: DocPath): Category[] => {
      for (const v of vals) {
        if (!(CATEGORIES as readonly unknown[]).includes(v)) {
          const g = typeof v === 'string' ? closest(v, CATEGORIES) : undefined;
          this.err(p, 'schema/invalid-value', `\`category\` must be one of ${CATEGORIES.join(', ')}, not ${JSON.stringify(v)}.`, g ? `Did you mean \`${g}\`?` : undefined);
        }
      }
      return vals as Category[];
    };
    if (typeof value !== 'object' || Array.isArray(value)) {
      return [{ kind: 'category', op: 'in', values: check(([] as Scalar[]).concat(value), path), span }];
    }
    const out: Cond[] = [];
    for (const [op, v] of Object.entries(value)) {
      if (op === 'eq' || op === 'in') out.push({ kind: 'category', op: 'in', values: check(([] as Scalar[]).concat(v as Scalar), [...path, op]), span });
      else if (op === 'ne' || op === 'not_in') out.push({ kind: 'category', op: 'not_in', values: check(([] as Scalar[]).concat(v as Scalar), [...path, op]), span });
      else this.err([...path, op], 'policy/bad-operator', `\`${op}\` does not apply to \`category\`.`, 'Use eq, ne, in or not_in with CREATE, MODIFY, DELETE, ACCESS or COMPLY.', true);
    }
    return out;
  }

  test(name: string, value: Scalar | Scalar[] | Operators, path: DocPath, span: Span): Cond[] {
    const ops: [CmpOp, unknown, DocPath][] =
      typeof value !== 'object' ? [['eq', value, path]] : Array.isArray(value) ? [['in', value, path]] : Object.entries(value).map(([op, v]) => [op as CmpOp, v, [...path, op]]);
    const out: Cond[] = [];
    for (const [op, raw, p] of ops) {
      const ref = isFieldRef(raw) ? raw.field : undefined;
      let refField: Field | undefined;
      if (ref !== undefined) {
        refField = this.field(ref, undefined, [...p, 'field']);
        if (!refField) continue;
      }
      const implied = refField?.type ?? impliedType(op, raw);
      const f = this.field(name, implied, path);
      if (!f) continue;
      if (refField && refField.type !== f.type) {
        this.err(p, 'policy/type-mismatch', `\`${f.path}\` is ${article(f.type)} and \`${refField.path}\` is ${article(refField.type)}; they cannot be compared.`);
        continue;
      }
      const problem = ref === undefined ? operatorProblem(f, op, raw) : op === 'eq' || op === 'ne' ? undefined : `\`${op}\` cannot take a field`;
      if (problem) {
        this.err(p, 'policy/bad-operator', problem.includes(`\`${f.path}\``) ? `${problem}.` : `${problem} (\`${f.path}\` is ${article(f.type)}).`, helpFor(f.type));
        continue;
      }
      let v = raw as Extract<Cond, { kind: 'cmp' }>['value'];
      if (refField) v = { field: refField.path };
      if (f.path === 'environment' && ref === undefined) {
        v = (Array.isArray(raw) ? raw.map((x) => normalizeEnvironment(String(x))) : typeof raw === 'string' ? normalizeEnvironment(raw) : raw) as typeof v;
      }
      if (f.path === 'action' && ref === undefined && (typeof raw === 'string' || Array.isArray(raw))) {
        v = (Array.isArray(raw) ? raw.map((x) => (typeof x === 'string' ? x.toLowerCase() : x)) : raw.toLowerCase()) as typeof v;
      }
      if (op === 'exists' && !f.optional) {
        this.err(p, 'lint/always-present', `every request has \`${f.path}\`, so \`exists: ${String(raw)}\` is always ${raw ? 'true' : 'false'}.`, 'Remove the condition.', false, 'warning');
      }
      out.push({ kind: 'cmp', field: f.path, op, value: v, span });
    }
    return out;
  }
}

function isFieldRef(v: unknown): v is { field: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { field?: unknown }).field === 'string';
}

function impliedType(op: CmpOp, v: unknown): FieldType | undefined {
  switch (op) {
    case 'gt': case 'gte': case 'lt': case 'lte': return 'Decimal';
    case 'glob': case 'not_glob': return 'String';
    case 'contains': case 'contains_any': return 'Set<String>';
    case 'exists': return undefined;
    default: {
      const first = Array.isArray(v) ? v[0] : v;
      return typeof first === 'number' ? 'Decimal' : typeof first === 'boolean' ? 'Boolean' : 'String';
    }
  }
}

function operatorProblem(f: Field, op: CmpOp, v: unknown): string | undefined {
  const vals = Array.isArray(v) ? v : [v];
  const numeric = f.type === 'Long' || f.type === 'Decimal';
  if (op === 'exists') return undefined;
  if (['gt', 'gte', 'lt', 'lte'].includes(op)) {
    if (!numeric) return `\`${op}\` compares numbers`;
    if (f.type === 'Long' && !Number.isInteger(v)) return `\`${f.path}\` holds whole numbers; ${String(v)} is not one`;
    return numberProblem(f, v as number);
  }
  if (op === 'glob' || op === 'not_glob') return f.type === 'String' ? undefined : `\`${op}\` matches text`;
  if (op === 'contains' || op === 'contains_any') return f.type === 'Set<String>' ? undefined : `\`${op}\` applies to lists`;
  const want = numeric ? 'number' : f.type === 'Boolean' ? 'boolean' : f.type === 'String' ? 'string' : 'none';
  if (want === 'none') return `\`${op}\` does not apply to a list; use contains or contains_any`;
  for (const x of vals) {
    if (typeof x !== want) return `${JSON.stringify(x)} is not ${article(f.type)}`;
    if (f.type === 'Long' && !Number.isInteger(x)) return `\`${f.path}\` holds whole numbers; ${String(x)} is not one`;
    const range = numeric ? numberProblem(f, x as number) : undefined;
    if (range) return range;
  }
  return undefined;
}

/** Cedar's decimal holds four fraction digits in 64 bits; the engine passes values up to this magnitude. */
const DECIMAL_LIMIT = 922337203685477;

/** A number literal Cedar cannot hold exactly would be rounded or rejected there: report it here. */
function numberProblem(f: Field, x: number): string | undefined {
  if (f.type === 'Long') {
    return Number.isSafeInteger(x) ? undefined : `${String(x)} is out of range for \`${f.path}\` (whole numbers up to ${Number.MAX_SAFE_INTEGER})`;
  }
  if (!(Math.abs(x) < DECIMAL_LIMIT)) return `${String(x)} is out of range for \`${f.path}\` (numbers below ${DECIMAL_LIMIT})`;
  if (Number(x.toFixed(4)) !== x) return `\`${f.path}\` is compared to four decimal places; ${String(x)} has more`;
  return undefined;
}

function helpFor(t: FieldType): string {
  switch (t) {
    case 'String': return 'Text fields take eq, ne, in, not_in, glob, not_glob and exists.';
    case 'Long': case 'Decimal': return 'Number fields take eq, ne, in, not_in, gt, gte, lt, lte and exists.';
    case 'Boolean': return 'Boolean fields take eq, ne and exists.';
    case 'Set<String>': return 'List fields take contains, contains_any and exists.';
  }
}

function article(t: FieldType): string {
  return { String: 'a string', Long: 'a whole number', Decimal: 'a number', Boolean: 'a boolean', 'Set<String>': 'a list of strings' }[t];
}

/** Builds the model of all loaded policy files; diagnostics for what does not make sense. */
export function buildModel(policies: LoadedPolicy[]): PolicyModel {
  const valid = policies.filter((p) => p.data);
  if (!valid.length) return { rules: [], tests: [], custom: new Map(), diagnostics: [] };
  const b = new Builder(valid[0]!.file);
  for (const p of valid) {
    b.setFile(p.file);
    p.data!.rules?.forEach((r, i) => b.rule(r, ['rules', i]));
    p.data!.tests?.forEach((t, i) => b.tests.push({ test: t, file: p.file, span: spanAt(p.file, ['tests', i, 'name'], true), path: ['tests', i] }));
    if (!p.data!.rules?.length && !p.data!.tests?.length) {
      b.err([], 'policy/empty-file', `${p.file.path} has no rules.`, 'Add `rules:`, or delete the file.', false, 'warning');
    }
  }
  // Custom attributes used only with `exists` default to String.
  return { rules: b.rules, tests: b.tests, custom: b.custom, diagnostics: b.diagnostics };
}
