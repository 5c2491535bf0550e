// `govern stats`: the ledger's figures per agent and overall, for a person (human), a script
// (json) or a monitoring system (prometheus).
import type { Command } from 'commander';
import { Option } from 'commander';
import { statsText } from '../render/stats.js';
import { prometheus, stats } from '../stats/stats.js';
import { statsWindow } from '../stats/window.js';
import { requireState, withRuntime } from './options.js';

export function register(program: Command): void {
  program
    .command('stats')
    .description('autonomy rate, routes, cache and rule hit rates, tokens saved and open escalations, per agent and overall')
    .option('--agent <id>', 'only this agent')
    .option('--hours <n>', 'the window: the last n hours', '24')
    .option('--since <iso-date>', 'the window: since this time (instead of --hours)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['human', 'json', 'prometheus']).default('human'))
    .action(async (opts: { agent?: string; hours: string; since?: string; format: 'human' | 'json' | 'prometheus' }, c: Command) => {
      const since = statsWindow(opts);
      const s = await withRuntime(c, async (rt) => stats(requireState(rt, 'stats'), { since, ...(opts.agent ? { agent: opts.agent } : {}) }));
      process.stdout.write(opts.format === 'json' ? JSON.stringify(s, null, 2) + '\n' : opts.format === 'prometheus' ? prometheus(s) : statsText(s));
    });
}
