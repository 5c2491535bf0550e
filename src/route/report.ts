// How a `govern route` run is reported: a terminal report (routes, tokens and savings; with labels,
// the accuracy of each expectation, confusion matrices and the lines that differ), JSON, and JUnit
// XML, the test-result format CI systems read. Plain functions from the run to text.
import type { Style } from '../diagnostics/render.js';
import { CATEGORIES } from '../policy/vocabulary.js';
import { EXPECTATIONS, RISKS, ROUTES, SOURCE_OF, type Difference, type Matrix, type Source } from './fixtures.js';
import type { RouteRun } from './run.js';

export interface Gate {
  min_accuracy: number;
  passed: boolean;
  /** Accuracies under the minimum, as `expectation.source`. */
  failed: { key: string; accuracy: number }[];
  exit_code: number;
}

/** `risk.router` -> `risk (router)`, `decision.pipeline` -> `decision`. */
export const keyName = (key: string): string => {
  const [e, src] = key.split('.');
  return src === 'pipeline' || src === undefined ? e! : `${e} (${src})`;
};

const pct = (n: number, d: number): string => (d ? `${((n / d) * 100).toFixed(1)}%` : '-');
const share = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The savings line: what was saved, and what was not because a human decides it. */
export function savingsLine(run: RouteRun): string {
  const t = run.totals;
  const baseAll = t.baseline.input + t.baseline.output;
  const not: string[] = [];
  if (t.not_saved.default_escalations) not.push(plural(t.not_saved.default_escalations, 'default escalation'));
  if (t.not_saved.failed_model_calls) not.push(plural(t.not_saved.failed_model_calls, 'failed model call'));
  return `saved ${t.saved} tokens (${pct(t.saved, baseAll)} of the baseline)${not.length ? `; not saved: ${not.join(' and ')} (a human decides)` : ''}`;
}

function renderMatrix(title: string, rows: readonly string[], m: Matrix): string[] {
  const cols = [...rows, 'none'];
  const w = Math.max(8, ...cols.map((c) => c.length + 2));
  const out = [title, `  ${''.padEnd(9)}${cols.map((c) => c.padStart(w)).join('')}`];
  for (const r of rows) {
    const cells = cols.map((c) => m[r]![c]!);
    if (cells.every((x) => x === 0)) continue;
    out.push(`  ${r.padEnd(9)}${cells.map((x) => String(x).padStart(w)).join('')}`);
  }
  return out;
}

function differenceLine(file: string, d: Difference, withSource: boolean): string {
  const src = withSource && d.source !== 'pipeline' ? ` (${d.source})` : '';
  return `  ${file}:${d.line}  ${d.expectation}${src}: expected ${d.expected}, got ${d.got}\n      ${d.why || '-'}`;
}

/** The terminal report. With no label in the file, the table of requests as before. */
export function renderHuman(run: RouteRun, file: string, gate: Gate, s: Style, opts: { totals?: boolean; model?: boolean }): string {
  const { rows, totals: t, score } = run;
  const out: string[] = [];
  const labeled = score.labeled > 0;
  const ok = rows.filter((r) => !r.error);
  if (!opts.totals) {
    if (!labeled) {
      out.push(s.dim(`${'line'.padStart(5)}  ${'route'.padEnd(8)} ${'decision'.padEnd(9)} ${'category'.padEnd(13)} tokens`));
      for (const r of rows) {
        out.push(r.error
          ? `${String(r.line).padStart(5)}  ${s.red('error')}    ${r.error}`
          : `${String(r.line).padStart(5)}  ${r.route!.padEnd(8)} ${r.decision!.padEnd(9)} ${r.category!.padEnd(13)} ${r.tokens.input + r.tokens.output}`);
      }
      out.push('');
    } else {
      for (const r of rows) if (r.error) out.push(`${file}:${r.line}  ${s.red('error')}  ${r.error}`);
      if (score.differences.length) {
        out.push(s.bold(`lines that differ (${score.differences.length})`));
        for (const d of score.differences) out.push(differenceLine(file, d, opts.model === true));
      }
      if (out.length) out.push('');
    }
  }
  out.push(`${t.decided} of ${t.requests} requests decided${t.failed ? `, ${s.red(`${t.failed} failed`)}` : ''}`);
  for (const r of ROUTES) out.push(`  ${r.padEnd(8)} ${String(t.routes[r]).padStart(6)}  ${pct(t.routes[r]!, ok.length).padStart(6)}`);
  const usedAll = t.tokens.input + t.tokens.output;
  const baseAll = t.baseline.input + t.baseline.output;
  out.push(`tokens used ${usedAll} (in ${t.tokens.input}, out ${t.tokens.output}); all-to-the-model baseline ${baseAll} (${t.baseline_measured} measured, ${ok.length - t.baseline_measured} estimated)`);
  out.push(savingsLine(run));
  if (t.model_classification) {
    const m = t.model_classification;
    out.push(`small model ${m.model ?? '(no answer)'}: classified ${m.answered} of ${t.decided}, ${m.tokens.input + m.tokens.output} tokens (in ${m.tokens.input}, out ${m.tokens.output})`);
  }
  if (labeled) {
    out.push('');
    const sources = (e: (typeof EXPECTATIONS)[number]): Source[] => (SOURCE_OF[e] === 'pipeline' ? ['pipeline'] : opts.model ? ['router', 'model'] : ['router']);
    const head = `${'expectation'.padEnd(12)} ${'checked'.padStart(7)}  ${(opts.model ? 'router' : 'met').padStart(13)}${opts.model ? `  ${'model'.padStart(13)}` : ''}`;
    out.push(s.dim(head));
    for (const e of EXPECTATIONS) {
      const cells = sources(e).map((src) => score.accuracy[`${e}.${src}`]);
      const first = cells.find((c) => c);
      if (!first) continue;
      const cell = (a: (typeof cells)[number]) => (a ? `${String(a.passed).padStart(5)} ${share(a.accuracy).padStart(7)}` : '-'.padStart(13));
      const line = `${e.padEnd(12)} ${String(first.checked).padStart(7)}  ${cell(cells[0])}`;
      out.push(sources(e).length > 1 ? `${line}  ${cell(cells[1])}` : line);
    }
    for (const e of ['category', 'risk'] as const) {
      for (const src of ['router', 'model'] as const) {
        const m = score.confusion[e][src];
        if (!m) continue;
        out.push('');
        out.push(...renderMatrix(`${e} (rows: expected, columns: ${src === 'router' ? 'the built-in router' : 'the small model'})`, e === 'category' ? CATEGORIES : RISKS, m));
      }
    }
    out.push('');
    const min = gate.min_accuracy < 1 ? ` (--min-accuracy ${share(gate.min_accuracy)})` : '';
    const within = score.differences.length ? `, ${plural(score.differences.length, 'difference')} within it` : '';
    if (gate.passed) out.push(`passed: ${plural(score.labeled, 'labeled request')}${min}${within}`);
    else out.push(s.red(`failed${min}: ${gate.failed.map((f) => `${keyName(f.key)} ${share(f.accuracy)}`).join(', ')}`));
  }
  return out.join('\n') + '\n';
}

/** `{"requests", "totals", "expectations", "confusion", "differences", "gate"}`. */
export function renderJson(run: RouteRun, gate: Gate, opts: { totals?: boolean }): string {
  const labeled = run.score.labeled > 0;
  const body: Record<string, unknown> = opts.totals ? { totals: run.totals } : { requests: run.rows, totals: run.totals };
  if (labeled) {
    body.expectations = run.score.accuracy;
    body.confusion = run.score.confusion;
    if (!opts.totals) body.differences = run.score.differences;
    body.gate = gate;
  }
  return JSON.stringify(body, null, 2) + '\n';
}

function xml(s: string): string {
  // Characters XML 1.0 cannot hold at all are dropped; the rest escaped.
  return s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/**
 * JUnit XML: one test case per labeled line (failing with each expectation it does not meet, an
 * error for a line that cannot be read), and one per accuracy the gate checks.
 */
export function renderJunit(run: RouteRun, file: string, gate: Gate): string {
  const cases: string[] = [];
  let failures = 0;
  let errors = 0;
  for (const r of run.rows) {
    if (r.error) {
      errors++;
      cases.push(`    <testcase classname="${xml(file)}" name="line ${r.line}"><error message="${xml(r.error)}">${xml(`${file}:${r.line}: ${r.error}`)}</error></testcase>`);
      continue;
    }
    if (!r.expected) continue;
    const want = Object.entries(r.expected).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(',') : v}`).join(', ');
    const name = `line ${r.line}${r.id ? ` (${r.id})` : ''}: ${want}`;
    if (r.differences?.length) {
      failures++;
      const msg = r.differences.map((d) => `${d.expectation}${d.source === 'model' ? ' (model)' : ''}: expected ${d.expected}, got ${d.got}`).join('; ');
      const body = r.differences.map((d) => `${file}:${d.line} ${d.expectation}: expected ${d.expected}, got ${d.got}\n  ${d.why}`).join('\n');
      cases.push(`    <testcase classname="${xml(file)}" name="${xml(name)}"><failure message="${xml(msg)}" type="expectation">${xml(body)}</failure></testcase>`);
    } else {
      cases.push(`    <testcase classname="${xml(file)}" name="${xml(name)}"/>`);
    }
  }
  for (const [key, a] of Object.entries(run.score.accuracy)) {
    const name = `accuracy of ${keyName(key)} >= ${share(gate.min_accuracy)}`;
    const short = gate.failed.find((f) => f.key === key);
    if (short) {
      failures++;
      cases.push(`    <testcase classname="${xml(file)}" name="${xml(name)}"><failure message="${xml(`${share(a.accuracy)} (${a.passed} of ${a.checked})`)}" type="accuracy"/></testcase>`);
    } else cases.push(`    <testcase classname="${xml(file)}" name="${xml(name)}"/>`);
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="govern route" tests="${cases.length}" failures="${failures}" errors="${errors}">`,
    `  <testsuite name="${xml(file)}" tests="${cases.length}" failures="${failures}" errors="${errors}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
