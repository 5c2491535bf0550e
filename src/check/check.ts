// `govern check` as a library: load, schema, model, lints, compile, Cedar validation against the
// generated schema, and the policies' own tests. Each stage adds diagnostics and the next goes on
// where it can; the tests run only on a bundle that compiled without errors.
import type { Code, Diagnostic } from '../diagnostics/diagnostic.js';
import { isTestCode } from '../diagnostics/codes.js';
import { sortDiagnostics } from '../diagnostics/diagnostic.js';
import { compileBundle, type Bundle, type RawCedarPolicy } from '../compile/bundle.js';
import { engineVersion, expressionProblem, parseProblems, readPolicySet, schemaProblems, validate, validateIfParsed, type CedarProblem } from '../cedar/cedar.js';
import { Engine } from '../engine/engine.js';
import { factsOf, type Facts } from '../engine/facts.js';
import { cachePath, readSealedJson, writeSealed } from '../cache/sealed.js';
import { createHash } from 'node:crypto';
import { loadPolicies } from '../policy/load.js';
import { buildModel, type Cond, type PolicyModel, type RuleIR, type TestIR } from '../policy/model.js';
import { lint } from '../policy/lint.js';
import { diag, spanAt, spanOf, type SourceFile } from '../policy/source.js';
import { normalizeRequest, RequestError } from '../request/normalize.js';

export interface CheckOptions {
  /** Run the policies' tests (default true). */
  tests?: boolean;
}

export interface TestResult {
  name: string;
  file: string;
  line: number;
  passed: boolean;
  expected: string;
  actual?: string;
  /** The rules among the decision's reasons. */
  decidedBy?: string[];
  message?: string;
}

export interface CheckResult {
  diagnostics: Diagnostic[];
  sources: Map<string, string>;
  model: PolicyModel;
  bundle?: Bundle;
  tests: TestResult[];
  files: number;
}

export function hasErrors(d: Diagnostic[]): boolean {
  return d.some((x) => x.severity === 'error' && !isTestCode(x.code));
}

/** Loads and compiles; `bundle` is set only when there are no errors. */
export function check(paths: string[], opts: CheckOptions = {}): CheckResult {
  const loaded = loadPolicies(paths);
  const diagnostics = [...loaded.diagnostics];
  const sources = new Map(loaded.files.map((f) => [f.path, f.text]));
  const model = buildModel(loaded.policies);
  diagnostics.push(...model.diagnostics, ...lint(model));

  const conditions = cedarConditions(model);
  const raw = readCedarFiles(loaded.cedarFiles, diagnostics);
  diagnostics.push(...duplicateIds(model, raw));

  const result: CheckResult = { diagnostics, sources, model, tests: [], files: loaded.files.length };
  if (hasErrors(diagnostics)) {
    result.diagnostics = sortDiagnostics([...diagnostics, ...conditions.diagnostics]);
    return result;
  }
  // A rule whose `cedar:` condition is refused is left out, so that Cedar still checks the others.
  diagnostics.push(...conditions.diagnostics);
  const compiled = compileBundle(conditions.refused.size ? { ...model, rules: model.rules.filter((r) => !conditions.refused.has(r)) } : model, raw);
  diagnostics.push(...compiled.diagnostics);
  diagnostics.push(...cedarDiagnostics(compiled.bundle, model, raw));
  if (!hasErrors(diagnostics)) {
    result.bundle = compiled.bundle;
    if (opts.tests !== false) {
      const t = runTests(compiled.bundle, model);
      result.tests = t.results;
      diagnostics.push(...t.diagnostics);
    }
  }
  result.diagnostics = sortDiagnostics(diagnostics);
  return result;
}

/** Every policy of every `.cedar` file, read by Cedar's parser; what cannot be read is reported. */
function readCedarFiles(files: SourceFile[], diagnostics: Diagnostic[]): RawCedarPolicy[] {
  const raw: RawCedarPolicy[] = [];
  for (const file of files) {
    const r = readPolicySet(file.text);
    for (const p of r.problems) diagnostics.push(cedarDiag(file, p, 0, 'cedar/parse'));
    r.policies.forEach((p, i) => {
      const span = spanOf(file, p.offset, p.offset);
      const named = p.annotations.id;
      if (named !== undefined && named.trim() === '') {
        diagnostics.push(diag(file, span, 'error', 'cedar/invalid-id', `the policy at ${file.path}:${span.line}:${span.column} has an empty \`@id\`.`, 'Give it a name: `@id("deny-something")`, unique across the policies.'));
      }
      const id = named || `${file.path}#${i}`;
      raw.push({ id, text: p.text, source: `${file.path}:${span.line}:${span.column}`, file, offset: p.offset, effect: p.effect, annotations: p.annotations, matcher: p.matcher });
    });
  }
  return raw;
}

/** Ids are unique across YAML rules and Cedar policies: a later one must never replace an earlier one. */
function duplicateIds(model: PolicyModel, raw: RawCedarPolicy[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const first = new Map<string, { file: string; line: number; column: number }>();
  for (const r of model.rules) if (!first.has(r.id)) first.set(r.id, { file: r.file.path, line: r.span.line, column: r.span.column });
  for (const p of raw) {
    const span = spanOf(p.file, p.offset, p.offset);
    const prev = first.get(p.id);
    if (prev) {
      out.push({
        ...diag(p.file, span, 'error', 'policy/duplicate-id', `policy id \`${p.id}\` is already used at ${prev.file}:${prev.line}:${prev.column}.`, 'Ids are unique across the YAML rules and Cedar policies: they name the decision reasons, and a later policy must not stand in for an earlier one. Give one of them another `@id`.'),
        related: [{ message: 'first defined here', ...prev }],
      });
    } else first.set(p.id, { file: p.file.path, line: span.line, column: span.column });
  }
  return out;
}

/** Each `cedar:` condition, read alone by Cedar: exactly one expression, not text that escapes its place. */
function cedarConditions(model: PolicyModel): { diagnostics: Diagnostic[]; refused: Set<RuleIR> } {
  const out: Diagnostic[] = [];
  const refused = new Set<RuleIR>();
  for (const rule of model.rules) {
    const stack: Cond[] = [...rule.when];
    while (stack.length) {
      const c = stack.pop()!;
      if (c.kind === 'all' || c.kind === 'any') stack.push(...c.items);
      else if (c.kind === 'not') stack.push(c.item);
      else if (c.kind === 'cedar') {
        const p = expressionProblem(c.text);
        if (p) {
          out.push(diag(rule.file, c.span, 'error', p.code, `in the cedar condition of rule \`${rule.id}\`: ${p.message}`, p.help));
          refused.add(rule);
        }
      }
    }
  }
  return { diagnostics: out, refused };
}

function cedarDiag(file: SourceFile, p: CedarProblem, base: number, code: Code): Diagnostic {
  const s = spanOf(file, base + (p.start ?? 0), base + (p.end ?? p.start ?? 0));
  return diag(file, s, 'error', code, p.message, p.help);
}

/** Cedar's verdict on the generated text, mapped back to the YAML that produced it. */
function cedarDiagnostics(bundle: Bundle, model: PolicyModel, raw: RawCedarPolicy[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const policies = Object.fromEntries(bundle.rules.map((r) => [r.id, r.text]));
  const rulesById = new Map(model.rules.map((r) => [r.id, r]));
  const rawById = new Map(raw.map((r) => [r.id, r]));
  const place = (p: CedarProblem, code: Code) => {
    const rawPolicy = p.policyId ? rawById.get(p.policyId) : undefined;
    if (rawPolicy) return cedarDiag(rawPolicy.file, p, rawPolicy.offset, code);
    const rule = p.policyId ? rulesById.get(p.policyId) : undefined;
    if (!rule) return { code, severity: 'error' as const, message: p.message, ...(p.help ? { help: p.help } : {}), file: '<bundle>', line: 1, column: 1, endLine: 1, endColumn: 1 };
    return ruleDiag(rule, bundle.byId.get(rule.id)!.text, p, code);
  };
  // Everything parses in the usual case: one call then parses and validates the whole set. Only
  // when it does not are the schema and the policies parsed apart, to say which is wrong.
  const clean = keptValidation(bundle.schema, policies);
  if (clean) {
    for (const p of clean) out.push(place(p, 'cedar/validation'));
  } else {
    const schemaErr = schemaProblems(bundle.schema);
    if (schemaErr.length) {
      throw new Error(`internal error: the generated Cedar schema does not parse: ${schemaErr.map((e) => e.message).join('; ')}`);
    }
    const parse = parseProblems(policies);
    for (const p of parse) out.push(place(p, 'cedar/parse'));
    const bad = new Set(parse.map((p) => p.policyId));
    const good = Object.fromEntries(Object.entries(policies).filter(([id]) => !bad.has(id)));
    for (const p of validate(bundle.schema, good)) out.push(place(p, 'cedar/validation'));
  }
  // The same problem is reported once per action it applies to; one is enough.
  const seen = new Set<string>();
  return out.filter((d) => {
    const k = `${d.file}:${d.line}:${d.column}:${d.message.replace(/ for Action::"[^"]*"/, '')}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Points at the `cedar:` condition when the problem lies in its text, else at the rule. */
function ruleDiag(rule: RuleIR, text: string, p: CedarProblem, code: Code): Diagnostic {
  const start = p.start ?? 0;
  const stack = [...rule.when];
  while (stack.length) {
    const c = stack.pop()!;
    if (c.kind === 'all' || c.kind === 'any') stack.push(...c.items);
    else if (c.kind === 'not') stack.push(c.item);
    else if (c.kind === 'cedar') {
      const at = text.indexOf(`(${c.text})`);
      if (at >= 0 && start >= at && start <= at + c.text.length + 2) {
        return diag(rule.file, c.span, 'error', code, `in the cedar condition of rule \`${rule.id}\`: ${p.message.replace(/ for Action::"[^"]*"/, '')}`, p.help);
      }
    }
  }
  return diag(rule.file, rule.span, 'error', code, `rule \`${rule.id}\` compiles to Cedar that ${code === 'cedar/parse' ? 'does not parse' : 'does not validate'}: ${p.message.replace(/ for Action::"[^"]*"/, '')}`, p.help);
}

/** Runs every `tests:` entry against the bundle; a failure is a `test/failed` diagnostic at the test. */
export function runTests(bundle: Bundle, model: PolicyModel): { results: TestResult[]; diagnostics: Diagnostic[] } {
  const decide = testDecider(bundle, model);
  const results: TestResult[] = [];
  const diagnostics: Diagnostic[] = [];
  const ruleIds = new Set(bundle.rules.map((r) => r.id));
  for (const [i, t] of model.tests.entries()) {
    const tr = runOne((facts) => decide(i, facts), t, ruleIds, diagnostics);
    results.push(tr);
    if (!tr.passed && tr.message) diagnostics.push(diag(t.file, t.span, 'error', 'test/failed', `test \`${t.test.name}\` failed: ${tr.message}`, 'Fix the rules or the expectation; `govern explain` shows why a request is decided as it is.'));
  }
  decide.done();
  return { results, diagnostics };
}

// ---- what check keeps between runs ----
// Cedar's answers for the same input are the same, and a short check spends most of its time on
// the first call of Cedar's validator and authorizer in the process (V8 compiling their code).
// Both answers are kept, sealed, in the user's cache folder (cache/sealed.ts), keyed by the
// versions of govern and Cedar and exactly what Cedar was given; lints, compiling and comparing
// each decision with its test's expectation run every time.

/** Where a kept answer lives: its kind's folder, by the hash of the versions and its input. */
function keptPath(kind: string, input: unknown[], replacer?: (k: string, v: unknown) => unknown): string | undefined {
  return cachePath(kind, `${createHash('sha256').update(JSON.stringify([engineVersion(), ...input], replacer)).digest('hex')}.json`);
}

/** Where the validation of these policies against this schema is kept. */
export function validationCachePath(schema: string, policies: Record<string, string>): string | undefined {
  return keptPath('validation', [schema, policies]);
}

/** validateIfParsed, or the problems it gave for the same schema and policies before. */
function keptValidation(schema: string, policies: Record<string, string>): CedarProblem[] | undefined {
  const file = validationCachePath(schema, policies);
  const v = file ? readSealedJson(file) : undefined;
  const problem = (p: unknown) => typeof p === 'object' && p !== null && typeof (p as CedarProblem).message === 'string';
  if (Array.isArray(v) && v.every(problem)) return v as CedarProblem[];
  const problems = validateIfParsed(schema, policies);
  if (file && problems) writeSealed(file, JSON.stringify(problems));
  return problems;
}

/** What a test compares of a decision. */
interface TestOutcome { decision: string; tier: number; reasons: string[]; warnings: string[] }

/**
 * Decides each test's facts with the bundle (Cedar, requests checked against the schema), or takes
 * the outcome kept from an earlier run of the same tests on the same bundle.
 */
function testDecider(bundle: Bundle, model: PolicyModel): ((i: number, facts: Facts) => TestOutcome) & { done(): void } {
  const file = testOutcomesPath(bundle, model);
  const kept = file ? keptOutcomes(readSealedJson(file), model.tests.length) : undefined;
  const made: (TestOutcome | null)[] = model.tests.map((_, i) => kept?.[i] ?? null);
  let engine: Engine | undefined;
  const decide = (i: number, facts: Facts): TestOutcome => {
    const k = kept?.[i];
    if (k) return k;
    engine ??= new Engine(bundle, { validate: true });
    const d = engine.decide(facts);
    const o = { decision: d.decision, tier: d.tier, reasons: d.reasons.map((r) => r.rule).filter((x): x is string => !!x), warnings: d.warnings.map((w) => w.rule) };
    made[i] = o;
    return o;
  };
  return Object.assign(decide, { done: () => { if (file && engine) writeSealed(file, JSON.stringify(made)); } });
}

/** Where the outcomes of a model's tests on a bundle are kept: by the bundle and every test's request and facts. */
export function testOutcomesPath(bundle: Bundle, model: PolicyModel): string | undefined {
  // JSON writes NaN and the infinities as null and -0 as 0, which YAML can say apart: the key does
  // too, writing each such number as a string that no string value can be (those start with "s").
  const exact = (_k: string, v: unknown) => (typeof v === 'string' ? `s${v}` : typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? `n${Object.is(v, -0) ? '-0' : String(v)}` : v);
  return keptPath('tests', [bundle.hash, model.tests.map((t) => [t.test.request, t.test.facts ?? null])], exact);
}

/** Kept test outcomes, one per test (null for a test whose request is refused), or undefined when `v` is not that. */
function keptOutcomes(v: unknown, n: number): (TestOutcome | null)[] | undefined {
  const names = (x: unknown) => Array.isArray(x) && x.every((y) => typeof y === 'string');
  const ok = (o: unknown) => o === null || (typeof o === 'object' && typeof (o as TestOutcome).decision === 'string' && typeof (o as TestOutcome).tier === 'number' && names((o as TestOutcome).reasons) && names((o as TestOutcome).warnings));
  return Array.isArray(v) && v.length === n && v.every(ok) ? (v as (TestOutcome | null)[]) : undefined;
}

function runOne(decide: (facts: Facts) => TestOutcome, t: TestIR, ruleIds: Set<string>, diagnostics: Diagnostic[]): TestResult {
  const base = { name: t.test.name, file: t.file.path, line: t.span.line, expected: t.test.expect };
  for (const [key, list] of [['rules', t.test.rules], ['warnings', t.test.warnings]] as const) {
    (list ?? []).forEach((id, i) => {
      if (!ruleIds.has(id)) diagnostics.push(diag(t.file, spanAt(t.file, [...t.path, key, i]), 'error', 'lint/unknown-test-rule', `test \`${t.test.name}\` names rule \`${id}\`, which does not exist.`, 'Use the id of a rule in the policy folder.'));
    });
  }
  let request;
  try {
    request = normalizeRequest(t.test.request);
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    diagnostics.push(diag(t.file, spanAt(t.file, [...t.path, 'request', ...e.field.split('.')]), 'error', 'test/bad-request', `test \`${t.test.name}\`: ${e.message}`));
    return { ...base, passed: false };
  }
  const f = t.test.facts ?? {};
  const facts = factsOf(request, { hour: 12, ...f });
  const d = decide(facts);
  const problems: string[] = [];
  const got = d.reasons;
  if (d.decision !== t.test.expect) problems.push(`expected ${t.test.expect}, got ${d.decision}${got.length ? ` (by ${got.join(', ')})` : ' (no rule decided)'}`);
  if (t.test.tier !== undefined && d.tier !== t.test.tier) problems.push(`expected tier ${t.test.tier}, got ${d.tier}`);
  for (const id of t.test.rules ?? []) if (ruleIds.has(id) && !got.includes(id)) problems.push(`expected rule \`${id}\` among the reasons, got ${got.length ? got.join(', ') : 'none'}`);
  const warned = d.warnings;
  for (const id of t.test.warnings ?? []) if (ruleIds.has(id) && !warned.includes(id)) problems.push(`expected warning from \`${id}\`, got ${warned.length ? warned.join(', ') : 'none'}`);
  return { ...base, passed: problems.length === 0, actual: d.decision, decidedBy: got, ...(problems.length ? { message: problems.join('; ') } : {}) };
}
