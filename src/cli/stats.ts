// `govern stats`: the ledger's figures per agent and overall, for a person (human), a script
// (json) or a monitoring system (prometheus).
import type { Command } from 'commander';
import { Option } from 'commander';
import { AUTONOMY_GOAL, prometheus, stats, type Figures } from '../stats/stats.js';
import { UsageError } from './output.js';
import { openRuntime, requireState } from './runtime.js';

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

function age(s: number | null): string {
  if (s === null) return '-';
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

function human(name: string, f: Figures): string {
  const routes = Object.entries(f.routes).map(([r, n]) => `${r} ${n}`).join(', ') || 'none';
  return `${name}\n`
    + `  decisions      ${f.decisions} (allow ${f.by_decision.allow}, deny ${f.by_decision.deny}, escalate ${f.by_decision.escalate})\n`
    + `  autonomy       ${pct(f.autonomy_rate)} without a human${f.autonomy_rate === null ? '' : f.autonomy_rate >= AUTONOMY_GOAL ? ' (goal met)' : ` (goal ${AUTONOMY_GOAL * 100}%)`}\n`
    + `  routes         ${routes}\n`
    + `  cache hits     ${pct(f.cache_hit_rate)}, rule hits ${pct(f.rule_hit_rate)}\n`
    + `  tokens         ${f.tokens.used} used, ${f.tokens.saved} saved of ${f.tokens.baseline} (all to the model)\n`
    + `  escalations    ${f.escalations.open} open${f.escalations.open ? `, oldest ${age(f.escalations.oldest_age_s)}` : ''}\n`;
}

export function register(program: Command): void {
  program
    .command('stats')
    .description('autonomy rate, routes, cache and rule hit rates, tokens saved and open escalations, per agent and overall')
    .option('--agent <id>', 'only this agent')
    .option('--hours <n>', 'the window: the last n hours', '24')
    .option('--since <iso-date>', 'the window: since this time (instead of --hours)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['human', 'json', 'prometheus']).default('human'))
    .action(async (opts: { agent?: string; hours: string; since?: string; format: 'human' | 'json' | 'prometheus' }, c: Command) => {
      let since: Date;
      if (opts.since !== undefined) {
        if (Number.isNaN(Date.parse(opts.since))) throw new UsageError(`--since: "${opts.since}" is not a date (use ISO 8601, e.g. 2026-11-01 or 2026-11-01T12:00:00Z).`);
        since = new Date(opts.since);
      } else {
        const h = Number(opts.hours);
        if (!opts.hours.trim() || !Number.isFinite(h) || h <= 0) throw new UsageError(`--hours: "${opts.hours}" is not a number of hours above 0.`);
        since = new Date(Date.now() - h * 3_600_000);
      }
      const rt = await openRuntime(c);
      try {
        const s = stats(requireState(rt, 'stats'), { since, ...(opts.agent ? { agent: opts.agent } : {}) });
        if (opts.format === 'json') process.stdout.write(JSON.stringify(s, null, 2) + '\n');
        else if (opts.format === 'prometheus') process.stdout.write(prometheus(s));
        else process.stdout.write(`since ${s.since}\n` + human('overall', s.overall) + Object.entries(s.agents).map(([a, f]) => human(a, f)).join(''));
      } finally { rt.close(); }
    });
}
