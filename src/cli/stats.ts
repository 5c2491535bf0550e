// `govern stats`: the ledger's figures per agent and overall, for a person (human), a script
// (json) or a monitoring system (prometheus).
import type { Command } from 'commander';
import { Option } from 'commander';
import { statsText } from '../render/stats.js';
import { prometheus, stats } from '../stats/stats.js';
import { UsageError } from './output.js';
import { openRuntime, requireState } from './options.js';

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
        else process.stdout.write(`since ${s.since}\n` + statsText('overall', s.overall) + Object.entries(s.agents).map(([a, f]) => statsText(a, f)).join(''));
      } finally { rt.close(); }
    });
}
