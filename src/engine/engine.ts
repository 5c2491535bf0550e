// Decides requests against a compiled bundle with Cedar, by DESIGN's order: any matching deny,
// else any matching escalate, else any matching allow, else undetermined. Rules are indexed by
// category, environment and agent so that Cedar sees only the candidates for a request.
import { createHash } from 'node:crypto';
import type { Bundle } from '../compile/bundle.js';
import type { CompiledRule } from '../compile/rule.js';
import { Authorizer } from '../cedar/cedar.js';
import { cedarRequest, type Facts } from './facts.js';

export type Verdict = 'allow' | 'deny' | 'escalate';

// The Decision contract's types come from schemas/decision.schema.json.
export type { Decision, Reason } from './decision-types.js';
import type { Decision, Reason } from './decision-types.js';

export interface RuleOutcome {
  /** null when no rule decided. */
  verdict: Verdict | null;
  tier: number;
  matched: CompiledRule[];
  warnings: CompiledRule[];
  /** Rules Cedar could not evaluate; a deny or escalate among them counts as matched. */
  errors: { rule: CompiledRule; message: string }[];
}

interface Candidates { set: string | undefined }

export interface RuleTrace {
  id: string;
  effect: string;
  source: string;
  /** matched; unmet (a condition does not hold); skipped (the index ruled it out); error (Cedar could not evaluate it). */
  status: 'matched' | 'unmet' | 'skipped' | 'error';
  /** For unmet: each condition that does not hold, as written in YAML, and where. For skipped: how the request differs from the rule's match. */
  because?: { label: string; source: string }[];
  error?: string;
}

/** Bundles up to this many rules are evaluated as one candidate set. */
export const SMALL_BUNDLE = 64;

export class Engine {
  private authorizer: Authorizer;
  private candidates = new Map<string, Candidates>();
  private byId: Map<string, CompiledRule>;
  /** Each rule's place in the bundle: Cedar reports reasons in no fixed order, decisions list them in this one. */
  private rank: Map<string, number>;

  /** `validate`: check every request against the generated schema too (tests and `check` do). */
  constructor(readonly bundle: Bundle, opts: { validate?: boolean } = {}) {
    this.authorizer = new Authorizer(bundle.schema, bundle.hash, opts.validate ?? false);
    this.byId = bundle.byId;
    this.rank = new Map(bundle.rules.map((r, i) => [r.id, i]));
  }

  /**
   * The preparsed Cedar sets holding the rules that can apply to a request of this category,
   * environment and resource type. Each distinct set is parsed once. The agent is not part of the
   * key: rules naming agents are common enough that keying by agent multiplies the sets to parse,
   * while Cedar checks a rule's principal condition for almost nothing.
   */
  private setsFor(category: string, environment: string, resourceType: string): Candidates {
    // A small bundle is one set: parsing it once costs less than parsing many small subsets, and
    // each further policy in a call costs only about 2 microseconds.
    const key = this.bundle.rules.length <= SMALL_BUNDLE ? '' : `${category}\0${environment}\0${resourceType}`;
    let c = this.candidates.get(key);
    if (c) return c;
    const fits = (r: CompiledRule) => key === '' ||
      ((r.index.category === null || r.index.category.includes(category)) &&
      (r.index.environment === null || r.index.environment.includes(environment)) &&
      (!r.index.resource || r.index.resource.includes(resourceType)));
    const rules = this.bundle.rules.filter(fits);
    let id: string | undefined;
    if (rules.length) {
      id = `${this.bundle.hash.slice(0, 16)}:${createHash('sha1').update(rules.map((r) => r.id).join('\0')).digest('hex')}`;
      this.authorizer.prepare(id, () => Object.fromEntries(rules.map((r) => [r.id, r.matcher])));
    }
    c = { set: id };
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
      if (r.index.category && !r.index.category.includes(category)) miss.push(`the request's category ${category} is not ${r.index.category.join(' or ')}`);
      if (r.index.environment && !r.index.environment.includes(environment)) miss.push(`the request's environment ${environment} is not ${r.index.environment.join(' or ')}`);
      if (r.index.agent && !r.index.agent.includes(agent)) miss.push(`the request's agent ${agent} is not ${r.index.agent.join(' or ')}`);
      if (r.index.resource && !r.index.resource.includes(facts.request.resource.type)) miss.push(`the request's resource type ${facts.request.resource.type} is not ${r.index.resource.join(' or ')}`);
      if (miss.length) return { ...base, status: 'skipped', because: miss.map((m) => ({ label: m, source: r.source })) };
      const whole = `${this.bundle.hash.slice(0, 16)}:one:${r.id}`;
      this.authorizer.prepare(whole, () => ({ [r.id]: r.matcher }));
      const a = this.authorizer.authorize(whole, req);
      if (a.errors.length) return { ...base, status: 'error', error: a.errors[0]!.message };
      if (a.reasons.includes(r.id)) return { ...base, status: 'matched' };
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
    const out: RuleOutcome = { verdict: null, tier: 2, matched: [], warnings: [], errors: [] };
    const sets = this.setsFor(facts.category, facts.request.environment, facts.request.resource.type);
    if (!sets.set) return out;
    const a = this.authorizer.authorize(sets.set, cedarRequest(facts, this.bundle));
    // Every candidate is evaluated as a forbid, so Cedar's reasons are all the rules that hold.
    const held = a.reasons.map((id) => this.byId.get(id)).filter((r): r is CompiledRule => !!r).sort((x, y) => this.rank.get(x.id)! - this.rank.get(y.id)!);
    for (const e of a.errors) {
      const rule = this.byId.get(e.policyId);
      if (rule) out.errors.push({ rule, message: e.message });
    }
    // A deny or escalate rule that cannot be evaluated counts as matched; an allow or warn does not.
    const failedClosed = out.errors.map((e) => e.rule).filter((r) => r.effect === 'deny' || r.effect === 'escalate');
    const matched = [...held, ...failedClosed];
    const denies = matched.filter((r) => r.effect === 'deny');
    const escalates = matched.filter((r) => r.effect === 'escalate');
    const allows = matched.filter((r) => r.effect === 'allow');
    out.warnings = held.filter((r) => r.set === 'warn');
    if (denies.length) Object.assign(out, { verdict: 'deny', tier: 3, matched: denies });
    else if (escalates.length) Object.assign(out, { verdict: 'escalate', tier: 2, matched: escalates });
    else if (allows.length) Object.assign(out, { verdict: 'allow', tier: Math.max(...allows.map((r) => r.tier)), matched: allows });
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
    // The state facts go into the record too, so that distill and replay see what the rules saw.
    const facts_: Decision['facts'] = { category: facts.category, detectors: facts.findings, trust: facts.trust, hour: facts.hour, budget: { ...facts.budget } };
    if (facts.team !== undefined) facts_.team = facts.team;
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
