// Differential fuzzing of the policy side: random folders of YAML rules and `.cedar` files (Cedar
// spelled in the many ways its grammar allows: spaces, newlines and comments around annotations,
// strings that look like policies), compiled by `check`, and every generated request decided by
// the engine and by the reference interpreter (test/reference.ts). Any difference fails, and so
// does any forbid that applies without a deny or escalate. Folders with a defect planted on purpose
// (a duplicate id, a `cedar:` condition that is not one expression) must be refused.
//
// FUZZ_RUNS sets the number of folders (default 60, within the suite's time); FUZZ_SEED replays
// one run. `node bench/fuzz.mjs` runs the long mode.
import { setFlagsFromString } from 'node:v8';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { check } from '../src/check/check.js';
import { Engine } from '../src/engine/engine.js';
import { factsOf } from '../src/engine/facts.js';
import { normalizeRequest } from '../src/request/normalize.js';
import { referenceDecide, type RefFacts, type YamlCondition, type YamlRule } from './reference.js';

// See test/property.test.ts: many bundles in one process need this with Node 20.
setFlagsFromString('--no-turbo-inline-js-wasm-calls');

// ---------- conditions with a known meaning in both languages ----------

interface Atom { cedar: string; yaml: YamlCondition }

/** Cedar expressions on attributes every request has (or guarded with `has`), and their YAML meaning. */
const ATOMS: Atom[] = [
  { cedar: 'context.environment == "production"', yaml: { environment: 'production' } },
  { cedar: 'context.environment == "dev"', yaml: { environment: 'dev' } },
  { cedar: 'context.action == "read"', yaml: { action: 'read' } },
  { cedar: 'context.action == "delete"', yaml: { action: 'delete' } },
  { cedar: 'principal.trust >= 60', yaml: { trust: { gte: 60 } } },
  { cedar: 'principal.trust < 30', yaml: { trust: { lt: 30 } } },
  { cedar: 'principal.name == "a"', yaml: { 'agent.id': 'a' } },
  { cedar: 'context has command && context.command == "rm -rf /"', yaml: { all: [{ command: { exists: true } }, { command: 'rm -rf /' }] } },
  { cedar: 'context.findings.contains("secret")', yaml: { detected: 'secret' } },
  { cedar: 'context.cost.usd.greaterThan(decimal("10.0"))', yaml: { 'cost.usd': { gt: 10 } } },
  { cedar: 'context.hour >= 12', yaml: { hour: { gte: 12 } } },
];

type Expr = { atom: number } | { not: Expr } | { any: Expr[] } | { all: Expr[] };

const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 5, arbitrary: fc.nat(ATOMS.length - 1).map((atom) => ({ atom })) },
    { weight: 1, arbitrary: tie('e').map((e) => ({ not: e })) },
    { weight: 1, arbitrary: fc.array(tie('e'), { minLength: 2, maxLength: 3 }).map((any) => ({ any })) },
    { weight: 1, arbitrary: fc.array(tie('e'), { minLength: 2, maxLength: 3 }).map((all) => ({ all })) },
  ),
})).e;

function cedarOf(e: Expr): string {
  if ('atom' in e) return `(${ATOMS[e.atom]!.cedar})`;
  if ('not' in e) return `!${cedarOf(e.not)}`;
  if ('any' in e) return `(${e.any.map(cedarOf).join(' || ')})`;
  return `(${e.all.map(cedarOf).join(' && ')})`;
}

function yamlOf(e: Expr): YamlCondition {
  if ('atom' in e) return ATOMS[e.atom]!.yaml;
  if ('not' in e) return { not: yamlOf(e.not) };
  if ('any' in e) return { any: e.any.map(yamlOf) };
  return { all: e.all.map(yamlOf) };
}

// ---------- .cedar policies, spelled in many ways ----------

type Keyword = 'permit' | 'forbid';
const EFFECTS: Record<Keyword, YamlRule['effect'][]> = { permit: ['allow', 'warn'], forbid: ['deny', 'escalate'] };

interface CedarPolicy {
  id: string;
  keyword: Keyword;
  /** The `@effect` annotation, or none. */
  effect?: YamlRule['effect'];
  message?: string;
  agent?: 'a' | 'b';
  category?: 'DELETE' | 'ACCESS';
  clauses: { kind: 'when' | 'unless'; expr: Expr }[];
  /** Indices into the separator table, consumed in order while printing. */
  spelling: number[];
}

/** What Cedar reads as nothing between tokens. */
const SEPARATORS = [' ', '', '\n', '\t', '  \n  ', ' // a comment\n', '\n// permit (principal, action, resource);\n', '\r\n'];
/** Text inside messages that a reader of Cedar text by pattern would take for syntax. */
const TRICKY = ['m', 'no (really)', 'forbid (principal, action, resource);', '") permit (', 'say \\ "permit"', '@id("other")', '— ü 😀', ''];

function cedarStr(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function printCedar(p: CedarPolicy): string {
  let k = 0;
  const sep = () => SEPARATORS[p.spelling[k++ % p.spelling.length]! % SEPARATORS.length]!;
  const ann = (name: string, value: string) => `@${name}${sep()}(${sep()}${cedarStr(value)}${sep()})`;
  const anns = [ann('id', p.id), ...(p.effect ? [ann('effect', p.effect)] : []), ...(p.message !== undefined ? [ann('message', p.message)] : [])];
  // Annotations in any order: rotate by the first spelling choice.
  const r = (p.spelling[0] ?? 0) % anns.length;
  const ordered = [...anns.slice(r), ...anns.slice(0, r)];
  const scope = [p.agent ? `principal == Agent::"${p.agent}"` : 'principal', p.category ? `action == Action::"${p.category}"` : 'action', 'resource'];
  const head = `${p.keyword}${sep()}(${scope.join(`,${sep() || ' '}`)})`;
  const body = p.clauses.map((c) => ` ${c.kind}${sep()}{ ${cedarOf(c.expr)} }`).join('');
  return `${ordered.map((a) => a + (sep() || ' ')).join('')}${head}${body};`;
}

/** The rule a `.cedar` policy is, for the reference interpreter. */
function ruleOfCedar(p: CedarPolicy): YamlRule {
  const when: YamlCondition[] = p.clauses.map((c) => (c.kind === 'when' ? yamlOf(c.expr) : { not: yamlOf(c.expr) }));
  return {
    id: p.id,
    effect: p.effect ?? (p.keyword === 'forbid' ? 'deny' : 'allow'),
    ...(p.agent || p.category ? { match: { ...(p.agent ? { agent: p.agent } : {}), ...(p.category ? { category: p.category } : {}) } } : {}),
    ...(when.length ? { when } : {}),
  };
}

const cedarPolicyArb = fc
  .record({
    keyword: fc.constantFrom<Keyword>('permit', 'forbid', 'forbid'),
    withEffect: fc.boolean(),
    effectPick: fc.nat(1),
    message: fc.option(fc.constantFrom(...TRICKY), { nil: undefined }),
    agent: fc.option(fc.constantFrom<'a' | 'b'>('a', 'b'), { freq: 3, nil: undefined }),
    category: fc.option(fc.constantFrom<'DELETE' | 'ACCESS'>('DELETE', 'ACCESS'), { freq: 3, nil: undefined }),
    clauses: fc.array(fc.record({ kind: fc.constantFrom<'when' | 'unless'>('when', 'when', 'unless'), expr: exprArb }), { maxLength: 2 }),
    spelling: fc.array(fc.nat(SEPARATORS.length - 1), { minLength: 1, maxLength: 12 }),
  })
  .map(({ keyword, withEffect, effectPick, message, agent, category, clauses, spelling }): Omit<CedarPolicy, 'id'> => ({
    keyword, clauses, spelling,
    ...(withEffect ? { effect: EFFECTS[keyword][effectPick]! } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(agent ? { agent } : {}),
    ...(category ? { category } : {}),
  }));

// ---------- YAML rules, some with `cedar:` conditions ----------

/** Text a `cedar:` condition must not be: it escapes the brackets the compiler puts around it. */
const NOT_ONE_EXPRESSION = ['true) || (true', 'true) } unless { (true', 'true } when { true', 'false) } unless { (false', 'true }; permit (principal, action, resource) when { true'];

interface YamlSpec {
  effect: YamlRule['effect'];
  match?: YamlRule['match'];
  /** Each condition as a YAML condition, or as a `cedar:` text with its meaning. */
  when: ({ yaml: YamlCondition } | { cedar: string; yaml: YamlCondition })[];
}

const yamlRuleArb: fc.Arbitrary<YamlSpec> = fc.record({
  effect: fc.constantFrom<YamlRule['effect']>('allow', 'allow', 'deny', 'escalate', 'warn'),
  match: fc.option(fc.record({ agent: fc.constantFrom('a', 'b'), category: fc.constantFrom('DELETE', 'ACCESS'), environment: fc.constantFrom('production', 'dev') }, { requiredKeys: [] }), { nil: undefined }),
  when: fc.array(fc.oneof(exprArb.map((e) => ({ yaml: yamlOf(e) })), exprArb.map((e) => ({ cedar: cedarOf(e), yaml: yamlOf(e) }))), { maxLength: 2 }),
});

// ---------- a folder ----------

interface Folder {
  yaml: YamlSpec[];
  /** Each `.cedar` file, its policies. */
  cedar: Omit<CedarPolicy, 'id'>[][];
  /** Comments with policy-like text before the policies of each file. */
  decoy: boolean;
  /** A planted defect, or none. */
  defect: { kind: 'duplicate-id'; pick: number } | { kind: 'not-an-expression'; text: number } | null;
}

const folderArb: fc.Arbitrary<Folder> = fc.record({
  yaml: fc.array(yamlRuleArb, { maxLength: 4 }),
  cedar: fc.array(fc.array(cedarPolicyArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 2 }),
  decoy: fc.boolean(),
  defect: fc.oneof(
    { weight: 8, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.nat(50).map((pick) => ({ kind: 'duplicate-id' as const, pick })) },
    { weight: 1, arbitrary: fc.nat(NOT_ONE_EXPRESSION.length - 1).map((text) => ({ kind: 'not-an-expression' as const, text })) },
  ),
});

const requestArb = fc.record({
  request: fc.record({
    agent: fc.constantFrom('a', 'b'),
    action: fc.constantFrom('read', 'delete', 'deploy', 'get'),
    environment: fc.constantFrom('production', 'dev', 'staging'),
    command: fc.option(fc.constantFrom('rm -rf /', 'ls'), { nil: undefined }),
    cost: fc.record({ usd: fc.constantFrom(0, 10, 50) }),
  }).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))),
  facts: fc.record({
    trust: fc.constantFrom(10, 30, 59, 60, 90),
    hour: fc.constantFrom(0, 11, 12, 23),
    findings: fc.constantFrom([], ['aws-access-key'], ['email']),
  }),
});

const caseArb = fc.record({ folder: folderArb, requests: fc.array(requestArb, { minLength: 4, maxLength: 10 }) });

type Case = { folder: Folder; requests: { request: Record<string, unknown>; facts: RefFacts }[] };

/** Writes the folder; returns it with the rules the reference decides by and the defect's code. */
function materialize(folder: Folder): { dir: string; rules: YamlRule[]; forbids: YamlRule[]; expect?: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'govern-fuzz-'));
  const rules: YamlRule[] = [];
  const forbids: YamlRule[] = [];
  const yamlRules = folder.yaml.map((spec, i) => {
    const id = `y${i}`;
    rules.push({ id, effect: spec.effect, ...(spec.match && Object.keys(spec.match).length ? { match: spec.match } : {}), ...(spec.when.length ? { when: spec.when.map((w) => w.yaml) } : {}) });
    const when = spec.when.map((w) => ('cedar' in w ? { cedar: w.cedar } : w.yaml));
    return { id, effect: spec.effect, ...(spec.match && Object.keys(spec.match).length ? { match: spec.match } : {}), ...(when.length ? { when } : {}) };
  });
  let expectCodes: string[] | undefined;
  let n = 0;
  const files = folder.cedar.map((policies) => policies.map((p) => {
    const policy: CedarPolicy = { ...p, id: `c${n++}` };
    rules.push(ruleOfCedar(policy));
    if (policy.keyword === 'forbid') forbids.push(ruleOfCedar(policy));
    return policy;
  }));
  const all = files.flat();
  if (folder.defect?.kind === 'duplicate-id' && all.length + yamlRules.length > 1) {
    // A later policy takes the id of an earlier rule or policy.
    const ids = [...yamlRules.map((r) => r.id), ...all.map((p) => p.id)];
    const target = all[all.length - 1]!;
    const others = ids.filter((x) => x !== target.id);
    target.id = others[folder.defect.pick % others.length]!;
    expectCodes = ['policy/duplicate-id'];
  }
  if (folder.defect?.kind === 'not-an-expression') {
    yamlRules.push({ id: 'planted', effect: 'deny', when: [{ cedar: NOT_ONE_EXPRESSION[folder.defect.text]! }] } as never);
    expectCodes = ['cedar/not-an-expression', 'cedar/parse'];
  }
  if (yamlRules.length) writeFileSync(join(dir, 'rules.yaml'), stringify({ name: 'fuzz', rules: yamlRules }));
  files.forEach((policies, i) => {
    const decoy = folder.decoy ? '// @id("decoy") permit (principal, action, resource);\n// forbid\n' : '';
    writeFileSync(join(dir, `p${i}.cedar`), decoy + policies.map(printCedar).join('\n\n') + '\n');
  });
  return { dir, rules, forbids, ...(expectCodes ? { expect: expectCodes } : {}) };
}

interface Outcome { decision: string; tier: number; reasons: (string | null)[]; warnings: string[]; route: string }
const sorted = <T>(xs: T[]) => [...new Set(xs)].sort() as T[];

function runCase({ folder, requests }: Case): void {
  const { dir, rules, forbids, expect: refused } = materialize(folder);
  try {
    const r = check([dir], { tests: false });
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    if (refused) {
      expect(r.bundle, 'a planted defect must stop the bundle').toBeUndefined();
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((e) => refused.includes(e.code)), JSON.stringify(errors)).toBe(true);
      return;
    }
    expect(errors, 'a valid folder compiles').toEqual([]);
    const engine = new Engine(r.bundle!, { validate: true });
    for (const { request, facts } of requests) {
      const ref = referenceDecide(rules, request, facts);
      const got = engine.decide(factsOf(normalizeRequest(request), facts));
      const want: Outcome = { decision: ref.decision, tier: ref.tier, reasons: sorted(ref.reasons), warnings: sorted(ref.warnings), route: ref.route };
      const have: Outcome = { decision: got.decision, tier: got.tier, reasons: sorted(got.reasons.map((x) => x.rule)), warnings: sorted(got.warnings.map((w) => w.rule!)), route: got.route };
      expect(have, JSON.stringify({ request, facts })).toEqual(want);
      // Any forbid that applies makes the decision a deny or an escalate.
      for (const f of forbids) {
        if (referenceDecide([f], request, facts).route === 'rules') expect(got.decision, `forbid ${f.id} applies`).not.toBe('allow');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------- the seed corpus: the cases once decided otherwise than their text ----------

const ALWAYS: Omit<CedarPolicy, 'id'> = { keyword: 'forbid', clauses: [], spelling: [0] };
const REQS: Case['requests'] = [
  { request: { agent: 'a', action: 'delete', environment: 'production', command: 'rm -rf /', cost: { usd: 0 } }, facts: { trust: 90, hour: 12, findings: [] } },
  { request: { agent: 'b', action: 'read', environment: 'dev', cost: { usd: 10 } }, facts: { trust: 30, hour: 0, findings: ['aws-access-key'] } },
];

export const SEEDS: Case[] = [
  // `@id ("x") @message ("m")`: a space before `(` (the separator at index 0).
  { folder: { yaml: [], cedar: [[{ ...ALWAYS, message: 'm', spelling: [0] }, { keyword: 'permit', clauses: [], spelling: [1] }]], decoy: false, defect: null }, requests: REQS },
  // `@effect ("escalate")` on a forbid, spelled across lines with a comment.
  { folder: { yaml: [], cedar: [[{ ...ALWAYS, effect: 'escalate', spelling: [2, 5, 0] }]], decoy: true, defect: null }, requests: REQS },
  // The same @id twice: forbid, then permit.
  { folder: { yaml: [], cedar: [[ALWAYS, { keyword: 'permit', clauses: [], spelling: [1] }]], decoy: false, defect: { kind: 'duplicate-id', pick: 0 } }, requests: REQS },
  // `cedar:` text that closes its brackets.
  { folder: { yaml: [{ effect: 'allow', when: [] }], cedar: [[ALWAYS]], decoy: false, defect: { kind: 'not-an-expression', text: 0 } }, requests: REQS },
  { folder: { yaml: [], cedar: [[ALWAYS]], decoy: false, defect: { kind: 'not-an-expression', text: 1 } }, requests: REQS },
  // A message that reads like a permit.
  { folder: { yaml: [], cedar: [[{ ...ALWAYS, message: '") permit (', spelling: [6, 3] }]], decoy: true, defect: null }, requests: REQS },
];

describe('differential fuzzing: YAML and .cedar folders against the reference', () => {
  it.each(SEEDS.map((s, i) => [i, s] as const))('seed %i', (_i, seed) => runCase(seed));

  it('random folders decide as the reference says, and every forbid that applies restricts', () => {
    const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
    fc.assert(fc.property(caseArb, (c) => runCase(c as Case)), {
      numRuns: Number(process.env.FUZZ_RUNS ?? 60),
      examples: SEEDS.map((s) => [s]) as [Case][],
      ...(seed !== undefined ? { seed } : {}),
    });
  }, 600_000);
});
