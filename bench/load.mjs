// Load on one shared state: 4 `govern serve --stdio` processes decide at once against one
// PostgreSQL database (a throwaway server, bench/lib/postgres.mjs), and, for comparison, against one
// SQLite file. Every request is allowed by policy and costs $0.01 against a $5 hourly budget, so
// the budget, not the policy, decides how many are allowed: exactly 500, however the processes
// interleave. Reports decisions per second over all processes, what was spent against the limit,
// the ledger rows against the requests answered, and whether `ledger verify` holds.
// Budgets: no overspend (spent <= limit, exactly 1,000 allowed), no lost row, the chain verifies.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startPostgres } from './lib/postgres.mjs';

export const description = '4 govern serve processes on one PostgreSQL state (and one SQLite file): decisions/s, budget accuracy, lost rows';

const PROCESSES = 4;
const PER_PROCESS = 500;
const IN_FLIGHT = 32;
const COST = 0.01;
const LIMIT = 5;

/** Requests the default pack allows (create in dev), each new to the decision cache. */
function requests(p) {
  return Array.from({ length: PER_PROCESS }, (_, i) => JSON.stringify({
    jsonrpc: '2.0', id: i, method: 'governance/evaluate',
    params: { id: `p${p}-${i}`, agent: 'trainer', action: 'create', resource: `k8s:deployment/batch-${p}-${i}`, environment: 'dev', cost: { usd: COST } },
  }) + '\n');
}

/** One `govern serve --stdio` keeping IN_FLIGHT requests outstanding; resolves with its decisions. */
function serve(root, dir, state, lines) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [join(root, 'bin/govern'), 'serve', '--stdio', '--no-watch', '--state', state], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let rest = '';
    let next = 0;
    const decisions = [];
    const errors = [];
    const send = (k) => {
      const end = Math.min(lines.length, next + k);
      if (end > next) proc.stdin.write(lines.slice(next, end).join(''));
      next = end;
    };
    proc.stderr.on('data', (d) => {
      stderr += d;
      if (next === 0 && stderr.includes('ready on stdio')) send(IN_FLIGHT);
    });
    proc.stdout.on('data', (d) => {
      const got = (rest + d).split('\n');
      rest = got.pop();
      for (const l of got) {
        const m = JSON.parse(l);
        if (m.error) errors.push(m.error.message);
        else decisions.push(m.result.decision);
      }
      if (decisions.length + errors.length >= lines.length) proc.stdin.end();
      else send(got.length);
    });
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve({ decisions, errors }) : reject(new Error(`govern serve exited with ${code}: ${stderr}`))));
  });
}

async function run(root, dir, backend, state, log) {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: PROCESSES }, (_, p) => serve(root, dir, state, requests(p))));
  const seconds = (performance.now() - started) / 1000;
  const decisions = results.flatMap((r) => r.decisions);
  const errors = results.flatMap((r) => r.errors);
  const { State } = await import(pathToFileURL(join(root, 'dist/ledger/state.js')).href);
  const s = State.open(state);
  let spent, rows, verify;
  try {
    spent = s.db.prepare("SELECT coalesce(sum(usd), 0) AS usd FROM usage WHERE period LIKE 'h:%'").get().usd;
    rows = s.db.prepare('SELECT count(*) AS n FROM ledger').get().n;
    verify = s.verifyLedger();
  } finally {
    s.close();
  }
  const allowed = decisions.filter((d) => d === 'allow').length;
  const total = PROCESSES * PER_PROCESS;
  const want = Math.round(LIMIT / COST);
  const ok = errors.length === 0 && allowed === want && spent <= LIMIT + 1e-9 && rows === total && verify.ok;
  log(`${backend}: ${total} requests in ${seconds.toFixed(1)} s; ${allowed} allowed, $${spent.toFixed(2)} spent, ${rows} ledger rows${errors.length ? `; errors: ${errors.slice(0, 3).join('; ')}` : ''}`);
  return {
    backend, processes: PROCESSES, requests: total, 'decisions/s': Math.round(decisions.length / seconds),
    allowed, 'spent usd': Number(spent.toFixed(2)), 'limit usd': LIMIT, 'ledger rows': rows, verify: verify.ok ? 'ok' : `${verify.problems.length} problems`,
    budget: `allowed = ${want}, rows = requests`, ok,
    note: ok ? '' : `want ${want} allowed and ${total} rows${verify.ok ? '' : `; ${verify.problems[0]?.problem}`}`,
  };
}

export default async function load({ root, keep, log }) {
  const dir = mkdtempSync(join(tmpdir(), 'govern-bench-load-'));
  cpSync(join(root, 'policies'), join(dir, 'policies'), { recursive: true });
  writeFileSync(join(dir, 'govern.config.yaml'), `budgets:\n  hour: {usd: ${LIMIT}, tokens: 100000000}\n  day: {usd: 1000, tokens: 100000000}\n`);
  const rows = [];
  const server = await startPostgres();
  try {
    if ('skip' in server) {
      log(`PostgreSQL skipped: ${server.skip}`);
      rows.push({ backend: 'postgres', ok: null, note: server.skip });
    } else {
      rows.push(await run(root, dir, 'postgres', await server.createDatabase('govern_load'), log));
    }
    rows.push(await run(root, dir, 'sqlite', join(dir, '.govern', 'state.db'), log));
  } finally {
    if (!('skip' in server)) server.stop();
    if (keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
