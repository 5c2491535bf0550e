// Escalations between the agent and the humans who answer them: what a human's earlier answer
// makes of an escalate decision (an approval allows once, a deny is remembered for a while), the
// opening of a new escalation with its expiry, who may answer (configured approvers, checked by OS
// user, never an agent), the announcement of a new escalation (a command, a webhook), waiting for
// an answer, and the trust an agent loses when its request is denied for what detectors found.
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import type { Approver, Config } from '../config/config.js';
import type { Decision } from '../engine/engine.js';
import { newId, type Escalation, type EscalationState, type State } from '../ledger/state.js';
import type { Request } from '../request/normalize.js';

/** A new escalation, as announced to the people who answer it. */
export interface EscalationNotice {
  escalation: { id: string; expires_at: string };
  agent: string;
  decision: string;
  request: Request;
  reasons: Decision['reasons'];
  approve: string;
  deny: string;
}

/**
 * What a human already said about exactly this request: an unused, unexpired approval allows it
 * once (tier 2); a remembered deny denies it (tier 3) without asking again.
 */
export function humanAnswer(state: State, requestKey: string, nowIso: string): { decision: Pick<Decision, 'decision' | 'tier' | 'reasons'>; escalation: Escalation } | undefined {
  const denied = state.deniedEscalation(requestKey, nowIso);
  if (denied) {
    return {
      escalation: denied,
      decision: { decision: 'deny', tier: 3, reasons: [{ rule: null, effect: 'deny', message: `denied by ${denied.resolved_by ?? 'a human'} (escalation ${denied.id}); the same request is denied until ${denied.expires_at}` }] },
    };
  }
  const approval = state.approvedEscalation(requestKey, nowIso);
  if (approval) {
    return {
      escalation: approval,
      decision: { decision: 'allow', tier: 2, reasons: [{ rule: null, effect: 'allow', message: `approved by ${approval.resolved_by ?? 'a human'} (escalation ${approval.id})` }] },
    };
  }
  return undefined;
}

/**
 * The escalation this escalate decision waits on: the pending one of the same request, or a new
 * one, which `open()` writes (after the decision's own ledger row, so that the chain reads in order).
 */
export function openEscalation(state: State, config: Config, requestKey: string, decision: Decision, redacted: Request, now: Date): { id: string; expires_at: string; open?: () => EscalationNotice } {
  const pending = state.pendingEscalation(requestKey, now.toISOString());
  if (pending) return { id: pending.id, expires_at: pending.expires_at ?? '' };
  const id = newId('esc', now.getTime());
  const expires_at = new Date(now.getTime() + config.pendingTtlHours * 3_600_000).toISOString();
  return {
    id, expires_at,
    open: () => {
      state.addEscalation({ id, decision_id: decision.id!, request_key: requestKey, agent: redacted.agent.id, request: JSON.stringify(redacted), reasons: JSON.stringify(decision.reasons), created_at: now.toISOString(), expires_at });
      return { escalation: { id, expires_at }, agent: redacted.agent.id, decision: decision.id!, request: redacted, reasons: decision.reasons, approve: `govern escalations approve ${id}`, deny: `govern escalations deny ${id}` };
    },
  };
}

/** A denial for what detectors found costs the agent trust: the largest configured loss among the kinds found. */
export function lowerTrustForFindings(state: State, config: Config, agent: string, decision: Decision, now: Date): void {
  const kinds = decision.facts.detectors;
  if (!kinds.length) return;
  const loss = Math.max(...kinds.map((k) => config.trust.findings[k] ?? config.trust.findings.default ?? 0));
  if (loss <= 0) return;
  state.changeTrust(agent, 'finding', decision.id!, -loss, { event: 'finding', kinds, rule: decision.reasons[0]?.rule ?? null }, now.toISOString());
}

/** Runs the notify command and posts to the webhook; failures are reported on stderr and change nothing. */
export async function notifyEscalation(config: Config, notice: EscalationNotice): Promise<void> {
  const { command, webhook, timeoutMs } = config.notify;
  const body = JSON.stringify(notice);
  const warn = (what: string, why: string) => void process.stderr.write(`govern: could not announce escalation ${notice.escalation.id} to ${what}: ${why}\n`);
  const jobs: Promise<void>[] = [];
  if (command) {
    jobs.push(new Promise<void>((resolve) => {
      // The notice goes on stdin and in the environment, never into the command line: no quoting to get wrong.
      const child = spawn('/bin/sh', ['-c', command], {
        cwd: config.root,
        stdio: ['pipe', 'ignore', 'inherit'],
        env: { ...process.env, GOVERN_ESCALATION_ID: notice.escalation.id, GOVERN_APPROVE_COMMAND: notice.approve, GOVERN_DENY_COMMAND: notice.deny, GOVERN_AGENT: notice.agent },
        timeout: timeoutMs,
      });
      child.on('error', (e) => { warn('notify.command', e.message); resolve(); });
      child.on('close', (code, signal) => {
        if (code !== 0) warn('notify.command', signal ? `stopped by ${signal} (notify.timeout_ms is ${timeoutMs})` : `it exited with ${code}`);
        resolve();
      });
      child.stdin.on('error', () => {});
      child.stdin.end(body);
    }));
  }
  if (webhook) {
    jobs.push(fetch(webhook, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs) })
      .then((r) => { if (!r.ok) warn(webhook, `it answered HTTP ${r.status}`); }, (e: Error) => warn(webhook, e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms (notify.timeout_ms)` : e.message)));
  }
  await Promise.all(jobs);
}

/** The OS user running this process: from the system, not from $USER, which any shell can set. */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

export class ApproverError extends Error {}

/**
 * The configured approver acting now: `as` names one (its OS users must include the current one,
 * unless its `os_users` is an empty list: CI), else the approver whose OS users (or name) match the
 * current OS user. Agent ids never approve.
 */
export function resolveApprover(config: Config, opts: { as?: string; user?: string; agents?: Set<string>; reporters?: boolean } = {}): string {
  const user = opts.user ?? osUser();
  const isAgent = (n: string) => config.agents[n] !== undefined || opts.agents?.has(n) === true;
  const matches = (a: Approver) => (a.osUsers ? a.osUsers.includes(user) : a.name === user);
  const configure = 'add them under `approvers:` in govern.config.yaml (name and os_users)';
  if (opts.as !== undefined) {
    if (isAgent(opts.as)) throw new ApproverError(`--as: ${opts.as} is an agent; an agent never approves or vouches for itself.`);
    if (opts.reporters && config.trust.reporters.includes(opts.as)) return opts.as;
    const a = config.approvers.find((x) => x.name === opts.as);
    if (!a) throw new ApproverError(`--as: ${opts.as} is not a configured approver${opts.reporters ? ' or reporter' : ''}; ${configure}.`);
    if (a.osUsers?.length === 0 || matches(a)) return a.name;
    throw new ApproverError(`--as: approver ${a.name} does not run as OS user ${JSON.stringify(user)}; add it to the approver's os_users, or run as one of ${a.osUsers?.join(', ') ?? a.name}.`);
  }
  if (!config.approvers.length) throw new ApproverError(`no approvers are configured, so nobody can approve or deny; ${configure}.`);
  const found = config.approvers.find(matches);
  if (!found) throw new ApproverError(`OS user ${JSON.stringify(user)} is not a configured approver; ${configure}, or pass --as NAME for an approver whose os_users include it.`);
  if (isAgent(found.name) || isAgent(user)) throw new ApproverError(`${found.name} is an agent; an agent never approves.`);
  return found.name;
}

export interface EscalationStatus {
  id: string;
  status: EscalationState;
  /** What the agent may do now: allow once approved (ask again: the approval is used by the same request), deny otherwise, wait while pending. */
  decision: 'allow' | 'deny' | 'wait';
  agent: string;
  created_at: string;
  expires_at: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
  note: string | null;
}

export function escalationStatus(state: State, id: string, nowIso = new Date().toISOString()): EscalationStatus | undefined {
  const e = state.escalation(id);
  if (!e) return undefined;
  const status = state.escalationState(e, nowIso);
  return {
    id, status, decision: status === 'approved' ? 'allow' : status === 'pending' ? 'wait' : 'deny', agent: e.agent, created_at: e.created_at,
    expires_at: e.expires_at, resolved_by: e.resolved_by, resolved_at: e.resolved_at, note: e.note,
  };
}

/**
 * Waits until a human answers escalation `id`, it expires, `timeoutMs` passes or `signal` aborts.
 * Anything but an approval is a deny; a timeout says so (`timed_out`).
 */
export async function waitForAnswer(state: State, id: string, timeoutMs: number, opts: { signal?: AbortSignal; pollMs?: number } = {}): Promise<EscalationStatus & { timed_out: boolean; waited_s: number }> {
  const t0 = Date.now();
  const poll = opts.pollMs ?? 200;
  for (;;) {
    const s = escalationStatus(state, id);
    if (!s) throw new ApproverError(`no escalation ${id}`);
    const waited_s = Math.round((Date.now() - t0) / 100) / 10;
    if (s.status !== 'pending') return { ...s, timed_out: false, waited_s };
    if (Date.now() - t0 >= timeoutMs || opts.signal?.aborted) return { ...s, decision: 'deny', timed_out: true, waited_s };
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, Math.min(poll, Math.max(1, timeoutMs - (Date.now() - t0))));
      function done() { clearTimeout(t); opts.signal?.removeEventListener('abort', done); resolve(); }
      opts.signal?.addEventListener('abort', done, { once: true });
    });
  }
}
