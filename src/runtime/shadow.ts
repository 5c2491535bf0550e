// Online A/B (shadow mode, `shadow.sample` in govern.config.yaml): a sample of the requests that the
// cache or a distilled rule decided is also put to the large model, after the decision is made
// and without the caller waiting for it. The model's answer is kept beside the decision in the
// state file, agreeing or not: `govern replay --ledger` and `govern stats` report the
// disagreements, and `govern distill` takes the answers as evidence of the model, so a rule its
// shadow contradicts is narrowed or retired. A shadow answer never changes a decision.
import type { Decision } from '../engine/engine.js';
import type { ShadowRow } from '../ledger/state.js';
import { asUndecided } from './advisor.js';
import type { ModelAdvisor, Pending } from './pending.js';

/** A reason's rule comes from policies/distilled/ (its source names the file). */
export function isDistilledSource(source: string | undefined): boolean {
  return source !== undefined && /(^|[\\/])distilled[\\/]/.test(source);
}

/**
 * Whether a decision is one shadow mode checks: a cache hit of a model's answer or of a distilled
 * rule's decision, or a decision of a distilled rule. Written rules are the policy itself, and
 * the model cannot change them; they are never shadowed.
 */
export function shadowable(d: Decision): boolean {
  const deciding = d.reasons.filter((r) => r.effect === d.decision);
  if (d.route === 'cache') return deciding.some((r) => r.rule === null || isDistilledSource(r.source));
  if (d.route === 'rules' || d.route === 'router') return deciding.some((r) => isDistilledSource(r.source));
  return false;
}

/** Asks the advisor about a decided request, as if nobody had decided it, and says how its answer compares. */
export async function askShadow(advisor: ModelAdvisor, p: Pending, decision: Decision): Promise<ShadowRow | undefined> {
  const { request, findings, facts, intent } = p;
  const o = await advisor({ request, findings, facts, ...(intent ? { intent } : {}), undecided: asUndecided(decision) });
  // A failed call says nothing about the decision.
  if (o.failed) return undefined;
  const rules = decision.reasons.filter((r) => r.effect === decision.decision && r.rule).map((r) => r.rule!);
  return {
    decision_id: decision.id ?? '',
    at: p.now.toISOString(),
    agent: p.request.agent.id,
    route: decision.route,
    rules: rules.join(','),
    decided: decision.decision,
    model_decision: o.decision.decision,
    model: o.model ?? '',
    confidence: typeof o.decision.confidence === 'number' ? o.decision.confidence : null,
    agree: o.decision.decision === decision.decision ? 1 : 0,
    input_tokens: o.usage?.input_tokens ?? 0,
    output_tokens: o.usage?.output_tokens ?? 0,
    reason: o.decision.reasons[0]?.message ?? '',
  };
}
