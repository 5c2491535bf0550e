// The decision economy on generated traffic: recurring request patterns with a known true
// decision, a model that answers 4% of them at random otherwise (seeded), and patterns that first
// appear late. Distilled daily, the pipeline must spare the model most of its tokens on the later
// days, allow nothing the truth does not allow, and its learned rules must agree with the truth.
// Also: the statistics of the tolerance, splitting a noisy group on the feature that explains its
// dissent, humans' answers as evidence, low-confidence answers, records without facts, and that a
// written deny still beats a learned allow.
import { describe, expect, it } from 'vitest';
import { bundleWith, distill } from '../src/distill/distill.js';
import { wilsonLower, zOf } from '../src/distill/tolerance.js';
import { OfflinePipeline } from '../src/records/pipeline.js';
import { humanRecords, toRecord, type Recorded } from '../src/records/records.js';
import { Engine } from '../src/engine/engine.js';
import { recordFacts } from '../src/records/records.js';
import { builtinRouter, Runtime } from '../src/runtime/runtime.js';
import { ledgerRecords, shadowRecords } from '../src/records/records.js';
import { shadowFigures } from '../src/replay/metrics.js';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FakeServer, openaiWire } from './fake-servers.js';
import { tempTree } from './helpers.js';

type Verdict = 'allow' | 'deny' | 'escalate';
const VERDICTS: Verdict[] = ['allow', 'deny', 'escalate'];

/** mulberry32: a small seeded PRNG, so the record is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A written policy of one deny: fetching from a blocked domain, whoever asks.
const WRITTEN = `rules:
  - id: deny-blocked-domain
    match: {category: ACCESS, resource: "web:page"}
    when: {context.domain: {eq: blocked.example}}
    effect: deny
    message: This domain is blocked.
`;

interface Pattern {
  name: string;
  /** Relative weight in the traffic, and the first day it appears. */
  weight: number;
  from: number;
  make(rand: () => number, i: number): { request: Record<string, unknown>; truth: Verdict };
}

const pick = <T,>(rand: () => number, xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
const AGENTS = ['sre', 'oncall', 'cost', 'capacity', 'triage', 'intake', 'research', 'support', 'deploy', 'etl'].map((a) => `${a}-agent`);

function simple(name: string, weight: number, from: number, truth: Verdict, base: Record<string, unknown>): Pattern {
  return { name, weight, from, make: (rand, i) => ({ request: { agent: pick(rand, AGENTS), ...base, resource: `${base.resource as string}/${name}-${i}` }, truth }) };
}

const PATTERNS: Pattern[] = [
  simple('dash-dev', 8, 0, 'allow', { action: 'view', category: 'ACCESS', resource: 'metrics:dashboard', environment: 'dev' }),
  simple('dash-staging', 5, 0, 'allow', { action: 'view', category: 'ACCESS', resource: 'metrics:dashboard', environment: 'staging' }),
  simple('queue-peek', 4, 0, 'allow', { action: 'peek', category: 'ACCESS', resource: 'queue:jobs', environment: 'dev' }),
  simple('report-create', 3, 0, 'allow', { action: 'generate', category: 'CREATE', resource: 'report:weekly', environment: 'staging' }),
  simple('cm-staging', 4, 0, 'escalate', { action: 'patch', category: 'MODIFY', resource: 'k8s:configmap', environment: 'staging' }),
  simple('bucket-create', 3, 0, 'escalate', { action: 'provision', category: 'CREATE', resource: 's3:bucket', environment: 'staging' }),
  simple('crm-export', 3, 0, 'deny', { action: 'export', category: 'ACCESS', resource: 'crm:contacts', environment: 'staging' }),
  simple('flag-flip', 3, 0, 'allow', { action: 'toggle', category: 'MODIFY', resource: 'feature:flag', environment: 'dev' }),
  // One group to the eye, three to the truth: the domain decides.
  {
    name: 'fetch', weight: 9, from: 0,
    make: (rand, i) => {
      const domain = pick(rand, ['pastebin.com', 'gist.github.com', 'docs.python.org']);
      return { request: { agent: pick(rand, AGENTS), action: 'fetch', category: 'ACCESS', resource: `web:page/p${i}`, environment: 'staging', context: { domain } }, truth: domain === 'pastebin.com' ? 'deny' : domain === 'gist.github.com' ? 'escalate' : 'allow' };
    },
  },
  // Logs: allowed in the agent's own namespace, escalated in another's.
  {
    name: 'logs', weight: 6, from: 0,
    make: (rand, i) => {
      const team = pick(rand, ['team-a', 'team-b']);
      const ns = rand() < 0.7 ? team : team === 'team-a' ? 'team-b' : 'team-a';
      return { request: { agent: { id: pick(rand, AGENTS), team }, action: 'read', category: 'ACCESS', resource: `logs:stream/l${i}`, environment: 'staging', namespace: ns }, truth: ns === team ? 'allow' : 'escalate' };
    },
  },
  // Patterns that only appear late.
  simple('secret-rotate', 3, 7, 'escalate', { action: 'rotate', category: 'MODIFY', resource: 'vault:secret', environment: 'staging' }),
  simple('cache-flush', 3, 8, 'allow', { action: 'flush', category: 'MODIFY', resource: 'redis:cache', environment: 'dev' }),
];

const DAYS = 10;
const PER_DAY = 260;
const NOISE = 0.04;

/** The record, each line with the truth beside it. */
function generate(seed: number): { records: Recorded[]; truth: Map<Recorded, Verdict>; day: Map<Recorded, number>; flipped: number } {
  const rand = prng(seed);
  const records: Recorded[] = [];
  const truth = new Map<Recorded, Verdict>();
  const day = new Map<Recorded, number>();
  let n = 0;
  let flipped = 0;
  for (let d = 0; d < DAYS; d++) {
    const live = PATTERNS.filter((p) => p.from <= d);
    const total = live.reduce((a, p) => a + p.weight, 0);
    for (let k = 0; k < PER_DAY; k++) {
      let x = rand() * total;
      const p = live.find((q) => (x -= q.weight) < 0) ?? live[live.length - 1]!;
      const { request, truth: t } = p.make(rand, n);
      let answer = t;
      if (rand() < NOISE) {
        answer = pick(rand, VERDICTS.filter((v) => v !== t));
        flipped++;
      }
      n++;
      const at = new Date(Date.UTC(2026, 10, 1 + d, 8, 0, 0) + k * 60_000).toISOString();
      const input = 780 + Math.floor(rand() * 80);
      const r = toRecord({
        request: { environment: 'dev', ...request },
        decision: { decision: answer, tier: 1, reasons: [{ rule: null, effect: answer, message: `openai/gpt-x: ${answer}` }], facts: { category: request.category, detectors: [], trust: 50, hour: 8 }, route: 'model', id: `dec_${n}`, confidence: 0.9 },
        model: 'openai/gpt-x',
        usage: { input_tokens: input, output_tokens: 40 },
        at,
      }, 'generated', n);
      records.push(r);
      truth.set(r, t);
      day.set(r, d);
    }
  }
  return { records, truth, day, flipped };
}

describe('the decision economy on generated traffic', () => {
  it('distilled daily: >= 85% of the tokens saved on the later days, no false allow against the truth, rules >= 95% true', async () => {
    const policies = tempTree({ 'base.yaml': WRITTEN });
    const { records, truth, day, flipped } = generate(16);
    expect(flipped / records.length).toBeGreaterThan(0.03);
    const router = await builtinRouter(0.6);
    let baseline = 0;
    let spent = 0;
    let falseAllows = 0;
    let byRule = 0;
    let ruleTrue = 0;
    // The later part: the last three days, each replayed with the rules distilled from every day before it.
    for (let d = DAYS - 3; d < DAYS; d++) {
      const before = records.filter((r) => day.get(r)! < d);
      const result = await distill(before, { policies, fresh: true, router });
      const bundle = await bundleWith(policies, result.files);
      const pipeline = new OfflinePipeline(bundle, { cache: { allow: 3600, deny: 3600, escalate: 0 }, router });
      for (const r of records.filter((x) => day.get(x) === d)) {
        const rep = pipeline.decide(r);
        const tokens = r.usage!.input_tokens + r.usage!.output_tokens;
        baseline += tokens;
        if (rep.route === 'model') {
          spent += tokens;
          continue;
        }
        if (rep.decision === 'allow' && truth.get(r) !== 'allow') falseAllows++;
        if (rep.route === 'rules') {
          byRule++;
          if (rep.decision === truth.get(r)) ruleTrue++;
        }
      }
    }
    const saved = 1 - spent / baseline;
    if (process.env.GOVERN_ECONOMY_FIGURES) console.log(JSON.stringify({ records: records.length, flipped, baseline, spent, saved, byRule, ruleTrue, falseAllows }));
    expect(falseAllows).toBe(0);
    expect(ruleTrue / byRule).toBeGreaterThanOrEqual(0.95);
    expect(saved).toBeGreaterThanOrEqual(0.85);
  }, 240_000);
});

describe('the statistics of the tolerance', () => {
  it("Wilson's lower bound: three unanimous decisions clear a deny's 60%, five an allow's 75%, a split group neither", () => {
    const z = zOf(0.9);
    expect(wilsonLower(3, 3, z)).toBeGreaterThan(0.6);
    expect(wilsonLower(2, 2, z)).toBeLessThan(0.6);
    expect(wilsonLower(5, 5, z)).toBeGreaterThan(0.75);
    expect(wilsonLower(4, 4, z)).toBeLessThan(0.75);
    expect(wilsonLower(3, 4, z)).toBeLessThan(0.6);
    // Noise at 4% in a large group clears even an allow's bound.
    expect(wilsonLower(96, 100, z)).toBeGreaterThan(0.75);
    // A model that escalates one request in four never makes an allow, however much evidence.
    expect(wilsonLower(750, 1000, z)).toBeLessThan(0.75);
    expect(wilsonLower(0, 0, z)).toBe(0);
  });
});

/** A model decision record for the small cases below. */
function rec(n: number, request: Record<string, unknown>, verdict: Verdict, extra: { confidence?: number; facts?: boolean; route?: string } = {}): Recorded {
  const route = extra.route ?? 'model';
  return toRecord({
    request: { environment: 'dev', ...request },
    decision: {
      decision: verdict, tier: 1, route, id: `dec_${n}`,
      reasons: [{ rule: route === 'model' ? null : 'r', effect: verdict, message: 'x' }],
      ...(extra.facts === false ? {} : { facts: { category: request.category, detectors: [], trust: 50, hour: 9 } }),
      ...(extra.confidence !== undefined ? { confidence: extra.confidence } : {}),
    },
    model: route === 'model' ? 'openai/gpt-x' : null,
    usage: route === 'model' ? { input_tokens: 800, output_tokens: 40 } : null,
    at: new Date(Date.UTC(2026, 10, 1) + n * 60_000).toISOString(),
  }, 'records.jsonl', n);
}

const view = (agent: string, i: number, extra: Record<string, unknown> = {}) => ({ agent, action: 'view', category: 'ACCESS', resource: `metrics:dashboard/d${i}`, ...extra });

describe('distill with a tolerance', () => {
  it('lists the dissent of a noisy group in the provenance and the lock file', async () => {
    const policies = tempTree({ 'base.yaml': WRITTEN });
    const records = Array.from({ length: 30 }, (_, i) => rec(i + 1, view(`a${i % 7}`, i), i === 11 ? 'escalate' : 'allow'));
    const out = await distill(records, { policies, fresh: true });
    expect(out.rules.map((r) => [r.effect, r.provenance.support, r.provenance.outliers])).toEqual([['allow', 29, ['dec_12']]]);
    expect(out.rules[0]!.provenance.bound).toBeGreaterThan(0.75);
    expect(out.rules[0]!.text).toContain('outliers:\n    - dec_12');
    const lock = JSON.parse(out.files.get('distilled/distill.lock.json')!);
    expect(lock.rules[0]).toMatchObject({ effect: 'allow', outliers: ['dec_12'] });
  });

  it('splits a noisy group on the feature that tells its dissent apart, instead of calling it noise', async () => {
    const policies = tempTree({ 'base.yaml': WRITTEN });
    // 24 views allowed, but a contractor's 5 were escalated every time: a pattern, not noise.
    const records = [
      ...Array.from({ length: 24 }, (_, i) => rec(i + 1, view(`a${i % 6}`, i), 'allow')),
      ...Array.from({ length: 5 }, (_, i) => rec(100 + i, view('contractor', 100 + i), 'escalate')),
    ];
    const out = await distill(records, { policies, fresh: true });
    const rules = out.rules.map((r) => ({ effect: r.effect, features: r.provenance.features, outliers: r.provenance.outliers }));
    expect(rules).toContainEqual(expect.objectContaining({ effect: 'escalate', features: expect.objectContaining({ agent: 'contractor' }) }));
    const allow = rules.find((r) => r.effect === 'allow')!;
    expect(allow.outliers).toEqual([]);
    // The allow does not reach the contractor.
    const bundle = await bundleWith(policies, out.files);
    const d = new Engine(bundle).decide(recordFacts(rec(200, view('contractor', 200), 'allow')));
    expect(d.decision).toBe('escalate');
  });

  it('refuses a group the model is split on', async () => {
    const policies = tempTree({ 'base.yaml': WRITTEN });
    const records = Array.from({ length: 8 }, (_, i) => rec(i + 1, view(`a${i}`, i), i % 2 ? 'allow' : 'escalate'));
    const out = await distill(records, { policies, fresh: true });
    expect(out.rules).toEqual([]);
    expect(out.unlearned.map((u) => u.reason)).toContainEqual(expect.stringMatching(/agree \(\d+\.\d%\); the lower bound .* is under (60|75)\.0%/));
  });

  it('a written deny beats a learned allow on a request the record never showed', async () => {
    const policies = tempTree({ 'base.yaml': WRITTEN });
    const fetch = (i: number, domain: string) => ({ agent: `f${i % 4}`, action: 'fetch', category: 'ACCESS', resource: `web:page/w${i}`, environment: 'dev', context: { domain } });
    const records = Array.from({ length: 20 }, (_, i) => rec(i + 1, fetch(i, 'docs.example'), 'allow'));
    const out = await distill(records, { policies, fresh: true });
    expect(out.rules.map((r) => r.effect)).toEqual(['allow']);
    const engine = new Engine(await bundleWith(policies, out.files));
    expect(engine.decide(recordFacts(rec(50, fetch(50, 'docs.example'), 'allow'))).decision).toBe('allow');
    expect(engine.decide(recordFacts(rec(51, fetch(51, 'blocked.example'), 'allow')))).toMatchObject({ decision: 'deny', reasons: [{ rule: 'deny-blocked-domain' }] });
  });
});

describe('what counts as evidence', () => {
  it("a human's answers to escalations are evidence, so a team without a model still gets rules", async () => {
    const policies = tempTree({ 'base.yaml': WRITTEN });
    // No model: every view was a default escalation, and a human approved four of them.
    const ledger = Array.from({ length: 4 }, (_, i) => rec(i + 1, view(`h${i}`, i), 'escalate', { route: 'default' }));
    const humans = humanRecords(ledger.map((r, i) => ({ id: `esc_${i}`, decision_id: r.decision.id!, status: i === 3 ? 'used' : 'approved', resolved_at: '2026-11-02T00:00:00Z', resolved_by: 'alice' })), ledger);
    expect(humans.map((h) => [h.decision.decision, h.human])).toEqual(Array.from({ length: 4 }, () => ['allow', 'alice']));
    const out = await distill([...ledger, ...humans], { policies, fresh: true });
    expect(out.stats).toMatchObject({ humans: 4 });
    expect(out.rules.map((r) => [r.effect, r.provenance.humans, r.provenance.decision_ids])).toEqual([['allow', 4, ['esc_0', 'esc_1', 'esc_2', 'esc_3']]]);
    // Four decisions of the model would not do: a human's answer weighs three of the model's.
    const model = Array.from({ length: 4 }, (_, i) => rec(10 + i, view(`m${i}`, 10 + i), 'allow'));
    expect((await distill(model, { policies, fresh: true })).rules).toEqual([]);
  });

  it("a low-confidence answer of the model is no evidence and does not hold a rule back", async () => {
    const policies = tempTree({ 'base.yaml': WRITTEN });
    const sure = Array.from({ length: 6 }, (_, i) => rec(i + 1, view(`a${i}`, i), 'allow', { confidence: 0.95 }));
    const unsure = Array.from({ length: 6 }, (_, i) => rec(20 + i, view(`b${i}`, 20 + i), 'escalate', { confidence: 0.4 }));
    const out = await distill([...sure, ...unsure], { policies, fresh: true });
    expect(out.stats).toMatchObject({ evidence: 6, low_confidence: 6 });
    expect(out.rules.map((r) => [r.effect, r.provenance.support, r.provenance.outliers])).toEqual([['allow', 6, []]]);
    // Nor is it cached by the offline pipeline for the requests that follow.
    const p = new OfflinePipeline(await bundleWith(policies, new Map()), { cache: { allow: 3600, deny: 3600, escalate: 3600 } });
    const again = (n: number) => rec(n, view('b0', 20), 'escalate', { confidence: 0.4 });
    p.decide(again(40));
    expect(p.decide(again(41)).route).toBe('model');
  });

  it('records from elsewhere, without decision.facts: facts computed from the request, trust unknown and never a feature', async () => {
    const policies = tempTree({ 'base.yaml': WRITTEN });
    const records = Array.from({ length: 8 }, (_, i) => rec(i + 1, { agent: `a${i}`, action: 'delete', resource: `tmp:file/t${i}`, environment: 'dev', content: i === 0 ? 'call me on 078-05-1120' : 'ok' }, 'escalate', { facts: false }));
    // The category comes from the verb, the findings from the detectors; trust and hour are unknown.
    expect(records[1]!.decision.facts).toEqual({ category: 'DELETE', detectors: [] });
    expect(records[0]!.decision.facts.detectors.length).toBeGreaterThan(0);
    expect(records[1]!.unknown).toEqual(['trust', 'hour']);
    const out = await distill(records, { policies, fresh: true });
    expect(out.rules.length).toBeGreaterThan(0);
    for (const r of out.rules) expect(Object.keys(r.provenance.features)).not.toContain('trust');
  });
});

describe('shadow mode', () => {
  it('asks the model about a sample of distilled decisions without holding them up, records the disagreements, and distill retires the rule they contradict', async () => {
    const server = await FakeServer.start();
    try {
      const dir = tempTree({ 'policies/base.yaml': WRITTEN });
      // A distilled allow for dashboard views, learned from six of the model's allows.
      const learned = await distill(Array.from({ length: 6 }, (_, i) => rec(i + 1, view(`a${i}`, i), 'allow')), { policies: join(dir, 'policies'), fresh: true });
      for (const [rel, text] of learned.files) {
        mkdirSync(join(dir, 'policies', rel, '..'), { recursive: true });
        writeFileSync(join(dir, 'policies', rel), text);
      }
      writeFileSync(join(dir, 'govern.config.yaml'), `models:\n  large: {provider: openai, model: gpt-test, base_url: "${server.url}/v1", timeout_ms: 60000}\nshadow: {sample: 1}\n`);
      const answer = (decision: Verdict) => ({ json: openaiWire.completion(JSON.stringify({ decision, confidence: 0.95, reason: 'revenue figures' }), { input: 800, output: 30 }) });
      server.reply(answer('escalate'), answer('escalate'), answer('allow'));
      process.env.OPENAI_API_KEY = 'test-key';
      const rt = await Runtime.open({ cwd: dir });
      try {
        for (let i = 0; i < 3; i++) {
          const e = await rt.evaluate({ agent: `x${i}`, action: 'view', category: 'ACCESS', resource: `metrics:dashboard/rev${i}`, environment: 'dev' });
          // The decision is the rule's, made before the model answers.
          expect(e.decision).toMatchObject({ decision: 'allow', route: 'rules', tokens: { input: 0, output: 0 } });
        }
        await rt.settle();
        const rows = rt.state!.shadowRows();
        expect(rows.map((r) => [r.decided, r.model_decision, r.agree])).toEqual([['allow', 'escalate', 0], ['allow', 'escalate', 0], ['allow', 'allow', 1]]);
        const figures = shadowFigures(rows);
        expect(figures).toMatchObject({ asked: 3, agreeing: 1, false_allows: 2, by_rule: [{ rule: learned.rules[0]!.id, asked: 3, disagreeing: 2 }] });
        // Distill from the ledger: the shadow answers are the model's evidence, and contradict the rule.
        const ledger = ledgerRecords(rt.state!.ledgerRows(), 'ledger');
        const evidence = shadowRecords(rows, ledger);
        expect(evidence.map((r) => r.decision.decision)).toEqual(['escalate', 'escalate', 'allow']);
        const again = await distill([...ledger, ...evidence], { policies: join(dir, 'policies') });
        expect(again.retired.map((r) => [r.id, r.reason])).toEqual([[learned.rules[0]!.id, expect.stringMatching(/^would allow what was escalated/)]]);
      } finally {
        rt.close();
      }
    } finally {
      await server.close();
    }
  }, 120_000);
});

describe('the decision cache and the model', () => {
  it("keys on the request's free text and the model, and never keeps an answer the model was unsure of", async () => {
    const server = await FakeServer.start();
    try {
      const dir = tempTree({ 'policies/base.yaml': WRITTEN });
      const config = (model: string) => writeFileSync(join(dir, 'govern.config.yaml'), `models:\n  large: {provider: openai, model: ${model}, base_url: "${server.url}/v1", timeout_ms: 60000}\n`);
      config('gpt-test');
      const answer = (decision: Verdict, confidence: number) => ({ json: openaiWire.completion(JSON.stringify({ decision, confidence, reason: 'r' }), { input: 700, output: 20 }) });
      server.reply(answer('allow', 0.9), answer('escalate', 0.9), answer('allow', 0.5), answer('allow', 0.5), answer('allow', 0.9));
      process.env.OPENAI_API_KEY = 'test-key';
      const ask = { agent: 'w1', action: 'summarize', category: 'ACCESS', resource: 'wiki:page/p1', environment: 'dev' };
      let rt = await Runtime.open({ cwd: dir });
      try {
        const route = async (extra: Record<string, unknown>) => (await rt.evaluate({ ...ask, ...extra })).decision;
        expect(await route({ request: 'summarize the onboarding page' })).toMatchObject({ route: 'model', decision: 'allow', confidence: 0.9 });
        expect((await route({ request: 'summarize the onboarding page' })).route).toBe('cache');
        // Other words, other question: the model is asked again.
        expect(await route({ request: 'summarize the page and mail it to an outside address' })).toMatchObject({ route: 'model', decision: 'escalate' });
        // An answer under 0.7 confidence is used once and not reused.
        expect(await route({ request: 'tidy the page' })).toMatchObject({ route: 'model', confidence: 0.5 });
        expect((await route({ request: 'tidy the page' })).route).toBe('model');
      } finally {
        rt.close();
      }
      // A change of model: the cached answer of the old one is not served.
      config('gpt-other');
      rt = await Runtime.open({ cwd: dir });
      try {
        expect((await rt.evaluate({ ...ask, request: 'summarize the onboarding page' })).decision.route).toBe('model');
      } finally {
        rt.close();
      }
      expect(server.to('/v1/chat/completions').length).toBe(5);
    } finally {
      await server.close();
    }
  }, 120_000);
});
