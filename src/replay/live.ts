// `govern replay --live`: a recorded request put to the configured large model again, as the
// runtime's advisor puts it (the request redacted and quoted as data, the facts it was decided
// under), so that today's model can be compared with the recorded decision and the replay.
import { findingsOf } from '../records/pipeline.js';
import { decidedCategory, recordFacts, type Recorded } from '../records/records.js';
import { UNCLASSIFIED, type Category } from '../policy/vocabulary.js';
import { asUndecided } from '../runtime/advisor.js';
import type { IntentRouter, ModelAdvisor } from '../runtime/runtime.js';
import type { LiveAnswer } from './metrics.js';

/** Asks the model about one recorded request; failures (errors, timeouts, invalid output) answer escalate. */
export async function askLive(advisor: ModelAdvisor, router: IntentRouter | undefined, r: Recorded): Promise<LiveAnswer> {
  let facts = recordFacts(r);
  const findings = findingsOf(facts.findings);
  const category = decidedCategory(r);
  if (facts.category === UNCLASSIFIED && category !== UNCLASSIFIED) facts = { ...facts, category: category as Category };
  if (r.decision.facts.risk !== undefined && facts.risk === undefined) facts = { ...facts, risk: r.decision.facts.risk };
  const intent = router?.(r.request, findings, facts);
  const o = await advisor({ request: r.request, findings, facts, ...(intent ? { intent } : {}), undecided: asUndecided(r.decision) });
  return { decision: o.failed ? 'escalate' : o.decision.decision, failed: o.failed, usage: o.usage };
}
