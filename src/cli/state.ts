// The commands that read and change recorded state: trust, usage, the ledger and escalations.
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { TRUST_DELTAS, type TrustEvent } from '../ledger/state.js';
import { EXIT, UsageError } from './output.js';
import type { GlobalOptions } from './program.js';
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
          `${agent}: trust ${score} (${trustTier(score)})\n` + events.map((e) => `  ${e.at}  ${e.event.padEnd(9)} ${e.delta >= 0 ? '+' : ''}${e.delta} -> ${e.trust_after}${e.note ? `  ${e.note}` : ''}\n`).join(''));
      } finally { rt.close(); }
    });
  trust
    .command('record')
    .description(`record an outcome that moves trust: ${Object.entries(TRUST_DELTAS).map(([k, v]) => `${k} ${v > 0 ? '+' : ''}${v}`).join(', ')}`)
    .argument('<agent>', 'agent id')
    .argument('<event>', 'success, failure, exception or violation')
    .option('--note <text>', 'why, for the record')
    .addOption(formatOption())
    .action(async (agent: string, event: string, opts: Fmt & { note?: string }, c: Command) => {
      if (!(event in TRUST_DELTAS)) throw new UsageError(`<event>: "${event}" is not one of success, failure, exception, violation.`);
      const rt = await openRuntime(c);
      try {
        const r = requireState(rt, 'trust record').recordTrust(agent, event as TrustEvent, opts.note, new Date().toISOString());
        print(opts.format, { agent, event, ...r }, () => `${agent}: ${event}, trust ${r.before} -> ${r.after} (${trustTier(r.after)})\n`);
      } finally { rt.close(); }
    });

  program
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
          : `ledger TAMPERED: ${v.problems.length} problem${v.problems.length === 1 ? '' : 's'} in ${v.rows} rows\n` + v.problems.map((p) => `  row ${p.seq}: ${p.problem}\n`).join(''));
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
        const list = requireState(rt, 'escalations list').escalations(opts.status === 'all' ? undefined : (opts.status as 'pending'));
        const rows = list.map((e) => ({ ...e, request: JSON.parse(e.request) as unknown, reasons: JSON.parse(e.reasons) as unknown }));
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
      .description(verdict === 'approve' ? 'approve one escalated request: the same request is then allowed once, until the approval expires' : 'deny one escalated request')
      .argument('<id>', 'escalation id (from escalations list)')
      .option('--by <name>', 'who decides (default: $USER)')
      .option('--note <text>', 'why, for the record')
      .action(async (id: string, opts: { by?: string; note?: string }, c: Command) => {
        const rt = await openRuntime(c);
        try {
          const now = new Date();
          const expires = verdict === 'approve' ? new Date(now.getTime() + rt.config.approvalTtlHours * 3600_000).toISOString() : null;
          let e;
          try {
            e = requireState(rt, `escalations ${verdict}`).resolveEscalation(id, verdict === 'approve' ? 'approved' : 'denied', opts.by ?? process.env.USER ?? 'unknown', opts.note, now.toISOString(), expires);
          } catch (err) {
            throw new UsageError((err as Error).message);
          }
          process.stdout.write(verdict === 'approve' ? `${e.id} approved; the same request is allowed once until ${expires}\n` : `${e.id} denied\n`);
        } finally { rt.close(); }
      });
  }
}
