// Budgets are checked and reserved in one write transaction: inside one `eval --batch`, across
// parallel `govern eval` processes on one state file, and when the usage changed while a model
// was being asked. Against a $1 hourly limit at $0.10 a request, exactly 10 requests are allowed,
// and a request that ends in deny or escalate spends nothing.
import { spawn } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { State, StateError } from '../src/ledger/state.js';
import { Runtime } from '../src/runtime/runtime.js';
import { FakeServer, openaiWire } from './fake-servers.js';
import { BIN, clearOfTheHour, govern, ROOT, tempTree } from './helpers.js';

const LIMITS = 'budgets:\n  hour: {usd: 1, tokens: 1000000}\n  day: {usd: 100, tokens: 1000000}\n';
const SPEND = { agent: 'trainer', action: 'create', resource: 'k8s:deployment/batch', environment: 'dev', cost: { usd: 0.1 } };

function project(config = LIMITS): string {
  const dir = tempTree({ 'govern.config.yaml': config });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  return dir;
}

/** What the state file says the agent spent this hour, and how many decisions it holds. */
function spent(dir: string, agent = 'trainer'): { usd: number; requests: number; rows: number } {
  const state = State.open(join(dir, '.govern', 'state.db'), { readonly: true });
  try {
    const hour = state.db.prepare("SELECT usd, requests FROM usage WHERE agent = ? AND period LIKE 'h:%'").get(agent) as { usd: number; requests: number } | undefined;
    const rows = (state.db.prepare('SELECT count(*) AS n FROM ledger').get() as { n: number }).n;
    return { usd: hour?.usd ?? 0, requests: hour?.requests ?? 0, rows };
  } finally {
    state.close();
  }
}

describe('atomic budgets', () => {
  beforeEach(() => clearOfTheHour(), 200_000);
  it('a 20-line batch against a $1 hourly limit at $0.10 a request allows exactly 10', () => {
    const dir = project();
    const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ ...SPEND, id: `r${i}` })).join('\n') + '\n';
    const r = govern(['eval', '--batch', '-'], { cwd: dir, input: lines });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { decision: string; reasons: { rule: string }[] });
    expect(out.map((d) => d.decision)).toEqual([...Array(10).fill('allow'), ...Array(10).fill('deny')]);
    expect(out[10]!.reasons[0]!.rule).toBe('deny-over-budget');
    const s = spent(dir);
    expect(s.requests).toBe(10);
    expect(s.usd).toBeCloseTo(1, 9);
    expect(s.rows).toBe(20);
  });

  it('12 parallel `govern eval` processes on one state file allow exactly 10', async () => {
    const dir = project();
    // The state file exists before the race, as it does once a project has decided anything.
    State.open(join(dir, '.govern', 'state.db')).close();
    const codes = await Promise.all(Array.from({ length: 12 }, (_, i) => new Promise<number>((resolve, reject) => {
      const p = spawn(process.execPath, [BIN, 'eval', '--quiet'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 || code === 2 ? resolve(code) : reject(new Error(`exit ${code}: ${stderr}`))));
      p.stdin.end(JSON.stringify({ ...SPEND, id: `p${i}` }));
    })));
    expect(codes.filter((c) => c === 0)).toHaveLength(10);
    expect(codes.filter((c) => c === 2)).toHaveLength(2);
    const s = spent(dir);
    expect(s.requests).toBe(10);
    expect(s.usd).toBeCloseTo(1, 9);
    expect(s.rows).toBe(12);
    expect(govern(['ledger', 'verify'], { cwd: dir }).code).toBe(0);
  }, 300_000);

  it('requests prepared together are checked one by one as they commit', async () => {
    const rt = await Runtime.open({ cwd: project() });
    try {
      // Every request is prepared against the empty budget, as a batch or a model call leaves them.
      const prepared = Array.from({ length: 12 }, () => rt.prepare({ ...SPEND, cost: { usd: 0.3 } }));
      expect(prepared.every((p) => p.decision?.decision === 'allow')).toBe(true);
      const verdicts = rt.transaction(() => prepared.map((p) => rt.commit(p).decision));
      expect(verdicts.map((d) => d.decision)).toEqual(['allow', 'allow', 'allow', ...Array(9).fill('deny')]);
      // The third allow reached 90% of the hour: its warning is the one its own commit saw.
      expect(verdicts[2]!.warnings.map((w) => w.rule)).toEqual(['warn-budget-80']);
      expect(verdicts[2]!.facts.budget).toEqual({ used_pct: 90, exceeded: false });
      expect(verdicts[3]!.facts.budget).toEqual({ used_pct: 120, exceeded: true });
      expect(rt.budget('trainer', new Date()).hour.usd).toBeCloseTo(0.9, 9);
    } finally {
      rt.close();
    }
  });

  it('inside one transaction, a request prepared before another spent is checked again', async () => {
    const rt = await Runtime.open({ cwd: project() });
    try {
      const [first, second] = rt.transaction(() => {
        const [a, b] = [rt.prepare({ ...SPEND, cost: { usd: 0.6 } }), rt.prepare({ ...SPEND, cost: { usd: 0.6 } })];
        return [rt.commit(a).decision, rt.commit(b).decision];
      });
      expect([first!.decision, second!.decision]).toEqual(['allow', 'deny']);
    } finally {
      rt.close();
    }
  });

  it('a commit outside a transaction opens its own, so the check and the reservation stay one step', async () => {
    const rt = await Runtime.open({ cwd: project() });
    try {
      const a = rt.prepare({ ...SPEND, cost: { usd: 0.6 } });
      const b = rt.prepare({ ...SPEND, cost: { usd: 0.6 } });
      expect(rt.commit(a).decision.decision).toBe('allow');
      expect(rt.commit(b).decision.decision).toBe('deny');
      expect(rt.budget('trainer', new Date()).hour.usd).toBeCloseTo(0.6, 9);
    } finally {
      rt.close();
    }
  });

  it('an allow that held only on the old budget is not kept when no rule decides on the new one', async () => {
    const dir = project();
    writeFileSync(join(dir, 'policies', 'cheap.yaml'), 'rules:\n  - id: allow-cheap-queries\n    match: {resource: "warehouse:table"}\n    when:\n      budget.used_pct: {lt: 50}\n    effect: allow\n');
    const rt = await Runtime.open({ cwd: dir });
    try {
      const query = { agent: 'trainer', action: 'query', resource: 'warehouse:table/orders', environment: 'dev', cost: { usd: 0.3 } };
      const [a, b] = [rt.prepare(query), rt.prepare(query)];
      expect([a.decision?.decision, b.decision?.decision]).toEqual(['allow', 'allow']);
      const [first, second] = rt.transaction(() => [rt.commit(a).decision, rt.commit(b).decision]);
      expect(first!.decision).toBe('allow');
      expect(second).toMatchObject({ decision: 'escalate', route: 'default', facts: { budget: { used_pct: 60, exceeded: false } } });
      expect(second!.reasons[0]!.message).toMatch(/on the budget as it is now, none decides/);
      expect(rt.budget('trainer', new Date()).hour.usd).toBeCloseTo(0.3, 9);
    } finally {
      rt.close();
    }
  });

  it('a cost far past every limit is denied as over budget, its share capped', async () => {
    const rt = await Runtime.open({ cwd: project() });
    try {
      // Costs past 1e12 dollars or past a safe integer of tokens are refused as input (see test/boundary.test.ts).
      for (const cost of [{ usd: 1e12 }, { usd: 0, tokens: Number.MAX_SAFE_INTEGER }]) {
        const ev = await rt.evaluate({ ...SPEND, cost });
        expect(ev.decision.decision).toBe('deny');
        expect(ev.decision.reasons[0]!.rule).toBe('deny-over-budget');
        expect(ev.decision.facts.budget).toEqual({ used_pct: 1_000_000, exceeded: true });
      }
      expect(rt.budget('trainer', new Date()).hour.usd).toBe(0);
    } finally {
      rt.close();
    }
  });

  it('denied and escalated requests spend nothing', async () => {
    const rt = await Runtime.open({ cwd: project() });
    try {
      // Escalated: a delete outside dev; denied: a secret file. Both carry a cost.
      expect((await rt.evaluate({ agent: 'trainer', action: 'delete', resource: 'k8s:pod/web-1', environment: 'staging', cost: { usd: 0.5 } })).decision.decision).toBe('escalate');
      expect((await rt.evaluate({ agent: 'trainer', action: 'read_file', resource: 'file:secrets/db.yaml', environment: 'dev', cost: { usd: 0.5 } })).decision.decision).toBe('deny');
      expect(rt.budget('trainer', new Date()).hour.usd).toBe(0);
      // The whole budget is still there for allowed work.
      expect((await rt.evaluate({ ...SPEND, cost: { usd: 1 } })).decision.decision).toBe('allow');
      expect((await rt.evaluate({ ...SPEND, cost: { usd: 0.01 } })).decision.decision).toBe('deny');
    } finally {
      rt.close();
    }
  });
});

describe('a state file locked by another process', () => {
  it('waits for the busy timeout, then says so in one line and records nothing', () => {
    const dir = tempTree({});
    const path = join(dir, 'state.db');
    const holder = State.open(path);
    const waiter = State.open(path, { busyTimeoutMs: 50 });
    try {
      holder.db.exec('BEGIN IMMEDIATE');
      let error: unknown;
      try {
        waiter.atomically(() => waiter.addUsage('a', ['h:x'], 1, 1));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StateError);
      expect((error as Error).message).toBe(`${path} stayed locked by another process for 0.05 s; nothing was recorded. Try again.`);
      holder.db.exec('COMMIT');
      expect(waiter.usage('a', 'h:x').requests).toBe(0);
    } finally {
      holder.close();
      waiter.close();
    }
  });
});

describe('a budget spent while the model was asked', () => {
  beforeEach(() => clearOfTheHour(), 200_000);
  let server: FakeServer;
  const key = process.env.OPENAI_API_KEY;
  beforeAll(() => {
    process.env.OPENAI_API_KEY = 'test-key';
  });
  afterAll(() => {
    if (key === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = key;
  });
  afterEach(async () => {
    await server?.close();
  });

  it("is checked again at commit: the model's allow becomes the rules' deny, its tokens still recorded", async () => {
    server = await FakeServer.start();
    server.reply({ json: openaiWire.completion(JSON.stringify({ decision: 'allow', confidence: 0.9, reason: 'fine' }), { input: 700, output: 30 }) });
    const dir = project(`${LIMITS}models:\n  large: {provider: openai, model: gpt-test, base_url: "${server.url}/v1", timeout_ms: 60000}\n`);
    const rt = await Runtime.open({ cwd: dir });
    try {
      // No rule decides a query in dev: the model is asked, with the budget as it was.
      const p = rt.prepare({ agent: 'trainer', action: 'query', resource: 'warehouse:table/orders', environment: 'dev', cost: { usd: 0.6 } });
      expect(p.decision).toBeUndefined();
      const asked = await rt.consult(p);
      expect(asked?.decision.decision).toBe('allow');
      // Meanwhile another decision of the same agent spends most of the hour.
      expect((await rt.evaluate({ ...SPEND, cost: { usd: 0.6 } })).decision.decision).toBe('allow');
      const ev = rt.commit(p, asked);
      expect(ev.decision).toMatchObject({ decision: 'deny', route: 'rules', tokens: { input: 700, output: 30 }, facts: { budget: { exceeded: true } } });
      expect(ev.decision.reasons[0]!.rule).toBe('deny-over-budget');
      expect(rt.budget('trainer', new Date()).hour.usd).toBeCloseTo(0.6, 9);
      const row = rt.state!.db.prepare('SELECT decision, model, input_tokens FROM ledger WHERE id = ?').get(ev.decision.id) as Record<string, unknown>;
      expect(row).toEqual({ decision: 'deny', model: 'openai/gpt-test', input_tokens: 700 });
      expect(rt.state!.verifyLedger().ok).toBe(true);
    } finally {
      rt.close();
    }
  });
});
