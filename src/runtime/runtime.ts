// The runtime every deciding command shares: configuration, the compiled bundle (cached by
// content hash), the state file and the engine, built once and handed to commands. `evaluate`
// is the data path of one decision: normalize, detect, state facts, cache, rules, escalation,
// usage and ledger, all committed in one transaction.
import { join, resolve } from 'node:path';
import type { Bundle } from '../compile/bundle.js';
import { loadConfig, resolveState, type Config } from '../config/config.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { Engine, type Decision } from '../engine/engine.js';
import { factsKey, factsOf, type Facts } from '../engine/facts.js';
import { dayPeriod, hourPeriod, newId, State } from '../ledger/state.js';
import { detect, detectField, redactRequest, type Finding } from '../request/detectors/index.js';
import { detectorVersions } from '../request/detectors/packages.js';
import { normalizeRequest, requestId, type Request } from '../request/normalize.js';
import { UNCLASSIFIED, type Category } from '../policy/vocabulary.js';
import { BUILD } from '../version.js';
import { humanAnswer, lowerTrustForFindings, notifyEscalation, openEscalation, type EscalationNotice } from '../escalation/escalation.js';
import { policiesKey, readCachedBundle, writeCachedBundle } from './bundle-cache.js';
import { canonicalJson, sha256 } from './canonical.js';
import { LOW_CONFIDENCE } from '../router/provider.js';
import { askShadow, shadowable } from './shadow.js';

export interface RuntimeOptions {
  config?: string;
  policies?: string;
  state?: string;
  /** Read and write no state file: trust is the default, budgets start empty, nothing is recorded. */
  noState?: boolean;
  /** A bundle file (`govern build`) to decide with instead of the policy folder; else the config's bundle.file. */
  bundle?: string;
  cwd?: string;
}

/** The policies do not compile; nothing was decided. */
export class PolicyError extends Error {
  constructor(readonly diagnostics: Diagnostic[], readonly sources: Map<string, string>) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super(`the policies have ${errors.length} error${errors.length === 1 ? '' : 's'}; run \`govern check\`:\n${errors.slice(0, 5).map((d) => `  ${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`).join('\n')}`);
  }
}

export type { AdvisorInput, Intent, IntentRouter, ModelAdvisor, ModelOutcome, Pending, SmallRouter } from './pending.js';
import type { Intent, IntentRouter, ModelAdvisor, ModelOutcome, Pending, SmallRouter } from './pending.js';

export interface Evaluation {
  decision: Decision;
  intent?: Intent;
  request: Request;
  facts: Facts;
  findings: Finding[];
  /** The escalation awaiting a human, when the decision is escalate. */
  escalation?: string;
  /** Written to the ledger (false with --no-state: nothing is recorded). */
  recorded: boolean;
}

export interface BudgetStatus {
  agent: string;
  hour: { usd: number; tokens: number; limit: { usd: number; tokens: number } };
  day: { usd: number; tokens: number; limit: { usd: number; tokens: number } };
}

/** The largest `budget.used_pct`: a request costing 10,000 times a limit or more reads as this. */
export const MAX_BUDGET_PCT = 1_000_000;
/**
 * The decision cache's key: the bundle, the model that would answer, the request's free text
 * (which the model reads but the Cedar request does not carry) and the Cedar request. A cached
 * model answer thus serves only the same words, and none outlives a change of model.
 */
export function decisionCacheKey(bundleHash: string, model: string, request: Request, facts: string): string {
  return sha256(decisionCacheMaterial(bundleHash, model, request, facts));
}

/** What the decision cache's key is the hash of (`sha256` joins its parts the same way). */
function decisionCacheMaterial(bundleHash: string, model: string, request: Request, facts: string): string {
  return `${bundleHash}\0${model}\0${canonicalJson([request.content, request.request, request.justification])}\0${facts}`;
}

/** The compiled bundle of a policy folder: from the content-hash cache, else compiled (and cached). */
export async function loadBundle(policies: string): Promise<Bundle> {
  const problems: Diagnostic[] = [];
  const found = policiesKey([policies], BUILD, problems);
  const key = problems.some((d) => d.severity === 'error') ? undefined : found;
  const cached = key === undefined ? undefined : readCachedBundle(key, BUILD);
  if (cached) return cached;
  const { check } = await import('../check/check.js');
  const r = check([policies], { tests: false });
  if (!r.bundle) throw new PolicyError(r.diagnostics, r.sources);
  if (key !== undefined) writeCachedBundle(key, BUILD, r.bundle);
  return r.bundle;
}

/**
 * Cedar over the facts; when no rule decides, the router classifies the request and, if it is
 * confident, the rules are asked again with its category and risk (route "router"). Only a
 * confident classification may feed the rules: a guess must not make an allow match.
 */
export function routeAndDecide(engine: Engine, facts: Facts, router: IntentRouter | undefined, request: Request, findings: Finding[]): { decision: Decision; facts: Facts; intent?: Intent } {
  const decision = engine.decide(facts);
  if (decision.route !== 'default') return { decision, facts };
  const intent = router?.(request, findings, facts);
  if (!intent) return { decision, facts };
  return decideWithIntent(engine, facts, intent, decision) ?? { decision, facts, intent };
}

/**
 * The rules again with a confident classification's category and risk, filled in only where the
 * request left them open (a classification never replaces a derived category); a rule that decides
 * now decides by route "router". Undefined when the intent is unclear or adds nothing. `before`,
 * the rules' decision on `facts`, answers again when only the risk is new and no rule reads it.
 */
export function decideWithIntent(engine: Engine, facts: Facts, intent: Intent, before?: Decision): { decision: Decision; facts: Facts; intent: Intent } | undefined {
  if (intent.unclear) return undefined;
  const enriched = { ...facts, ...(intent.category && facts.category === UNCLASSIFIED ? { category: intent.category } : {}), ...(intent.risk && facts.risk === undefined ? { risk: intent.risk } : {}) };
  if (enriched.category === facts.category && enriched.risk === facts.risk) return undefined;
  // The Cedar requests differ only in a risk that no rule reads: every rule answers as before.
  const same = before && enriched.category === facts.category && !engine.readsRisk;
  const again = same ? { ...before, facts: { ...before.facts, risk: enriched.risk! } } : engine.decide(enriched);
  return { decision: again.route === 'rules' ? { ...again, route: 'router' } : again, facts: enriched, intent };
}

const STRICTNESS = { allow: 0, escalate: 1, deny: 2 } as const;

/** A decision found in the decision cache for a request. */
export interface CachedDecision {
  decision: Decision;
  /**
   * Cached by this very process (its own memory), or read back with this user's seal over its key
   * and decision: used as it is. Otherwise it was read back from a file anyone with access can
   * edit, and is used only when at least as strict as the rules.
   */
  trusted: boolean;
}

/**
 * The steps of a decision before any model, in their order and with what each may decide, for the
 * runtime and for recorded traffic alike: the cache, then the rules, then the router (see
 * routeAndDecide). A trusted cache entry, or a deny read back, decides at once; any other entry
 * read back decides only when at least as strict as what the rules say, so an edited cache can
 * never turn a deny or escalate into an allow. A cache hit comes back with route "cache" and no
 * tokens; a decision with route "default" is the model's turn (the caller asks it, or says so).
 */
export function decideBeforeModel(engine: Engine, facts: Facts, router: IntentRouter | undefined, request: Request, findings: Finding[], cached?: CachedDecision): { decision: Decision; facts: Facts; intent?: Intent; hit: boolean } {
  const hit = (d: Decision) => ({ decision: { ...d, route: 'cache' as const, tokens: { input: 0, output: 0 } }, facts, hit: true });
  if (cached && (cached.trusted || cached.decision.decision === 'deny')) return hit(cached.decision);
  const routed = routeAndDecide(engine, facts, router, request, findings);
  const ruled = routed.decision.route === 'rules' || routed.decision.route === 'router' ? STRICTNESS[routed.decision.decision] : 0;
  if (cached && STRICTNESS[cached.decision.decision] >= ruled) return hit(cached.decision);
  return { ...routed, hit: false };
}
/** Entries of a process's own decision cache before it starts afresh. */
const OWN_CACHE_SIZE = 10_000;
/** Longer keys of the own cache are kept by their hash (the decision cache key itself). */
const OWN_KEY_MAX = 2048;

/** A decision cache row as a Decision; undefined when the row is not one (it is then ignored). */
function cachedDecision(row: string | undefined): Decision | undefined {
  if (row === undefined) return undefined;
  try {
    const d = JSON.parse(row) as Decision;
    return d && typeof d === 'object' && ['allow', 'deny', 'escalate'].includes(d.decision) && Array.isArray(d.reasons) ? d : undefined;
  } catch {
    return undefined;
  }
}

/** Whether every number in a value parsed from JSON is one JSON writes back as itself (not an infinity, not -0). */
function writesBack(v: unknown): boolean {
  const todo = [v];
  while (todo.length) {
    const x = todo.pop();
    if (typeof x === 'number') {
      if (!Number.isFinite(x) || Object.is(x, -0)) return false;
    } else if (x !== null && typeof x === 'object') {
      for (const y of Object.values(x)) todo.push(y);
    }
  }
  return true;
}

/** Freezes a value and everything in it, and returns it. */
function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** The built-in intent router, marking a classification under `minConfidence` unclear. */
export async function builtinRouter(minConfidence: number): Promise<IntentRouter> {
  const { classify } = await import('../router/intent.js');
  return (request, findings) => {
    const i = classify(request, findings);
    return { ...i, unclear: i.unclear || i.confidence < minConfidence };
  };
}

export class Runtime {
  private engineInstance?: Engine;
  /**
   * Decisions this process cached, by what their cache key hashes (so that a hit hashes nothing),
   * with that key: its own memory, so trusted without a second look.
   */
  private ownCache = new Map<string, { decision: Decision; expires: number; key: string }>();
  /** The built-in router (and optional small model) for requests no rule decides. */
  router?: IntentRouter;
  /** The large model, when one is configured. */
  advisor?: ModelAdvisor;
  /** The small model, asked when the built-in router is unsure. */
  smallRouter?: SmallRouter;
  /** The injection guard model, when `detectors.injection.model` is set. */
  guard?: { ask: (text: string) => Promise<string>; name: string };
  /** The verified bundle file decisions come from, when not the policy folder. */
  bundleFile?: string;

  private constructor(readonly config: Config, private current: Bundle, readonly state: State | undefined) {}

  /** The compiled bundle decisions are made with. */
  get bundle(): Bundle {
    return this.current;
  }

  /**
   * Decides with another bundle from now on (a policy reload): the engine is rebuilt for it on
   * first use. Decisions prepared before the call keep the bundle they were prepared with only
   * if they are committed before it; callers swap between commits.
   */
  useBundle(bundle: Bundle): void {
    if (bundle === this.current) return;
    this.current = bundle;
    // Their cache key material names the bundle.
    this.known.clear();
    // The old engine's Cedar sets are freed now; were it used again it would parse them again.
    this.engineInstance?.dispose();
    this.engineInstance = undefined;
  }

  /**
   * Compiles the policy folder again (through the same content-hash cache as `open`) and decides
   * with the result. Throws PolicyError when the policies do not compile; the current bundle stays.
   */
  async reload(): Promise<Bundle> {
    const bundle = this.bundleFile
      ? (await import('../bundle/bundle.js')).readBundle(this.bundleFile, this.config.bundle.publicKeys).bundle
      : await loadBundle(this.config.policies);
    this.useBundle(bundle);
    return bundle;
  }

  static async open(opts: RuntimeOptions = {}): Promise<Runtime> {
    const config = await loadConfig(opts.config, opts.cwd);
    if (opts.policies) config.policies = resolve(opts.cwd ?? process.cwd(), opts.policies);
    if (opts.state) config.state = resolveState(opts.cwd ?? process.cwd(), opts.state);
    // A bundle file is verified (digest, policy hash, signature against bundle.public_keys) or refused whole.
    const bundleFile = opts.bundle ? resolve(opts.cwd ?? process.cwd(), opts.bundle) : config.bundle.file;
    const bundle = bundleFile
      ? (await import('../bundle/bundle.js')).readBundle(bundleFile, config.bundle.publicKeys, opts.bundle ?? bundleFile).bundle
      : await loadBundle(config.policies);
    const state = opts.noState ? undefined : State.open(config.state, { synchronous: config.durability });
    const rt = new Runtime(config, bundle, state);
    if (bundleFile) rt.bundleFile = bundleFile;
    rt.router = await builtinRouter(config.router.minConfidence);
    if (config.models.large || config.models.small) {
      const { makeAdvisor, makeClassifier } = await import('./advisor.js');
      if (config.models.large) rt.advisor = makeAdvisor(config.models.large);
      if (config.models.small) rt.smallRouter = makeClassifier(config.models.small, config.router.minConfidence);
    }
    const guard = config.detectors.injection.model;
    if (guard) rt.guard = { ask: (await import('../router/providers/guard.js')).guardModel(guard), name: `${guard.provider}/${guard.model}` };
    return rt;
  }

  get engine(): Engine {
    this.engineInstance ??= new Engine(this.bundle);
    return this.engineInstance;
  }

  close(): void {
    // Shadow answers still out are written before the state file closes.
    if (this.pendingShadows.size) void this.settle().then(() => this.state?.close());
    else this.state?.close();
  }

  /** Runs several evaluations in one transaction (group commit); each still commits or fails alone within it. */
  transaction<T>(fn: () => T): T {
    if (!this.state) return fn();
    let out: T;
    try {
      out = this.state.atomically(fn);
    } catch (e) {
      this.notices = [];
      throw e;
    }
    // Committed: now tell people about the escalations it opened (never about rolled-back ones).
    const notices = this.notices.splice(0);
    if (notices.length) this.notified.push(...notices.map((n) => notifyEscalation(this.config, n)));
    return out;
  }

  /** New escalations of the open transaction, announced once it commits. */
  private notices: EscalationNotice[] = [];
  /** Announcements under way; `settled` waits for them (a short-lived command before it exits). */
  private notified: Promise<void>[] = [];

  /** Resolves once every announcement of a new escalation has been delivered or has failed. */
  async settled(): Promise<void> {
    while (this.notified.length) await Promise.all(this.notified.splice(0));
  }

  limits(agent: string): { day: { usd: number; tokens: number }; hour: { usd: number; tokens: number } } {
    return this.registered(agent)?.budgets ?? this.config.budgets;
  }

  /** The registry's entry for an agent, its name compared in canonical form (NFKC, any case). */
  private registered(agent: string): Config['agents'][string] | undefined {
    if (Object.hasOwn(this.config.agents, agent)) return this.config.agents[agent];
    this.canonicalAgents ??= new Map(Object.entries(this.config.agents).map(([k, v]) => [k.normalize('NFKC').trim().toLowerCase(), v]));
    return this.canonicalAgents.get(agent);
  }

  private canonicalAgents?: Map<string, Config['agents'][string]>;

  budget(agent: string, now: Date): BudgetStatus {
    const l = this.limits(agent);
    const [h, d] = this.state?.usagePair(agent, hourPeriod(now), dayPeriod(now)) ?? [{ usd: 0, tokens: 0 }, { usd: 0, tokens: 0 }];
    return { agent, hour: { usd: h.usd, tokens: h.tokens, limit: l.hour }, day: { usd: d.usd, tokens: d.tokens, limit: l.day } };
  }

  /** Budget facts for a request: the share of each limit it would use, and whether it would pass one. */
  budgetFacts(agent: string, cost: { usd: number; tokens: number }, now: Date): { used_pct: number; exceeded: boolean } {
    const b = this.budget(agent, now);
    let pct = 0;
    let exceeded = false;
    for (const [used, limit] of [[b.hour.usd + cost.usd, b.hour.limit.usd], [b.hour.tokens + cost.tokens, b.hour.limit.tokens], [b.day.usd + cost.usd, b.day.limit.usd], [b.day.tokens + cost.tokens, b.day.limit.tokens]] as const) {
      if (used > limit + 1e-9) exceeded = true;
      if (limit > 0) pct = Math.max(pct, Math.floor((used / limit) * 100 + 1e-9));
      else if (used > 0) pct = Math.max(pct, 100);
    }
    // A share past MAX_BUDGET_PCT says no more than "far over" and must stay a Cedar long.
    return { used_pct: Math.min(pct, MAX_BUDGET_PCT), exceeded };
  }

  facts(request: Request, findings: Finding[], now: Date): Facts {
    const agent = request.agent.id;
    const registered = this.registered(agent);
    const team = registered?.team ?? request.agent.team;
    return factsOf(request, {
      findings: findings.map((f) => f.kind),
      trust: this.state?.trust(agent),
      ...(team !== undefined ? { team } : {}),
      hour: now.getUTCHours(),
      budget: this.budgetFacts(agent, request.cost, now),
    });
  }

  /**
   * What cache, rules and router say, without writing anything. `decision` is unset when nobody
   * decided and a model is configured: the caller then consults it (outside any transaction).
   */
  prepare(raw: unknown, now = new Date(), opts: { parsed?: boolean } = {}): Pending {
    const t0 = performance.now();
    const known = opts.parsed ? this.knownOf(raw) : undefined;
    const request = known ? known.request : normalizeRequest(raw);
    const scan = known ? undefined : this.scanOf(request, now.getTime());
    const findings = known ? known.findings : scan!.findings;
    const usageStamp = this.state?.usageStamp();
    let facts = this.facts(request, findings, now);
    // The Cedar request is built in a fixed order from the facts, so its JSON is a stable key.
    const material = known ? known.material(facts) : this.cacheMaterialOf(request, facts);
    // A long request (its free text is in the key) is kept by its hash, so the cache stays small.
    const hashed = material.length > OWN_KEY_MAX ? sha256(material) : undefined;
    const own = this.config.cache.enabled ? this.ownCache.get(hashed ?? material) : undefined;
    const fromOwn = own && own.expires > now.getTime() ? own : undefined;
    const cacheKey = fromOwn?.key ?? hashed ?? sha256(material);
    let key: string | undefined;
    const requestKey = () => (key ??= sha256(canonicalJson({ ...request, id: undefined })));
    const p: Pending = { t0, now, request, findings, facts, cacheKey, requestKey, fresh: true, ...(usageStamp !== undefined ? { usageStamp } : {}), ...(scan?.keep ? { scan: scan.keep } : {}) };
    // A decision this process made itself is trusted as it is, and so is a row read back from the
    // state file that carries this user's seal: govern wrote it, under a key that names this bundle
    // and these very facts, so the rules would say again what they said then. Any other row
    // (edited, or sealed under another user's key) decideBeforeModel weighs against the rules.
    const row = this.config.cache.enabled && !fromOwn ? this.state?.cacheGet(cacheKey, now.getTime()) : undefined;
    const stored = cachedDecision(row?.decision);
    const cached: CachedDecision | undefined = fromOwn ? { decision: fromOwn.decision, trusted: true } : stored ? { decision: stored, trusted: row!.sealed } : undefined;
    const routed = decideBeforeModel(this.engine, facts, this.router, request, findings, cached);
    const decision = routed.decision;
    if (routed.hit) {
      p.decision = decision;
      p.fresh = false;
      p.elapsed = performance.now() - t0;
      return p;
    }
    if (routed.facts !== facts) p.cacheFacts = facts;
    facts = routed.facts;
    p.facts = facts;
    if (routed.intent) p.intent = routed.intent;
    const askable = this.advisor || (this.smallRouter && p.intent?.unclear);
    if (decision.route !== 'default' || !askable) p.decision = decision;
    else p.undecided = decision;
    p.elapsed = performance.now() - t0;
    return p;
  }

  /**
   * The decision again with the agent's budget as it stands now, under the write lock. `prepare`
   * read the usage without the lock (the model may be asked meanwhile, and a batch prepares many
   * requests before it commits any), so other decisions may have spent since: the rules decide
   * again on the fresh budget facts, and a rule that decides now (`deny-over-budget`) wins over
   * whatever was prepared. When no rule decides any more, the model's answer stands if the model
   * was asked (with the warnings and facts of the fresh budget); a verdict the rules or the cache
   * gave on the old budget does not, and a human decides. Undefined when the budget facts did not
   * change.
   */
  private recheckBudget(p: Pending, prepared: Decision, asked: ModelOutcome | undefined): { decision: Decision; facts: Facts; cacheKey?: string } | undefined {
    // Prepared in this very transaction and nothing spent since (serve's usual path): nothing to read again.
    if (p.usageStamp !== undefined && p.usageStamp === this.state?.usageStamp()) return undefined;
    const budget = this.budgetFacts(p.request.agent.id, p.request.cost, p.now);
    if (budget.used_pct === p.facts.budget.used_pct && budget.exceeded === p.facts.budget.exceeded) return undefined;
    const facts: Facts = { ...p.facts, budget };
    const again = this.engine.decide(facts);
    // The model's tokens were spent whatever the rules say now.
    const tokens = asked ? prepared.tokens : again.tokens;
    if (again.route !== 'default') {
      const decision: Decision = { ...again, route: prepared.route === 'router' ? 'router' : 'rules', tokens };
      return { decision, facts, cacheKey: this.cacheKeyOf(p.request, facts) };
    }
    if (asked) return { decision: { ...prepared, warnings: again.warnings, facts: { ...prepared.facts, budget: { ...budget } } }, facts };
    const reasons = [{ rule: null, effect: 'escalate' as const, message: 'The rules decided this request on the budget as it was when it was prepared; on the budget as it is now, none decides. A human decides.' }];
    return { decision: { ...again, reasons, tokens }, facts };
  }

  /**
   * Requests this process has normalized and scanned, by the JSON text of their raw form without
   * its id: an agent that asks the same thing again (serve's usual traffic) is not normalized,
   * scanned or keyed again. Only for a raw request just parsed from JSON text, whose JSON text is
   * then exactly what normalizeRequest reads (no getters, no toJSON), but for the numbers JSON
   * cannot write back. What is kept is frozen: every
   * decision of the same request shares it.
   */
  private known = new Map<string, { request: Request; findings: Finding[]; key?: { inputs: string; material: string } }>();

  /** The normalized request, its findings and its cache key material, from `known` or made and kept; undefined for a raw request that is not kept. */
  private knownOf(raw: unknown): { request: Request; findings: Finding[]; material: (facts: Facts) => string } | undefined {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
    const { id: _rawId, ...rest } = raw as Record<string, unknown>;
    // JSON writes a number too large for a double (parsed as Infinity) as null, and -0 as 0: such
    // a request's text would name another that normalizes otherwise (null is a cost of 0, Infinity
    // no cost at all), so it is not kept.
    if (!writesBack(rest)) return undefined;
    const text = JSON.stringify(rest);
    if (text.length > OWN_KEY_MAX) return undefined;
    let k = this.known.get(text);
    const id = requestId(raw as Record<string, unknown>);
    if (!k) {
      const { id: _id, ...request } = normalizeRequest(raw);
      k = { request: deepFreeze(request), findings: deepFreeze(detect(request)) };
      if (this.known.size >= OWN_CACHE_SIZE) this.known.clear();
      this.known.set(text, k);
    }
    const entry = k;
    const request = id === undefined ? entry.request : { ...entry.request, id };
    // The id is scanned as every string is, and last, as `detect` scans it.
    const inId = id === undefined ? [] : detectField('id', id);
    const findings = inId.length ? [...entry.findings, ...inId] : entry.findings;
    // The facts that are not the request's own (trust, team, hour, budget) pick the key material;
    // the last one made is kept (a request that spends moves its budget facts each time). Findings
    // in the id are facts too: such a request is keyed afresh.
    const material = (f: Facts) => {
      if (inId.length) return this.cacheMaterialOf(request, f);
      const inputs = `${f.trust}\0${f.team ?? ''}\0${f.hour}\0${f.budget.used_pct}\0${f.budget.exceeded}`;
      if (entry.key?.inputs !== inputs) entry.key = { inputs, material: this.cacheMaterialOf(request, f) };
      return entry.key.material;
    };
    return { request, findings, material };
  }

  /**
   * The detectors' findings in a request, from the state file when it was scanned before. Each
   * request's findings are kept there (commit) beside its decision, for as long, under the seal of
   * the user's key: an eval that the decision cache answers then runs no detector, which is
   * most of what a short process spends deciding. The key is govern's build and the versions of
   * the packages the detectors run (their code), and the JSON text of the request without its
   * id: the detectors read nothing but the
   * request's strings and their field paths, which that text holds all of, in order. The id is
   * scanned on its own, last, as `detect` scans it. `keep` is what commit keeps.
   */
  private scanOf(request: Request, now: number): { findings: Finding[]; keep?: { key: string; findings: Finding[] } } {
    if (!this.state || !this.config.cache.enabled) return { findings: detect(request) };
    const { id, ...rest } = request;
    const key = scanKey(rest);
    const text = this.state.scanGet(key, now);
    const kept = text === undefined ? undefined : findingList(text);
    const base = kept ?? detect(rest);
    const inId = id === undefined ? [] : detectField('id', id);
    return { findings: inId.length ? [...base, ...inId] : base, ...(kept ? {} : { keep: { key, findings: base } }) };
  }

  private cacheKeyOf(request: Request, facts: Facts): string {
    return sha256(this.cacheMaterialOf(request, facts));
  }

  private cacheMaterialOf(request: Request, facts: Facts): string {
    const large = this.config.models.large;
    return decisionCacheMaterial(this.bundle.hash, large ? `${large.provider}/${large.model}` : '', request, factsKey(facts, this.bundle));
  }

  /**
   * Writes one prepared decision (with the model's answer, if one was asked): budget check,
   * approval, usage, ledger, cache. Always inside a write transaction, so that checking the budget
   * and reserving it are one step, within a batch and across processes.
   */
  commit(p: Pending, asked?: ModelOutcome): Evaluation {
    if (this.state && !this.state.inTransaction) return this.transaction(() => this.commit(p, asked));
    const { request, findings, now } = p;
    let facts = p.facts;
    let decision: Decision = p.decision ?? asked?.decision ?? p.undecided!;
    // Where a fresh decision is cached, and whether this one came from the cache.
    let cacheKey: string | undefined = p.cacheKey;
    let hit = !p.fresh;
    if (this.state) {
      const rechecked = this.recheckBudget(p, decision, asked);
      if (rechecked) {
        ({ decision, facts } = rechecked);
        cacheKey = rechecked.cacheKey;
        hit = false;
      }
    }
    let escalation: string | undefined;
    let approved = false;
    let approval: { id: string } | undefined;
    if (decision.decision === 'escalate' && this.state) {
      const answered = humanAnswer(this.state, p.requestKey(), now.toISOString());
      if (answered) {
        approved = true;
        if (answered.decision.decision === 'allow') approval = answered.escalation;
        decision = { ...decision, ...answered.decision, reasons: [...answered.decision.reasons, ...decision.reasons] };
      }
    }
    // The time the decision took: preparing it and asking the model, not waiting for a batch to commit.
    decision = { ...decision, id: newId('dec', now.getTime()), elapsed_ms: Math.round(((p.elapsed ?? 0) + (asked?.elapsedMs ?? 0)) * 1000) / 1000 };
    if (this.state) {
      const redacted = redactRequest(request, findings);
      if (hit) this.state.cacheHit(p.cacheKey);
      let opened: (() => EscalationNotice) | undefined;
      if (decision.decision === 'escalate') {
        const esc = openEscalation(this.state, this.config, p.requestKey(), decision, redacted, now);
        escalation = esc.id;
        // Before the id, which stays the last key (scripts read it with sed).
        const { id, ...rest } = decision;
        decision = { ...rest, escalation: { id: esc.id, expires_at: esc.expires_at }, id };
        opened = esc.open;
      }
      // Only an allow spends: a denied or escalated request reserves nothing.
      if (decision.decision === 'allow') this.state.addUsage(request.agent.id, [hourPeriod(now), dayPeriod(now)], request.cost.usd, request.cost.tokens);
      const model = asked?.model ?? null;
      const usage = asked?.usage ?? null;
      const record = { request: redacted, decision, model, usage, at: now.toISOString() };
      this.state.append({
        id: decision.id!, at: record.at, agent: request.agent.id, decision: decision.decision, route: decision.route,
        category: decision.facts.category, model, inputTokens: usage?.input_tokens ?? 0, outputTokens: usage?.output_tokens ?? 0,
        policyHash: this.bundle.hash, record: JSON.stringify(record),
      });
      if (opened) this.notices.push(opened());
      if (approval) this.state.useEscalation(approval.id, decision.id!, now.toISOString());
      if (decision.decision === 'deny') lowerTrustForFindings(this.state, this.config, request.agent.id, decision, now);
      // A model's answer it was not sure of is asked again next time, not reused.
      const unsure = typeof decision.confidence === 'number' && decision.confidence < LOW_CONFIDENCE;
      if (!hit && cacheKey && !approved && this.config.cache.enabled && !asked?.failed && !unsure) {
        const { id: _id, elapsed_ms: _e, escalation: _x, ...stored } = decision;
        const ttl = this.config.cache.ttl[decision.decision];
        this.state.cachePut(cacheKey, this.bundle.hash, JSON.stringify(stored), now.getTime(), ttl);
        if (ttl > 0) {
          if (this.ownCache.size >= OWN_CACHE_SIZE) this.ownCache.clear();
          // The material of the key the decision is stored under: the prepared facts', or the rechecked ones'.
          const material = this.cacheMaterialOf(request, cacheKey === p.cacheKey ? p.cacheFacts ?? p.facts : facts);
          this.ownCache.set(material.length > OWN_KEY_MAX ? cacheKey : material, { decision: stored as Decision, expires: now.getTime() + ttl * 1000, key: cacheKey });
        }
      }
    }
    // The findings, for the next process that gets this request (scanOf): as long as the decision is cached.
    if (this.state && p.scan) this.state.scanPut(p.scan.key, JSON.stringify(p.scan.findings), now.getTime(), this.config.cache.ttl[decision.decision]);
    if (this.advisor && this.config.shadow.sample > 0 && this.state) this.shadow(p, decision);
    return { decision, request, facts, findings, ...(p.intent ? { intent: p.intent } : {}), ...(escalation ? { escalation } : {}), recorded: this.state !== undefined };
  }

  private pendingShadows = new Set<Promise<void>>();

  /** Shadow mode: a sample of cache and distilled-rule decisions put to the model too, not waited for (shadow.ts). */
  private shadow(p: Pending, decision: Decision): void {
    if (!shadowable(decision) || Math.random() >= this.config.shadow.sample) return;
    const state = this.state!;
    const job = askShadow(this.advisor!, p, decision)
      .then((row) => { if (row && state.db.open) state.addShadow(row); })
      .catch(() => undefined)
      .finally(() => this.pendingShadows.delete(job));
    this.pendingShadows.add(job);
  }

  /** Waits for the shadow answers still out (their rows are written when they come). */
  async settle(): Promise<void> {
    while (this.pendingShadows.size) await Promise.allSettled([...this.pendingShadows]);
  }

  /**
   * Asks the models about a request nobody else decided: the small one to classify it when the
   * built-in router was unsure (a confident answer goes to the rules again), then the large one to
   * decide. Failures end in escalate.
   */
  async consult(p: Pending): Promise<ModelOutcome | undefined> {
    if (this.guard) await this.screen(p);
    if (p.decision || !p.undecided) return undefined;
    const t0 = performance.now();
    let small: Awaited<ReturnType<SmallRouter>>;
    if (this.smallRouter && p.intent?.unclear) {
      small = await this.smallRouter(p);
      if (small && !small.intent.unclear && small.intent.category) {
        p.intent = small.intent;
        const routed = decideWithIntent(this.engine, p.facts, small.intent);
        if (routed) {
          p.facts = routed.facts;
          const tokens = { input: small.usage.input_tokens, output: small.usage.output_tokens };
          if (routed.decision.route === 'router') return { decision: { ...routed.decision, tokens }, model: small.model, usage: small.usage, failed: false, elapsedMs: performance.now() - t0 };
          p.undecided = { ...routed.decision, tokens };
        }
      }
    }
    if (!this.advisor) {
      const usage = small?.usage ?? null;
      return { decision: { ...p.undecided, tokens: { input: usage?.input_tokens ?? 0, output: usage?.output_tokens ?? 0 } }, model: small?.model ?? null, usage, failed: false, elapsedMs: performance.now() - t0 };
    }
    const { request, findings, facts, intent, undecided } = p;
    const o = await this.advisor({ request, findings, facts, ...(intent ? { intent } : {}), undecided });
    if (small) {
      const usage = { input_tokens: (o.usage?.input_tokens ?? 0) + small.usage.input_tokens, output_tokens: (o.usage?.output_tokens ?? 0) + small.usage.output_tokens };
      o.usage = usage;
      o.decision = { ...o.decision, tokens: { input: usage.input_tokens, output: usage.output_tokens } };
      o.elapsedMs = performance.now() - t0;
    }
    return o;
  }

  /**
   * The injection guard model's say (`detectors.injection.model`), before anything is recorded:
   * its findings join the request's, the rules decide again, and the decision is at least an
   * escalate and never less strict than the one prepared, so the guard can only tighten.
   */
  private async screen(p: Pending): Promise<void> {
    const { guardFindings } = await import('../request/detectors/guard.js');
    const extra = await guardFindings(this.guard!.ask, p.request, p.findings, this.guard!.name);
    if (extra.length === 0) return;
    p.findings = [...p.findings, ...extra];
    p.facts = this.facts(p.request, p.findings, p.now);
    p.cacheKey = this.cacheKeyOf(p.request, p.facts);
    const prior = p.decision ?? p.undecided;
    const routed = routeAndDecide(this.engine, p.facts, this.router, p.request, p.findings);
    p.facts = routed.facts;
    let decision = routed.decision;
    if (STRICTNESS[decision.decision] < STRICTNESS.escalate) {
      const message = `The injection guard model ${this.guard!.name} suspects prompt injection in ${[...new Set(extra.map((f) => f.field))].join(', ')} (or gave no verdict). A human decides.`;
      decision = { ...decision, decision: 'escalate', tier: Math.max(decision.tier, 2), route: decision.route === 'default' ? 'rules' : decision.route, reasons: [{ rule: null, effect: 'escalate', message }, ...decision.reasons] };
    }
    if (prior && STRICTNESS[prior.decision] > STRICTNESS[decision.decision]) decision = prior;
    p.decision = decision;
    delete p.undecided;
    p.fresh = true;
  }

  /** Whether `consult` must be called even for a request the cache or the rules decided (a guard model reads it first). */
  get guarded(): boolean {
    return this.guard !== undefined;
  }

  /** One request in, one decision out, recorded. Throws RequestError on a malformed request (nothing is written). */
  async evaluate(raw: unknown, opts: { now?: Date } = {}): Promise<Evaluation> {
    const p = this.prepare(raw, opts.now);
    const asked = await this.consult(p);
    return this.transaction(() => this.commit(p, asked));
  }
}

/** What a request's kept findings are keyed by (Runtime.scanOf): the detectors' code, and the request without its id. */
export function scanKey(request: Omit<Request, 'id'>, detectors = detectorVersions()): string {
  return sha256(`govern scan\0${BUILD}\0${detectors}\0${JSON.stringify(request)}`);
}

/** Findings read back from the state file (Runtime.scanOf), or undefined when the text is not a list of them. */
function findingList(text: string): Finding[] | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  const ok = (f: Partial<Finding> | null): boolean =>
    !!f && typeof f.kind === 'string' && typeof f.field === 'string' && typeof f.preview === 'string' && !!f.span && Number.isInteger(f.span.start) && Number.isInteger(f.span.end);
  return v.every(ok) ? (v as Finding[]) : undefined;
}
