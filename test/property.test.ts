// Property tests: the compiled Cedar bundle decides generated requests exactly as the reference
// interpreter of the YAML says (test/reference.ts), globs compile to their documented meaning, and
// compilation is deterministic and always validates.
import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { stringify } from 'yaml';
import { check, type CheckResult } from '../src/check/check.js';
import type { Diagnostic } from '../src/diagnostics/diagnostic.js';
import { Engine, type Decision } from '../src/engine/engine.js';
import { categoriesFor, cedarRequest, factsOf } from '../src/engine/facts.js';
import { Authorizer, narrowRequest, reads, type CedarAnswer } from '../src/cedar/cedar.js';
import { normalizeRequest } from '../src/request/normalize.js';
import { CATEGORIES } from '../src/policy/vocabulary.js';
import {
  customTypes, globMatches, referenceDecide, type RefDecision, type RefFacts, type Scalar, type YamlCondition, type YamlRule,
} from './reference.js';

// Node 20's V8 aborts (a fatal error in a lazy deoptimization) when optimized code with an inlined
// JS-to-Wasm call is deoptimized during a Cedar call; the many generated bundles here reach that state.
setFlagsFromString('--no-turbo-inline-js-wasm-calls');

// ---------- value pools ----------

const AGENTS = ['deploy-agent', 'ops-bot', 'a', 'x.y', 'q"\\ü'];
const TEAMS = ['team-alpha', 'team-beta', 'ops'];
const ACTIONS = ['delete', 'read', 'update', 'deploy', 'rm', 'audit', 'frobnicate', 'read_logs', 'get-secret'];
const TYPES = ['file', 'k8s:pod', 'k8s:deployment', 'db:table', 'none', 'x"y'];
const IDS = ['web-1', 'db', 'src/a.ts', 'x'];
const ENVS = ['production', 'prod', 'staging', 'stg', 'dev', 'test', 'qa', 'sandbox'];
const NAMESPACES = ['team-alpha', 'team-beta', 'kube-system', 'default'];
const PATHS = [
  'src/a.ts', 'src/lib/a.ts', 'src/lib/util/b.ts', 'secrets/db.yaml', '.env', 'app/.env.local', 'logs/x.log', '/etc/passwd',
  'a/b/c/d.ts', 'a/x/y/c/d.ts', 'tmp/x', 'src//a.ts', 'secrets/', 'my dir/ü.txt', 'a"b\\c.txt',
];
/** Patterns written the way policy authors write them, for the fields that hold paths. */
const PATH_GLOBS = [
  'src/*', 'src/*.ts', '*.ts', 'src/**', '**/a.ts', '**/.env', 'secrets/**', 'secrets/*', '.env*', 'a/*/c/d.ts', 'a/**/d.ts',
  '/etc/*', '*', '**', 'logs/*.log', 'src/**/a.ts', '**/lib/**', '*/*', '**/*.ts', 'src/?.ts',
];
const BASENAMES = ['a.ts', '.env', 'x.log', 'passwd', 'd.ts', 'db.yaml'];
const CLASSES = ['public', 'internal', 'pii', 'secret'];
const COMMANDS = ['rm -rf /', 'kubectl delete pod web-1', 'ls -la', 'terraform destroy'];
const RISKS = ['low', 'medium', 'high', 'critical'];
const DOMAINS = ['example.com', 'corp.internal', 'evil.io'];
const TAGS = ['a', 'b', 'c', 'prod'];
const FINDINGS = ['aws-access-key', 'email', 'ssn', 'rm-root', 'git-force-push', 'prompt-injection', 'jwt'];
const DETECTED = ['secret', 'pii', 'destructive', 'injection', ...FINDINGS];

type FT = 'String' | 'Long' | 'Decimal' | 'Boolean' | 'Set<String>';
interface FieldSpec { name: string; type: FT; pool: readonly (string | number | boolean)[]; weight?: number }

const ints = (lo: number, hi: number, step = 1) => Array.from({ length: Math.floor((hi - lo) / step) + 1 }, (_, i) => lo + i * step);

const FIELDS: FieldSpec[] = [
  { name: 'agent.id', type: 'String', pool: AGENTS },
  { name: 'agent.team', type: 'String', pool: TEAMS, weight: 2 },
  { name: 'resource.type', type: 'String', pool: TYPES },
  { name: 'resource.id', type: 'String', pool: IDS },
  { name: 'resource.path', type: 'String', pool: PATHS, weight: 6 },
  { name: 'resource.basename', type: 'String', pool: BASENAMES, weight: 2 },
  { name: 'resource.namespace', type: 'String', pool: NAMESPACES },
  { name: 'resource.classification', type: 'String', pool: CLASSES },
  { name: 'action', type: 'String', pool: ACTIONS },
  { name: 'environment', type: 'String', pool: ENVS, weight: 2 },
  { name: 'namespace', type: 'String', pool: NAMESPACES, weight: 2 },
  { name: 'command', type: 'String', pool: COMMANDS },
  { name: 'risk', type: 'String', pool: RISKS },
  { name: 'context.domain', type: 'String', pool: DOMAINS },
  { name: 'context.in', type: 'String', pool: ['x', 'y'] },
  { name: 'resource.owner', type: 'String', pool: TEAMS },
  { name: 'resource.has', type: 'String', pool: ['x', 'y'] },
  { name: 'trust', type: 'Long', pool: ints(0, 100, 10), weight: 2 },
  { name: 'agent.trust', type: 'Long', pool: ints(0, 100, 10) },
  { name: 'hour', type: 'Long', pool: ints(0, 23) },
  { name: 'cost.tokens', type: 'Long', pool: [0, 100, 1000, 5000] },
  { name: 'budget.used_pct', type: 'Long', pool: [0, 50, 80, 95, 100, 120] },
  { name: 'cost.usd', type: 'Decimal', pool: [0, 0.5, 1, 9.99, 10, 50, 50.01, 100], weight: 2 },
  { name: 'context.age_hours', type: 'Decimal', pool: [-1.5, 0, 1, 24, 72.25] },
  { name: 'resource.size', type: 'Decimal', pool: [0, 1.5, 100, 1024] },
  { name: 'budget.exceeded', type: 'Boolean', pool: [true, false] },
  { name: 'context.has_backup', type: 'Boolean', pool: [true, false], weight: 2 },
  { name: 'resource.is', type: 'Boolean', pool: [true, false] },
  { name: 'context.tags', type: 'Set<String>', pool: TAGS },
  { name: 'context.if', type: 'Set<String>', pool: TAGS },
  { name: 'context.__cedar', type: 'Decimal', pool: [0, 2.5, 10] },
  { name: 'resource.labels', type: 'Set<String>', pool: TAGS },
];

/** Fields another field may be compared with (`{eq: {field: ...}}`), by type. */
const REF_TARGETS: Record<FT, string[]> = {
  String: ['agent.id', 'agent.team', 'resource.type', 'resource.namespace', 'namespace', 'environment', 'action', 'context.domain', 'resource.owner'],
  Long: ['agent.trust', 'trust', 'hour', 'cost.tokens', 'budget.used_pct'],
  Decimal: ['cost.usd'],
  Boolean: ['budget.exceeded'],
  'Set<String>': [],
};

// ---------- globs ----------

/** A pattern cut out of a sample value: a slice of it replaced by a wildcard. */
const cut = (values: readonly string[], wildcard: fc.Arbitrary<string>) =>
  fc.tuple(fc.constantFrom(...values), fc.nat(), fc.nat(), wildcard).map(([v, a, b, w]) => {
    const i = Math.min(a % (v.length + 1), b % (v.length + 1));
    const j = Math.max(a % (v.length + 1), b % (v.length + 1));
    return v.slice(0, i) + w + v.slice(j);
  });

const leadingDoubleStar = (values: readonly string[]) =>
  fc.tuple(fc.constantFrom(...values), fc.nat()).map(([v, n]) => {
    const slashes = [...v].flatMap((c, i) => (c === '/' ? [i] : []));
    const tail = slashes.length ? v.slice(slashes[n % slashes.length]! + 1) : v;
    return `**/${tail || '**'}`;
  });

/** Mostly patterns Cedar can say exactly (no `?`, one `*` alone, or only `**`); sometimes not. */
function globOf(values: readonly string[]): fc.Arbitrary<string> {
  const lits = values.filter((v) => v.length > 0);
  const curated = values.some((v) => v.includes('/')) ? [{ weight: 12, arbitrary: fc.constantFrom(...PATH_GLOBS) }] : [];
  return fc.oneof(
    ...curated,
    { weight: 4, arbitrary: fc.constantFrom(...lits) },
    { weight: 8, arbitrary: cut(values, fc.constant('*')) },
    { weight: 4, arbitrary: cut(values, fc.constant('**')) },
    { weight: 4, arbitrary: leadingDoubleStar(values) },
    { weight: 1, arbitrary: cut(values, fc.constantFrom('*?', '?', '*/*', '**/*', '*.*', '**')).map((p) => (p.startsWith('**/') ? p : `**/${p}`)) },
    { weight: 1, arbitrary: cut(values, fc.constantFrom('?', '*a*', '*/**', 'a?')) },
  );
}

const globsOf = (values: readonly string[]) => fc.oneof(globOf(values), fc.array(globOf(values), { minLength: 1, maxLength: 3 }));

// ---------- conditions ----------

function scalarOf(f: FieldSpec): fc.Arbitrary<Scalar> {
  const pool = fc.constantFrom(...f.pool);
  if (f.type === 'String' && (f.name === 'environment' || f.name === 'action')) {
    return fc.tuple(pool, fc.boolean()).map(([v, up]) => (up ? String(v).toUpperCase() : v));
  }
  // Rarely, a literal Cedar cannot hold exactly: the policy must then be refused, never compiled to something else.
  if (f.type === 'Long') {
    return fc.oneof({ weight: 40, arbitrary: pool }, { weight: 10, arbitrary: fc.integer({ min: -5, max: 200 }) }, { weight: 1, arbitrary: fc.constantFrom(1e20, 2 ** 53) });
  }
  if (f.type === 'Decimal') {
    return fc.oneof(
      { weight: 40, arbitrary: pool },
      { weight: 10, arbitrary: fc.integer({ min: -10000, max: 20000 }).map((n) => n / 100) },
      { weight: 1, arbitrary: fc.constantFrom(1e15, -1e21, 0.00001, 50.00001) },
    );
  }
  return pool;
}

function operatorsOf(f: FieldSpec): [string, fc.Arbitrary<unknown>][] {
  const s = scalarOf(f);
  const vals = fc.array(s, { minLength: 1, maxLength: 3 });
  const ref = REF_TARGETS[f.type].length ? fc.constantFrom(...REF_TARGETS[f.type]).map((field) => ({ field })) : undefined;
  const eq = ref ? fc.oneof({ weight: 3, arbitrary: s }, { weight: 1, arbitrary: ref }) : s;
  const common: [string, fc.Arbitrary<unknown>][] = [['exists', fc.boolean()]];
  switch (f.type) {
    case 'String':
      return [...common, ['eq', eq], ['ne', eq], ['in', vals], ['not_in', vals], ['glob', globsOf(f.pool as string[])], ['not_glob', globsOf(f.pool as string[])]];
    case 'Long': case 'Decimal':
      return [...common, ['eq', eq], ['ne', eq], ['in', vals], ['not_in', vals], ['gt', s], ['gte', s], ['lt', s], ['lte', s]];
    case 'Boolean':
      return [...common, ['eq', eq], ['ne', eq], ['in', vals], ['not_in', vals]];
    case 'Set<String>': {
      const tags = fc.oneof(fc.constantFrom(...TAGS), fc.uniqueArray(fc.constantFrom(...TAGS), { minLength: 1, maxLength: 3 }));
      return [...common, ['contains', tags], ['contains_any', tags]];
    }
  }
}

function testOf(f: FieldSpec): fc.Arbitrary<unknown> {
  const ops = operatorsOf(f);
  const mapping = fc.uniqueArray(fc.oneof(...ops.map(([op, arb]) => arb.map((v) => [op, v] as const))), { minLength: 1, maxLength: 2, selector: (e) => e[0] })
    .map((es) => Object.fromEntries(es));
  if (f.type === 'Set<String>') return mapping;
  return fc.oneof(
    { weight: 2, arbitrary: scalarOf(f) },
    { weight: 1, arbitrary: fc.array(scalarOf(f), { minLength: 1, maxLength: 3 }) },
    { weight: 5, arbitrary: mapping },
  );
}

type Entry = readonly [string, unknown];

const fieldEntry: fc.Arbitrary<Entry> = fc.oneof(
  ...FIELDS.map((f) => ({ weight: f.weight ?? 1, arbitrary: testOf(f).map((v): Entry => [f.name, v] as const) })),
  { weight: 1, arbitrary: fc.constantFrom<Entry>(['context.only_exists', { exists: true }], ['context.only_exists', { exists: false }]) },
);

const categoryList = fc.uniqueArray(fc.constantFrom(...CATEGORIES), { minLength: 1, maxLength: 3 });
const categoryEntry: fc.Arbitrary<Entry> = fc.oneof(
  fc.constantFrom(...CATEGORIES),
  categoryList,
  fc.record({ in: categoryList }),
  fc.record({ not_in: categoryList }),
  fc.record({ ne: fc.constantFrom(...CATEGORIES) }),
).map((v) => ['category', v] as const);

const detectedEntry: fc.Arbitrary<Entry> = fc
  .oneof(fc.constantFrom(...DETECTED), fc.uniqueArray(fc.constantFrom(...DETECTED), { minLength: 1, maxLength: 3 }))
  .map((v) => ['detected', v] as const);

function conditionOf(depth: number): fc.Arbitrary<YamlCondition> {
  const entries: fc.WeightedArbitrary<Entry>[] = [
    { weight: 8, arbitrary: fieldEntry },
    { weight: 1, arbitrary: categoryEntry },
    { weight: 1, arbitrary: detectedEntry },
  ];
  if (depth > 0) {
    const sub = conditionOf(depth - 1);
    entries.push(
      { weight: 1, arbitrary: fc.array(sub, { minLength: 1, maxLength: 3 }).map((v) => ['all', v] as const) },
      { weight: 2, arbitrary: fc.array(sub, { minLength: 1, maxLength: 3 }).map((v) => ['any', v] as const) },
      { weight: 2, arbitrary: sub.map((v) => ['not', v] as const) },
    );
  }
  return fc.uniqueArray(fc.oneof(...entries), { minLength: 1, maxLength: 2, selector: (e) => e[0] })
    .map((es) => Object.fromEntries(es) as YamlCondition);
}

const condition = conditionOf(2);

// ---------- rules ----------

/** Absent (undefined) once in `freq` times. */
const maybe = <T>(a: fc.Arbitrary<T>, freq: number) => fc.option(a, { freq, nil: undefined });

/** The object without its undefined keys. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const fieldSpec = (name: string) => FIELDS.find((f) => f.name === name)!;

const oneOrMany = <T>(a: fc.Arbitrary<T>) => fc.oneof(a, fc.array(a, { minLength: 1, maxLength: 3 }));

const matchEntries: fc.Arbitrary<Entry>[] = [
  oneOrMany(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...AGENTS) }, { weight: 1, arbitrary: globOf(AGENTS) })).map((v) => ['agent', v] as const),
  oneOrMany(fc.constantFrom(...CATEGORIES)).map((v) => ['category', v] as const),
  oneOrMany(fc.oneof({ weight: 2, arbitrary: scalarOf(fieldSpec('action')).map(String) }, { weight: 1, arbitrary: globOf(ACTIONS) })).map((v) => ['action', v] as const),
  oneOrMany(fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...TYPES) }, { weight: 1, arbitrary: globOf(TYPES) })).map((v) => ['resource', v] as const),
  oneOrMany(fc.oneof({ weight: 3, arbitrary: scalarOf(fieldSpec('environment')).map(String) }, { weight: 1, arbitrary: globOf(ENVS) })).map((v) => ['environment', v] as const),
  oneOrMany(fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...NAMESPACES) }, { weight: 1, arbitrary: globOf(NAMESPACES) })).map((v) => ['namespace', v] as const),
];

const matchArb = fc.uniqueArray(fc.oneof(...matchEntries), { maxLength: 3, selector: (e) => e[0] }).map((es) => Object.fromEntries(es) as YamlRule['match']);

const ruleArb = fc
  .tuple(
    fc.constantFrom('allow', 'allow', 'allow', 'deny', 'escalate', 'warn') as fc.Arbitrary<YamlRule['effect']>,
    maybe(fc.boolean(), 2),
    maybe(matchArb, 4),
    maybe(fc.oneof({ weight: 3, arbitrary: condition }, { weight: 1, arbitrary: fc.array(condition, { minLength: 1, maxLength: 2 }) }), 3),
  )
  .map(([effect, audit, match, when]) => defined({ effect, audit, match: match && Object.keys(match).length ? match : undefined, when }));

const rulesArb = fc.array(ruleArb, { minLength: 1, maxLength: 6 }).map((rs) =>
  rs.map((r, i) => ({ id: `r${i}-${r.effect}`, ...r }) as YamlRule),
);

// ---------- requests ----------

/** A value of any JSON type, for custom attributes that may be of the wrong type. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('x', 'team-alpha', 'example.com', ''),
  fc.constantFrom(0, 1.5, 24, -3, 72.25, 1e16),
  fc.boolean(),
  fc.constantFrom([], ['a'], ['a', 'b'], ['prod', 'c'], [1, 'a']),
  fc.constant(null),
  fc.constant({ nested: 1 }),
);

const attr = <T>(right: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: right as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: anyValue });

const resourceArb = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom('k8s:pod/web-1', 'db:table', 'file:src/a.ts', 'file:secrets/.env', 'k8s:deployment/api') },
  {
    weight: 3,
    arbitrary: fc
      .record({
        type: maybe(fc.constantFrom(...TYPES), 8),
        id: maybe(fc.oneof(fc.constantFrom(...IDS), fc.constant(7)), 4),
        path: maybe(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...PATHS) }, { weight: 1, arbitrary: fc.constant(null) }), 3),
        namespace: maybe(fc.constantFrom(...NAMESPACES), 2),
        classification: maybe(fc.constantFrom(...CLASSES), 2),
        basename: maybe(fc.constant('not-from-path'), 2),
        owner: maybe(attr(fc.constantFrom(...TEAMS)), 3),
        size: maybe(attr(fc.constantFrom(0, 1.5, 100, 1024, 50.01)), 3),
        is: maybe(attr(fc.boolean()), 3),
        has: maybe(attr(fc.constantFrom('x', 'y')), 3),
        labels: maybe(attr(fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 3 })), 3),
      })
      .map(defined),
  },
);

const requestArb = fc
  .record({
    agent: fc.oneof(
      fc.constantFrom(...AGENTS),
      fc.record({ id: fc.constantFrom(...AGENTS), team: maybe(fc.constantFrom(...TEAMS), 3), trust: maybe(fc.integer({ min: 0, max: 100 }), 2) }).map(defined),
    ),
    action: maybe(scalarOf(fieldSpec('action')).map(String), 6),
    command: maybe(fc.constantFrom(...COMMANDS), 2),
    category: maybe(fc.constantFrom(...CATEGORIES, 'delete'), 2),
    resource: maybe(resourceArb, 6),
    environment: maybe(scalarOf(fieldSpec('environment')).map(String), 6),
    namespace: maybe(fc.constantFrom(...NAMESPACES), 3),
    cost: maybe(fc.record({ usd: maybe(fc.constantFrom(0, 0.5, 10, 50, 50.01, 120.5), 6), tokens: maybe(fc.constantFrom(0, 100, 5000), 6) }).map(defined), 3),
    context: maybe(
      fc.record({
        has_backup: maybe(attr(fc.boolean()), 3),
        age_hours: maybe(attr(fc.constantFrom(-1.5, 0, 1, 24, 72.25, 100)), 3),
        domain: maybe(attr(fc.constantFrom(...DOMAINS)), 3),
        tags: maybe(attr(fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 3 })), 3),
        in: maybe(attr(fc.constantFrom('x', 'y')), 3),
        if: maybe(attr(fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 3 })), 3),
        __cedar: maybe(attr(fc.constantFrom(0, 2.5, 10)), 3),
        only_exists: maybe(anyValue, 2),
      }).map(defined),
      6,
    ),
  })
  .map((r) => defined(r.action === undefined && r.command === undefined ? { ...r, action: 'read' } : r));

const factsArb: fc.Arbitrary<RefFacts> = fc
  .record({
    findings: maybe(fc.uniqueArray(fc.constantFrom(...FINDINGS), { maxLength: 3 }), 3),
    trust: maybe(fc.integer({ min: 0, max: 100 }), 3),
    team: maybe(fc.constantFrom(...TEAMS), 2),
    hour: fc.integer({ min: 0, max: 23 }),
    risk: maybe(fc.constantFrom(...RISKS), 2),
    budget: maybe(fc.record({ used_pct: maybe(fc.constantFrom(0, 50, 80, 95, 100, 120), 4), exceeded: maybe(fc.boolean(), 4) }).map(defined), 3),
  })
  .map(defined);

const caseArb = fc.record({
  rules: rulesArb,
  requests: fc.array(fc.tuple(requestArb, factsArb), { minLength: 2, maxLength: 12 }),
  split: fc.boolean(),
});

/** Paths and patterns over a few shared atoms, so that patterns often nearly match. */
const ATOMS = ['a', 'b', 'src', '.env', 'x.ts', 'ü', '"', '\\', ' ', '.'];
const pathArb = fc.array(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ATOMS) }, { weight: 1, arbitrary: fc.constant('') }), { minLength: 1, maxLength: 5 }).map((xs) => xs.join('/'));
const patternArb = fc.oneof(
  fc.constantFrom(...PATH_GLOBS),
  fc.array(fc.constantFrom(...ATOMS, '/', '*', '**', '?', '*', '/'), { minLength: 1, maxLength: 6 }).map((xs) => xs.join('')),
  fc.tuple(fc.boolean(), fc.array(fc.constantFrom(...ATOMS, '**', '/'), { minLength: 1, maxLength: 4 }), fc.constantFrom('', '*', '**')).map(
    ([lead, xs, w]) => `${lead ? '**/' : ''}${xs.join('/')}${w}`,
  ),
  globOf(PATHS),
);

const globCaseArb = fc.record({
  patterns: fc.uniqueArray(patternArb, { minLength: 1, maxLength: 12 }),
  paths: fc.array(fc.oneof(pathArb, fc.constantFrom(...PATHS)), { minLength: 1, maxLength: 20 }),
});

// ---------- running ----------

function writePolicies(rules: YamlRule[], split = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'govern-prop-'));
  const half = split ? Math.ceil(rules.length / 2) : rules.length;
  writeFileSync(join(dir, 'a.yaml'), stringify({ name: 'a', rules: rules.slice(0, half) }));
  if (half < rules.length) writeFileSync(join(dir, 'b.yaml'), stringify({ name: 'b', rules: rules.slice(half) }));
  return dir;
}

function compileRules(rules: YamlRule[], split = false): { dir: string; result: CheckResult } {
  const dir = writePolicies(rules, split);
  return { dir, result: check([dir], { tests: false }) };
}

interface Outcome { decision: string; tier: number; reasons: (string | null)[]; warnings: string[]; route: string }

const sorted = <T>(xs: T[]) => [...new Set(xs)].sort() as T[];

function outcomeOf(d: Decision | RefDecision): Outcome {
  return {
    decision: d.decision,
    tier: d.tier,
    reasons: sorted(d.reasons.map((r) => (typeof r === 'object' && r !== null ? r.rule : r))),
    warnings: sorted(d.warnings.map((w) => (typeof w === 'string' ? w : w.rule))),
    route: d.route,
  };
}

const expectedError = (d: Diagnostic) =>
  d.code === 'lint/glob-inexact' || (d.code === 'policy/bad-operator' && /out of range|decimal places/.test(d.message));

const RANK = { allow: 0, escalate: 1, deny: 2 } as const;

/** Decides every request with the compiled bundle and with the reference; returns false when the case was skipped. */
function agree(rules: YamlRule[], requests: [unknown, RefFacts][], split = false): boolean {
  const { dir, result } = compileRules(rules, split);
  try {
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (!result.bundle) {
      // Only what the generator produces on purpose may stop a set: an inexact glob where a broader
      // match would permit more, and a number Cedar cannot hold.
      expect(errors.filter((e) => !expectedError(e))).toEqual([]);
      return false;
    }
    // A glob Cedar cannot say exactly is compiled broader where that can only restrict more.
    const inexact = result.diagnostics.some((d) => d.code === 'lint/glob-inexact');
    const engine = new Engine(result.bundle, { validate: true });
    const types = customTypes(rules);
    for (const [raw, facts] of requests) {
      const want = outcomeOf(referenceDecide(rules, raw, facts, types));
      const got = outcomeOf(engine.decide(factsOf(normalizeRequest(raw), facts)));
      if (inexact) expect(RANK[got.decision as keyof typeof RANK]).toBeGreaterThanOrEqual(RANK[want.decision as keyof typeof RANK]);
      else expect(got, JSON.stringify({ request: raw, facts })).toEqual(want);
    }
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('regressions found by the properties', () => {
  it('a field reference may name a field by its alias', () => {
    const rules: YamlRule[] = [
      { id: 'r0-allow', effect: 'allow', when: [{ 'cost.tokens': { eq: { field: 'trust' } } }] },
      { id: 'r1-deny', effect: 'deny', when: { 'budget.used_pct': { ne: { field: 'trust' } } } },
    ];
    expect(agree(rules, [
      [{ agent: 'deploy-agent', action: 'read' }, { hour: 0 }],
      [{ agent: 'a', action: 'read', cost: { tokens: 40 } }, { hour: 0, budget: { used_pct: 40 } }],
    ])).toBe(true);
  });

  it('a number literal Cedar cannot hold exactly is refused by the policy check', () => {
    const refused: YamlCondition[] = [{ 'cost.usd': { gt: 1e15 } }, { hour: { lt: 1e20 } }, { 'cost.usd': { gt: 0.00001 } }, { 'context.age_hours': { in: [1, 50.00001] } }];
    for (const when of refused) {
      const { dir, result } = compileRules([{ id: 'r0-deny', effect: 'deny', when }]);
      rmSync(dir, { recursive: true, force: true });
      expect(result.bundle).toBeUndefined();
      expect(result.diagnostics.map((d) => d.code)).toEqual(['policy/bad-operator']);
    }
    const { dir, result } = compileRules([{ id: 'r0-deny', effect: 'deny', when: { 'cost.usd': { gt: 50.0001 }, 'cost.tokens': { lt: 2 ** 53 - 1 } } }]);
    rmSync(dir, { recursive: true, force: true });
    expect(result.diagnostics).toEqual([]);
    expect(result.bundle).toBeDefined();
  });
});

describe('reference interpreter', () => {
  it('globs follow the documented semantics', () => {
    expect(globMatches('*.ts', 'a.ts')).toBe(true);
    expect(globMatches('*.ts', 'src/a.ts')).toBe(false);
    expect(globMatches('src/**', 'src/a/b.ts')).toBe(true);
    expect(globMatches('**/.env', '.env')).toBe(true);
    expect(globMatches('**/.env', 'a/b/.env')).toBe(true);
    expect(globMatches('**/.env', 'a.env')).toBe(false);
    expect(globMatches('a/**/b', 'a/b')).toBe(false);
    expect(globMatches('?.ts', 'a.ts')).toBe(true);
    expect(globMatches('?', '/')).toBe(false);
  });
});

describe('compiled bundle against the reference interpreter', () => {
  it('decides generated requests as the YAML says', () => {
    let compiled = 0;
    let total = 0;
    const decisions: Record<string, number> = {};
    fc.assert(
      fc.property(caseArb, ({ rules, requests, split }) => {
        total++;
        if (agree(rules, requests as [unknown, RefFacts][], split)) {
          compiled++;
          for (const [raw, facts] of requests) {
            const d = referenceDecide(rules, raw, facts);
            const k = `${d.decision}/${d.route}`;
            decisions[k] = (decisions[k] ?? 0) + 1;
          }
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 200) },
    );
    // Most generated sets compile, and the runs reach every kind of outcome.
    expect(compiled / total).toBeGreaterThan(0.6);
    expect(Object.keys(decisions).sort()).toEqual(['allow/rules', 'deny/rules', 'escalate/default', 'escalate/rules']);
  });

  it('compiles globs to their documented meaning', () => {
    fc.assert(
      fc.property(globCaseArb, ({ patterns, paths }) => {
        // One deny rule a pattern: the reasons of a decision are the patterns that match.
        const rules: YamlRule[] = patterns.map((p, i) => ({ id: `g${i}`, effect: 'deny', when: { 'resource.path': { glob: p } } }));
        const { dir, result } = compileRules(rules);
        try {
          expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
          const inexact = new Set(rules.filter((r) => result.diagnostics.some((d) => d.code === 'lint/glob-inexact' && d.message.includes(`rule \`${r.id}\``))).map((r) => r.id));
          const engine = new Engine(result.bundle!, { validate: true });
          for (const path of paths) {
            const raw = { agent: 'a', action: 'read', resource: { type: 'file', path } };
            const req = normalizeRequest(raw);
            const got = new Set(engine.decide(factsOf(req, { hour: 0 })).reasons.map((r) => r.rule));
            // Rules see the canonical path, and a deny rule its lower-case form too.
            const canonical = req.resource.path as string;
            rules.forEach((r, i) => {
              const want = globMatches(patterns[i]!, canonical) || globMatches(patterns[i]!, canonical.toLowerCase());
              // An inexact translation may match more, never less.
              if (inexact.has(r.id)) { if (want) expect(got.has(r.id), `${patterns[i]} ~ ${path}`).toBe(true); }
              else expect(got.has(r.id), `${patterns[i]} ~ ${path}`).toBe(want);
            });
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 100) },
    );
  });

  it('compiles deterministically to Cedar that validates', () => {
    fc.assert(
      fc.property(rulesArb, fc.boolean(), (rules, split) => {
        const a = compileRules(rules, split);
        const again = check([a.dir], { tests: false });
        const b = compileRules(rules, split);
        try {
          for (const r of [a.result, again, b.result]) {
            expect(r.diagnostics.filter((d) => d.code.startsWith('cedar/'))).toEqual([]);
          }
          const strip = (r: CheckResult, dir: string) => JSON.stringify(r.diagnostics).split(dir).join('<dir>');
          expect(strip(again, a.dir)).toBe(strip(a.result, a.dir));
          expect(strip(b.result, b.dir)).toBe(strip(a.result, a.dir));
          expect(!!a.result.bundle).toBe(!!b.result.bundle);
          if (a.result.bundle) {
            expect(again.bundle!.hash).toBe(a.result.bundle.hash);
            expect(again.bundle!.rules.map((r) => r.text)).toEqual(a.result.bundle.rules.map((r) => r.text));
            expect(again.bundle!.schema).toBe(a.result.bundle.schema);
            const texts = (r: CheckResult, dir: string) => r.bundle!.rules.map((x) => x.text.split(dir).join('<dir>'));
            expect(texts(b.result, b.dir)).toEqual(texts(a.result, a.dir));
          }
        } finally {
          rmSync(a.dir, { recursive: true, force: true });
          rmSync(b.dir, { recursive: true, force: true });
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 100) },
    );
  });
});

// ---------- the index ----------

/** Rules whose Cedar reads the category other than by `match.category`: asked about every category of a request. */
const CATEGORY_READERS: YamlRule[] = [
  { id: 'c0-deny', effect: 'deny', when: { category: 'DELETE', environment: 'production' } },
  { id: 'c1-escalate', effect: 'escalate', when: { cedar: 'action == Action::"ACCESS" && context.environment == "dev"' } },
  { id: 'c2-allow', effect: 'allow', match: { agent: 'a' }, when: { not: { category: ['MODIFY', 'CREATE'] } } },
];
const RAW_CEDAR = [
  '@id("raw-deny-modify") forbid (principal, action == Action::"MODIFY", resource) when { context.environment == "staging" };',
  '@id("raw-allow-reads") permit (principal, action in [Action::"ACCESS", Action::"COMPLY"], resource) when { principal.trust > 50 };',
  '@id("raw-warn") @effect("warn") permit (principal, action, resource) when { resource.type == "file" };',
].join('\n');

/** Requests that vary what the index keys on: capitals, unknown agents and verbs, no category, no environment. */
const indexRequestArb = fc
  .tuple(
    requestArb,
    fc.constantFrom(...AGENTS, 'Deploy-Agent', 'OPS-BOT', 'nobody'),
    maybe(fc.constantFrom(...ACTIONS, 'DELETE', 'Read', 'shell_exec', 'frobnicate', 'RM'), 4),
    maybe(fc.constantFrom(...ENVS, 'PRODUCTION', 'Dev', 'unknown-env'), 3),
    maybe(fc.constantFrom(...TYPES, 'FILE', 'K8S:Pod'), 3),
  )
  .map(([r, agent, action, environment, type]) => {
    const q = { ...(r as Record<string, unknown>) };
    if (typeof q.agent === 'string') q.agent = agent; else q.agent = { ...(q.agent as object), id: agent };
    if (action !== undefined) q.action = action;
    if (environment !== undefined) q.environment = environment;
    if (type !== undefined && q.resource && typeof q.resource === 'object') q.resource = { ...(q.resource as object), type };
    return q;
  });

const pick = <T>(xs: readonly T[]) => fc.oneof(fc.constantFrom(...xs), fc.uniqueArray(fc.constantFrom(...xs), { minLength: 1, maxLength: 3 }));

/** Rules that name exact values of what the index keys on (in any case), with a condition that often holds. */
const indexedRuleArb = fc
  .tuple(
    fc.constantFrom('allow', 'deny', 'escalate', 'warn') as fc.Arbitrary<YamlRule['effect']>,
    fc.record({
      agent: maybe(pick(['deploy-agent', 'ops-bot', 'a', 'Deploy-Agent']), 2),
      category: maybe(pick(CATEGORIES), 3),
      action: maybe(pick(['delete', 'read', 'update', 'DELETE', 'rm', 'frobnicate']), 2),
      resource: maybe(pick(['file', 'k8s:pod', 'K8S:POD', 'db:table']), 2),
      environment: maybe(pick(['production', 'dev', 'STAGING', 'unknown-env']), 2),
      namespace: maybe(pick(NAMESPACES), 4),
    }),
    maybe(fc.constantFrom<YamlCondition>({ 'cost.usd': { gt: 10 } }, { trust: { gte: 50 } }, { command: { exists: false } }, { command: { glob: 'kubectl *' } }), 2),
  )
  .map(([effect, match, when]) => defined({ effect, match: defined(match), when: when ?? (effect === 'allow' ? { trust: { gte: 0 } } : undefined) }));

const indexCaseArb = fc.record({
  rules: fc.tuple(fc.array(ruleArb, { maxLength: 12 }), fc.array(indexedRuleArb, { minLength: 1, maxLength: 30 }))
    .map(([a, b]) => [...a, ...b].map((r, i) => ({ id: `r${i}-${r.effect}`, ...r }) as YamlRule)),
  readers: fc.subarray(CATEGORY_READERS),
  raw: fc.boolean(),
  actionSplit: fc.constantFrom(0, 1, 64),
  requests: fc.array(fc.tuple(indexRequestArb, factsArb), { minLength: 4, maxLength: 16 }),
});

describe('the rule index', () => {
  it('decides as one unindexed Cedar set holding every rule', () => {
    let indexed = 0;
    fc.assert(
      fc.property(indexCaseArb, ({ rules, readers, raw, actionSplit, requests }) => {
        const dir = writePolicies([...rules, ...readers]);
        if (raw) writeFileSync(join(dir, 'raw.cedar'), RAW_CEDAR);
        try {
          const result = check([dir], { tests: false });
          if (!result.bundle) {
            expect(result.diagnostics.filter((d) => d.severity === 'error' && !expectedError(d))).toEqual([]);
            return;
          }
          indexed++;
          const whole = new Engine(result.bundle, { smallBundle: Infinity });
          const index = new Engine(result.bundle, { smallBundle: 0, actionSplit });
          try {
            for (const [q, facts] of requests) {
              let f;
              try { f = factsOf(normalizeRequest(q), facts); } catch { continue; }
              const { elapsed_ms: _a, ...want } = whole.decide(f);
              const { elapsed_ms: _b, ...got } = index.decide(f);
              expect(got, JSON.stringify({ request: q, facts })).toEqual(want);
            }
          } finally {
            whole.dispose();
            index.dispose();
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 150) },
    );
    expect(indexed).toBeGreaterThan(50);
  });
});

describe('what Cedar is handed', () => {
  it('a set answers the same whether handed the whole request or only what its policies read', () => {
    let compared = 0;
    fc.assert(
      fc.property(indexCaseArb, ({ rules, readers, raw, requests }) => {
        const dir = writePolicies([...rules, ...readers]);
        if (raw) writeFileSync(join(dir, 'raw.cedar'), RAW_CEDAR);
        try {
          const result = check([dir], { tests: false });
          if (!result.bundle) return;
          const bundle = result.bundle;
          const authorizer = new Authorizer(bundle.schema, bundle.hash);
          // The whole bundle as one set, and each rule alone: what one rule reads is the narrowest request.
          const sets = [bundle.rules, ...bundle.rules.map((r) => [r])].map((rs, i) => {
            const policies = Object.fromEntries(rs.map((r) => [r.id, r.matcher]));
            authorizer.prepare(`s${i}`, () => policies);
            return { key: `s${i}`, keep: reads(Object.values(policies)) };
          });
          try {
            for (const [q, facts] of requests) {
              let f;
              try { f = factsOf(normalizeRequest(q), facts); } catch { continue; }
              for (const category of categoriesFor(f)) {
                const req = cedarRequest(f, bundle, { category });
                for (const { key, keep } of sets) {
                  expect(keep).toBeDefined();
                  const sorted = (a: CedarAnswer) => ({ ...a, reasons: [...a.reasons].sort(), errors: [...a.errors].sort((x, y) => (x.policyId < y.policyId ? -1 : 1)) });
                  expect(sorted(authorizer.authorize(key, narrowRequest(req, keep!))), JSON.stringify({ key, req })).toEqual(sorted(authorizer.authorize(key, req)));
                  compared++;
                }
              }
            }
          } finally {
            authorizer.dispose();
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 40) },
    );
    expect(compared).toBeGreaterThan(1_000);
  });
});
