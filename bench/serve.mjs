// govern serve --stdio: one long-running process answering plain JSON-RPC lines through a pipe.
// For each case a client keeps a bounded number of requests in flight (256: a new line is written
// for each answer read, so that on two cores the client's work overlaps the server's) and measures decisions per second through the pipe and the latency of each
// request from writing its line to reading its answer; the Decision's own elapsed_ms is the time
// inside the process (normalize, detectors, state reads, cache, Cedar; not the group commit).
// Cases: cache hits (one request repeated) and Cedar evaluation (varied requests, each one new to
// the decision cache), with the default pack and with a generated set of 1,000 rules.
// Budgets (DESIGN.md): p99 under 1 ms per decision inside the process, for 50 and 1,000 rules;
// at least 20,000 cache-hit decisions per second through the pipe.
// Two more cases run in this process on the runtime itself (no pipe): Cedar decisions with a
// generated set of 10,000 rules (p50 under 1 ms), and memory across 100 policy reloads of the
// 1,000-rule set (RSS and Cedar's live policy sets must stay flat). SERVE_BIG_RULES and
// SERVE_RELOADS make them smaller while developing.
// SERVE_IN_PROCESS=1 runs only these two. SERVE_HITS_ONLY=1 runs only the cache-hit cases.
// SERVE_BASELINE=DIR (a checkout of another version, built) runs the cache-hit cases on it too,
// alternating with this one pass by pass in the same run, and reports this version's rate as a
// ratio of the baseline's. SERVE_NODE_ARGS passes node flags to the servers (--cpu-prof to profile
// them). On Linux each row also gives the server's CPU time per decision (from /proc): on a machine
// shared with other work it moves far less than the rate through the pipe, which depends on how
// much of the cores the server and client get.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generate, writeGovern } from './lib/policyset.mjs';
import { quantile, runOnce } from './lib/timing.mjs';

export const description = 'govern serve --stdio: decisions per second and latency through the pipe, cache hits and Cedar, 50 and 1,000 rules';

const IN_FLIGHT = 256;
/** Varied requests decided before timing Cedar, and in each timed pass. */
const WARM_CEDAR = 5000;
const CEDAR_PASS = 4000;
const CACHE_HIT_RATE = 20_000;
const BIG_RULES = Number(process.env.SERVE_BIG_RULES ?? 10_000);
const RELOADS = Number(process.env.SERVE_RELOADS ?? 100);
const BUDGETS = 'budgets:\n  hour: {usd: 1000000, tokens: 1000000000}\n  day: {usd: 1000000, tokens: 1000000000}\n';
const HITS_ONLY = process.env.SERVE_HITS_ONLY === '1';
const IN_PROCESS_ONLY = process.env.SERVE_IN_PROCESS === '1';
const BASELINE = process.env.SERVE_BASELINE;
/** Node flags for the servers, e.g. SERVE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile them. */
const NODE_ARGS = (process.env.SERVE_NODE_ARGS ?? '').split(' ').filter(Boolean);
const rssMb = () => process.memoryUsage().rss / 1e6;

/** Varied requests for the default pack; every one has its own resource, so none is a cache hit. */
function defaultPackRequests(n) {
  const agents = ['coder', 'ops', 'deploy-agent', 'trainer', 'auditor', 'support-bot'];
  const envs = ['dev', 'staging', 'production', 'test'];
  const shapes = [
    (i) => ({ action: 'write_file', resource: `file:tmp/out-${i}.txt` }),
    (i) => ({ action: 'read', resource: { type: 'logs', id: `web-${i}` }, namespace: i % 2 ? 'team-alpha' : 'team-beta' }),
    (i) => ({ action: 'delete', resource: `k8s:pod/web-${i}` }),
    (i) => ({ action: 'deploy', resource: `k8s:deployment/svc-${i}`, cost: { usd: (i % 90) / 1000, tokens: i % 500 } }),
    (i) => ({ action: 'audit', resource: `iam:policy/p-${i}` }),
    (i) => ({ action: 'shell_exec', resource: `host:vm-${i}`, command: ['ls -la', 'git status', 'kubectl get pods', 'rm -rf build/', 'terraform plan'][i % 5] }),
    (i) => ({ action: 'send_message', resource: `chat:msg-${i}`, content: `Order ${i} shipped; contact ops@example.com for details.` }),
  ];
  return Array.from({ length: n }, (_, i) => ({ id: `r${i}`, agent: agents[i % agents.length], environment: envs[(i >> 3) % envs.length], ...shapes[i % shapes.length](i) }));
}

/** The generated set's test requests; the resource id is made unique so that each is decided by Cedar. */
function generatedRequests(set, n) {
  return Array.from({ length: n }, (_, i) => {
    const { q } = set.tests[i % set.tests.length];
    return {
      id: `g${i}`,
      agent: { id: q.agent, team: q.team }, action: q.action, environment: q.environment, namespace: q.namespace, command: q.command,
      resource: { type: q.kind, id: `${q.id}-${i}`, path: q.path, namespace: q.namespace, classification: q.classification, size_mb: q.sizeMb },
      cost: { usd: q.usd, tokens: q.tokens }, context: { age_hours: q.ageHours, has_backup: q.hasBackup },
    };
  });
}

/** A running `govern serve --stdio` and a client that keeps `inFlight` requests outstanding. */
class Server {
  constructor(root, dir) {
    this.proc = spawn(process.execPath, [...NODE_ARGS, join(root, 'bin/govern'), 'serve', '--stdio', '--no-watch'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.rest = '';
    this.onLine = undefined;
    this.proc.stdout.on('data', (d) => this.data(d));
    this.proc.stderr.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
    this.ready = new Promise((resolve, reject) => {
      const check = () => (this.stderr.includes('ready on stdio') ? resolve() : undefined);
      this.proc.stderr.on('data', check);
      this.proc.on('exit', (code) => reject(new Error(`govern serve exited with ${code}: ${this.stderr}`)));
    });
  }

  /**
   * The server's CPU time so far in ms (user + system, from /proc at 100 ticks a second; undefined
   * elsewhere): on a shared machine its share per decision says more than the wall-clock rate.
   */
  cpuMs() {
    try {
      const f = readFileSync(`/proc/${this.proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      return undefined;
    }
  }

  data(d) {
    const lines = (this.rest + d).split('\n');
    this.rest = lines.pop();
    this.onLines?.(lines, performance.now());
  }

  /**
   * Sends every line with at most `inFlight` unanswered; resolves with per-request latency (ms),
   * the Decisions' elapsed_ms, the wall time and any errors.
   */
  run(lines, inFlight) {
    return new Promise((resolve) => {
      const n = lines.length;
      const sentAt = new Float64Array(n);
      const latency = [];
      const inside = [];
      const errors = [];
      let next = 0;
      let done = 0;
      const t0 = performance.now();
      const cpu0 = this.cpuMs();
      const send = (k) => {
        const end = Math.min(n, next + k);
        if (end <= next) return;
        const now = performance.now();
        let text = '';
        for (let i = next; i < end; i++) {
          sentAt[i] = now;
          text += lines[i];
        }
        next = end;
        this.proc.stdin.write(text);
      };
      this.onLines = (got, at) => {
        for (const l of got) {
          const m = JSON.parse(l);
          if (m.error) errors.push(m.error.message);
          else inside.push(m.result.elapsed_ms);
          latency.push(at - sentAt[m.id]);
        }
        done += got.length;
        if (done >= n) {
          this.onLines = undefined;
          const cpu1 = this.cpuMs();
          resolve({ latency, inside, errors, wallMs: performance.now() - t0, cpuUs: cpu0 === undefined || cpu1 === undefined ? undefined : ((cpu1 - cpu0) * 1000) / n });
        } else send(got.length);
      };
      send(inFlight);
    });
  }

  async stop() {
    this.proc.stdin.end();
    return this.exited;
  }
}

const asLines = (requests) => requests.map((r, i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'governance/evaluate', params: r }) + '\n');
const sorted = (xs) => [...xs].sort((a, b) => a - b);

/** Runs `requests` `passes` times after one untimed pass, and summarises the timed ones. */
async function measure(server, label, requests, { passes, inFlight, warm = true, log }) {
  const lines = asLines(requests);
  if (warm) await server.run(lines, inFlight);
  const latency = [];
  const inside = [];
  const rates = [];
  const cpu = [];
  let errors = 0;
  for (let p = 0; p < passes; p++) {
    const r = await server.run(lines, inFlight);
    latency.push(...r.latency);
    inside.push(...r.inside);
    rates.push(lines.length / (r.wallMs / 1000));
    if (r.cpuUs !== undefined) cpu.push(r.cpuUs);
    if (r.errors.length) {
      errors += r.errors.length;
      log(`${label}: ${r.errors.length} errors, e.g. ${r.errors[0]}`);
    }
  }
  const lat = sorted(latency);
  const ins = sorted(inside);
  return {
    label,
    n: lines.length,
    passes,
    rate: quantile(sorted(rates), 0.5),
    latency: { p50: quantile(lat, 0.5), p90: quantile(lat, 0.9), p99: quantile(lat, 0.99) },
    inside: { p50: quantile(ins, 0.5), p99: quantile(ins, 0.99) },
    cpuUs: cpu.length ? quantile(sorted(cpu), 0.5) : undefined,
    errors,
  };
}

const f3 = (v) => v.toFixed(3);

function row(m, { inFlight, budget, ok }) {
  return {
    case: `serve, ${m.label} (${m.n} requests, ${inFlight} in flight)`,
    runs: m.passes,
    median: m.latency.p50,
    p90: m.latency.p90,
    budget,
    ok: m.errors ? false : ok,
    note: `${Math.round(m.rate)} decisions/s through the pipe; pipe p99 ${f3(m.latency.p99)} ms; inside p50 ${f3(m.inside.p50)} ms, p99 ${f3(m.inside.p99)} ms${m.cpuUs !== undefined ? `; server CPU ${Math.round(m.cpuUs)} us/decision` : ''}${m.errors ? `; ${m.errors} errors` : ''}`,
  };
}

/**
 * Cache hits on this version and on the baseline's, pass by pass in turn (each server in its own
 * copy of the project, so that neither reads the other's state file); this one's rate and
 * latencies as a ratio of the baseline's.
 */
async function hitsAgainstBaseline(root, dir, label, { hit, passes, log }) {
  const baseDir = `${dir}-baseline`;
  cpSync(dir, baseDir, { recursive: true });
  const ours = new Server(root, dir);
  const theirs = new Server(BASELINE, baseDir);
  const rows = [];
  try {
    await Promise.all([ours.ready, theirs.ready]);
    for (const [name, inFlight, n] of [['cache hits', IN_FLIGHT, 20_000], ['cache hits, one at a time', 1, 3000]]) {
      const lines = Array.from({ length: n }, () => hit);
      const a = [];
      const b = [];
      for (const s of [ours, theirs]) await measure(s, '', lines, { passes: 1, inFlight, log });
      for (let p = 0; p < passes; p++) {
        b.push(await measure(theirs, '', lines, { passes: 1, inFlight, warm: false, log }));
        a.push(await measure(ours, '', lines, { passes: 1, inFlight, warm: false, log }));
      }
      const m = mergeRuns(`${label}, ${name}`, a);
      const base = mergeRuns(`${label}, ${name}, baseline`, b);
      const ratio = m.rate / base.rate;
      rows.push({ ...row(base, { inFlight }), case: `serve, ${label}, ${name}, BASELINE ${BASELINE}` });
      rows.push({ ...row(m, { inFlight, ...(inFlight === IN_FLIGHT ? { budget: `>= ${CACHE_HIT_RATE / 1000}k/s`, ok: m.rate >= CACHE_HIT_RATE } : {}) }), ratio, note: `${row(m, { inFlight }).note}; ${ratio.toFixed(2)}x the baseline's rate; inside p50 ${(m.inside.p50 / base.inside.p50).toFixed(2)}x, p99 ${(m.inside.p99 / base.inside.p99).toFixed(2)}x${m.cpuUs !== undefined && base.cpuUs ? `, server CPU ${(m.cpuUs / base.cpuUs).toFixed(2)}x` : ''} the baseline's` });
    }
    await Promise.all([ours.stop(), theirs.stop()]);
  } catch (e) {
    ours.proc.kill();
    theirs.proc.kill();
    throw e;
  }
  return rows;
}

/** One project: cache hits on `hit`, Cedar on `varied`, and the round trip of one request at a time. */
async function benchProject(root, dir, label, { hit, varied, passes, log }) {
  if (HITS_ONLY && BASELINE) return hitsAgainstBaseline(root, dir, label, { hit, passes, log });
  const rows = BASELINE ? await hitsAgainstBaseline(root, dir, label, { hit, passes, log }) : [];
  const server = new Server(root, dir);
  try {
    await server.ready;
    if (HITS_ONLY) {
      const hits = await measure(server, `${label}, cache hits`, Array.from({ length: 20_000 }, () => hit), { passes, inFlight: IN_FLIGHT, log });
      rows.push(row(hits, { inFlight: IN_FLIGHT, budget: `>= ${CACHE_HIT_RATE / 1000}k/s`, ok: hits.rate >= CACHE_HIT_RATE }));
      const single = await measure(server, `${label}, cache hits, one at a time`, Array.from({ length: 3000 }, () => hit), { passes, inFlight: 1, log });
      rows.push(row(single, { inFlight: 1 }));
      await server.stop();
      return rows;
    }
    const hits = await measure(server, `${label}, cache hits`, Array.from({ length: 20_000 }, () => hit), { passes, inFlight: IN_FLIGHT, log });
    rows.push(row(hits, { inFlight: IN_FLIGHT, budget: `>= ${CACHE_HIT_RATE / 1000}k/s`, ok: hits.rate >= CACHE_HIT_RATE }));
    // Each pass needs requests the cache has not seen: one untimed slice to warm up (V8 tiers Cedar's
    // WebAssembly up and each candidate set is parsed on first use: the first few thousand decisions
    // are slower, see the cold row), then a fresh slice a pass.
    const cold = await measure(server, `${label}, Cedar, the first ${WARM_CEDAR} decisions (cold)`, varied.slice(0, WARM_CEDAR), { passes: 1, inFlight: IN_FLIGHT, warm: false, log });
    const passesOfCedar = [];
    for (let p = 0; p < passes; p++) passesOfCedar.push(await measure(server, '', varied.slice(WARM_CEDAR + p * CEDAR_PASS, WARM_CEDAR + (p + 1) * CEDAR_PASS), { passes: 1, inFlight: IN_FLIGHT, warm: false, log }));
    const merged = mergeRuns(`${label}, Cedar (varied requests)`, passesOfCedar);
    rows.push(row(merged, { inFlight: IN_FLIGHT, budget: 'inside p99 < 1 ms', ok: merged.inside.p99 < 1 }));
    rows.push(row(cold, { inFlight: IN_FLIGHT }));
    const single = await measure(server, `${label}, cache hits, one at a time`, Array.from({ length: 3000 }, () => hit), { passes, inFlight: 1, log });
    rows.push(row(single, { inFlight: 1 }));
    const code = await server.stop();
    if (code !== 0) log(`${label}: govern serve exited with ${code}: ${server.stderr}`);
  } catch (e) {
    server.proc.kill();
    throw e;
  }
  return rows;
}

/** Passes measured apart, as one row: the median of each figure, and the worst in-process p99. */
function mergeRuns(label, runs) {
  return {
    label,
    n: runs[0].n,
    passes: runs.length,
    rate: quantile(sorted(runs.map((r) => r.rate)), 0.5),
    latency: Object.fromEntries(['p50', 'p90', 'p99'].map((k) => [k, quantile(sorted(runs.map((r) => r.latency[k])), 0.5)])),
    inside: { p50: quantile(sorted(runs.map((r) => r.inside.p50)), 0.5), p99: Math.max(...runs.map((r) => r.inside.p99)) },
    cpuUs: runs.every((r) => r.cpuUs !== undefined) ? quantile(sorted(runs.map((r) => r.cpuUs)), 0.5) : undefined,
    errors: runs.reduce((a, r) => a + r.errors, 0),
  };
}

/** A project of `rules` generated rules, compiled; with its set and varied requests. */
function generatedProject(root, dir, rules, requests) {
  const set = generate({ rules, tests: Math.max(5000, requests) });
  writeGovern(set, join(dir, 'policies'));
  writeFileSync(join(dir, 'govern.config.yaml'), BUDGETS);
  runOnce(process.execPath, [join(root, 'bin/govern'), 'check', '--no-tests', 'policies'], { cwd: dir });
  return { set, varied: generatedRequests(set, requests) };
}

async function runtimeModules(root) {
  const runtime = await import(pathToFileURL(join(root, 'dist/runtime/runtime.js')).href);
  const cedar = await import(pathToFileURL(join(root, 'dist/cedar/cedar.js')).href);
  return { ...runtime, ...cedar };
}

/** Decides each request in this process (no state file, no pipe); the time of each in ms. */
function decideAll(rt, requests) {
  const times = [];
  for (const q of requests) {
    const t = performance.now();
    rt.prepare(q);
    times.push(performance.now() - t);
  }
  return sorted(times);
}

/** Cedar decisions at a large rule count, in process: the first pass parses sets, the second is timed. */
export async function benchManyRules(root, dir, { log }) {
  const { Runtime, parsedSets } = await runtimeModules(root);
  const { varied } = generatedProject(root, dir, BIG_RULES, 2 * CEDAR_PASS);
  const t0 = performance.now();
  const rt = await Runtime.open({ cwd: dir, noState: true });
  const cold = decideAll(rt, varied.slice(0, CEDAR_PASS));
  const startMs = performance.now() - t0;
  const warm = decideAll(rt, varied.slice(CEDAR_PASS));
  const live = parsedSets();
  const p50 = quantile(warm, 0.5);
  log(`${BIG_RULES} rules: first ${CEDAR_PASS} decisions took ${Math.round(startMs)} ms`);
  rt.close();
  return {
    case: `runtime in process, ${BIG_RULES.toLocaleString('en')} rules, Cedar (varied requests)`,
    runs: warm.length, median: p50, p90: quantile(warm, 0.9), budget: 'p50 < 1 ms', ok: p50 < 1,
    note: `p99 ${f3(quantile(warm, 0.99))} ms; open and first ${CEDAR_PASS} decisions ${Math.round(startMs)} ms (cold p50 ${f3(quantile(cold, 0.5))} ms); ${live.sets} Cedar sets, ${live.policies} policies live (bound ${live.maxPolicies}); RSS ${Math.round(rssMb())} MB`,
  };
}

/** RSS and Cedar's live sets across policy reloads, each followed by some decisions. */
export async function benchReloads(root, dir, varied, { log }) {
  const { Runtime, loadBundle, parsedSets } = await runtimeModules(root);
  const rt = await Runtime.open({ cwd: dir, noState: true });
  const slice = varied.slice(0, 200);
  decideAll(rt, slice);
  const marks = [];
  for (let i = 1; i <= RELOADS; i++) {
    rt.useBundle(await loadBundle(rt.config.policies));
    decideAll(rt, slice);
    if (i === Math.min(10, RELOADS) || i === RELOADS) {
      globalThis.gc?.();
      const m = process.memoryUsage();
      marks.push({ i, rss: rssMb(), heap: m.heapUsed / 1e6, external: m.external / 1e6, ...parsedSets() });
    }
  }
  rt.close();
  const [a, b] = [marks[0], marks[marks.length - 1]];
  log(`reloads: ${JSON.stringify(marks)}`);
  const flat = b.policies <= a.policies && b.ids <= a.ids + a.sets && b.rss <= a.rss * 1.1;
  return {
    case: `runtime in process, 1,000 rules, ${RELOADS} reloads`,
    runs: RELOADS, median: null, p90: null, budget: 'memory flat', ok: flat,
    // RSS also holds memory V8 and the allocator keep after freeing (and, without --expose-gc, garbage
    // not yet collected): it swings by tens of MB from run to run; the JS heap and external memory do not.
    note: `after reload ${a.i}: RSS ${Math.round(a.rss)} MB (JS heap ${Math.round(a.heap)} MB, external ${Math.round(a.external)} MB), ${a.sets} Cedar sets, ${a.policies} policies, ${a.ids} set ids; after ${b.i}: RSS ${Math.round(b.rss)} MB (heap ${Math.round(b.heap)}, external ${Math.round(b.external)}), ${b.sets} sets, ${b.policies} policies, ${b.ids} ids`,
  };
}

export default async function serveBench({ root, runs, keep, log }) {
  const dir = mkdtempSync(join(tmpdir(), 'govern-bench-serve-'));
  const passes = runs ?? 3;
  const rows = [];
  try {
    const pack = join(dir, 'pack');
    cpSync(join(root, 'policies'), join(pack, 'policies'), { recursive: true });
    writeFileSync(join(pack, 'govern.config.yaml'), 'budgets:\n  hour: {usd: 1000000, tokens: 1000000000}\n  day: {usd: 1000000, tokens: 1000000000}\n');
    const hit = { agent: 'coder', action: 'write_file', resource: 'file:tmp/scratch.txt', environment: 'dev' };
    if (!IN_PROCESS_ONLY) rows.push(...await benchProject(root, pack, 'default pack', { hit, varied: defaultPackRequests(WARM_CEDAR + passes * CEDAR_PASS), passes, log }));

    const big = join(dir, 'big');
    const set = generate({ rules: 1000, tests: 5000 });
    writeGovern(set, join(big, 'policies'));
    writeFileSync(join(big, 'govern.config.yaml'), 'budgets:\n  hour: {usd: 1000000, tokens: 1000000000}\n  day: {usd: 1000000, tokens: 1000000000}\n');
    runOnce(process.execPath, [join(root, 'bin/govern'), 'check', '--no-tests', 'policies'], { cwd: big });
    const varied = generatedRequests(set, WARM_CEDAR + passes * CEDAR_PASS);
    // A request the generated rules allow or deny (escalations are not cached), repeated; with a
    // plain command, so that the case measures the cache rather than the destructive-command parser.
    const plain = new Set(['ls -la', 'echo ok', 'git status', 'kubectl get pods', 'terraform plan']);
    const first = set.tests.find((t) => t.d.decision !== 'escalate' && plain.has(t.q.command)) ?? set.tests[0];
    const bigHit = { ...generatedRequests({ tests: [first] }, 1)[0], id: 'hit' };
    if (!IN_PROCESS_ONLY) rows.push(...await benchProject(root, big, '1,000 rules', { hit: bigHit, varied, passes, log }));
    if (!HITS_ONLY) {
      rows.push(await benchReloads(root, big, varied, { log }));
      rows.push(await benchManyRules(root, join(dir, 'many'), { log }));
    }
  } finally {
    if (keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
