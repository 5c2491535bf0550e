// Wall time of whole processes: spawn, wait for exit, repeat. Output is discarded during timed runs
// (or written to a file, to be checked afterwards), so that terminal or pipe speed does not count.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

function once(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const out = opts.stdoutFile ? openSync(opts.stdoutFile, 'w') : 'ignore';
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', out, 'ignore'] });
    const done = (f) => { if (typeof out === 'number') closeSync(out); f(); };
    child.on('error', (e) => done(() => reject(e)));
    child.on('exit', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      done(() => resolve({ ms, code, signal }));
    });
  });
}

function expected(cmd, args, r, expectCode) {
  if (expectCode !== undefined && r.code !== expectCode) {
    throw new Error(`${[cmd, ...args].join(' ')} exited with ${r.signal ?? r.code}, expected ${expectCode}`);
  }
}

/** The value at quantile q of sorted samples (nearest rank). */
export function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * Times `cmd args`: `warmup` untimed runs, then up to `runs` timed ones, stopping early (after at
 * least `minRuns`) once `maxMs` of timed runs have passed. With `stdoutFile`, each run's output
 * goes to that file, and `afterRun(i, exitCode)` (after each timed run, before the exit code is
 * checked) may read it and throw to stop.
 */
export async function timeProcess(cmd, args, { cwd, env = process.env, warmup = 1, runs = 10, minRuns = 3, maxMs = Infinity, expectCode = 0, stdoutFile, afterRun } = {}) {
  const opts = { cwd, env, expectCode, stdoutFile };
  for (let i = 0; i < warmup; i++) expected(cmd, args, await once(cmd, args, opts), expectCode);
  const samples = [];
  const start = performance.now();
  while (samples.length < runs) {
    const r = await once(cmd, args, opts);
    afterRun?.(samples.length, r.code);
    expected(cmd, args, r, expectCode);
    samples.push(r.ms);
    if (samples.length >= minRuns && performance.now() - start > maxMs) break;
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { samples, runs: samples.length, median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) };
}

/**
 * Times a command and a baseline command in alternation, run for run: a machine that slows down or
 * speeds up while they are measured moves both alike, so the ratio of their medians holds where
 * two series timed one after the other would drift apart. Each is `{ cmd, args, opts }`, with the
 * options of timeProcess (cwd, env, expectCode).
 */
export async function timeAlongside(baseline, subject, { warmup = 1, runs = 10 } = {}) {
  const pair = [baseline, subject].map(({ cmd, args, opts = {} }) => ({ cmd, args, opts: { env: process.env, expectCode: 0, ...opts }, samples: [] }));
  for (let i = 0; i < warmup + runs; i++) {
    for (const c of pair) {
      const r = await once(c.cmd, c.args, c.opts);
      expected(c.cmd, c.args, r, c.opts.expectCode);
      if (i >= warmup) c.samples.push(r.ms);
    }
  }
  const stats = ({ samples }) => {
    const sorted = [...samples].sort((a, b) => a - b);
    return { samples, runs: samples.length, median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) };
  };
  const [base, timed] = pair.map(stats);
  return { base, timed, ratio: timed.median / base.median };
}

/** Runs a command once and returns its exit code and output, for checking before timing. */
export function runOnce(cmd, args, { cwd, env = process.env } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
