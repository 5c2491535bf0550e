// distill on 100,000 decision records: wall time and peak memory of `govern distill --from FILE
// --dry-run` in its own process, against reading and checking the same records alone (the
// baseline, measured in the same run), so the ratio shows what learning and verifying cost.
// Budget (issue 17): under 60 s and 500 MB peak for 100,000 records. DISTILL_RECORDS=N for fewer.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRecords } from './lib/records.mjs';

const N = Number(process.env.DISTILL_RECORDS ?? 100_000);

/** Runs a script in a child node and returns its wall time (ms) and peak RSS (MB). */
function measure(script, cwd) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `${script}\nprocess.stderr.write('\\nRSS ' + process.resourceUsage().maxRSS + '\\n');`], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`bench child failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const rss = Number(/RSS (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024;
  return { ms, rss, stdout: r.stdout };
}

export default async function distillBench({ root, runs, keep, log }) {
  const dir = mkdtempSync(join(tmpdir(), 'govern-bench-distill-'));
  try {
    cpSync(join(root, 'policies'), join(dir, 'policies'), { recursive: true });
    const file = join(dir, 'records.jsonl');
    log(`writing ${N} decision records`);
    const lines = [];
    for (const r of generateRecords(N)) lines.push(JSON.stringify(r));
    writeFileSync(file, lines.join('\n') + '\n');
    const dist = (p) => JSON.stringify(join(root, 'dist', p));
    const read = `const { readRecords } = await import(${dist('records/records.js')}); const r = await readRecords(${JSON.stringify(file)}); console.log(r.length);`;
    const distill = `const { main } = await import(${dist('cli/program.js')}); await main(['node', 'govern', 'distill', '--from', ${JSON.stringify(file)}, '--dry-run', '--format', 'json']);`;
    const n = runs ?? 3;
    const base = [];
    const full = [];
    let summary;
    for (let i = 0; i < n; i++) {
      log(`run ${i + 1}/${n}`);
      base.push(measure(read, dir));
      const m = measure(distill, dir);
      full.push(m);
      summary ??= JSON.parse(m.stdout);
    }
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.9) - 1)];
    const b = med(base.map((x) => x.ms));
    const d = med(full.map((x) => x.ms));
    const rules = summary.rules.length;
    const peak = med(full.map((x) => x.rss));
    return [
      { case: `read ${N} records (baseline)`, runs: n, median: b, p90: p90(base.map((x) => x.ms)), ratio: 1, note: `peak RSS ${Math.round(med(base.map((x) => x.rss)))} MB` },
      { case: `distill ${N} records --dry-run`, runs: n, median: d, p90: p90(full.map((x) => x.ms)), ratio: d / b, budget: '< 60 s, < 500 MB', ok: d < 60_000 && peak < 500, note: `peak RSS ${Math.round(peak)} MB; ${rules} rules, ${summary.rejected.length} refused, ${summary.stats.evidence} model decisions, ${summary.stats.iterations} verification rounds` },
    ];
  } finally {
    if (keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
