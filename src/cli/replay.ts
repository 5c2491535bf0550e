// `govern replay FILE|--ledger`: recorded requests decided again by cache, rules and router without
// the model, compared with the recorded decisions; a table, JSON or an HTML report, and exit codes
// that gate CI on false allows, agreement and coverage.
import type { Command } from 'commander';
import { Option } from 'commander';
import { filterFlags, recordFilter } from '../records/filter.js';
import { EXIT, parseShare, progressBar, styleFor, UsageError, useColor } from './output.js';
import { withRuntime, type GlobalOptions } from './options.js';

interface ReplayOptions {
  ledger?: boolean; since?: string; agent?: string; category?: string; split?: string; live?: boolean;
  minAgreement?: string; minCoverage?: string; format: 'human' | 'json'; report?: string;
}


const HELP_AFTER = `
Definitions: judged = records whose recorded decision was a judgement (default escalations and failed
model calls are skipped); coverage = judged requests decided without the model (cache, rules, router)
/ judged; agreement = covered requests decided as recorded / covered; false allow = replayed allow where
the record says deny or escalate; tokens: the baseline sends every recorded request to the large model
(recorded usage, else an estimate), the replay only those it does not cover (failed model calls and
default escalations it cannot decide count as spent, never as saved). See README "govern replay".
Exit codes: 0 gates passed, 9 a false allow, 10 agreement or coverage under --min-agreement /
--min-coverage (9 wins when both), 1 failure (bad input or flags, bad policies, no records).`;

export function register(program: Command): void {
  program
    .command('replay')
    .description('decide recorded requests again with cache, rules and router (no model) and compare with the recorded decisions; gates CI')
    .argument('[file]', 'decision records as JSON Lines, as `govern ledger export` writes them ("-" for stdin)')
    .option('--ledger', 'read the decision records from the state file\'s ledger instead of a file')
    .option('--since <date>', 'only records at or after this time (ISO 8601)')
    .option('--agent <id>', 'only this agent\'s records')
    .option('--category <category>', 'only this category: CREATE, MODIFY, DELETE, ACCESS or COMPLY')
    .option('--split <fraction>', 'distill the first FRACTION of the records (by time, e.g. 0.7) into rules and replay the rest with the hand-written policies plus those rules (policies/distilled/ left out): a held-out figure')
    .option('--live', 'also ask the configured large model (models.large) about each judged request and compare its answer')
    .option('--min-agreement <share>', 'exit 10 when agreement is under this share (0-1, or a percentage such as 95%)')
    .option('--min-coverage <share>', 'exit 10 when coverage is under this share (0-1, or a percentage such as 50%)')
    .addOption(new Option('-f, --format <format>', 'output format: a table, or the JSON report').choices(['human', 'json']).default('human'))
    .option('--report <file>', 'also write a self-contained HTML report with charts to FILE')
    .addHelpText('after', HELP_AFTER)
    .action(async (file: string | undefined, opts: ReplayOptions, c: Command) => {
      const g = c.optsWithGlobals<GlobalOptions>();
      if ((file === undefined) === !opts.ledger) {
        throw new UsageError(`${file === undefined ? 'no decision records: name a FILE (from `govern ledger export`) or pass --ledger' : 'give the decision records either as FILE or with --ledger, not both'}.\nusage: govern replay ${c.usage()}`);
      }
      const thresholds = {
        ...(opts.minAgreement !== undefined ? { minAgreement: parseShare('--min-agreement', opts.minAgreement) } : {}),
        ...(opts.minCoverage !== undefined ? { minCoverage: parseShare('--min-coverage', opts.minCoverage) } : {}),
      };
      const split = opts.split !== undefined ? parseShare('--split', opts.split, { open: true }) : undefined;
      const filter = recordFilter(opts);

      const { replay } = await import('../replay/run.js');
      await withRuntime(c, async (rt) => {
        const report = await replay(rt, {
          ...(file !== undefined ? { file } : {}),
          ledger: opts.ledger === true,
          filter, filterFlags: filterFlags(opts),
          ...(split !== undefined ? { split, splitFlag: opts.split! } : {}),
          live: opts.live === true,
          thresholds,
          progress: (total) => progressBar(total, g.quiet),
        });
        report.gates.exit_code = report.false_allows.length ? EXIT.falseAllow : report.gates.failed.length ? EXIT.belowThreshold : EXIT.ok;

        const { renderFalseAllows, renderText, writeHtmlReport } = await import('../replay/report.js');
        if (opts.report) {
          writeHtmlReport(opts.report, report);
          if (!g.quiet) process.stderr.write(`wrote the replay report to ${opts.report}\n`);
        }
        const style = await styleFor(useColor(g));
        // --quiet keeps only what a reader must act on: the false allows.
        process.stdout.write(opts.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : g.quiet ? renderFalseAllows(report, style) : renderText(report, style));
        for (const gate of report.gates.failed) process.stderr.write(`govern replay: gate failed: ${gate.message} (exit ${report.gates.exit_code})\n`);
        process.exitCode = report.gates.exit_code;
      }, { noState: !opts.ledger });
    });
}
