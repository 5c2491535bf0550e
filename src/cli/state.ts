// The commands that read and change recorded state: trust, usage and recorded spend, the ledger,
// and escalations (answered only by configured approvers, never by an agent).
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { ApproverError, resolveApprover } from '../escalation/escalation.js';
import { StateError, TRUST_DELTAS, type State, type TrustEvent } from '../ledger/state.js';
import type { Runtime } from '../runtime/runtime.js';
import { EXIT, UsageError } from './output.js';
import type { GlobalOptions } from './options.js';
import { openRuntime, requireState } from './runtime.js';

type Fmt = { format: 'human' | 'json' };
const formatOption = () => new Option('-f, --format <format>', 'output format').choices(['human', 'json']).default('human');

function print(fmt: Fmt['format'], data: unknown, human: () => string): void {
  process.stdout.write(fmt === 'json' ? JSON.stringify(data, null, 2) + '\n' : human());
}

/** Resolves when `out` can take more, or has closed or failed (then `writable` is false). */
function drained(out: NodeJS.WritableStream & { writable: boolean }): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    out.once('drain', done).once('close', done).once('error', done);
  });
}

function trustTier(t: number): string {
  return t < 20 ? 'untrusted' : t < 40 ? 'basic' : t < 60 ? 'verified' : t < 80 ? 'trusted' : t < 90 ? 'privileged' : 'admin';
}

export function register(program: Command): void {
  const trust = program.command('trust').description('show or change an agent\'s trust (0-100)');
  trust
    .command('show')
    .description('an agent\'s trust score, tier and recent events')
    .argument('<agent>', 'agent id')
    .addOption(formatOption())
    .action(async (agent: string, opts: Fmt, c: Command) => {
      const rt = await openRuntime(c);
      try {
        const st = requireState(rt, 'trust show');
        const score = st.trust(agent);
        const events = st.trustEvents(agent);
        print(opts.format, { agent, trust: score, tier: trustTier(score), events }, () =>
          `${agent}: trust ${score} (${trustTier(score)})\n` + events.map((e) => `  ${e.at}  ${e.event.padEnd(9)} ${e.delta >= 0 ? '+' : ''}${e.delta} -> ${e.trust_after}${e.decision ? `  ${e.decision}` : ''}${e.by ? ` by ${e.by}` : e.event !== 'finding' && e.event !== 'carried' ? ' by the agent' : ''}${e.note ? `  ${e.note}` : ''}\n`).join(''));
      } finally { rt.close(); }
    });
  trust
    .command('record')
    .description('report the outcome of a decided action, as a configured approver or reporter (never the agent): it moves the agent\'s trust')
    .argument('<decision>', 'the decision id (dec_...) whose action this reports')
    .argument('<event>', 'success, failure, exception or violation')
    .option('--as <name>', 'report as this configured approver or `trust.reporters` name (CI); default: the approver matching the OS user')
    .option('--note <text>', 'why, for the record')
    .addOption(formatOption())
    .action(async (decision: string, event: string, opts: Fmt & { note?: string; as?: string }, c: Command) => {
      if (!(event in TRUST_DELTAS)) throw new UsageError(`<event>: "${event}" is not one of success, failure, exception, violation.`);
      const rt = await openRuntime(c);
      try {
        const st = requireState(rt, 'trust record');
        const name = approver(rt, st, opts.as, true);
        let r;
        try {
          r = st.recordOutcome({ decision, event: event as TrustEvent, by: { party: 'reporter', name }, deltas: rt.config.trust.outcomes, ...(opts.note !== undefined ? { note: opts.note } : {}) }, new Date().toISOString());
        } catch (e) {
          if (e instanceof StateError) throw new UsageError(e.message);
          throw e;
        }
        print(opts.format, { ...r, by: name }, () => `${r.agent}: ${event} (${decision}, reported by ${name}), trust ${r.before} -> ${r.after} (${trustTier(r.after)})\n`);
      } finally { rt.close(); }
    });

  const usage = program
    .command('usage')
    .description('spend and tokens per agent this hour and today, against the budgets')
    .argument('[agent]', 'one agent (default: every agent with usage today)')
    .addOption(formatOption())
    .action(async (agent: string | undefined, opts: Fmt, c: Command) => {
      const rt = await openRuntime(c);
      try {
        const st = requireState(rt, 'usage');
        const now = new Date();
        const agents = agent ? [agent] : st.agentsWithUsage(`d:${now.toISOString().slice(0, 10)}`);
        const rows = agents.map((a) => rt.budget(a, now));
        const pct = (u: number, l: number) => (l > 0 ? `${Math.round((u / l) * 100)}%` : '-');
        print(opts.format, rows, () => rows.length
          ? rows.map((b) => `${b.agent}\n  hour  $${b.hour.usd.toFixed(2)} of $${b.hour.limit.usd} (${pct(b.hour.usd, b.hour.limit.usd)}), ${b.hour.tokens} of ${b.hour.limit.tokens} tokens (${pct(b.hour.tokens, b.hour.limit.tokens)})\n  day   $${b.day.usd.toFixed(2)} of $${b.day.limit.usd} (${pct(b.day.usd, b.day.limit.usd)}), ${b.day.tokens} of ${b.day.limit.tokens} tokens (${pct(b.day.tokens, b.day.limit.tokens)})\n`).join('')
          : 'no usage today\n');
      } finally { rt.close(); }
    });

  usage
    .command('record')
    .description('record what an allowed decision really cost; it only adds, and budgets count the larger of declared and recorded')
    .argument('<decision>', 'the id of the allowed decision (dec_...)')
    .option('--usd <usd>', 'dollars spent, added to what was recorded before')
    .option('--tokens <n>', 'tokens spent, added to what was recorded before')
    .addOption(formatOption())
    .action(async (decision: string, opts: Fmt & { usd?: string; tokens?: string }, c: Command) => {
      const num = (flag: string, v: string | undefined, integer: boolean) => {
        if (v === undefined) return 0;
        const n = Number(v);
        if (!v.trim() || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new UsageError(`${flag}: "${v}" is not ${integer ? 'a whole number' : 'a number'} of 0 or more (spend only adds).`);
        return n;
      };
      const usd = num('--usd', opts.usd, false);
      const tokens = num('--tokens', opts.tokens, true);
      if (opts.usd === undefined && opts.tokens === undefined) throw new UsageError('give --usd, --tokens or both: what the decision\'s action really cost.');
      const rt = await openRuntime(c);
      try {
        let r;
        try {
          r = requireState(rt, 'usage record').recordSpend(decision, usd, tokens, new Date().toISOString());
        } catch (e) {
          if (e instanceof StateError) throw new UsageError(e.message);
          throw e;
        }
        print(opts.format, r, () => `${r.agent}: ${decision} recorded $${r.recorded.usd} and ${r.recorded.tokens} tokens in all (declared $${r.declared.usd}, ${r.declared.tokens}); budgets count $${r.counted.usd}, ${r.counted.tokens} tokens\n`);
      } finally { rt.close(); }
    });

  const ledger = program.command('ledger').description('the append-only, hash-chained record of every decision');
  ledger
    .command('verify')
    .description('check the hash chain: finds any edited or deleted row')
    .addOption(formatOption())
    .addHelpText('after', '\nExit codes: 0 intact, 5 the ledger was tampered with, 1 other failure.')
    .action(async (opts: Fmt, c: Command) => {
      const rt = await openRuntime(c);
      try {
        const v = requireState(rt, 'ledger verify').verifyLedger();
        print(opts.format, v, () => v.ok
          ? `ledger intact: ${v.rows} decisions, head ${v.head}\n`
          : `ledger TAMPERED: ${v.problems.length} problem${v.problems.length === 1 ? '' : 's'} in ${v.rows} rows\n` + v.problems.map((p) => `  ${p.seq ? `row ${p.seq}` : 'state'}: ${p.problem}\n`).join(''));
        process.exitCode = v.ok ? EXIT.ok : EXIT.ledgerTampered;
      } finally { rt.close(); }
    });
  ledger
    .command('export')
    .description('write decision records as JSON Lines (the input of distill and replay)')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .option('--since <iso-date>', 'only decisions at or after this time')
    .option('--agent <id>', 'only this agent\'s decisions')
    .option('--route <route>', 'only this route: cache, rules, router, model or default')
    .action(async (opts: { out?: string; since?: string; agent?: string; route?: string }, c: Command) => {
      if (opts.since && Number.isNaN(Date.parse(opts.since))) throw new UsageError(`--since: "${opts.since}" is not a date (use ISO 8601, e.g. 2026-11-01 or 2026-11-01T12:00:00Z).`);
      const rt = await openRuntime(c);
      try {
        const out = opts.out ? createWriteStream(opts.out) : process.stdout;
        let n = 0;
        const since = opts.since ? new Date(opts.since).toISOString() : undefined;
        for (const row of requireState(rt, 'ledger export').ledgerRows({ ...(since ? { since } : {}), ...(opts.agent ? { agent: opts.agent } : {}), ...(opts.route ? { route: opts.route } : {}) })) {
          // The reader went away (`| head`): stop reading the ledger.
          if (!out.writable) break;
          if (!out.write(row.record + '\n')) await drained(out);
          n++;
        }
        if (opts.out) {
          await new Promise<void>((res, rej) => (out as ReturnType<typeof createWriteStream>).end((e?: Error | null) => (e ? rej(e) : res())));
          if (!c.optsWithGlobals<GlobalOptions>().quiet) process.stderr.write(`wrote ${n} decision records to ${opts.out}\n`);
        }
      } finally { rt.close(); }
    });

  const esc = program.command('escalations').description('requests waiting for a human, and their approval or denial');
  esc
    .command('list')
    .description('escalations (pending by default)')
    .addOption(new Option('--status <status>', 'which').choices(['pending', 'approved', 'denied', 'used', 'all']).default('pending'))
    .addOption(formatOption())
    .action(async (opts: Fmt & { status: string }, c: Command) => {
      const rt = await openRuntime(c);
      try {
        const st = requireState(rt, 'escalations list');
        const list = st.escalations(opts.status === 'all' ? undefined : (opts.status as 'pending'));
        const now = new Date().toISOString();
        const rows = list.map((e) => ({ ...e, status: st.escalationState(e, now), request: JSON.parse(e.request) as unknown, reasons: JSON.parse(e.reasons) as unknown }));
        print(opts.format, rows, () => rows.length
          ? rows.map((e) => {
            const rq = e.request as { action: string; resource: { type: string; id: string }; environment: string; command?: string };
            const why = (e.reasons as { rule: string | null; message: string }[]).map((r) => r.rule ?? r.message).join(', ');
            return `${e.id}  ${e.status}  ${e.agent}: ${rq.action} ${rq.resource.type}${rq.resource.id ? '/' + rq.resource.id : ''} in ${rq.environment}${rq.command ? ` ($ ${rq.command})` : ''}\n    because ${why}; asked ${e.created_at}${e.resolved_by ? `; ${e.status === 'used' ? `approved by ${e.resolved_by}, used` : `${e.status} by ${e.resolved_by}`}` : ''}\n`;
          }).join('')
          : `no ${opts.status === 'all' ? '' : opts.status + ' '}escalations\n`);
      } finally { rt.close(); }
    });
  for (const verdict of ['approve', 'deny'] as const) {
    esc
      .command(verdict)
      .description(verdict === 'approve'
        ? 'approve one escalated request, as a configured approver: the same request is then allowed once, until the approval expires'
        : 'deny one escalated request, as a configured approver: the same request is denied without asking again, for escalations.deny_ttl_hours')
      .argument('<id>', 'escalation id (from escalations list)')
      .option('--as <name>', 'act as this configured approver (its os_users must include the OS user, or be empty for CI); default: the approver matching the OS user')
      .option('--note <text>', 'why, for the record')
      .addHelpText('after', '\nWho may: the approvers under `approvers:` in govern.config.yaml, recognised by OS user (not $USER). An agent never approves.')
      .action(async (id: string, opts: { as?: string; note?: string }, c: Command) => {
        const rt = await openRuntime(c);
        try {
          const st = requireState(rt, `escalations ${verdict}`);
          const name = approver(rt, st, opts.as, false);
          const now = new Date();
          const ttl = verdict === 'approve' ? rt.config.approvalTtlHours : rt.config.denyTtlHours;
          const expires = new Date(now.getTime() + ttl * 3600_000).toISOString();
          let e;
          try {
            const pending = st.escalation(id);
            if (pending && pending.agent === name) throw new StateError(`${name} asked for escalation ${id}; nobody answers their own request.`);
            e = st.resolveEscalation(id, verdict === 'approve' ? 'approved' : 'denied', name, opts.note, now.toISOString(), expires);
          } catch (err) {
            if (err instanceof StateError) throw new UsageError(err.message);
            throw err;
          }
          process.stdout.write(verdict === 'approve' ? `${e.id} approved by ${name}; the same request is allowed once until ${expires}\n` : `${e.id} denied by ${name}; the same request is denied without asking until ${expires}\n`);
        } finally { rt.close(); }
      });
  }
}

/** The configured approver (or, for outcomes, reporter) acting now; an agent never is one. */
function approver(rt: Runtime, st: State, as: string | undefined, reporters: boolean): string {
  try {
    if (as !== undefined && st.isAgent(as)) throw new ApproverError(`--as: ${as} has asked for decisions as an agent; an agent never approves or vouches for itself.`);
    const name = resolveApprover(rt.config, { ...(as !== undefined ? { as } : {}), reporters });
    if (st.isAgent(name)) throw new ApproverError(`${name} has asked for decisions as an agent; an agent never approves or vouches for itself.`);
    return name;
  } catch (e) {
    if (e instanceof ApproverError) throw new UsageError(e.message);
    throw e;
  }
}
