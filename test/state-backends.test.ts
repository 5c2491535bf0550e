// The state holds the same things the same way on SQLite (a file) and on PostgreSQL (shared by
// hosts): the hash chain and `ledger verify`, budgets reserved under the write lock, trust,
// escalations and approvals, recorded spend, the decision cache, shadow answers, migrations, and
// the append-only ledger. Parallel processes on one state allow exactly the budget and lose no row.
// PostgreSQL is a real server started for this file (test/pg.ts).
import { spawn } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { State, StateError, TRUST_DELTAS } from '../src/ledger/state.js';
import { Runtime } from '../src/runtime/runtime.js';
import { BIN, govern, ROOT, tempTree } from './helpers.js';
import { startPostgres } from './pg.js';

const LIMITS = 'budgets:\n  hour: {usd: 1, tokens: 1000000}\n  day: {usd: 100, tokens: 1000000}\n';
const SPEND = { agent: 'trainer', action: 'create', resource: 'k8s:deployment/batch', environment: 'dev', cost: { usd: 0.1 } };
const ESCALATE = { agent: 'ops', action: 'delete', resource: 'k8s:pod/web-1', environment: 'staging' };

const server = await startPostgres();
const pgSkip = 'skip' in server ? server.skip : undefined;
if (pgSkip) console.warn(`state-backends: the PostgreSQL cases are skipped: ${pgSkip}`);
const dirs: string[] = [];
afterAll(() => {
  if (!('skip' in server)) server.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let databases = 0;
const backends = [
  { name: 'sqlite', skip: undefined, fresh: async (dir: string) => join(dir, '.govern', 'state.db') },
  { name: 'postgres', skip: pgSkip, fresh: async () => ('skip' in server ? '' : server.createDatabase(`govern_t${++databases}`)) },
];

function project(config = LIMITS): string {
  const dir = tempTree({ 'govern.config.yaml': config });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  dirs.push(dir);
  return dir;
}

describe.each(backends)('state on $name', ({ name, skip, fresh }) => {
  const open = async (config?: string) => {
    const dir = project(config);
    const state = await fresh(dir);
    return { dir, state, rt: await Runtime.open({ cwd: dir, state }) };
  };

  it.skipIf(skip)('reserves the budget under the write lock: exactly 10 of 20 at $0.10 against $1, and the chain verifies', async () => {
    const { rt } = await open();
    try {
      const out: string[] = [];
      for (let i = 0; i < 20; i++) out.push((await rt.evaluate({ ...SPEND, id: `r${i}` })).decision.decision);
      expect(out).toEqual([...Array(10).fill('allow'), ...Array(10).fill('deny')]);
      const s = rt.state!;
      expect(rt.budget('trainer', new Date()).hour.usd).toBeCloseTo(1, 9);
      expect([...s.ledgerRows()].map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect([...s.ledgerRows({ agent: 'trainer', limit: 3 })]).toHaveLength(3);
      const v = s.verifyLedger();
      expect(v).toMatchObject({ ok: true, rows: 20, events: 0, problems: [] });
      expect(v.head).toBe(s.ledgerHead().hash);
    } finally {
      rt.close();
    }
  });

  it.skipIf(skip)('deletes expired cache rows and kept findings as it writes new ones, at most once a minute', async () => {
    const { rt } = await open();
    try {
      const s = rt.state!;
      const keys = (table: string) => (s.db.prepare(`SELECT key FROM ${table} ORDER BY key`).all() as { key: string }[]).map((r) => r.key);
      const t0 = Date.now() + 3_600_000;
      s.cachePut('a', 'p1', '{}', t0, 1);
      s.scanPut('a', '[]', t0, 1);
      // Expired, but the last look was less than a minute ago.
      s.cachePut('b', 'p1', '{}', t0 + 30_000, 60);
      expect(keys('cache')).toEqual(['a', 'b']);
      expect(keys('scans')).toEqual(['a']);
      s.scanPut('c', '[]', t0 + 61_000, 60);
      expect(keys('cache')).toEqual(['b']);
      expect(keys('scans')).toEqual(['c']);
    } finally {
      rt.close();
    }
  });

  it.skipIf(skip)('moves trust once per reporter, chains it, and refuses a second report', async () => {
    const { rt } = await open();
    try {
      const s = rt.state!;
      const id = (await rt.evaluate({ ...SPEND })).decision.id;
      expect(s.recordOutcome({ decision: id, event: 'success', by: { party: 'agent' }, deltas: TRUST_DELTAS }, new Date().toISOString())).toMatchObject({ before: 40, after: 40, counted: false });
      expect(s.recordOutcome({ decision: id, event: 'success', by: { party: 'human', name: 'alice' }, deltas: TRUST_DELTAS }, new Date().toISOString())).toMatchObject({ before: 40, after: 42, counted: true });
      expect(() => s.recordOutcome({ decision: id, event: 'failure', by: { party: 'human', name: 'bob' }, deltas: TRUST_DELTAS }, new Date().toISOString())).toThrow(StateError);
      expect(s.trust('trainer')).toBe(42);
      expect(s.trustEvents('trainer').map((e) => [e.event, e.delta, e.by])).toEqual([['success', 2, 'alice'], ['success', 0, null]]);
      expect(s.verifyLedger()).toMatchObject({ ok: true, rows: 1, events: 2 });
      // An edit to a table derived from the chain is found.
      s.db.prepare('UPDATE agents SET trust = 99 WHERE agent = ?').run('trainer');
      expect(s.verifyLedger().problems.map((p) => p.problem)).toEqual(['agent trainer has trust 99 but the ledger says 42 (the trust table was edited)']);
    } finally {
      rt.close();
    }
  });

  it.skipIf(skip)('escalates, approves once, spends the approval, and verifies', async () => {
    const { rt } = await open();
    try {
      const s = rt.state!;
      const first = await rt.evaluate(ESCALATE);
      expect(first.decision.decision).toBe('escalate');
      const id = first.escalation!;
      expect(s.escalations('pending').map((e) => e.id)).toEqual([id]);
      const now = new Date().toISOString();
      expect(s.resolveEscalation(id, 'approved', 'alice', 'ok', now, null).status).toBe('approved');
      expect(() => s.resolveEscalation(id, 'denied', 'bob', undefined, now, null)).toThrow(/already approved/);
      const second = await rt.evaluate(ESCALATE);
      expect(second.decision.decision).toBe('allow');
      expect(s.escalation(id)!.status).toBe('used');
      expect((await rt.evaluate(ESCALATE)).decision.decision).toBe('escalate');
      expect(s.verifyLedger()).toMatchObject({ ok: true, rows: 3 });
    } finally {
      await rt.settled();
      rt.close();
    }
  });

  it.skipIf(skip)('records real spend, keeps cache and shadow rows, and keeps the ledger append-only', async () => {
    const { rt } = await open();
    try {
      const s = rt.state!;
      const id = (await rt.evaluate({ ...SPEND })).decision.id;
      expect(s.recordSpend(id, 0.25, 10, new Date().toISOString()).counted).toEqual({ usd: 0.25, tokens: 10 });
      expect(s.recordedSpend(id)).toEqual({ usd: 0.25, tokens: 10 });
      expect(rt.budget('trainer', new Date()).hour.usd).toBeCloseTo(0.25, 9);

      const now = Date.now();
      s.cachePut('k1', 'p1', '{"decision":"allow"}', now, 60);
      s.cachePut('k2', 'p0', '{"decision":"deny"}', now, 60);
      expect(s.cacheGet('k1', now + 1000)).toEqual({ decision: '{"decision":"allow"}', sealed: true });
      expect(s.cacheGet('k1', now + 61_000)).toBeUndefined();
      // The seal covers the decision, the bundle and the expiry: a row edited in any of them is not govern's own.
      for (const edit of ["decision = '{\"decision\":\"deny\"}'", "policy_hash = 'p9'", 'expires_at = expires_at + 1000', "seal = NULL"]) {
        s.cachePut('k3', 'p1', '{"decision":"allow"}', now, 60);
        expect(s.cacheGet('k3', now)!.sealed).toBe(true);
        s.db.prepare(`UPDATE cache SET ${edit} WHERE key = 'k3'`).run();
        expect({ edit, sealed: s.cacheGet('k3', now)!.sealed }).toEqual({ edit, sealed: false });
      }
      // Nor is a row moved to another key.
      s.db.prepare("UPDATE cache SET key = 'k4' WHERE key = 'k1'").run();
      expect(s.cacheGet('k4', now)!.sealed).toBe(false);
      s.db.prepare("UPDATE cache SET key = 'k1' WHERE key = 'k4'").run();
      s.db.prepare("DELETE FROM cache WHERE key = 'k3'").run();
      s.cacheHit('k1');
      expect(s.cachePrune('p1', now)).toBe(2); // k2, and the decision cached above
      expect(s.cacheGet('k2', now)).toBeUndefined();

      // Kept findings: read back live and sealed only; an edit to the findings, expiry, key or seal, or a decision cache row's seal, does not fit.
      const findings = '[{"kind":"email","field":"content","span":{"start":0,"end":5},"preview":"a****"}]';
      s.scanPut('s1', findings, now, 60);
      expect(s.scanGet('s1', now + 1000)).toBe(findings);
      expect(s.scanGet('s1', now + 61_000)).toBeUndefined();
      for (const edit of ["findings = '[]'", 'expires_at = expires_at + 1000', "key = 's2'", 'seal = NULL', "seal = (SELECT seal FROM cache WHERE key = 'k1')"]) {
        s.scanPut('s1', findings, now, 60);
        s.db.prepare(`UPDATE scans SET ${edit} WHERE key = 's1'`).run();
        expect({ edit, s1: s.scanGet('s1', now), s2: s.scanGet('s2', now) }).toEqual({ edit, s1: undefined, s2: undefined });
        s.db.prepare('DELETE FROM scans').run();
      }

      const row = { decision_id: id, at: new Date().toISOString(), agent: 'trainer', route: 'cache', rules: 'a,b', decided: 'allow', model_decision: 'deny', model: 'm', confidence: 0.75, agree: 0, input_tokens: 3, output_tokens: 4, reason: 'r' };
      s.addShadow(row);
      expect(s.shadowRows()).toEqual([expect.objectContaining(row)]);

      expect(() => s.db.prepare('DELETE FROM ledger').run()).toThrow(/append-only/);
      expect(() => s.db.prepare("UPDATE chain_events SET agent = 'x'").run()).toThrow(/append-only/);
      s.db.prepare('UPDATE usage SET usd = 0').run();
      expect(s.verifyLedger().problems[0]!.problem).toMatch(/the usage table was edited/);
    } finally {
      rt.close();
    }
  });

  it.skipIf(skip)('migrates once, reopens as it is, and refuses a state from a newer govern', async () => {
    const dir = project();
    const where = await fresh(dir);
    State.open(where).close();
    const s = State.open(where);
    expect(s.verifyLedger().ok).toBe(true);
    if (name === 'sqlite') s.db.exec('PRAGMA user_version = 99');
    else s.db.exec('UPDATE schema_version SET version = 99');
    s.close();
    expect(() => State.open(where)).toThrow(/written by a newer govern \(schema 99\); upgrade govern/);
  });

  it.skipIf(skip)('a transaction that throws records nothing; an inner one that throws undoes only its own writes', async () => {
    const s = State.open(await fresh(project()));
    try {
      expect(() => s.atomically(() => {
        s.addUsage('a', ['h:x'], 1, 1);
        throw new Error('stop');
      })).toThrow('stop');
      expect(s.usage('a', 'h:x').requests).toBe(0);
      s.atomically(() => {
        s.addUsage('a', ['h:x'], 1, 1);
        expect(() => s.atomically(() => {
          s.addUsage('a', ['h:x'], 5, 5);
          throw new Error('inner');
        })).toThrow('inner');
        s.addUsage('a', ['h:x'], 2, 2);
      });
      expect(s.usage('a', 'h:x')).toEqual({ usd: 3, tokens: 3, requests: 2 });
    } finally {
      s.close();
    }
  });

  it.skipIf(skip)('a writer waits for the lock, then says so and records nothing', async () => {
    const dir = project();
    const where = await fresh(dir);
    const holder = State.open(where);
    const waiter = State.open(where, { busyTimeoutMs: 50 });
    try {
      holder.db.exec(name === 'sqlite' ? 'BEGIN IMMEDIATE' : 'BEGIN; SELECT pg_advisory_xact_lock(7467731001)');
      expect(() => waiter.atomically(() => waiter.addUsage('a', ['h:x'], 1, 1))).toThrow(/stayed locked by another process for 0.05 s; nothing was recorded/);
      holder.db.exec('COMMIT');
      expect(waiter.usage('a', 'h:x').requests).toBe(0);
      waiter.atomically(() => waiter.addUsage('a', ['h:x'], 1, 1));
      expect(holder.usage('a', 'h:x').requests).toBe(1);
    } finally {
      holder.close();
      waiter.close();
    }
  });

  it.skipIf(skip)('8 parallel processes on one new state migrate it once, allow exactly the budget and lose no row', async () => {
    const dir = project();
    const where = await fresh(dir);
    // Each process is a `govern eval --batch` of 4 requests: 32 requests at $0.10 against $1.
    const runs = await Promise.all(Array.from({ length: 8 }, (_, p) => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'eval', '--batch', '-', '--state', where], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 || code === 2 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}`))));
      child.stdin.end(Array.from({ length: 4 }, (_, i) => JSON.stringify({ ...SPEND, id: `p${p}-${i}` })).join('\n') + '\n');
    })));
    const decisions = runs.flatMap((o) => o.trim().split('\n').map((l) => (JSON.parse(l) as { decision: string }).decision));
    expect(decisions).toHaveLength(32);
    expect(decisions.filter((d) => d === 'allow')).toHaveLength(10);
    const s = State.open(where);
    try {
      const hour = s.db.prepare("SELECT usd, requests FROM usage WHERE agent = ? AND period LIKE 'h:%'").get('trainer') as { usd: number; requests: number };
      expect(hour.requests).toBe(10);
      expect(hour.usd).toBeCloseTo(1, 9);
      expect((s.db.prepare('SELECT count(*) AS n FROM ledger').get() as { n: number }).n).toBe(32);
      expect(s.verifyLedger()).toMatchObject({ ok: true, rows: 32 });
    } finally {
      s.close();
    }
    const verify = govern(['ledger', 'verify', '--state', where], { cwd: dir });
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
  }, 300_000);
});

describe.skipIf(pgSkip)('a PostgreSQL state URL', () => {
  it('never shows its password, and says what to check when the server cannot be reached', () => {
    let error: unknown;
    try {
      State.open('postgres://govern:s3cret-pw@127.0.0.1:1/nowhere');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateError);
    const message = (error as Error).message;
    expect(message).not.toContain('s3cret-pw');
    expect(message).toMatch(/^cannot connect to the PostgreSQL state postgres:\/\/govern:\*\*\*@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED.*Check that the server runs/);
  });

  it('reports a dropped connection as a state error that records nothing, and connects again for the next call', async () => {
    const where = await (backends[1]!.fresh as () => Promise<string>)();
    const s = State.open(where);
    try {
      s.atomically(() => s.addUsage('a', ['h:x'], 1, 1));
      const admin = new pg.Client({ connectionString: where });
      await admin.connect();
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'govern' AND datname = current_database()");
      await admin.end();
      expect(() => s.atomically(() => s.addUsage('a', ['h:x'], 1, 1))).toThrow(/^lost the connection to the PostgreSQL state postgres:\/\/.*nothing of the open transaction was recorded/);
      expect(s.usage('a', 'h:x').requests).toBe(1);
      s.atomically(() => s.addUsage('a', ['h:x'], 1, 1));
      expect(s.usage('a', 'h:x').requests).toBe(2);
    } finally {
      s.close();
    }
  });

  it('is kept as it is by the config, not resolved as a path', async () => {
    const where = await (backends[1]!.fresh as () => Promise<string>)();
    const dir = tempTree({ 'govern.config.yaml': `state: ${where}\n` });
    dirs.push(dir);
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    const rt = await Runtime.open({ cwd: dir });
    try {
      expect(rt.config.state).toBe(where);
      expect(rt.state!.path).toBe(where);
      expect((await rt.evaluate(SPEND)).decision.decision).toBe('allow');
    } finally {
      rt.close();
    }
  });
});
