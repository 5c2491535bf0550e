// The commands that read and change recorded state: trust, usage and recorded spend, the ledger,
// and escalations (answered only by configured approvers, never by an agent).
import type { Command } from 'commander';
import { Option } from 'commander';
import { TRUST_DELTAS, type State, type TrustEvent } from '../ledger/state.js';
import { parseNumber } from '../request/input.js';
import type { Config } from '../config/config.js';
import { EXIT, UsageError } from './output.js';
import { requireState, withRuntime, withStateFile, type GlobalOptions } from './options.js';

type Fmt = { format: 'human' | 'json' };
const formatOption = () => new Option('-f, --format <format>', 'output format').choices(['human', 'json']).default('human');
const render = () => import('../render/state.js');

/** Runs `f` with the configuration and the state file (`what` needs it), printing what it returns; closes the state. */
async function withState(c: Command, what: string, f: (st: State, config: Config) => Promise<string | void> | string | void): Promise<void> {
  const out = await withStateFile(c, what, f);
  if (out) process.stdout.write(out);
}

export function register(program: Command): void {
  const trust = program.command('trust').description('show or change an agent\'s trust (0-100)');
  trust
    .command('show')
    .description('an agent\'s trust score, tier and recent events')
    .argument('<agent>', 'agent id')
    .addOption(formatOption())
    .action(async (agent: string, opts: Fmt, c: Command) => withState(c, 'trust show', async (st) => (await render()).trustShow(opts.format, agent, st.trust(agent), st.trustEvents(agent))));
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
      await withState(c, 'trust record', async (st, config) => {
        const name = (await import('../escalation/approver.js')).approver(config, st, opts.as, true);
        const r = st.recordOutcome({ decision, event: event as TrustEvent, by: { party: 'reporter', name }, deltas: config.trust.outcomes, ...(opts.note !== undefined ? { note: opts.note } : {}) }, new Date().toISOString());
        return (await render()).trustRecorded(opts.format, r, event, decision, name);
      });
    });

  const usage = program
    .command('usage')
    .description('spend and tokens per agent this hour and today, against the budgets')
    .argument('[agent]', 'one agent (default: every agent with usage today)')
    .addOption(formatOption())
    .action(async (agent: string | undefined, opts: Fmt, c: Command) => {
      // The budgets as the runtime counts them (declared and recorded spend, the configured limits).
      const out = await withRuntime(c, async (rt) => {
        const st = requireState(rt, 'usage');
        const now = new Date();
        const agents = agent ? [agent] : st.agentsWithUsage(`d:${now.toISOString().slice(0, 10)}`);
        return (await render()).usageShow(opts.format, agents.map((a) => rt.budget(a, now)));
      });
      process.stdout.write(out);
    });

  usage
    .command('record')
    .description('record what an allowed decision really cost; it only adds, and budgets count the larger of declared and recorded')
    .argument('<decision>', 'the id of the allowed decision (dec_...)')
    .option('--usd <usd>', 'dollars spent, added to what was recorded before')
    .option('--tokens <n>', 'tokens spent, added to what was recorded before')
    .addOption(formatOption())
    .action(async (decision: string, opts: Fmt & { usd?: string; tokens?: string }, c: Command) => {
      const usd = opts.usd === undefined ? 0 : parseNumber('--usd', opts.usd, false, 'spend only adds');
      const tokens = opts.tokens === undefined ? 0 : parseNumber('--tokens', opts.tokens, true, 'spend only adds');
      if (opts.usd === undefined && opts.tokens === undefined) throw new UsageError('give --usd, --tokens or both: what the decision\'s action really cost.');
      await withState(c, 'usage record', async (st) => (await render()).spendRecorded(opts.format, st.recordSpend(decision, usd, tokens, new Date().toISOString()), decision));
    });

  const ledger = program.command('ledger').description('the append-only, hash-chained record of every decision');
  ledger
    .command('verify')
    .description('check the hash chain: finds any edited or deleted row')
    .addOption(formatOption())
    .addHelpText('after', '\nExit codes: 0 intact, 5 the ledger was tampered with, 1 other failure.')
    .action(async (opts: Fmt, c: Command) => withState(c, 'ledger verify', async (st) => {
      const v = st.verifyLedger();
      process.exitCode = v.ok ? EXIT.ok : EXIT.ledgerTampered;
      return (await render()).ledgerVerified(opts.format, v);
    }));
  ledger
    .command('export')
    .description('write decision records as JSON Lines (the input of distill and replay)')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .option('--since <iso-date>', 'only decisions at or after this time')
    .option('--agent <id>', 'only this agent\'s decisions')
    .option('--route <route>', 'only this route: cache, rules, router, model or default')
    .action(async (opts: { out?: string; since?: string; agent?: string; route?: string }, c: Command) => {
      if (opts.since && Number.isNaN(Date.parse(opts.since))) throw new UsageError(`--since: "${opts.since}" is not a date (use ISO 8601, e.g. 2026-11-01 or 2026-11-01T12:00:00Z).`);
      const since = opts.since ? new Date(opts.since).toISOString() : undefined;
      await withStateFile(c, 'ledger export', async (st) => {
        const n = await (await import('../ledger/export.js')).exportLedger(() => st, { ...(since ? { since } : {}), ...(opts.agent ? { agent: opts.agent } : {}), ...(opts.route ? { route: opts.route } : {}) }, opts.out);
        if (opts.out && !c.optsWithGlobals<GlobalOptions>().quiet) process.stderr.write(`wrote ${n} decision records to ${opts.out}\n`);
      });
    });

  const esc = program.command('escalations').description('requests waiting for a human, and their approval or denial');
  esc
    .command('list')
    .description('escalations (pending by default)')
    .addOption(new Option('--status <status>', 'which').choices(['pending', 'approved', 'denied', 'used', 'all']).default('pending'))
    .addOption(formatOption())
    .action(async (opts: Fmt & { status: string }, c: Command) => withState(c, 'escalations list', async (st) =>
      (await render()).escalationList(opts.format, st, st.escalations(opts.status === 'all' ? undefined : (opts.status as 'pending')), opts.status, new Date().toISOString())));
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
      .action(async (id: string, opts: { as?: string; note?: string }, c: Command) => withState(c, `escalations ${verdict}`, async (st, config) => {
        const { approver, answerEscalation } = await import('../escalation/approver.js');
        const name = approver(config, st, opts.as, false);
        const { escalation: e, expires } = answerEscalation(config, st, id, verdict, name, opts.note);
        return verdict === 'approve' ? `${e.id} approved by ${name}; the same request is allowed once until ${expires}\n` : `${e.id} denied by ${name}; the same request is denied without asking until ${expires}\n`;
      }));
  }
}
