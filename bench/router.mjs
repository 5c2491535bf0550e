// Accuracy and speed of the built-in intent router on the labeled requests in
// fixtures/router/requests.jsonl: category and risk accuracy, the share marked unclear and the
// accuracy on the confident rest, a confusion matrix of categories, and classify() time per request.
// Reads the compiled router (run `npm run build` first). `govern route FILE` scores the same labels
// through the whole pipeline and gates CI on them; this bench adds the router's speed.
//
//   node bench/router.mjs [--file FILE] [--misses] [--json]
//
// `run()` returns rows {name, value, unit, note}; the default export returns rows for bench/run.mjs.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CATEGORIES = ['CREATE', 'MODIFY', 'DELETE', 'ACCESS', 'COMPLY'];
const RISKS = ['low', 'medium', 'high', 'critical'];

export const description = 'intent router accuracy and speed on fixtures/router/requests.jsonl';

function parseArgs(argv) {
  const o = { file: join(ROOT, 'fixtures', 'router', 'requests.jsonl'), misses: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--file') o.file = resolve(argv[++i] ?? '');
    else if (a.startsWith('--file=')) o.file = resolve(a.slice(7));
    else if (a === '--misses') o.misses = true;
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown argument ${a}; usage: node bench/router.mjs [--file FILE] [--misses] [--json]`);
  }
  return o;
}

async function load() {
  const dist = (p) => pathToFileURL(join(ROOT, 'dist', p)).href;
  try {
    const [{ classify }, { normalizeRequest }, { detect }] = await Promise.all([
      import(dist('router/intent.js')), import(dist('request/normalize.js')), import(dist('request/detectors/index.js')),
    ]);
    return { classify, normalizeRequest, detect };
  } catch (e) {
    throw new Error(`cannot load the compiled router (${e.message}); run \`npm run build\` first`);
  }
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const pct = (x) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);

/** Evaluates the router on a labeled file; returns figures, the confusion matrix and the misses. */
export async function evaluate(file = join(ROOT, 'fixtures', 'router', 'requests.jsonl')) {
  const { classify, normalizeRequest, detect } = await load();
  // Lines labeled with both a category and a risk; other lines (plain requests, other labels) are skipped.
  const cases = readFileSync(file, 'utf8').split('\n').flatMap((l, i) => {
    if (!l.trim()) return [];
    const row = JSON.parse(l);
    if (!row.request || typeof row.request !== 'object' || !row.category || !row.risk) return [];
    const request = normalizeRequest(row.request);
    return [{ line: i + 1, raw: row.request, request, findings: detect(request), category: row.category, risk: row.risk }];
  });
  const confusion = Object.fromEntries(CATEGORIES.map((c) => [c, Object.fromEntries([...CATEGORIES, 'null'].map((k) => [k, 0]))]));
  let catOk = 0, riskOk = 0, unclear = 0, confident = 0, confCatOk = 0, confRiskOk = 0;
  const misses = [];
  for (const c of cases) {
    const intent = classify(c.request, c.findings);
    const cOk = intent.category === c.category;
    const rOk = intent.risk === c.risk;
    confusion[c.category][intent.category ?? 'null']++;
    if (cOk) catOk++;
    if (rOk) riskOk++;
    if (intent.unclear) unclear++;
    else { confident++; if (cOk) confCatOk++; if (rOk) confRiskOk++; }
    if (!cOk || !rOk) misses.push({ line: c.line, want: `${c.category}/${c.risk}`, got: `${intent.category}/${intent.risk}`, unclear: intent.unclear, confidence: intent.confidence, request: c.raw, signals: intent.signals });
  }
  // Timing: after a warm-up, each request is timed in a few batches and its fastest batch counts, so
  // that other work on the machine (a busy CI runner) does not pass for the router's own cost.
  const perRequest = (fn, reps, rounds) => cases.map((c) => {
    let best = Infinity;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) fn(c);
      best = Math.min(best, ((performance.now() - t0) * 1000) / reps);
    }
    return best;
  }).sort((a, b) => a - b);
  for (let k = 0; k < 20; k++) for (const c of cases) classify(c.request, c.findings);
  const times = perRequest((c) => classify(c.request, c.findings), 50, 5);
  const withDetect = perRequest((c) => classify(c.request), 10, 3);
  const n = cases.length;
  return {
    n,
    categoryAccuracy: catOk / n,
    riskAccuracy: riskOk / n,
    unclearShare: unclear / n,
    confident,
    confidentCategoryAccuracy: confident ? confCatOk / confident : null,
    confidentRiskAccuracy: confident ? confRiskOk / confident : null,
    medianMicros: quantile(times, 0.5),
    p99Micros: quantile(times, 0.99),
    maxMicros: times[times.length - 1],
    medianMicrosWithDetect: quantile(withDetect, 0.5),
    p99MicrosWithDetect: quantile(withDetect, 0.99),
    confusion,
    misses,
  };
}

/** Rows {name, value, unit, note}. */
export async function run(options = {}) {
  const r = await evaluate(options.file);
  const rows = [
    { name: 'requests', value: r.n, unit: 'count', note: 'labeled requests' },
    { name: 'category accuracy', value: r.categoryAccuracy, unit: 'ratio', note: 'aim >= 95%' },
    { name: 'risk accuracy', value: r.riskAccuracy, unit: 'ratio', note: 'aim >= 85%' },
    { name: 'unclear share', value: r.unclearShare, unit: 'ratio', note: 'marked unclear (sent to a model if one is configured)' },
    { name: 'category accuracy, confident', value: r.confidentCategoryAccuracy, unit: 'ratio', note: `on the ${r.confident} not marked unclear` },
    { name: 'risk accuracy, confident', value: r.confidentRiskAccuracy, unit: 'ratio', note: `on the ${r.confident} not marked unclear` },
    { name: 'classify median', value: r.medianMicros, unit: 'us', note: 'per request, findings given' },
    { name: 'classify p99', value: r.p99Micros, unit: 'us', note: 'per request, findings given' },
    { name: 'classify + detect median', value: r.medianMicrosWithDetect, unit: 'us', note: 'findings computed inside' },
    { name: 'classify + detect p99', value: r.p99MicrosWithDetect, unit: 'us', note: 'findings computed inside' },
  ];
  rows.confusion = r.confusion;
  rows.misses = r.misses;
  return rows;
}

/** For bench/run.mjs: rows {case, runs, median, p90, budget, ok, note} (times in ms). */
export default async function bench() {
  const r = await evaluate();
  return [
    { case: 'category accuracy', budget: '>= 95%', ok: r.categoryAccuracy >= 0.95, note: pct(r.categoryAccuracy) },
    { case: 'risk accuracy', budget: '>= 85%', ok: r.riskAccuracy >= 0.85, note: pct(r.riskAccuracy) },
    { case: 'unclear share', note: `${pct(r.unclearShare)}; confident: category ${pct(r.confidentCategoryAccuracy)}, risk ${pct(r.confidentRiskAccuracy)}` },
    { case: 'classify()', runs: r.n, median: r.medianMicros / 1000, p90: undefined, budget: 'p99 < 100 us', ok: r.p99Micros < 100, note: `median ${r.medianMicros.toFixed(1)} us, p99 ${r.p99Micros.toFixed(1)} us per request` },
  ];
}

function print(rows) {
  const fmt = (r) => (r.value === null ? '-' : r.unit === 'ratio' ? pct(r.value) : r.unit === 'us' ? `${r.value.toFixed(1)} us` : String(r.value));
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) console.log(`  ${r.name.padEnd(w)}  ${fmt(r).padStart(8)}  ${r.note ?? ''}`);
  const m = rows.confusion;
  const cols = [...CATEGORIES, 'null'];
  console.log(`\n  category confusion (rows: label, columns: router)`);
  console.log(`  ${''.padEnd(8)}${cols.map((c) => c.padStart(8)).join('')}`);
  for (const c of CATEGORIES) console.log(`  ${c.padEnd(8)}${cols.map((k) => String(m[c][k]).padStart(8)).join('')}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  let o;
  try { o = parseArgs(process.argv.slice(2)); } catch (e) { console.error(`router: ${e.message}`); process.exit(2); }
  run(o).then((rows) => {
    if (o.json) { console.log(JSON.stringify({ rows, confusion: rows.confusion, misses: rows.misses }, null, 2)); return; }
    console.log(`intent router on ${o.file}`);
    print(rows);
    if (o.misses) {
      console.log(`\n  misses (${rows.misses.length})`);
      for (const x of rows.misses) console.log(`  line ${x.line}: want ${x.want} got ${x.got}${x.unclear ? ' (unclear)' : ''} ${JSON.stringify(x.request).slice(0, 150)}\n      ${x.signals.join('; ')}`);
    }
  }).catch((e) => { console.error(`router: ${e.message}`); process.exit(1); });
}
