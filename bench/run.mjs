// Runs the benchmarks in this folder and prints their figures as a table. Nothing is written.
// Every other .mjs file here is a bench: its default export takes
// {root, runs, keep, log} and returns rows {case, runs, median, p90, ratio, budget, ok, note}
// (times in ms; ok is true or false against the budget, null when it could not be judged).
// Rows of another shape are printed with one column per field; `ok: false` is a missed budget.
//
//   node bench/run.mjs [--only NAME] [--runs N] [--gate] [--keep]
//
//   --only NAME  run one bench (the file name without .mjs)
//   --runs N     timed runs per case, instead of each case's own count
//   --gate       exit 1 when a budget is missed (timings are not gated by default)
//   --keep       keep the generated temporary files, and print where they are
// Exit codes: 0 done, 1 a budget missed under --gate, 2 a bench failed or bad usage.
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const USAGE = 'usage: node bench/run.mjs [--only NAME] [--runs N] [--gate] [--keep]';

function parseArgs(argv) {
  const o = { only: undefined, runs: undefined, gate: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a.split('=')[0]} needs a value`);
      return v;
    };
    if (a === '--gate') o.gate = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--only' || a.startsWith('--only=')) o.only = value();
    else if (a === '--runs' || a.startsWith('--runs=')) {
      o.runs = Number(value());
      if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error('--runs takes a whole number of at least 1');
    } else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

const ms = (v) => (typeof v !== 'number' ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const result = (r) => (r.ok === true ? 'pass' : r.ok === false ? 'FAIL' : r.budget ? 'n/a' : '');

function render(head, body, numeric) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i === cells.length - 1 ? c : numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Timing rows: case, runs, median and p90 in ms, ratio to the baseline, budget, result, note. */
function timingTable(rows) {
  const head = ['case', 'runs', 'median ms', 'p90 ms', 'x node', 'budget', 'result', 'note'];
  const body = rows.map((r) => [
    String(r.case), r.runs === undefined || r.runs === null ? '-' : String(r.runs), ms(r.median), ms(r.p90),
    typeof r.ratio === 'number' ? `${r.ratio.toFixed(2)}x` : '-', String(r.budget ?? ''), result(r), String(r.note ?? ''),
  ]);
  return render(head, body, new Set([1, 2, 3, 4]));
}

/** Rows of another shape: one column per field, in order of appearance. */
function genericTable(rows) {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'ok' && k !== 'note');
  const head = [...keys, ...(rows.some((r) => 'ok' in r || r.budget) ? ['result'] : []), ...(rows.some((r) => r.note) ? ['note'] : [])];
  const cell = (v) => (v === undefined || v === null ? '-' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v));
  const body = rows.map((r) => [...keys.map((k) => cell(r[k])), ...(head.includes('result') ? [result(r)] : []), ...(head.includes('note') ? [String(r.note ?? '')] : [])]);
  const numeric = new Set(keys.map((k, i) => (rows.every((r) => r[k] === undefined || r[k] === null || typeof r[k] === 'number') ? i : -1)).filter((i) => i >= 0));
  return render(head, body, numeric);
}

function table(rows) {
  if (!rows.length) return '(no rows)';
  return rows.every((r) => 'case' in r) ? timingTable(rows) : genericTable(rows);
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const names = readdirSync(here).filter((f) => f.endsWith('.mjs') && f !== basename(fileURLToPath(import.meta.url))).map((f) => f.slice(0, -4)).sort();
  if (o.only && !names.includes(o.only)) {
    process.stderr.write(`bench: no bench named ${o.only}; there are: ${names.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const log = (m) => process.stderr.write(`  ${m}\n`);
  let missed = 0;
  let failed = 0;
  for (const name of o.only ? [o.only] : names) {
    const t0 = performance.now();
    let rows;
    try {
      const mod = await import(pathToFileURL(join(here, `${name}.mjs`)).href);
      process.stderr.write(`bench ${name}${mod.description ? `: ${mod.description}` : ''}\n`);
      rows = await mod.default({ root, runs: o.runs, keep: o.keep, log });
      if (!Array.isArray(rows)) throw new Error('the bench did not return a list of rows');
    } catch (e) {
      failed++;
      process.stderr.write(`bench ${name} failed: ${e.stack ?? e}\n`);
      continue;
    }
    let text;
    try { text = table(rows); } catch { text = JSON.stringify(rows, null, 2); }
    process.stdout.write(`\n${name} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n${text}\n`);
    missed += rows.filter((r) => r.ok === false).length;
  }
  if (missed) process.stdout.write(`\n${missed} budget${missed === 1 ? '' : 's'} missed${o.gate ? '' : ' (not gated; pass --gate to fail on it)'}\n`);
  if (failed) return 2;
  return o.gate && missed ? 1 : 0;
}

process.exitCode = await main();
