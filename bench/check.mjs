// `govern check` as a pre-commit hook and CI see it: whole processes, cold, against `node -e 0`
// measured in the same run.
//   a) the project's default pack (budget: within 5.5x of node -e 0, DESIGN.md's performance budgets)
//   b) a generated set of 1,000 rules with 5,000 tests
//   c) the same set as Cerbos policies and test suites, through `cerbos compile`
//      (budget: b faster than c)
// GOVERN_BENCH_CHECK_ONLY=pack runs a) alone.
// Both b and c print JSON reports (to a file), which the first run of each is checked against:
// the set must be clean and every test must pass before its timings mean anything.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generate, writeCerbos, writeGovern } from './lib/policyset.mjs';
import { runOnce, timeProcess } from './lib/timing.mjs';

export const description = 'govern check: default pack, and 1,000 rules with 5,000 tests against cerbos compile';

const RULES = 1000;
const TESTS = 5000;
/** The default pack's budget, as a ratio to `node -e 0` in the same run (a fixed time says little across machines). */
const DEFAULT_PACK_RATIO = 5.5;

function hasPolicyFiles(dir) {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { withFileTypes: true, recursive: true }).some((e) => e.isFile() && /\.(ya?ml|cedar)$/i.test(e.name));
}

// Cerbos is not a dependency of the project: its npm package is a 96 MB binary for Linux x64 only,
// which would make `npm ci` fail elsewhere. The bench installs it on first use into a cache directory
// outside the repository (GOVERN_BENCH_CERBOS_DIR, else <tmpdir>/govern-bench-cerbos) and reuses it.
const CERBOS_PACKAGE = '@cerbos/cerbos-linux-x64';
const CERBOS_VERSION = '0.55.0';

function cerbosPackageJson(prefix) {
  try {
    return createRequire(join(prefix, 'package.json')).resolve(`${CERBOS_PACKAGE}/package.json`);
  } catch {
    return undefined;
  }
}

/** The Cerbos binary from the bench's cache directory (installed on demand), or why it cannot be used. */
export function cerbosBinary(log) {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { why: `Cerbos's npm binary exists for linux-x64 only, not ${process.platform}-${process.arch}` };
  const prefix = process.env.GOVERN_BENCH_CERBOS_DIR || join(tmpdir(), 'govern-bench-cerbos');
  let pkgPath = cerbosPackageJson(prefix);
  if (!pkgPath) {
    log(`installing ${CERBOS_PACKAGE}@${CERBOS_VERSION} into ${prefix} (once; about 96 MB)`);
    try {
      mkdirSync(prefix, { recursive: true });
      if (!existsSync(join(prefix, 'package.json'))) writeFileSync(join(prefix, 'package.json'), '{"private": true}\n');
    } catch (e) {
      return { why: `cannot prepare ${prefix} to install ${CERBOS_PACKAGE}: ${e.message}` };
    }
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', `${CERBOS_PACKAGE}@${CERBOS_VERSION}`], { encoding: 'utf8' });
    pkgPath = cerbosPackageJson(prefix);
    if (r.error || r.status !== 0 || !pkgPath) {
      return { why: `could not install ${CERBOS_PACKAGE}@${CERBOS_VERSION} into ${prefix}: ${firstLines(r.error?.message ?? r.stderr ?? '', 3) || `npm exited with ${r.status}`}` };
    }
  }
  const main = JSON.parse(readFileSync(pkgPath, 'utf8')).main ?? 'cerbos-linux-x64';
  const bin = join(dirname(pkgPath), main);
  try {
    const r = runOnce(bin, ['--version']);
    if (r.code !== 0) return { why: `${bin} --version exited with ${r.signal ?? r.code}` };
    return { bin, version: r.stdout.split('\n')[0].trim() };
  } catch (e) {
    return { why: `${bin} cannot run here: ${e.message}` };
  }
}

function firstLines(text, n = 15) {
  return text.split('\n').filter(Boolean).slice(0, n).join('\n');
}

export default async function checkBench(ctx) {
  const { root, log } = ctx;
  const node = process.execPath;
  // bin/govern through the same node binary as the baseline, so only govern's own work differs.
  const govern = (...args) => [node, [join(root, 'bin', 'govern'), ...args]];
  const env = { ...process.env, NO_COLOR: '1' };
  const runs = (n) => ctx.runs ?? n;
  const rows = [];
  const row = (name, t, base, extra = {}) => {
    const r = { case: name, runs: t?.runs, median: t?.median, p90: t?.p90, ratio: t && base ? t.median / base.median : undefined, ...extra };
    rows.push(r);
    return r;
  };

  log('baseline: node -e 0');
  const base = await timeProcess(node, ['-e', '0'], { warmup: 3, runs: runs(20), maxMs: 4000, env });
  row('node -e 0 (baseline)', base, base);

  // a) the default pack
  const pack = join(root, 'policies');
  if (!hasPolicyFiles(pack)) {
    row('check policies/ (default pack)', undefined, base, { budget: `<= ${DEFAULT_PACK_RATIO}x node`, ok: null, note: 'skipped: policies/ holds no policy files yet' });
  } else {
    log('a) govern check policies');
    const [cmd, args] = govern('check', 'policies');
    const first = runOnce(cmd, args, { cwd: root, env });
    if (![0, 3, 4].includes(first.code)) throw new Error(`govern check policies failed (exit ${first.signal ?? first.code}):\n${firstLines(first.stderr || first.stdout)}`);
    const t = await timeProcess(cmd, args, { cwd: root, env, warmup: 1, runs: runs(15), maxMs: 8000, expectCode: first.code });
    const summary = first.stdout.trim().split('\n').pop();
    row('check policies/ (default pack)', t, base, {
      budget: `<= ${DEFAULT_PACK_RATIO}x node`, ok: t.median <= DEFAULT_PACK_RATIO * base.median,
      note: first.code === 0 ? `${summary} (Cedar's validation and the tests' decisions kept from the first run)` : `exit ${first.code}: ${summary}`,
    });
    // As after an edit to the policies: a rule's message changes before each run, so Cedar
    // validates and decides every test again; govern's own code cache is kept, as for a user.
    const edited = mkdtempSync(join(tmpdir(), 'govern-bench-edited-'));
    try {
      cpSync(pack, join(edited, 'policies'), { recursive: true });
      const file = join(edited, 'policies', 'allow.yaml');
      const text = readFileSync(file, 'utf8');
      if (!text.includes('message: Scratch files in dev/test.')) throw new Error('policies/allow.yaml no longer has the message this bench edits');
      const edit = (n) => writeFileSync(file, text.replace('message: Scratch files in dev/test.', `message: Scratch files in dev/test (edit ${n}).`));
      edit(0);
      const one = runOnce(cmd, args, { cwd: edited, env });
      if (one.code !== first.code) throw new Error(`govern check of the edited pack exited ${one.code}:\n${firstLines(one.stderr || one.stdout)}`);
      edit(1);
      const t = await timeProcess(cmd, args, { cwd: edited, env, warmup: 0, runs: runs(15), maxMs: 8000, expectCode: first.code, afterRun: (i) => edit(i + 2) });
      row('check policies/ (default pack), a rule edited before each run', t, base, {
        budget: `<= ${DEFAULT_PACK_RATIO}x node`, ok: t.median <= DEFAULT_PACK_RATIO * base.median,
        note: 'validation and every test decided by Cedar again; the code cache kept',
      });
    } finally {
      rmSync(edited, { recursive: true, force: true });
    }
    // The first run ever: nothing kept. A cache folder open to other users is not used at all, so
    // each run also parses govern's code and validates and decides every test again.
    const open = mkdtempSync(join(tmpdir(), 'govern-bench-nocache-'));
    try {
      mkdirSync(join(open, 'govern'), { mode: 0o777 });
      chmodSync(join(open, 'govern'), 0o777);
      const cold = await timeProcess(cmd, args, { cwd: root, env: { ...env, XDG_CACHE_HOME: open }, warmup: 1, runs: runs(15), maxMs: 8000, expectCode: first.code });
      row('check policies/ (default pack), nothing kept (the first run)', cold, base, { note: 'govern parsed, validation and every test decided by Cedar' });
    } finally {
      rmSync(open, { recursive: true, force: true });
    }
  }

  // b) and c): the generated set, written twice into a temporary folder
  if (process.env.GOVERN_BENCH_CHECK_ONLY === 'pack') return rows;
  const dir = mkdtempSync(join(tmpdir(), 'govern-bench-'));
  try {
    const t0 = performance.now();
    const set = generate({ rules: RULES, tests: TESTS });
    const governDir = join(dir, 'govern');
    const cerbosDir = join(dir, 'cerbos');
    writeGovern(set, governDir);
    writeCerbos(set, cerbosDir);
    const s = set.stats;
    log(`generated ${RULES} rules, ${TESTS} tests in ${(performance.now() - t0).toFixed(0)} ms (expect deny ${s.deny}, escalate ${s.escalate}, allow ${s.allow}, undecided ${s.undetermined}; ${s.warnings} with warnings) in ${dir}`);

    // Timed runs write their JSON report to a file; the first one is checked before going on, so
    // that a broken generator fails fast instead of being timed.
    const out = join(dir, 'out.json');
    const readJson = () => { try { return JSON.parse(readFileSync(out, 'utf8')); } catch { return undefined; } };

    log('b) govern check (the first run must be clean, with every test passing)');
    const [cmd, args] = govern('check', '--format', 'json', governDir);
    let sum;
    const checkGovern = (i, code) => {
      if (i) return;
      const report = readJson();
      sum = report?.summary;
      if (code !== 0 || !sum || sum.errors !== 0 || sum.tests?.run !== TESTS || sum.tests?.passed !== TESTS) {
        const diags = (report?.diagnostics ?? []).filter((d) => d.severity === 'error').slice(0, 10).map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`).join('\n');
        throw new Error(`the generated set does not check clean (exit ${code}, summary ${JSON.stringify(sum)}):\n${diags}`);
      }
    };
    // Big cases stop after 3 runs once 20 s have passed; writing the set warmed the file cache.
    const gb = await timeProcess(cmd, args, { cwd: root, env, warmup: 0, runs: runs(5), minRuns: 3, maxMs: 20000, stdoutFile: out, afterRun: checkGovern });
    const governRow = row(`check ${RULES} rules, ${TESTS} tests`, gb, base, { note: `${sum.files} files, ${sum.warnings} warnings, ${sum.tests.passed}/${sum.tests.run} tests passed` });

    const [, noTestArgs] = govern('check', '--no-tests', governDir);
    const gn = await timeProcess(cmd, noTestArgs, { cwd: root, env, warmup: 0, runs: runs(5), minRuns: 3, maxMs: 8000 });
    row(`check ${RULES} rules, --no-tests`, gn, base, { note: 'load, lint, compile and validate only' });

    const cerbos = cerbosBinary(log);
    if (!cerbos.bin) {
      row(`cerbos compile ${RULES} rules, ${TESTS} tests`, undefined, base, { ok: null, note: `skipped: ${cerbos.why}` });
      Object.assign(governRow, { budget: '< cerbos compile', ok: null, note: `${governRow.note}; no Cerbos to compare with` });
    } else {
      log(`c) cerbos compile (${cerbos.version}; the first run must compile and pass every test)`);
      let cs;
      const checkCerbos = (i, code) => {
        if (i) return;
        cs = readJson()?.summary;
        if (code !== 0 || cs?.overallResult !== 'RESULT_PASSED' || cs?.testsCount !== 2 * TESTS) {
          const c = runOnce(cerbos.bin, ['compile', '--no-color', '--output=list', cerbosDir], { env });
          throw new Error(`the generated Cerbos set does not compile and pass (exit ${code}, summary ${JSON.stringify(cs)}):\n${firstLines(c.stderr + c.stdout.split('\n').filter((l) => /FAILED|error/i.test(l)).join('\n'))}`);
        }
      };
      const cb = await timeProcess(cerbos.bin, ['compile', '--no-color', '--output=json', cerbosDir], { env, warmup: 0, runs: runs(5), minRuns: 3, maxMs: 20000, stdoutFile: out, afterRun: checkCerbos });
      row(`cerbos compile ${RULES} rules, ${TESTS} tests`, cb, base, { note: `${cerbos.version}; ${cs.testsCount} action checks passed` });
      Object.assign(governRow, { budget: `< cerbos (${cb.median.toFixed(0)} ms)`, ok: gb.median < cb.median });
    }
  } finally {
    if (ctx.keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
