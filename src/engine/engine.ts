// Decides requests against a compiled bundle with Cedar, by DESIGN's order: any matching deny,
// else any matching escalate, else any matching allow, else undetermined. Rules are indexed by
// category, environment, resource type and action so that Cedar sees only the candidates for a
// request; the index only leaves out rules whose match cannot hold, and Cedar decides the rest.
// The trust boundary holds here by construction, whatever the rules say:
// - a request with several categories is asked about each: a deny or escalate rule that matches
//   any of them applies, an allow rule applies only if it matches every one of them;
// - deny and escalate rules are also matched on the lower-case form of the resource's path;
// - an allow never covers a request that carries a destructive or evasive finding, nor a command
//   the rule does not test: such a request is left undetermined (escalate, or the model).
import { createHash } from 'node:crypto';
import type { Bundle } from '../compile/bundle.js';
import type { CompiledRule } from '../compile/rule.js';
import { Authorizer, reads, readsContextAttr, readsVariable } from '../cedar/cedar.js';
import { FINDING_KINDS } from '../policy/vocabulary.js';
import { categoriesFor, cedarRequest, hasUpperPath, type Facts } from './facts.js';

/** Finding classes no allow rule can cover. */
const UNALLOWABLE = new Set(['destructive', 'evasion']);

/** Rule ids whose conditions read the command, as Cedar parses them (asked once per rule). */
const testsCommand = new Map<string, boolean>();

/** Matcher texts whose answer can depend on the category asked (they read `action`), as Cedar parses them. */
const readsCategory = new Map<string, boolean>();

/**
 * Whether Cedar's answer for a rule can differ from one category of a request to another: it names
 * categories, or its Cedar reads `action` in any other way (a `category:` condition, raw Cedar).
 * The others are asked once a request, whatever its number of categories.
 */
function categoryDependent(rule: CompiledRule): boolean {
  if (rule.index.category !== null) return true;
  let reads = readsCategory.get(rule.matcher);
  if (reads === undefined) {
    reads = readsVariable(rule.matcher, 'action');
    if (readsCategory.size >= 100_000) readsCategory.clear();
    readsCategory.set(rule.matcher, reads);
  }
  return reads;
}

/** Why an allow rule that held does not allow these facts, or undefined when it does. */
function allowBlocked(rule: CompiledRule, facts: Facts): string | undefined {
  const bad = facts.findings.filter((k) => UNALLOWABLE.has(FINDING_KINDS[k] ?? ''));
  if (bad.length) return `the request carries ${bad.join(', ')}, which no allow covers`;
  // A rule is written for commands when it tests the command; any other allow does not cover one.
  if (facts.request.command !== undefined) {
    const key = `${rule.id}\0${rule.matcher}`;
    let reads = testsCommand.get(key);
    if (reads === undefined) testsCommand.set(key, (reads = readsContextAttr(rule.matcher, 'command')));
    if (!reads) return 'the request carries a command this rule does not test';
  }
  return undefined;
}

/**
 * Whether a policy's text may read `context.risk`; false only where it cannot, so that Cedar need
 * not parse it to tell (about 0.8 ms a policy: most of a cold eval's routed decision, and seconds
 * at 10,000 rules). A read names the attribute (`.risk`, `["risk"]`, `has risk`), or spells it
 * with an escape (a backslash), or uses the whole context (`context` not followed by `.name`,
 * `[` or `has`, as in `context == {...}`; a method called on it counts too). Anything else goes to
 * Cedar's parser: a comment or a string that merely looks like one of these costs a parse, never
 * a wrong answer.
 */
export function mayReadRisk(policyText: string): boolean {
  return /risk|\\/.test(policyText) || /\bcontext\b(?!\s*(?:\.\s*[A-Za-z_]\w*\b(?!\s*\()|\[|has\b))/.test(policyText);
}

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
  /** Allow rules that held but do not allow these facts (a category they miss, a command, a finding). */
  withheld?: { rule: CompiledRule; why: string }[];
}

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

/**
 * A set of rules that name actions is split by the request's action when that leaves out more than
 * this many of them: one more Cedar call costs about as much as evaluating this many policies that
 * fail on their action (converting the request's entities and context dominates a call).
 */
export const ACTION_SPLIT = 64;

export interface EngineOptions {
  /** Check every request against the generated schema too (tests and `check` do). */
  validate?: boolean;
  /** Bundles of up to this many rules are one candidate set (default SMALL_BUNDLE); 0 indexes every bundle. */
  smallBundle?: number;
  /** See ACTION_SPLIT (tests lower it, to split small bundles too). */
  actionSplit?: number;
}

export class Engine {
  private authorizer: Authorizer;
  /** Set ids by request key (pass, category, environment, resource type, action). */
  private candidates = new Map<string, string[]>();
  /** The rules that can apply to a resource type: those of that type and those that name none. */
  private ofType = new Map<string, CompiledRule[]>();
  private byId: Map<string, CompiledRule>;
  /** Each rule's place in the bundle: Cedar reports reasons in no fixed order, decisions list them in this one. */
  private rank: Map<string, number>;
  private small: boolean;
  private actionSplit: number;

  constructor(readonly bundle: Bundle, opts: EngineOptions = {}) {
    this.authorizer = new Authorizer(bundle.schema, bundle.hash, opts.validate ?? false);
    this.byId = bundle.byId;
    this.rank = new Map(bundle.rules.map((r, i) => [r.id, i]));
    this.small = bundle.rules.length <= (opts.smallBundle ?? SMALL_BUNDLE);
    this.actionSplit = opts.actionSplit ?? ACTION_SPLIT;
  }

  private rulesOfType(type: string): CompiledRule[] {
    let rules = this.ofType.get(type);
    if (!rules) {
      rules = this.bundle.rules.filter((r) => !r.index.resource || r.index.resource.includes(type));
      if (this.ofType.size >= 1_000) this.ofType.clear();
      this.ofType.set(type, rules);
    }
    return rules;
  }

  /**
   * The preparsed Cedar sets to ask about one category of a request, each parsed once, on first
   * use, into Cedar's bounded pool (see Authorizer). A rule is left out only when its match cannot
   * hold for this request: another resource type, environment, category or action. A request
   * with several categories is asked once a category (the `first` pass and the others): rules
   * whose answer depends on the category are in the sets of every pass, by resource type,
   * category and environment; the others are asked in the first pass only, by resource type and
   * environment. Either group is split by the request's action when that leaves out many rules.
   * Keys are values a rule names, so that sets are shared by many requests and stay few (a rule
   * in two or three); the agent is not part of a key: a rule that names one agent fails on
   * Cedar's scope for almost nothing, and keying on it would copy every rule that names none into
   * a set per agent. Sets with the same rules are one.
   */
  private setsFor(category: string, facts: Facts, first: boolean): string[] {
    const { environment, action } = facts.request;
    const type = facts.request.resource.type;
    // A small bundle is one set: parsing it once costs less than parsing many small subsets, and
    // each further policy in a call costs only about 2 microseconds.
    const key = this.small ? '' : `${first ? 1 : 0}\0${category}\0${environment}\0${type}\0${action}`;
    let sets = this.candidates.get(key);
    if (sets) return sets;
    const groups: CompiledRule[][] = [];
    // The rules that name no action, and those that name this one: two sets when that leaves out more than actionSplit rules.
    const byAction = (rules: CompiledRule[]): CompiledRule[][] => {
      const named = rules.filter((r) => r.index.action);
      const here = named.filter((r) => r.index.action!.includes(action));
      return named.length - here.length > this.actionSplit ? [rules.filter((r) => !r.index.action), here] : [rules];
    };
    if (this.small) groups.push(this.bundle.rules);
    else {
      const inEnv = (r: CompiledRule) => r.index.environment === null || r.index.environment.includes(environment);
      const rules = this.rulesOfType(type).filter(inEnv);
      groups.push(...byAction(rules.filter((r) => categoryDependent(r) && (r.index.category === null || r.index.category.includes(category)))));
      if (first) groups.push(...byAction(rules.filter((r) => !categoryDependent(r))));
    }
    sets = [];
    for (const rules of groups) {
      if (!rules.length) continue;
      const id = `${this.bundle.hash.slice(0, 16)}:${createHash('sha1').update(rules.map((r) => r.id).join('\0')).digest('hex')}`;
      this.authorizer.prepare(id, () => Object.fromEntries(rules.map((r) => [r.id, r.matcher])));
      sets.push(id);
    }
    if (this.candidates.size > 10_000) this.candidates.clear();
    this.candidates.set(key, sets);
    return sets;
  }

  /** Whether a rule is asked about each category of a request, or once (see setsFor). */
  private askedPerCategory(rule: CompiledRule): boolean {
    return this.small || categoryDependent(rule);
  }

  private riskRead?: boolean;

  /**
   * Whether any rule can read the request's risk (`context.risk`), as Cedar parses the rules whose
   * text may (mayReadRisk): a rule that reads the whole context, or that Cedar cannot parse, counts
   * as reading it. When none does, a risk added to the facts changes no rule's answer.
   */
  get readsRisk(): boolean {
    if (this.riskRead === undefined) {
      const keep = reads(this.bundle.rules.map((r) => r.matcher).filter(mayReadRisk));
      const context = keep === undefined ? true : keep === true ? true : keep.get('context');
      this.riskRead = context === true || (context !== undefined && context.has('risk'));
    }
    return this.riskRead;
  }

  /** Frees the Cedar sets this engine parsed (a reload calls it for the engine it replaces). */
  dispose(): void {
    this.authorizer.dispose();
    this.candidates.clear();
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

  /** The rules that hold for one Cedar request, and those Cedar could not evaluate. */
  private pass(facts: Facts, category: string, lowerPath: boolean, first: boolean): { held: CompiledRule[]; errors: { rule: CompiledRule; message: string }[] } {
    const sets = this.setsFor(category, facts, first);
    if (!sets.length) return { held: [], errors: [] };
    const req = cedarRequest(facts, this.bundle, { category, lowerPath });
    const held: CompiledRule[] = [];
    const errors: { rule: CompiledRule; message: string }[] = [];
    for (const set of sets) {
      const a = this.authorizer.authorize(set, req);
      // Every candidate is evaluated as a forbid, so Cedar's reasons are all the rules that hold.
      for (const id of a.reasons) {
        const r = this.byId.get(id);
        if (r) held.push(r);
      }
      for (const e of a.errors) {
        const rule = this.byId.get(e.policyId);
        if (rule) errors.push({ rule, message: e.message });
      }
    }
    // In the bundle's order: Cedar returns its reasons in no fixed order.
    held.sort((x, y) => this.rank.get(x.id)! - this.rank.get(y.id)!);
    if (sets.length > 1) errors.sort((x, y) => this.rank.get(x.rule.id)! - this.rank.get(y.rule.id)!);
    return { held, errors };
  }

  /** What the rules say about these facts, before any router or model. */
  evaluate(facts: Facts): RuleOutcome {
    const out: RuleOutcome = { verdict: null, tier: 2, matched: [], warnings: [], errors: [] };
    const categories = categoriesFor(facts);
    const restrictive = new Set<CompiledRule>();
    const warnings = new Set<CompiledRule>();
    const errors = new Map<CompiledRule, string>();
    let allows: Set<CompiledRule> | undefined;
    for (const [i, category] of categories.entries()) {
      const p = this.pass(facts, category, false, i === 0);
      const held = new Set(p.held);
      for (const e of p.errors) if (!errors.has(e.rule)) errors.set(e.rule, e.message);
      // A deny or escalate rule that cannot be evaluated counts as matched; an allow or warn does not.
      for (const r of [...p.held, ...p.errors.map((e) => e.rule)]) if (r.effect === 'deny' || r.effect === 'escalate') restrictive.add(r);
      for (const r of p.held) if (r.set === 'warn') warnings.add(r);
      const here = p.held.filter((r) => r.effect === 'allow');
      // A rule asked once (its answer is the same for every category) holds for every category it held for the first.
      allows = allows === undefined ? new Set(here) : new Set([...allows].filter((r) => held.has(r) || !this.askedPerCategory(r)));
      if (hasUpperPath(facts)) {
        const lower = this.pass(facts, category, true, i === 0);
        for (const r of [...lower.held, ...lower.errors.map((e) => e.rule)]) if (r.effect === 'deny' || r.effect === 'escalate') restrictive.add(r);
      }
    }
    out.errors = [...errors].map(([rule, message]) => ({ rule, message }));
    out.warnings = [...warnings];
    const matched = [...restrictive].sort((x, y) => this.rank.get(x.id)! - this.rank.get(y.id)!);
    const denies = matched.filter((r) => r.effect === 'deny');
    const escalates = matched.filter((r) => r.effect === 'escalate');
    const permitted: CompiledRule[] = [];
    const withheld: { rule: CompiledRule; why: string }[] = [];
    for (const r of allows ?? []) {
      const why = allowBlocked(r, facts);
      if (why) withheld.push({ rule: r, why }); else permitted.push(r);
    }
    if (withheld.length) out.withheld = withheld;
    if (denies.length) Object.assign(out, { verdict: 'deny', tier: 3, matched: denies });
    else if (escalates.length) Object.assign(out, { verdict: 'escalate', tier: 2, matched: escalates });
    else if (permitted.length) Object.assign(out, { verdict: 'allow', tier: Math.max(...permitted.map((r) => r.tier)), matched: permitted });
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
      ...(o.verdict === null ? (o.withheld ?? []).map((w) => ({ rule: w.rule.id, message: `allow rule did not allow: ${w.why}`, source: w.rule.source })) : []),
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
