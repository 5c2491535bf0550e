// How much dissent a distilled rule tolerates, stated as statistics: a group's agreement is the
// share of its evidence (the model's confident decisions, a human's counted several times) that
// gives the rule's verdict, and a rule is written only when Wilson's lower confidence bound of
// that share clears a threshold. The bound grows with the evidence: three unanimous decisions
// clear a deny's threshold, an allow needs more, and a group split down the middle never does.
import { probit } from 'simple-statistics';

export interface Tolerance {
  /** One-sided confidence of the lower bound (0-1). */
  confidence: number;
  /** Threshold the bound must clear for deny and escalate rules (0-1). */
  minBound: number;
  /** Threshold for allow rules: stricter, since a wrong allow is the costly mistake. */
  minAllowBound: number;
  /** How many of the model's decisions one human decision counts for. */
  humanWeight: number;
}

/** The defaults, justified in docs/distill-and-replay.md ("The statistics"). */
export const DEFAULT_TOLERANCE: Tolerance = { confidence: 0.9, minBound: 0.6, minAllowBound: 0.75, humanWeight: 3 };

/** The normal quantile for a one-sided confidence: 1.28 for 90%. */
export function zOf(confidence: number): number {
  return probit(confidence);
}

/**
 * Wilson's score interval, lower end: the smallest true agreement that `agree` of `n` observations
 * are still likely under (n may be a weighted count). 0 when there is no evidence.
 */
export function wilsonLower(agree: number, n: number, z: number): number {
  if (n <= 0) return 0;
  const p = agree / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - margin) / (1 + z2 / n));
}
