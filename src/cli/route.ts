// `govern route FILE`: runs a file of requests through the whole pipeline (cache, rules, router,
// model) and reports each request's route, decision, category and tokens, then the share of each
// route and the tokens used against the baseline of sending every request to the large model.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { RequestError } from '../request/normalize.js';
import { estimateTokens } from '../runtime/baseline.js';
import { EXIT, pct, progressBar, styleFor, UsageError, useColor, writeOut } from './output.js';
import type { GlobalOptions } from './program.js';
import { openRuntime } from './runtime.js';

const ROUTES = ['cache', 'rules', 'router', 'model', 'default'] as const;

interface Row {
  line: number;
  id?: string;
  route?: string;
  decision?: string;
  category?: string;
  tokens: { input: number; output: number };
  baseline: { input: number; output: number; measured: boolean };
  error?: string;
}

/** Requests from a file: a JSON array, or JSON Lines (decision records are taken by their request). */
export function readRequests(path: string): { line: number; raw: unknown; error?: string }[] {
  let text: string;
  try {
    text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}.`);
  }
  const unwrap = (v: unknown) => (v && typeof v === 'object' && 'request' in v && 'decision' in v ? (v as { request: unknown }).request : v);
  if (text.trimStart().startsWith('[')) {
    try {
      return (JSON.parse(text) as unknown[]).map((raw, i) => ({ line: i + 1, raw: unwrap(raw) }));
    } catch (e) {
      throw new UsageError(`${path}: not valid JSON: ${(e as Error).message}.`);
    }
  }
  const out: { line: number; raw: unknown; error?: string }[] = [];
  text.split('\n').forEach((l, i) => {
    if (!l.trim()) return;
    try {
      out.push({ line: i + 1, raw: unwrap(JSON.parse(l)) });
    } catch (e) {
      out.push({ line: i + 1, raw: undefined, error: `not valid JSON: ${(e as Error).message}` });
    }
  });
  return out;
}

export function register(program: Command): void {
  program
    .command('route')
    .description('run a file of requests through cache, rules, router and model; report routes, tokens and savings')
    .argument('<file>', 'requests as JSON Lines or a JSON array ("-" for stdin); decision records are read by their request')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['human', 'json']).default('human'))
    .option('--totals', 'print only the totals')
    .addHelpText('after', '\nEvery decision is recorded in the ledger, model decisions with the model and its real usage.\nBaseline: each request sent to the large model, at its measured usage where it was, else estimated\nfrom the prompt size (4 characters a token, plus 60 output tokens).\nExit codes: 0 every request decided, 1 some could not be (bad lines are listed).')
    .action(async (file: string, opts: { format: 'human' | 'json'; totals?: boolean }, c: Command) => {
      const g = c.optsWithGlobals<GlobalOptions>();
      const items = readRequests(file);
      const rt = await openRuntime(c);
      const rows: Row[] = [];
      const progress = progressBar(items.length, g.quiet);
      try {
        for (const [i, it] of items.entries()) {
          progress.tick(i);
          if (it.error) { rows.push({ line: it.line, tokens: { input: 0, output: 0 }, baseline: { input: 0, output: 0, measured: false }, error: it.error }); continue; }
          try {
            const ev = await rt.evaluate(it.raw);
            const d = ev.decision;
            const measured = d.route === 'model' && (d.tokens.input > 0 || d.tokens.output > 0);
            const base = measured ? d.tokens : estimateTokens(ev.request);
            rows.push({ line: it.line, ...(ev.request.id ? { id: ev.request.id } : {}), route: d.route, decision: d.decision, category: ev.facts.category, tokens: d.tokens, baseline: { ...base, measured } });
          } catch (e) {
            if (!(e instanceof RequestError)) throw e;
            rows.push({ line: it.line, tokens: { input: 0, output: 0 }, baseline: { input: 0, output: 0, measured: false }, error: e.message });
          }
        }
      } finally {
        progress.clear();
        rt.close();
      }
      const ok = rows.filter((r) => !r.error);
      const byRoute = Object.fromEntries(ROUTES.map((r) => [r, ok.filter((x) => x.route === r).length]));
      const used = ok.reduce((a, r) => ({ input: a.input + r.tokens.input, output: a.output + r.tokens.output }), { input: 0, output: 0 });
      const baseline = ok.reduce((a, r) => ({ input: a.input + r.baseline.input, output: a.output + r.baseline.output }), { input: 0, output: 0 });
      const usedAll = used.input + used.output;
      const baseAll = baseline.input + baseline.output;
      const totals = {
        requests: rows.length, decided: ok.length, failed: rows.length - ok.length,
        routes: byRoute, decided_without_model: ok.length - (byRoute.model ?? 0),
        tokens: used, baseline, saved: baseAll - usedAll, saved_share: baseAll ? (baseAll - usedAll) / baseAll : 0,
        baseline_measured: ok.filter((r) => r.baseline.measured).length,
      };
      process.exitCode = totals.failed ? EXIT.failure : EXIT.ok;
      // Awaited: a report larger than the pipe is written whole before the process exits.
      if (opts.format === 'json') {
        await writeOut(JSON.stringify(opts.totals ? { totals } : { requests: rows, totals }, null, 2) + '\n');
      } else {
        const s = await styleFor(useColor(g));
        const out: string[] = [];
        if (!opts.totals) {
          out.push(s.dim(`${'line'.padStart(5)}  ${'route'.padEnd(8)} ${'decision'.padEnd(9)} ${'category'.padEnd(13)} tokens`));
          for (const r of rows) {
            out.push(r.error
              ? `${String(r.line).padStart(5)}  ${s.red('error')}    ${r.error}`
              : `${String(r.line).padStart(5)}  ${r.route!.padEnd(8)} ${r.decision!.padEnd(9)} ${r.category!.padEnd(13)} ${r.tokens.input + r.tokens.output}`);
          }
          out.push('');
        }
        out.push(`${totals.decided} of ${totals.requests} requests decided${totals.failed ? `, ${s.red(`${totals.failed} failed`)}` : ''}`);
        for (const r of ROUTES) out.push(`  ${r.padEnd(8)} ${String(byRoute[r]).padStart(6)}  ${pct(byRoute[r]!, ok.length).padStart(6)}`);
        out.push(`tokens used ${usedAll} (in ${used.input}, out ${used.output}); all-to-the-model baseline ${baseAll} (${totals.baseline_measured} measured, ${ok.length - totals.baseline_measured} estimated)`);
        out.push(`saved ${totals.saved} tokens (${pct(totals.saved, baseAll)})`);
        await writeOut(out.join('\n') + '\n');
      }
    });
}
