// The shapes one decision passes through inside the runtime (a prepared request, the router's
// intent, what the model is asked and its outcome), apart from runtime.ts so that advisor.ts and
// shadow.ts can name them without importing the runtime.
import type { Decision } from '../engine/engine.js';
import type { Facts } from '../engine/facts.js';
import type { Finding } from '../request/detectors/index.js';
import type { Request } from '../request/normalize.js';
import type { Intent } from '../router/intent.js';

export type { Intent } from '../router/intent.js';

/**
 * What the large model is asked about: a request nobody decided, the facts it is decided under,
 * and the decision it stays if the model fails. The runtime builds it from a prepared request,
 * `replay --live` from a recorded one; the advisor redacts the request before any of it is sent.
 */
export interface AdvisorInput {
  request: Request;
  /** The detectors' findings in `request`: what the advisor redacts. */
  findings: Finding[];
  facts: Facts;
  intent?: Intent;
  /** The decision as nobody decided it: the base of the model's decision, and what stands if it fails. */
  undecided: Decision;
}

/** A decision prepared but not yet recorded. */
export interface Pending extends Omit<AdvisorInput, 'undecided'> {
  t0: number;
  now: Date;
  cacheKey: string;
  /** The facts `cacheKey` was computed from, when the router enriched `facts` since. */
  cacheFacts?: Facts;
  requestKey: () => string;
  /** Not from the cache. */
  fresh: boolean;
  /** The state's usage stamp when the budget facts were read (inside a transaction only). */
  usageStamp?: string;
  /** The findings to keep in the state file under this key, for the next process that gets the request (Runtime.scanOf). */
  scan?: { key: string; findings: Finding[] };
  /** Milliseconds spent preparing. */
  elapsed?: number;
  /** Decided by cache, rules or router. */
  decision?: Decision;
  /** Nobody decided: what the decision is if the model is not asked or fails. */
  undecided?: Decision;
}

/** An intent router as the runtime asks it about a request no rule decided (the built-in one: classify). */
export type IntentRouter = (request: Request, findings: Finding[], facts: Facts) => Intent | undefined;

/** The model's decision, as a Decision, with what it cost. */
export interface ModelOutcome {
  decision: Decision;
  model: string | null;
  usage: { input_tokens: number; output_tokens: number } | null;
  /** The model could not decide (error or invalid output): escalated, not cached. */
  failed: boolean;
  elapsedMs: number;
}

export type ModelAdvisor = (input: AdvisorInput) => Promise<ModelOutcome>;

/** A small model's classification of a request the built-in router could not place, and its cost. */
export type SmallRouter = (input: Pick<AdvisorInput, 'request' | 'findings'>) => Promise<{ intent: Intent; usage: { input_tokens: number; output_tokens: number }; model: string } | undefined>;
