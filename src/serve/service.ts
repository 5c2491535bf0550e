// The decision service behind both protocols of `govern serve`: evaluate, explain, record an
// outcome, budget status, autonomy rate and status, each checking its params and naming the
// field that is wrong. Every call runs, in arrival order, in a queue drained by group commit:
// the calls that arrive together share one transaction, a call that fails leaves nothing behind,
// and a call's answer is released only after that transaction has committed, so an answered
// decision is a recorded one.
import type { Decision } from '../engine/engine.js';
import type { RuleTrace } from '../engine/engine.js';
import type { Bundle } from '../compile/bundle.js';
import { escalationStatus, waitForAnswer, type EscalationStatus } from '../escalation/escalation.js';
import { StateError, TRUST_DELTAS, type OutcomeResult, type TrustEvent } from '../ledger/state.js';
import { displayPath } from '../policy/files.js';
import { RequestError } from '../request/normalize.js';
import type { BudgetStatus, Evaluation, Pending, Runtime } from '../runtime/runtime.js';
import { VERSION } from '../version.js';

/** A parameter is missing, of the wrong type, or unknown; `field` names it. */
export class ParamsError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

/** The call needs something the server was started without. */
export class UnavailableError extends Error {}

/** Calls decided per transaction at most; more wait for the next one. */
const BATCH_MAX = 512;

interface Job {
  run: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Errors a call raises before it writes anything: it fails alone and the batch goes on. */
function isClean(e: unknown): boolean {
  return e instanceof RequestError || e instanceof ParamsError || e instanceof UnavailableError;
}

/** A call failed after it may have written: the batch is rolled back and each call runs alone. */
class Unclean extends Error {}

/**
 * Runs functions in order, many to a transaction, releasing results after the commit. Calls
 * that fail cleanly (bad params) are answered with their error within the batch; any other
 * failure rolls the whole batch back, and its calls run again one transaction each, so that
 * nothing a failed call wrote is ever committed. No savepoint per call: they cost more than
 * the decision.
 */
class GroupCommit {
  private jobs: Job[] = [];
  private scheduled = false;

  constructor(private readonly rt: Runtime) {}

  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ run: fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // After pending I/O: requests that arrived together join the same transaction.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.jobs.length <= BATCH_MAX ? this.jobs : this.jobs.slice(0, BATCH_MAX);
    this.jobs = batch === this.jobs ? [] : this.jobs.slice(BATCH_MAX);
    if (this.jobs.length) this.schedule();
    if (batch.length > 1) {
      const ok: boolean[] = new Array<boolean>(batch.length);
      const out: unknown[] = new Array<unknown>(batch.length);
      try {
        this.rt.transaction(() => {
          for (let i = 0; i < batch.length; i++) {
            try {
              out[i] = batch[i]!.run();
              ok[i] = true;
            } catch (e) {
              if (!isClean(e)) throw new Unclean();
              out[i] = e;
              ok[i] = false;
            }
          }
        });
        for (let i = 0; i < batch.length; i++) (ok[i] ? batch[i]!.resolve : batch[i]!.reject)(out[i]);
        return;
      } catch (e) {
        if (!(e instanceof Unclean)) {
          // The commit itself failed: nothing of this batch was recorded, and every call says so.
          for (const j of batch) j.reject(e);
          return;
        }
      }
    }
    for (const job of batch) {
      // Alone, the call is the transaction: a failure rolls it back whole.
      let v: unknown;
      try {
        v = this.rt.transaction(job.run);
      } catch (e) {
        job.reject(e);
        continue;
      }
      job.resolve(v);
    }
  }
}

export interface Explanation {
  decision: Decision;
  request: { agent: string; action: string; environment: string; resource: { type: string; id: string; [k: string]: unknown } };
  facts: { category: string; risk: string | null; trust: number; team: string | null; hour: number; budget: { used_pct: number; exceeded: boolean } };
  findings: { kind: string; field: string; span: { start: number; end: number }; preview: string }[];
  rules: RuleTrace[];
}

interface Decided {
  evaluation: Evaluation;
  rules?: RuleTrace[];
}

export interface Outcome extends OutcomeResult {
  tier: string;
  /** Why the report moved nothing, when it did not. */
  why?: string;
}

export interface BudgetReport extends BudgetStatus {
  /** The share of the tightest limit used so far, in percent. */
  used_pct: number;
}

export interface AutonomyRate {
  agent: string | null;
  hours: number;
  since: string;
  until: string;
  decisions: number;
  /** Decisions of tier 0 or 1: taken without a human. */
  autonomous: number;
  /** autonomous / decisions, or null when there were none. */
  rate: number | null;
  by_tier: Record<'0' | '1' | '2' | '3', number>;
}

export interface ReloadError {
  at: string;
  message: string;
  diagnostics: { file: string; line: number; column: number; code: string; message: string }[];
}

export interface Status {
  version: string;
  bundle: { hash: string; rules: number; loaded_at: string };
  policies: string;
  watching: boolean;
  /** The last failed reload, while the bundle it failed to replace still serves; null after a good one. */
  reload_error: ReloadError | null;
  reloads: number;
  state: string | null;
  decisions: number;
  uptime_s: number;
}

const TRUST_EVENTS = Object.keys(TRUST_DELTAS) as TrustEvent[];
const MAX_HOURS = 24 * 366;
/** The longest wait_for_approval: an hour; wait again for longer. */
const MAX_WAIT_S = 3600;

function escalationId(v: unknown): string {
  if (v === undefined) throw new ParamsError('id', 'is required: the escalation id (escalation.id of an escalate decision).');
  if (typeof v !== 'string' || !v.trim()) throw new ParamsError('id', 'must be an escalation id (esc_...).');
  return v.trim();
}

function trustTier(t: number): string {
  return t < 20 ? 'untrusted' : t < 40 ? 'basic' : t < 60 ? 'verified' : t < 80 ? 'trusted' : t < 90 ? 'privileged' : 'admin';
}

/** The params as an object holding only the named fields. */
function fields(params: unknown, allowed: readonly string[], method: string): Record<string, unknown> {
  if (params === undefined) return {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new ParamsError('params', `must be an object with ${allowed.join(', ')}.`);
  }
  for (const k of Object.keys(params)) {
    if (!allowed.includes(k)) throw new ParamsError(k, allowed.length ? `is not a parameter of ${method} (${allowed.join(', ')}).` : `is not a parameter: ${method} takes none.`);
  }
  return params as Record<string, unknown>;
}

function agentOf(v: unknown, required: boolean): string | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || !v.trim()) throw new ParamsError('agent', v === undefined ? 'is required: the id of the agent.' : 'must be a non-empty string (the agent id).');
  return v.trim();
}

export class Governance {
  private readonly queue: GroupCommit;
  private readonly started = Date.now();
  private loadedAt = new Date().toISOString();
  private reloadError: ReloadError | null = null;
  private reloads = 0;
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];
  /** Decisions recorded by this server. */
  decisions = 0;
  watching = false;
  private readonly stopping = new AbortController();

  constructor(private readonly rt: Runtime) {
    this.queue = new GroupCommit(rt);
  }

  /** Resolves once no call is running (answers may still be on their way out). */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Counts `fn`'s promise as a call in flight until it settles. */
  private track<T>(fn: () => Promise<T>): Promise<T> {
    this.inflight++;
    let p: Promise<T>;
    try {
      p = fn();
    } catch (e) {
      p = Promise.reject(e);
    }
    const settled = () => {
      if (--this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
    return p.then((v) => (settled(), v), (e: unknown) => {
      settled();
      throw e;
    });
  }

  evaluate(params: unknown): Promise<Decision> {
    return this.track(() => this.decide(params, false).then((r) => r.evaluation.decision));
  }

  /** The whole evaluation (request, facts, findings), for a caller that renders it itself. */
  evaluation(params: unknown): Promise<Evaluation> {
    return this.track(() => this.decide(params, false).then((r) => r.evaluation));
  }

  explain(params: unknown): Promise<Explanation> {
    return this.track(async () => {
      const { evaluation: ev, rules } = await this.decide(params, true);
      const f = ev.facts;
      const r = ev.request;
      return {
        decision: ev.decision,
        request: { agent: r.agent.id, action: r.action, environment: r.environment, resource: r.resource },
        facts: { category: f.category, risk: f.risk ?? null, trust: f.trust, team: f.team ?? null, hour: f.hour, budget: f.budget },
        findings: ev.findings.map((x) => ({ kind: x.kind, field: x.field, span: x.span, preview: x.preview })),
        rules: rules ?? [],
      };
    });
  }

  /**
   * Prepares and commits in one step when cache, rules or router decide. When the model must be
   * asked, it is asked outside the transaction and the decision is committed afterwards; if the
   * policies were reloaded meanwhile, the request is decided again under the new ones, so a deny
   * rule added by the reload is never bypassed by an answer given under the old bundle.
   */
  private decide(params: unknown, explain: boolean): Promise<Decided> {
    if (params === undefined) return Promise.reject(new ParamsError('params', 'a Request object is required (agent, action, resource, ...).'));
    // Runs inside a job, so it may run again if the batch is rolled back: no side effects outside the state.
    const finish = (ev: Evaluation): Decided => (explain ? { evaluation: ev, rules: this.rt.engine.explain(ev.facts) } : { evaluation: ev });
    const counted = (d: Decided) => {
      this.decisions++;
      return d;
    };
    const attempt = (): Promise<Decided> => this.queue.run((): Decided | { pending: Pending; bundle: Bundle } => {
      const bundle = this.rt.bundle;
      // Every transport hands over params just parsed from JSON text (the MCP SDK's are validated copies of such).
      const p = this.rt.prepare(params, new Date(), { parsed: true });
      // Nobody decided and a model can be asked: ask it outside the transaction.
      if (!p.decision || this.rt.guarded) return { pending: p, bundle };
      return finish(this.rt.commit(p));
    }).then(async (first) => {
      if ('evaluation' in first) return counted(first);
      const asked = await this.rt.consult(first.pending);
      const second = await this.queue.run(() => (this.rt.bundle === first.bundle ? finish(this.rt.commit(first.pending, asked)) : undefined));
      return second ? counted(second) : attempt();
    });
    return attempt();
  }

  /**
   * The agent reports how the action of one decision went. Over `serve` the reporter is the agent
   * itself: its failures lower its trust, its successes are recorded and raise nothing (only a
   * human, CI or a configured reporter, through `govern trust record`, can raise trust).
   */
  recordOutcome(params: unknown): Promise<Outcome> {
    return this.track(async () => {
      const p = fields(params, ['decision', 'agent', 'event', 'note'], 'record_outcome');
      if (p.decision === undefined) throw new ParamsError('decision', 'is required: the id of the decision whose action this outcome reports (the "id" of the evaluate answer).');
      if (typeof p.decision !== 'string' || !p.decision.trim()) throw new ParamsError('decision', 'must be a decision id (dec_...).');
      const agent = agentOf(p.agent, false);
      if (p.event === undefined) throw new ParamsError('event', `is required: one of ${TRUST_EVENTS.join(', ')}.`);
      if (typeof p.event !== 'string' || !(TRUST_EVENTS as string[]).includes(p.event)) throw new ParamsError('event', `must be one of ${TRUST_EVENTS.join(', ')}.`);
      if (p.note !== undefined && typeof p.note !== 'string') throw new ParamsError('note', 'must be a string.');
      const state = this.needState('record_outcome');
      const decision = p.decision.trim();
      const r = await this.queue.run(() => {
        try {
          return state.recordOutcome({ decision, event: p.event as TrustEvent, by: { party: 'agent' }, deltas: this.rt.config.trust.outcomes, ...(agent ? { agent } : {}), ...(p.note !== undefined ? { note: p.note as string } : {}) }, new Date().toISOString());
        } catch (e) {
          if (e instanceof StateError) throw new ParamsError('decision', e.message);
          throw e;
        }
      });
      return { ...r, tier: trustTier(r.after), ...(r.counted ? {} : { why: 'an agent\'s own report cannot raise its trust; a human, CI or a configured reporter can (govern trust record)' }) };
    });
  }

  /** Where an escalation stands: pending (wait), approved (ask again: allowed once), denied or expired (do not). */
  escalationStatus(params: unknown): Promise<EscalationStatus> {
    return this.track(async () => {
      const p = fields(params, ['id'], 'escalation_status');
      const id = escalationId(p.id);
      const state = this.needState('escalation_status');
      const s = escalationStatus(state, id);
      if (!s) throw new ParamsError('id', `no escalation ${id}; an escalate decision's escalation.id names it.`);
      return s;
    });
  }

  /**
   * Blocks until a human answers the escalation or `timeout_seconds` pass (then: deny). The wait
   * holds no transaction: other calls go on meanwhile.
   */
  waitForApproval(params: unknown): Promise<EscalationStatus & { timed_out: boolean; waited_s: number }> {
    return this.track(async () => {
      const p = fields(params, ['id', 'timeout_seconds'], 'wait_for_approval');
      const id = escalationId(p.id);
      const timeout = p.timeout_seconds ?? 60;
      if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0 || timeout > MAX_WAIT_S) throw new ParamsError('timeout_seconds', `must be a number of seconds from 0 to ${MAX_WAIT_S}.`);
      const state = this.needState('wait_for_approval');
      if (!state.escalation(id)) throw new ParamsError('id', `no escalation ${id}; an escalate decision's escalation.id names it.`);
      return waitForAnswer(state, id, timeout * 1000, { signal: this.stopping.signal });
    });
  }

  /** The real cost of an allowed decision, added to what was recorded before; budgets count the larger of declared and recorded. */
  recordSpend(params: unknown): Promise<ReturnType<NonNullable<Runtime['state']>['recordSpend']>> {
    return this.track(async () => {
      const p = fields(params, ['decision', 'usd', 'tokens'], 'record_spend');
      if (typeof p.decision !== 'string' || !p.decision.trim()) throw new ParamsError('decision', p.decision === undefined ? 'is required: the id of the allowed decision that spent it.' : 'must be a decision id (dec_...).');
      const usd = p.usd ?? 0;
      const tokens = p.tokens ?? 0;
      if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0) throw new ParamsError('usd', 'must be a number of dollars, 0 or more (spend only adds).');
      if (typeof tokens !== 'number' || !Number.isInteger(tokens) || tokens < 0) throw new ParamsError('tokens', 'must be a whole number, 0 or more (spend only adds).');
      const state = this.needState('record_spend');
      const decision = p.decision.trim();
      return this.queue.run(() => {
        try {
          return state.recordSpend(decision, usd, tokens, new Date().toISOString());
        } catch (e) {
          if (e instanceof StateError) throw new ParamsError('decision', e.message);
          throw e;
        }
      });
    });
  }

  /** Ends every wait_for_approval now (each answers as a timeout: deny); called when the server stops. */
  stopWaiting(): void {
    this.stopping.abort();
  }

  budgetStatus(params: unknown): Promise<BudgetReport> {
    return this.track(async () => {
      const p = fields(params, ['agent'], 'budget_status');
      const agent = agentOf(p.agent, true)!;
      return this.queue.run(() => {
        const now = new Date();
        return { ...this.rt.budget(agent, now), used_pct: this.rt.budgetFacts(agent, { usd: 0, tokens: 0 }, now).used_pct };
      });
    });
  }

  autonomyRate(params: unknown): Promise<AutonomyRate> {
    return this.track(async () => {
      const p = fields(params, ['agent', 'hours'], 'autonomy_rate');
      const agent = agentOf(p.agent, false);
      const hours = p.hours ?? 24;
      if (typeof hours !== 'number' || !Number.isFinite(hours) || hours <= 0 || hours > MAX_HOURS) throw new ParamsError('hours', `must be a number of hours above 0 and at most ${MAX_HOURS}.`);
      const state = this.needState('autonomy_rate');
      return this.queue.run(() => {
        const until = new Date();
        const since = new Date(until.getTime() - hours * 3_600_000).toISOString();
        const byTier = { '0': 0, '1': 0, '2': 0, '3': 0 };
        let n = 0;
        for (const row of state.ledgerRows({ since, ...(agent ? { agent } : {}) })) {
          const tier = String((JSON.parse(row.record) as { decision: { tier: number } }).decision.tier) as keyof typeof byTier;
          if (tier in byTier) byTier[tier]++;
          n++;
        }
        const autonomous = byTier['0'] + byTier['1'];
        return { agent: agent ?? null, hours, since, until: until.toISOString(), decisions: n, autonomous, rate: n ? autonomous / n : null, by_tier: byTier };
      });
    });
  }

  status(params?: unknown): Status {
    fields(params, [], 'status');
    const b = this.rt.bundle;
    return {
      version: VERSION,
      bundle: { hash: b.hash, rules: b.rules.length, loaded_at: this.loadedAt },
      policies: displayPath(this.rt.config.policies),
      watching: this.watching,
      reload_error: this.reloadError,
      reloads: this.reloads,
      state: this.rt.state ? (this.rt.state.db.dialect === 'postgres' ? this.rt.state.path : displayPath(this.rt.state.path)) : null,
      decisions: this.decisions,
      uptime_s: Math.round((Date.now() - this.started) / 100) / 10,
    };
  }

  /** A reload succeeded: the runtime decides with `bundle` from now on. */
  reloaded(): void {
    this.loadedAt = new Date().toISOString();
    this.reloadError = null;
    this.reloads++;
  }

  reloadFailed(error: Omit<ReloadError, 'at'>): void {
    this.reloadError = { at: new Date().toISOString(), ...error };
  }

  private needState(method: string): NonNullable<Runtime['state']> {
    if (!this.rt.state) throw new UnavailableError(`${method} needs the state file; the server was started with --no-state.`);
    return this.rt.state;
  }
}
