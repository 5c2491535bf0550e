// `govern route FILE`: runs a file of requests through the whole pipeline (cache, rules, router,
// model) and reports each request's route, decision, category and tokens, the share of each route,
// and the tokens used against the baseline of sending every request to the large model. Lines that
// carry labels (category, risk, route, decision, rules) are scored, and the run is a CI gate.
import type { Command } from 'commander';
import { Option } from 'commander';
import { readFixtures, shortfalls } from '../route/fixtures.js';
import { renderHuman, renderJson, renderJunit, type Gate } from '../route/report.js';
import { runFixtures } from '../route/run.js';
import { EXIT, parseShare, progressBar, styleFor, UsageError, useColor, writeOut } from './output.js';
import { withRuntime, type GlobalOptions } from './options.js';

interface RouteOptions { format: 'human' | 'json' | 'junit'; totals?: boolean; minAccuracy?: string; model?: boolean }

export function register(program: Command): void {
  program
    .command('route')
    .description('run a file of requests through cache, rules, router and model; score labeled requests; report routes, tokens and savings')
    .argument('<file>', 'requests as JSON Lines or a JSON array ("-" for stdin): plain requests, decision records (read by their request), or fixtures {"request": {...}, "category", "risk", "route", "decision", "rules"}')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['human', 'json', 'junit']).default('human'))
    .option('--totals', 'print only the totals')
    .option('--min-accuracy <share>', 'pass when each expectation is met on at least this share of the labeled requests (default: every one), e.g. 0.98 or 98%')
    .option('--model', 'also classify every request with the configured small model (models.small) and report it beside the built-in router')
    .addHelpText('after', '\nEvery decision is recorded in the ledger, model decisions with the model and its real usage.\ncategory and risk are checked against the built-in intent router (and the small model with --model);\nroute, decision and rules against the decision.\nBaseline: each request sent to the large model, at its measured usage where it was, else estimated\nfrom the prompt size (4 characters a token, plus 60 output tokens). Only requests that cache, rules\nor router decided save tokens; default escalations and failed model calls save none.\nExit codes: 0 every request decided and every expectation met, 1 some could not be decided (bad\nlines are listed), 11 an expectation not met (or an accuracy under --min-accuracy).')
    .action(async (file: string, opts: RouteOptions, c: Command) => {
      const g = c.optsWithGlobals<GlobalOptions>();
      const min = opts.minAccuracy === undefined ? 1 : parseShare('--min-accuracy', opts.minAccuracy);
      // A FixtureFileError is a usage error through cli/errors.ts.
      const items = readFixtures(file);
      const progress = progressBar(items.length, g.quiet);
      const run = await withRuntime(c, async (rt) => {
        if (opts.model && !rt.smallRouter) throw new UsageError('--model: no small model is configured; set models.small in govern.config.yaml (see docs/providers.md).');
        return runFixtures(rt, items, { model: opts.model === true, tick: (i) => progress.tick(i) });
      }).finally(() => progress.clear());
      const failed = shortfalls(run.score, min);
      const exit = run.totals.failed ? EXIT.failure : failed.length ? EXIT.expectationsFailed : EXIT.ok;
      const gate: Gate = { min_accuracy: min, passed: failed.length === 0, failed, exit_code: exit };
      process.exitCode = exit;
      // Awaited: a report larger than the pipe is written whole before the process exits.
      await writeOut(opts.format === 'json' ? renderJson(run, gate, { totals: opts.totals === true })
        : opts.format === 'junit' ? renderJunit(run, file, gate)
        : renderHuman(run, file, gate, await styleFor(useColor(g)), { totals: opts.totals === true, model: opts.model === true }));
    });
}
