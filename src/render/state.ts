// What the commands on recorded state print: an agent's trust and its events, usage against the
// budgets, recorded spend, the ledger's verification, and escalations.
import type { Escalation, EscalationState, OutcomeResult, State, TrustChange } from '../ledger/state.js';
import type { BudgetStatus } from '../runtime/runtime.js';

/** JSON of `data`, or the human text. */
export function shown(format: string, data: unknown, human: () => string): string {
  return format === 'json' ? JSON.stringify(data, null, 2) + '\n' : human();
}

function trustTier(t: number): string {
  return t < 20 ? 'untrusted' : t < 40 ? 'basic' : t < 60 ? 'verified' : t < 80 ? 'trusted' : t < 90 ? 'privileged' : 'admin';
}

export function trustShow(format: string, agent: string, score: number, events: TrustChange[]): string {
  return shown(format, { agent, trust: score, tier: trustTier(score), events }, () =>
    `${agent}: trust ${score} (${trustTier(score)})\n` + events.map((e) => `  ${e.at}  ${e.event.padEnd(9)} ${e.delta >= 0 ? '+' : ''}${e.delta} -> ${e.trust_after}${e.decision ? `  ${e.decision}` : ''}${e.by ? ` by ${e.by}` : e.event !== 'finding' && e.event !== 'carried' ? ' by the agent' : ''}${e.note ? `  ${e.note}` : ''}\n`).join(''));
}

export function trustRecorded(format: string, r: OutcomeResult, event: string, decision: string, name: string): string {
  return shown(format, { ...r, by: name }, () => `${r.agent}: ${event} (${decision}, reported by ${name}), trust ${r.before} -> ${r.after} (${trustTier(r.after)})\n`);
}

export function usageShow(format: string, rows: BudgetStatus[]): string {
  const pct = (u: number, l: number) => (l > 0 ? `${Math.round((u / l) * 100)}%` : '-');
  return shown(format, rows, () => rows.length
    ? rows.map((b) => `${b.agent}\n  hour  $${b.hour.usd.toFixed(2)} of $${b.hour.limit.usd} (${pct(b.hour.usd, b.hour.limit.usd)}), ${b.hour.tokens} of ${b.hour.limit.tokens} tokens (${pct(b.hour.tokens, b.hour.limit.tokens)})\n  day   $${b.day.usd.toFixed(2)} of $${b.day.limit.usd} (${pct(b.day.usd, b.day.limit.usd)}), ${b.day.tokens} of ${b.day.limit.tokens} tokens (${pct(b.day.tokens, b.day.limit.tokens)})\n`).join('')
    : 'no usage today\n');
}

export function spendRecorded(format: string, r: ReturnType<State['recordSpend']>, decision: string): string {
  return shown(format, r, () => `${r.agent}: ${decision} recorded $${r.recorded.usd} and ${r.recorded.tokens} tokens in all (declared $${r.declared.usd}, ${r.declared.tokens}); budgets count $${r.counted.usd}, ${r.counted.tokens} tokens\n`);
}

export function ledgerVerified(format: string, v: ReturnType<State['verifyLedger']>): string {
  return shown(format, v, () => v.ok
    ? `ledger intact: ${v.rows} decisions, head ${v.head}\n`
    : `ledger TAMPERED: ${v.problems.length} problem${v.problems.length === 1 ? '' : 's'} in ${v.rows} rows\n` + v.problems.map((p) => `  ${p.seq ? `row ${p.seq}` : 'state'}: ${p.problem}\n`).join(''));
}

/** `govern escalations list`: each escalation with its state now, its request and reasons parsed. */
export function escalationList(format: string, st: State, list: Escalation[], status: string, now: string): string {
  const rows = list.map((e) => ({ ...e, status: st.escalationState(e, now) as EscalationState, request: JSON.parse(e.request) as unknown, reasons: JSON.parse(e.reasons) as unknown }));
  return shown(format, rows, () => rows.length
    ? rows.map((e) => {
      const rq = e.request as { action: string; resource: { type: string; id: string }; environment: string; command?: string };
      const why = (e.reasons as { rule: string | null; message: string }[]).map((r) => r.rule ?? r.message).join(', ');
      return `${e.id}  ${e.status}  ${e.agent}: ${rq.action} ${rq.resource.type}${rq.resource.id ? '/' + rq.resource.id : ''} in ${rq.environment}${rq.command ? ` ($ ${rq.command})` : ''}\n    because ${why}; asked ${e.created_at}${e.resolved_by ? `; ${e.status === 'used' ? `approved by ${e.resolved_by}, used` : `${e.status} by ${e.resolved_by}`}` : ''}\n`;
    }).join('')
    : `no ${status === 'all' ? '' : status + ' '}escalations\n`);
}
