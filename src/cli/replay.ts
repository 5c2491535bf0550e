// `govern replay FILE|--ledger`: recorded requests decided again by cache, rules and router without
// the model, compared with the recorded decisions; a table, JSON or an HTML report, and exit codes
// that gate CI on false allows, agreement and coverage.
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { CATEGORIES } from '../policy/vocabulary.js';
import type { Recorded, RecordFilter } from '../records/records.js';
import type { Report, Row } from '../replay/metrics.js';
import { EXIT, parseShare, progressBar, styleFor, UsageError, useColor } from './output.js';
import type { GlobalOptions } from './options.js';
import { openRuntime, requireState } from './runtime.js';

interface ReplayOptions {
  ledger?: boolean;
  since?: string;
  agent?: string;
  category?: string;
  split?: string;
  live?: boolean;
  minAgreement?: string;
  minCoverage?: string;
  format: 'human' | 'json';
  report?: string;
}


function parseFilter(opts: ReplayOptions): RecordFilter {
  const f: RecordFilter = {};
  if (opts.since !== undefined) {
    const t = Date.parse(opts.since);
    if (Number.isNaN(t)) throw new UsageError(`--since: "${opts.since}" is not a date (use ISO 8601, e.g. 2026-11-01 or 2026-11-01T12:00:00Z).`);
    f.since = t;
  }
  if (opts.agent !== undefined) f.agent = opts.agent;
  if (opts.category !== undefined) {
    const c = opts.category.toUpperCase();
    if (!(CATEGORIES as readonly string[]).includes(c)) throw new UsageError(`--category: "${opts.category}" is not one of ${CATEGORIES.join(', ')}.`);
    f.category = c;
  }
  return f;
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
      const filter = parseFilter(opts);

      const { byTime, filterRecords, ledgerRecords, readRecords, recordFacts, RecordError } = await import('../records/records.js');
      const { OfflinePipeline } = await import('../records/pipeline.js');
      const { replayRecord, shadowFigures, summarize } = await import('../replay/metrics.js');

      const rt = await openRuntime(c, { noState: !opts.ledger });
      try {
        const large = rt.config.models.large;
        if (opts.live && (!large || !rt.advisor)) {
          throw new UsageError('--live needs a large model: configure models.large in govern.config.yaml, e.g.\n  models:\n    large: {provider: openai, model: gpt-4o}\n(the API key comes from the environment: OPENAI_API_KEY or ANTHROPIC_API_KEY).');
        }
        let records: Recorded[];
        let name: string;
        try {
          if (opts.ledger) {
            const state = requireState(rt, 'replay --ledger');
            name = relative(process.cwd(), rt.config.state) || rt.config.state;
            const since = filter.since !== undefined ? new Date(filter.since).toISOString() : undefined;
            records = ledgerRecords(state.ledgerRows({ ...(since ? { since } : {}), ...(filter.agent ? { agent: filter.agent } : {}) }), name);
          } else {
            name = file === '-' ? 'stdin' : file!;
            records = await readRecords(file!);
          }
        } catch (e) {
          if (e instanceof RecordError) throw new UsageError(e.message);
          throw e;
        }
        const total = records.length;
        records = byTime(filterRecords(records, filter));
        if (!records.length) {
          const filters = [opts.since && `--since ${opts.since}`, opts.agent && `--agent ${opts.agent}`, opts.category && `--category ${opts.category}`].filter(Boolean);
          throw new UsageError(total
            ? `no decision records to replay: none of the ${total} in ${name} match ${filters.join(' ')}.`
            : `no decision records to replay: ${opts.ledger ? 'the ledger is empty (decisions are recorded by `govern eval`, `route` and `serve`)' : `${name} holds none`}.`);
        }

        let bundle = rt.bundle;
        let splitInfo: Report['split'] = null;
        if (split !== undefined) {
          const train = Math.floor(records.length * split + 1e-9);
          if (train < 1 || train >= records.length) {
            throw new UsageError(`--split ${opts.split}: ${records.length} record${records.length === 1 ? '' : 's'} cannot be split so that both parts hold at least one; use more records or another fraction.`);
          }
          const { bundleWith, distill } = await import('../distill/distill.js');
          // fresh: the rules now in policies/distilled/ were learned from these very records, so they stay out.
          const distilled = await distill(records.slice(0, train), { policies: rt.config.policies, fresh: true, ...(rt.router ? { router: rt.router } : {}) });
          try {
            bundle = await bundleWith(rt.config.policies, distilled.files);
          } catch (e) {
            const { PolicyError } = await import('../runtime/runtime.js');
            if (e instanceof PolicyError) throw new UsageError(`--split: the policies with the distilled rules do not compile: ${e.message}`);
            throw e;
          }
          records = records.slice(train);
          splitInfo = { fraction: split, train, test: records.length, files: [...distilled.files.keys()].filter((f) => /\.(ya?ml|cedar)$/i.test(f)).sort() };
        }

        const pipeline = new OfflinePipeline(bundle, { ...(rt.config.cache.enabled ? { cache: rt.config.cache.ttl } : {}), ...(rt.router ? { router: rt.router } : {}) });
        // The first decision pays for preparing Cedar; latency is measured as a running service sees it.
        pipeline.engine.decide(recordFacts(records[0]!));
        const askLive = opts.live ? (await import('../replay/live.js')).askLive : undefined;
        const rows: Row[] = [];
        const progress = progressBar(records.length, g.quiet);
        try {
          for (const [i, r] of records.entries()) {
            progress.tick(i);
            const row = replayRecord(pipeline, r);
            if (askLive && row.judged) row.live = await askLive(rt.advisor!, rt.router, r);
            rows.push(row);
          }
        } finally {
          progress.clear();
        }

        const report = summarize(rows, {
          input: { source: opts.ledger ? 'ledger' : 'file', name, from: records[0]!.at, to: records[records.length - 1]!.at },
          policies: { path: relative(process.cwd(), rt.config.policies) || '.', hash: bundle.hash },
          filters: { since: filter.since !== undefined ? new Date(filter.since).toISOString() : null, agent: filter.agent ?? null, category: filter.category ?? null },
          split: splitInfo,
          thresholds,
          ...(opts.live && large ? { liveModel: `${large.provider}/${large.model}` } : {}),
          // Shadow mode's answers live beside the ledger: reported with --ledger.
          ...(opts.ledger && rt.state ? { shadow: shadowFigures(rt.state.shadowRows(filter.since !== undefined ? { since: new Date(filter.since).toISOString() } : {})) } : {}),
        });
        report.gates.exit_code = report.false_allows.length ? EXIT.falseAllow : report.gates.failed.length ? EXIT.belowThreshold : EXIT.ok;

        const { renderFalseAllows, renderHtml, renderText } = await import('../replay/report.js');
        if (opts.report) {
          try {
            writeFileSync(opts.report, renderHtml(report));
          } catch (e) {
            throw new UsageError(`--report: cannot write ${opts.report} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
          }
          if (!g.quiet) process.stderr.write(`wrote the replay report to ${opts.report}\n`);
        }
        if (opts.format === 'json') {
          process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        } else {
          const style = await styleFor(useColor(g));
          // --quiet keeps only what a reader must act on: the false allows.
          process.stdout.write(g.quiet ? renderFalseAllows(report, style) : renderText(report, style));
        }
        for (const gate of report.gates.failed) process.stderr.write(`govern replay: gate failed: ${gate.message} (exit ${report.gates.exit_code})\n`);
        process.exitCode = report.gates.exit_code;
      } finally {
        rt.close();
      }
    });
}
