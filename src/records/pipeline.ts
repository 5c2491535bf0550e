// The decision pipeline without a model and without a state file, for recorded traffic: cache,
// rules and router decide as `govern eval` would, from the facts each record carries. Where the
// live pipeline would ask the model, the offline one says so (route "model") and, like the live
// one, caches the model's recorded answer for the requests that follow.
import type { Bundle } from '../compile/bundle.js';
import { Engine, type Decision } from '../engine/engine.js';
import { factsKey } from '../engine/facts.js';
import type { Finding } from '../request/detectors/index.js';
import { canonicalJson, sha256 } from '../compile/canonical.js';
import { decideBeforeModel, decisionCacheKey, type IntentRouter } from '../runtime/runtime.js';
import { isLowConfidence, isModelJudgement, recordFacts, type DecisionRecord } from './records.js';

export type Verdict = Decision['decision'];
export type OfflineRoute = 'cache' | 'rules' | 'router' | 'model';

export interface Replayed {
  /** What the pipeline decided, or null where it would have asked the model. */
  decision: Verdict | null;
  route: OfflineRoute;
  tier: number | null;
  /** The rules that decided (for route rules and router), or whose cached decision was reused. */
  rules: string[];
  /** Milliseconds of policy work for this request. */
  elapsedMs: number;
}

export interface OfflineOptions {
  /** The decision cache, with TTLs in seconds per decision; off when unset. */
  cache?: { allow: number; deny: number; escalate: number };
  router?: IntentRouter;
}

/** Detector findings as the router reads them: the record keeps only their kinds. */
export function findingsOf(kinds: string[]): Finding[] {
  return kinds.map((kind) => ({ kind, field: 'content', span: { start: 0, end: 0 }, preview: `[REDACTED:${kind}]` }));
}

/** The key under which a request's decision is cached: the Cedar request and the bundle. */
export function cacheKeyOf(r: DecisionRecord, bundle: Bundle): string {
  return decisionCacheKey(bundle.hash, '', r.request, factsKey(recordFacts(r), bundle));
}

/** A key that tells requests apart regardless of their caller id. */
export function requestKeyOf(r: DecisionRecord): string {
  return sha256(canonicalJson({ ...r.request, id: undefined }));
}

export class OfflinePipeline {
  readonly engine: Engine;
  private readonly cache = new Map<string, { decision: Decision; expires: number }>();

  constructor(readonly bundle: Bundle, private readonly opts: OfflineOptions = {}) {
    this.engine = new Engine(bundle);
  }

  /** Decides one recorded request as the pipeline would now, at the record's time. */
  decide(r: DecisionRecord & { time?: number }): Replayed {
    const t0 = performance.now();
    const time = r.time ?? Date.parse(r.at);
    const facts = recordFacts(r);
    // As the live cache: the free text is part of the key (the model is the record's, one per replay).
    const key = this.opts.cache ? decisionCacheKey(this.bundle.hash, '', r.request, factsKey(facts, this.bundle)) : '';
    const entry = this.opts.cache ? this.cache.get(key) : undefined;
    // Its own memory, so trusted as the runtime trusts its own.
    const cached = entry && entry.expires > time ? { decision: entry.decision, trusted: true } : undefined;
    const { decision, hit } = decideBeforeModel(this.engine, facts, this.opts.router, r.request, findingsOf(facts.findings), cached);
    const elapsedMs = performance.now() - t0;
    if (hit) return { decision: decision.decision, route: 'cache', tier: decision.tier, rules: ruleIds(decision), elapsedMs };
    if (decision.route === 'default') {
      // The live pipeline asks the model here; its recorded answer is cached for what follows.
      if (this.opts.cache && isModelJudgement(r) && !isLowConfidence(r)) this.remember(key, r.decision, time);
      return { decision: null, route: 'model', tier: null, rules: [], elapsedMs };
    }
    if (this.opts.cache) this.remember(key, decision, time);
    return { decision: decision.decision, route: decision.route as 'rules' | 'router', tier: decision.tier, rules: ruleIds(decision), elapsedMs };
  }

  private remember(key: string, decision: Decision, time: number): void {
    const ttl = this.opts.cache![decision.decision];
    if (ttl > 0) this.cache.set(key, { decision, expires: time + ttl * 1000 });
  }
}

function ruleIds(d: Decision): string[] {
  return d.reasons.flatMap((x) => (x.rule && x.effect === d.decision ? [x.rule] : []));
}
