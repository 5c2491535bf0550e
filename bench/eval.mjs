// govern eval: a cold process deciding one request (fresh and answered from the decision cache),
// against `node -e 0` measured in the same run; and --batch throughput with the time each
// decision takes inside the process (elapsed_ms of the Decision: normalize, detectors, state
// reads, cache, Cedar), for the default pack and for a generated set of 1,000 rules.
// With a daemon (`govern daemon start`, stopped afterwards): the same request answered through its
// socket by a process that loads only the client. `GOVERN_BENCH_EVAL_ONLY=cold` skips the batches.
// Budgets (DESIGN.md): cold eval within 1.6x of node -e 0 with a daemon, 2.0x on a cache hit
// without one; p99 per decision under 1 ms.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, writeGovern } from './lib/policyset.mjs';
import { quantile, runOnce, timeAlongside } from './lib/timing.mjs';

const REQUEST = { agent: 'coder', action: 'write_file', resource: 'file:tmp/scratch.txt', environment: 'dev' };

function mixedRequests(n) {
  const agents = ['coder', 'ops', 'deploy-agent', 'trainer', 'auditor', 'support-bot'];
  const envs = ['dev', 'staging', 'production', 'test'];
  const shapes = [
    (i) => ({ action: 'write_file', resource: `file:tmp/out-${i % 40}.txt` }),
    (i) => ({ action: 'read', resource: 'logs/web', namespace: i % 2 ? 'team-alpha' : 'team-beta' }),
    (i) => ({ action: 'delete', resource: `k8s:pod/web-${i % 30}` }),
    (i) => ({ action: 'deploy', resource: `k8s:deployment/svc-${i % 20}`, cost: { usd: (i % 90) / 1000, tokens: i % 500 } }),
    () => ({ action: 'audit', resource: 'iam:policy/all' }),
    (i) => ({ action: 'shell_exec', command: ['ls -la', 'git status', 'kubectl get pods', 'rm -rf build/', 'terraform plan'][i % 5] }),
    (i) => ({ action: 'send_message', content: `Order ${i} shipped; contact ops@example.com for details.` }),
  ];
  return Array.from({ length: n }, (_, i) => ({ id: `r${i}`, agent: agents[i % agents.length], environment: envs[(i >> 3) % envs.length], ...shapes[i % shapes.length](i) }));
}

function generatedRequests(set, n) {
  return set.tests.slice(0, n).map(({ q }, i) => ({
    id: `g${i}`,
    agent: { id: q.agent, team: q.team }, action: q.action, environment: q.environment, namespace: q.namespace, command: q.command,
    resource: { type: q.kind, id: q.id, path: q.path, namespace: q.namespace, classification: q.classification, size_mb: q.sizeMb },
    cost: { usd: q.usd, tokens: q.tokens }, context: { age_hours: q.ageHours, has_backup: q.hasBackup },
  }));
}

function batch(root, dir, requests, label, log) {
  const file = join(dir, `${label}.jsonl`);
  writeFileSync(file, requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
  runOnce(process.execPath, [join(root, 'bin/govern'), 'check', '--no-tests', 'policies'], { cwd: dir });
  const t0 = performance.now();
  const r = runOnce(process.execPath, [join(root, 'bin/govern'), 'eval', '--batch', file], { cwd: dir });
  const wall = performance.now() - t0;
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const errors = out.filter((d) => d.error).length;
  if (errors) log(`${label}: ${errors} lines failed, e.g. ${JSON.stringify(out.find((d) => d.error))}`);
  const times = out.filter((d) => !d.error).map((d) => d.elapsed_ms).sort((a, b) => a - b);
  const warm = out.slice(Math.floor(out.length / 5)).filter((d) => !d.error).map((d) => d.elapsed_ms).sort((a, b) => a - b);
  const p99 = quantile(times, 0.99);
  const warmP99 = quantile(warm, 0.99);
  return {
    case: `eval --batch, ${label} (${out.length} requests)`,
    runs: 1,
    median: quantile(times, 0.5),
    p90: quantile(times, 0.9),
    budget: 'p99 < 1 ms',
    ok: p99 < 1,
    note: `p99 ${p99.toFixed(3)} ms (after the first 20%: ${warmP99.toFixed(3)} ms), ${Math.round(out.length / (wall / 1000))} decisions/s wall incl. start and ledger`,
  };
}

export default async function evalBench({ root, runs, keep, log }) {
  const dir = mkdtempSync(join(tmpdir(), 'govern-bench-eval-'));
  const rows = [];
  try {
    cpSync(join(root, 'policies'), join(dir, 'policies'), { recursive: true });
    writeFileSync(join(dir, 'request.json'), JSON.stringify(REQUEST));
    const govern = [join(root, 'bin/govern')];
    const n = runs ?? 15;
    // Each case is timed alongside its own runs of `node -e 0`, run for run (timeAlongside).
    const node = { cmd: process.execPath, args: ['-e', '0'] };
    const evalRun = (args, opts = {}) => ({ cmd: process.execPath, args: [...govern, 'eval', ...args], opts: { cwd: dir, ...opts } });
    // First run compiles and caches the bundle; later runs load it by content hash.
    runOnce(process.execPath, [...govern, 'eval', 'request.json'], { cwd: dir });
    const cached = await timeAlongside(node, evalRun(['request.json']), { warmup: 2, runs: n });
    rows.push({ case: 'node -e 0 (baseline)', runs: cached.base.runs, median: cached.base.median, p90: cached.base.p90, ratio: 1, note: 'each case below is timed alongside its own runs of it, one for one' });
    rows.push({ case: 'eval, one request, cold process, decision cache hit', runs: cached.timed.runs, median: cached.timed.median, p90: cached.timed.p90, ratio: cached.ratio, budget: '< 2.0x node', ok: cached.ratio < 2.0 });
    const fresh = await timeAlongside(node, evalRun(['--no-state', 'request.json']), { warmup: 2, runs: n });
    rows.push({ case: 'eval, one request, cold process, Cedar decides (--no-state)', runs: fresh.timed.runs, median: fresh.timed.median, p90: fresh.timed.p90, ratio: fresh.ratio, budget: null, ok: null, note: 'loading and first use of cedar-wasm: about 60 ms of wasm compilation' });

    // A private daemon folder, so that the bench neither uses nor disturbs the user's daemons.
    const env = { ...process.env, XDG_RUNTIME_DIR: mkdtempSync(join(tmpdir(), 'govern-bench-run-')) };
    const started = runOnce(process.execPath, [...govern, 'daemon', 'start'], { cwd: dir, env });
    if (started.code !== 0) throw new Error(`govern daemon start failed: ${started.stderr}`);
    try {
      const before = JSON.parse(runOnce(process.execPath, [...govern, 'daemon', 'status', '--format', 'json'], { cwd: dir, env }).stdout).status.decisions;
      const { timed: daemon, ratio } = await timeAlongside(node, evalRun(['request.json'], { env }), { warmup: 2, runs: n });
      const after = JSON.parse(runOnce(process.execPath, [...govern, 'daemon', 'status', '--format', 'json'], { cwd: dir, env }).stdout).status.decisions;
      // Every timed run must have been answered by the daemon, not decided in process.
      if (after - before !== daemon.runs + 2) throw new Error(`the daemon answered ${after - before} of ${daemon.runs + 2} evals`);
      rows.push({ case: 'eval, one request, cold process, through a running daemon', runs: daemon.runs, median: daemon.median, p90: daemon.p90, ratio, budget: '< 1.6x node', ok: ratio < 1.6 });
    } finally {
      runOnce(process.execPath, [...govern, 'daemon', 'stop'], { cwd: dir, env });
      rmSync(env.XDG_RUNTIME_DIR, { recursive: true, force: true });
    }
    if (process.env.GOVERN_BENCH_EVAL_ONLY === 'cold') return rows;

    rows.push(batch(root, dir, mixedRequests(5000), 'default pack', log));

    const big = join(dir, 'big');
    const set = generate({ rules: 1000, tests: 5000 });
    writeGovern(set, join(big, 'policies'));
    rows.push(batch(root, big, generatedRequests(set, 5000), '1,000 rules', log));
  } finally {
    if (keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
