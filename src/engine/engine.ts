// Decides requests against a compiled bundle with Cedar, by DESIGN's order: any matching deny,
// else any matching escalate, else any matching allow, else undetermined. Rules are indexed by
// category, environment and agent so that Cedar sees only the candidates for a request.
import { createHash } from 'node:crypto';
import type { Bundle } from '../compile/bundle.js';
import type { CompiledRule, RuleSet } from '../compile/rule.js';
import { Authorizer } from '../cedar/cedar.js';
import { cedarRequest, type Facts } from './facts.js';

export type Verdict = 'allow' | 'deny' | 'escalate';

export interface Reason {
  rule: string | null;
  effect: string;
  message: string;
  source?: string;
}

export interface Decision {
  decision: Verdict;
  tier: number;
  reasons: Reason[];
  warnings: { rule: string; message: string; source?: string }[];
  facts: { category: string; risk?: string; detectors: string[] };
  route: 'cache' | 'rules' | 'router' | 'model' | 'default';
  tokens: { input: number; output: number };
  policy: { hash: string };
  id?: string;
  elapsed_ms: number;
}

export interface RuleOutcome {
  /** null when no rule decided. */
  verdict: Verdict | null;
  tier: number;
  matched: CompiledRule[];
  warnings: CompiledRule[];
  /** Rules Cedar could not evaluate; a deny or escalate among them counts as matched. */
  errors: { rule: CompiledRule; message: string }[];
}

interface Candidates { decide: string | undefined; warn: string | undefined }

export interface RuleTrace {
  id: string;
  effect: string;
  source: string;
  /** matched; unmet (a condition does not hold); skipped (the index ruled it out); error (Cedar could not evaluate it). */
  status: 'matched' | 'unmet' | 'skipped' | 'error';
  /** For unmet and skipped: the condition that does not hold, as written in YAML, and where. */
  because?: { label: string; source: string }[];
  error?: string;
}

export class Engine {
  private authorizer: Authorizer;
  private candidates = new Map<string, Candidates>();
  private byId: Map<string, CompiledRule>;

  /** `validate`: check every request against the generated schema too (tests and `check` do). */
  constructor(readonly bundle: Bundle, opts: { validate?: boolean } = {}) {
    this.authorizer = new Authorizer(bundle.schema, bundle.hash, opts.validate ?? false);
    this.byId = bundle.byId;
  }

  /** The preparsed Cedar sets holding the rules that can apply to this category, environment and agent. */
  private setsFor(category: string, environment: string, agent: string): Candidates {
    const key = `${category}\0${environment}\0${agent}`;
    let c = this.candidates.get(key);
    if (c) return c;
    const fits = (r: CompiledRule) =>
      (r.index.category === null || r.index.category.includes(category)) &&
      (r.index.environment === null || r.index.environment.includes(environment)) &&
      (r.index.agent === null || r.index.agent.includes(agent));
    const pick = (set: RuleSet): string | undefined => {
      const rules = this.bundle.rules.filter((r) => r.set === set && fits(r));
      if (!rules.length) return undefined;
      const id = `${this.bundle.hash.slice(0, 16)}:${set}:${createHash('sha1').update(rules.map((r) => r.id).join('\0')).digest('hex')}`;
      this.authorizer.prepare(id, () => Object.fromEntries(rules.map((r) => [r.id, r.text])));
      return id;
    };
    c = { decide: pick('decide'), warn: pick('warn') };
    if (this.candidates.size > 10_000) this.candidates.clear();
    this.candidates.set(key, c);
    return c;
  }

  /** Every rule, and whether and why it applies to these facts: the matter of `govern explain`. */
  explain(facts: Facts): RuleTrace[] {
    const req = cedarRequest(facts, this.bundle);
    const category = facts.category;
    const environment = facts.request.environment;
    const agent = facts.request.agent.id;
    return this.bundle.rules.map((r): RuleTrace => {
      const base = { id: r.id, effect: r.effect, source: r.source };
      const miss: string[] = [];
      if (r.index.category && !r.index.category.includes(category)) miss.push(`category ${category} is not ${r.index.category.join(' or ')}`);
      if (r.index.environment && !r.index.environment.includes(environment)) miss.push(`environment ${environment} is not ${r.index.environment.join(' or ')}`);
      if (r.index.agent && !r.index.agent.includes(agent)) miss.push(`agent ${agent} is not ${r.index.agent.join(' or ')}`);
      if (miss.length) return { ...base, status: 'skipped', because: miss.map((m) => ({ label: m, source: r.source })) };
      const whole = `${this.bundle.hash.slice(0, 16)}:one:${r.id}`;
      this.authorizer.prepare(whole, () => ({ [r.id]: r.text.replace(/^forbid/m, 'permit') }));
      const a = this.authorizer.authorize(whole, req);
      if (a.errors.length) return { ...base, status: 'error', error: a.errors[0]!.message };
      if (a.decision === 'allow') return { ...base, status: 'matched' };
      const parts = r.parts ?? [];
      if (!parts.length) return { ...base, status: 'unmet' };
      const key = `${this.bundle.hash.slice(0, 16)}:parts:${r.id}`;
      this.authorizer.prepare(key, () => Object.fromEntries(parts.map((p, i) => [`p${i}`, `permit (principal, action, resource) when { ${p.cedar} };`])));
      const held = new Set(this.authorizer.authorize(key, req).reasons);
      return { ...base, status: 'unmet', because: parts.filter((_, i) => !held.has(`p${i}`)).map((p) => ({ label: p.label, source: p.source })) };
    });
  }

  /** What the rules say about these facts, before any router or model. */
  evaluate(facts: Facts): RuleOutcome {
    const req = cedarRequest(facts, this.bundle);
    const sets = this.setsFor(facts.category, facts.request.environment, facts.request.agent.id);
    const out: RuleOutcome = { verdict: null, tier: 2, matched: [], warnings: [], errors: [] };
    if (sets.decide) {
      const a = this.authorizer.authorize(sets.decide, req);
      const reasons = a.reasons.map((id) => this.byId.get(id)!).filter(Boolean);
      for (const e of a.errors) {
        const rule = this.byId.get(e.policyId);
        if (rule) out.errors.push({ rule, message: e.message });
      }
      const failedClosed = out.errors.filter((e) => e.rule.effect === 'deny' || e.rule.effect === 'escalate').map((e) => e.rule);
      const restricting = a.decision === 'deny' ? [...reasons, ...failedClosed] : failedClosed;
      const denies = restricting.filter((r) => r.effect === 'deny');
      const escalates = restricting.filter((r) => r.effect === 'escalate');
      if (denies.length) Object.assign(out, { verdict: 'deny', tier: 3, matched: denies });
      else if (escalates.length) Object.assign(out, { verdict: 'escalate', tier: 2, matched: escalates });
      else if (a.decision === 'allow') Object.assign(out, { verdict: 'allow', tier: Math.max(...reasons.map((r) => r.tier)), matched: reasons });
    }
    if (sets.warn) {
      const w = this.authorizer.authorize(sets.warn, req);
      if (w.decision === 'allow') out.warnings = w.reasons.map((id) => this.byId.get(id)!).filter(Boolean);
    }
    return out;
  }

  /** A decision from the rules alone: undetermined requests escalate to a human (no model here). */
  decide(facts: Facts): Decision {
    const t0 = performance.now();
    const o = this.evaluate(facts);
    const reason = (r: CompiledRule): Reason => ({ rule: r.id, effect: r.effect, message: r.message ?? `${r.effect} by rule ${r.id}`, source: r.source });
    const reasons: Reason[] = o.verdict
      ? o.matched.map(reason)
      : [{ rule: null, effect: 'escalate', message: 'No rule decided this request and no model is configured; a human decides.' }];
    const warnings = [
      ...o.warnings.map((r) => ({ rule: r.id, message: r.message ?? `warning from rule ${r.id}`, source: r.source })),
      ...o.errors.map((e) => ({ rule: e.rule.id, message: `rule could not be evaluated (${e.message}); ${e.rule.effect === 'allow' ? 'it did not allow' : 'it counted as matched'}`, source: e.rule.source })),
    ];
    const facts_: Decision['facts'] = { category: facts.category, detectors: facts.findings };
    if (facts.risk !== undefined) facts_.risk = facts.risk;
    return {
      decision: o.verdict ?? 'escalate',
      tier: o.verdict ? o.tier : 2,
      reasons,
      warnings,
      facts: facts_,
      route: o.verdict ? 'rules' : 'default',
      tokens: { input: 0, output: 0 },
      policy: { hash: this.bundle.hash },
      elapsed_ms: Math.round((performance.now() - t0) * 1000) / 1000,
    };
  }
}
