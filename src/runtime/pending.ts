// The shapes one decision passes through inside the runtime (a prepared request, the router's
// intent, the model's outcome), apart from runtime.ts so that advisor.ts and shadow.ts can name
// them without importing the runtime.
import type { Decision } from '../engine/engine.js';
import type { Facts } from '../engine/facts.js';
import type { Finding } from '../request/detectors/index.js';
import type { Request } from '../request/normalize.js';
import type { Category } from '../policy/vocabulary.js';

/** A decision prepared but not yet recorded. */
export interface Pending {
  t0: number;
  now: Date;
  request: Request;
  findings: Finding[];
  facts: Facts;
  cacheKey: string;
  /** The facts `cacheKey` was computed from, when the router enriched `facts` since. */
  cacheFacts?: Facts;
  requestKey: () => string;
  /** Not from the cache. */
  fresh: boolean;
  /** The state's usage stamp when the budget facts were read (inside a transaction only). */
  usageStamp?: string;
  /** Milliseconds spent preparing. */
  elapsed?: number;
  /** Decided by cache, rules or router. */
  decision?: Decision;
  /** Nobody decided: what the decision is if the model is not asked or fails. */
  undecided?: Decision;
  intent?: Intent;
}

/** What the intent router says about a request nobody decided. */
export interface Intent {
  category: Category | null;
  risk?: string;
  confidence: number;
  unclear: boolean;
  signals: string[];
}

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

export type ModelAdvisor = (p: Pending) => Promise<ModelOutcome>;

/** A small model's classification of a request the built-in router could not place, and its cost. */
export type SmallRouter = (p: Pending) => Promise<{ intent: Intent; usage: { input_tokens: number; output_tokens: number }; model: string } | undefined>;
