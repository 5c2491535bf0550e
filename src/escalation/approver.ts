// Who answers an escalation or reports an outcome: a configured approver (or, for outcomes, a
// reporter), never an agent; and the answer itself, never to one's own request.
import type { Config } from '../config/config.js';
import { UsageError } from '../diagnostics/usage.js';
import { StateError, type Escalation, type State } from '../ledger/state.js';
import { ApproverError, resolveApprover } from './escalation.js';

/** The configured approver (or, for outcomes, reporter) acting now; an agent never is one. */
export function approver(config: Config, st: State, as: string | undefined, reporters: boolean): string {
  try {
    if (as !== undefined && st.isAgent(as)) throw new ApproverError(`--as: ${as} has asked for decisions as an agent; an agent never approves or vouches for itself.`);
    const name = resolveApprover(config, { ...(as !== undefined ? { as } : {}), reporters });
    if (st.isAgent(name)) throw new ApproverError(`${name} has asked for decisions as an agent; an agent never approves or vouches for itself.`);
    return name;
  } catch (e) {
    if (e instanceof ApproverError) throw new UsageError(e.message);
    throw e;
  }
}

/** Approves or denies escalation `id` as `name`, until the configured time to live ends. */
export function answerEscalation(config: Config, st: State, id: string, verdict: 'approve' | 'deny', name: string, note: string | undefined): { escalation: Escalation; expires: string } {
  const now = new Date();
  const ttl = verdict === 'approve' ? config.approvalTtlHours : config.denyTtlHours;
  const expires = new Date(now.getTime() + ttl * 3600_000).toISOString();
  const pending = st.escalation(id);
  if (pending && pending.agent === name) throw new StateError(`${name} asked for escalation ${id}; nobody answers their own request.`);
  return { escalation: st.resolveEscalation(id, verdict === 'approve' ? 'approved' : 'denied', name, note, now.toISOString(), expires), expires };
}
