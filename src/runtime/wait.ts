// One request decided for `govern eval`: a request or state error becomes a message naming where
// the request came from, and with --wait an escalation waits for a human's answer.
import { UsageError } from '../diagnostics/usage.js';
import { StateError } from '../ledger/state.js';
import { RequestError } from '../request/normalize.js';
import type { Evaluation, Runtime } from './runtime.js';

export interface Waited {
  ev: Evaluation;
  /** Why the action must not proceed: the escalation was denied, expired or not answered in time. */
  unanswered?: string;
}

/**
 * Decides `raw` (from `where`: a file, "flags" or "stdin") and, when it escalates and `waitS` is
 * given, waits up to that long for a human: approved, the request is decided again.
 */
export async function evaluateAndWait(rt: Runtime, raw: unknown, where: string, waitS: number | undefined, waiting: (id: string) => void): Promise<Waited> {
  let ev: Evaluation;
  try {
    ev = await rt.evaluate(raw);
  } catch (e) {
    rt.close();
    if (e instanceof RequestError) throw new UsageError(`${where}: ${e.message}`);
    if (e instanceof StateError) throw new UsageError(e.message);
    throw e;
  }
  await rt.settled();
  if (waitS === undefined || ev.decision.decision !== 'escalate' || !ev.escalation || !rt.state) return { ev };
  const { waitForAnswer } = await import('../escalation/escalation.js');
  waiting(ev.escalation);
  const answer = await waitForAnswer(rt.state, ev.escalation, waitS * 1000);
  if (answer.status === 'approved') return { ev: await rt.evaluate(raw) };
  return { ev, unanswered: answer.timed_out ? `no human answered escalation ${ev.escalation} within ${waitS} s (--wait): do not proceed` : `escalation ${ev.escalation} was ${answer.status}${answer.resolved_by ? ` by ${answer.resolved_by}` : ''}: do not proceed` };
}
