// Usage added inside a transaction is written once a row at the commit: what a budget reads inside
// the transaction, what is stored after it, what another connection reads and what verify rebuilds
// from the chain must all be the sums one upsert a decision would have made, in the same order.
import { createHash } from 'node:crypto';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { chainHash, dayPeriod, GENESIS, hourPeriod, State } from '../src/ledger/state.js';
import { Runtime } from '../src/runtime/runtime.js';
import { Governance } from '../src/serve/service.js';
import { clearOfTheHour, ROOT, tempTree } from './helpers.js';

/** A state file of its own for one test, closed afterwards. */
function withState(fn: (st: State) => void): void {
  const st = State.open(join(tempTree({}), 'state.db'));
  try {
    fn(st);
  } finally {
    st.close();
  }
}

function project(config = ''): string {
  const dir = tempTree({ 'govern.config.yaml': config });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  return dir;
}

/** The same adds, made one by one as the database's upsert makes them. */
const sequential = (start: number, adds: number[]) => adds.reduce((a, x) => a + x, start);

describe('usage written at the commit', () => {
  beforeEach(() => clearOfTheHour(), 200_000);
  it('reads inside the transaction, the stored rows and another connection agree with one upsert a request', () => {
    const dir = tempTree({});
    const file = join(dir, 'state.db');
    const a = State.open(file);
    const b = State.open(file);
    try {
      const adds = [0.1, 0.2, 0.3, 0.7, 1e-9, 3.3];
      a.addUsage('ag', ['h:1', 'd:1'], 0.05, 1);
      a.atomically(() => {
        // One row read before the adds (as budgets are), one never read in the transaction.
        expect(a.usagePair('ag', 'h:1', 'd:1')[0].usd).toBe(0.05);
        for (const usd of adds) a.addUsage('ag', ['h:1', 'd:1', 'h:2'], usd, 10);
        expect(a.usagePair('ag', 'h:1', 'd:1')[0]).toEqual({ usd: sequential(0.05, adds), tokens: 61, requests: 7 });
      });
      for (const st of [a, b]) {
        expect(st.usage('ag', 'h:1')).toEqual({ usd: sequential(0.05, adds), tokens: 61, requests: 7 });
        expect(st.usage('ag', 'd:1')).toEqual({ usd: sequential(0.05, adds), tokens: 61, requests: 7 });
        expect(st.usage('ag', 'h:2')).toEqual({ usd: sequential(0, adds), tokens: 60, requests: 6 });
      }
    } finally {
      a.close();
      b.close();
    }
  });

  it('a row read by a plain query inside the transaction already holds the adds', () => {
    withState((st) => {
      st.atomically(() => {
        st.addUsage('ag', ['d:1'], 2, 5);
        expect(st.usage('ag', 'd:1')).toEqual({ usd: 2, tokens: 5, requests: 1 });
        expect(st.agentsWithUsage('d:1')).toEqual(['ag']);
        st.addUsage('ag', ['d:1'], 3, 5);
        expect(st.derivedRows().usage).toEqual([{ agent: 'ag', period: 'd:1', usd: 5, tokens: 10, requests: 2 }]);
      });
      expect(st.usage('ag', 'd:1')).toEqual({ usd: 5, tokens: 10, requests: 2 });
    });
  });

  it('a savepoint rolled back takes its adds with it, written or not; a whole transaction rolled back writes none', () => {
    withState((st) => {
      st.atomically(() => {
        st.addUsage('ag', ['d:1'], 1, 1);
        expect(() => st.atomically(() => {
          st.addUsage('ag', ['d:1'], 10, 10);
          // A read inside the savepoint writes the adds so far; the rollback undoes that write too.
          expect(st.usage('ag', 'd:1').usd).toBe(11);
          st.addUsage('ag', ['d:1', 'd:2'], 100, 100);
          throw new Error('undo');
        })).toThrow('undo');
        expect(st.usagePair('ag', 'd:1', 'd:2')).toEqual([{ usd: 1, tokens: 1, requests: 1 }, { usd: 0, tokens: 0, requests: 0 }]);
        st.addUsage('ag', ['d:1'], 2, 2);
      });
      expect(st.usagePair('ag', 'd:1', 'd:2')).toEqual([{ usd: 3, tokens: 3, requests: 2 }, { usd: 0, tokens: 0, requests: 0 }]);
      expect(() => st.atomically(() => {
        st.addUsage('ag', ['d:1'], 50, 50);
        throw new Error('all of it');
      })).toThrow('all of it');
      expect(st.usage('ag', 'd:1')).toEqual({ usd: 3, tokens: 3, requests: 2 });
    });
  });

  it('spend recorded inside a transaction adds to the pending usage, and the chain verifies', async () => {
    const rt = await Runtime.open({ cwd: project() });
    const st = rt.state!;
    const now = new Date();
    const create = { agent: 'trainer', action: 'create', resource: 'k8s:deployment/x', environment: 'dev', cost: { usd: 0.25, tokens: 10 } };
    try {
      rt.transaction(() => {
        const first = rt.commit(rt.prepare(create, now)).decision;
        expect(first.decision).toBe('allow');
        rt.commit(rt.prepare({ ...create, resource: 'k8s:deployment/y' }, now));
        st.recordSpend(first.id!, 0.5, 30, now.toISOString());
        rt.commit(rt.prepare({ ...create, resource: 'k8s:deployment/z' }, now));
        expect(st.usagePair('trainer', hourPeriod(now), dayPeriod(now))[0]).toEqual({ usd: 0.5 + 0.25 + 0.25, tokens: 50, requests: 3 });
      });
      expect(st.usage('trainer', dayPeriod(now))).toEqual({ usd: 1, tokens: 50, requests: 3 });
      expect(st.verifyLedger().problems).toEqual([]);
    } finally {
      rt.close();
    }
  });

  it('two writers interleaving transactions of spending decisions: budgets hold and the chain verifies', async () => {
    const dir = project('budgets:\n  hour: {usd: 3, tokens: 1000000}\n  day: {usd: 100, tokens: 1000000}\n');
    const a = await Runtime.open({ cwd: dir });
    const b = await Runtime.open({ cwd: dir });
    const spend = (i: number) => ({ agent: 'trainer', action: 'create', resource: `k8s:deployment/d${i}`, environment: 'dev', cost: { usd: 0.1, tokens: 7 } });
    let allowed = 0;
    try {
      for (let round = 0; round < 8; round++) {
        for (const [w, rt] of [a, b].entries()) {
          rt.transaction(() => {
            for (let k = 0; k < 4; k++) if (rt.commit(rt.prepare(spend(round * 100 + w * 10 + k))).decision.decision === 'allow') allowed++;
          });
        }
      }
      // 0.1 at a time against $3: the 30th add is 2.9999999999999996 (one upsert a request sums so), so 30 fit and the 31st does not.
      let sum = 0;
      let fit = 0;
      while (sum + 0.1 <= 3 + 1e-9) { sum += 0.1; fit++; }
      expect(allowed).toBe(fit);
      const now = new Date();
      for (const rt of [a, b]) expect(rt.state!.usage('trainer', hourPeriod(now))).toEqual({ usd: sequential(0, Array(fit).fill(0.1)), tokens: 7 * fit, requests: fit });
      const v = a.state!.verifyLedger();
      expect(v.problems).toEqual([]);
      expect(v.rows).toBe(64);
    } finally {
      a.close();
      b.close();
    }
  });

  it('an answered decision is on disk: another connection reads it and its usage as soon as the answer arrives', async () => {
    const dir = project('budgets:\n  hour: {usd: 100, tokens: 1000000}\n  day: {usd: 100, tokens: 1000000}\n');
    const rt = await Runtime.open({ cwd: dir });
    const gov = new Governance(rt);
    const reader = State.open(rt.config.state);
    const q = { agent: 'trainer', action: 'create', resource: 'k8s:deployment/x', environment: 'dev', cost: { usd: 0.5, tokens: 3 } };
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => gov.evaluate(q)));
      expect(new Set(answers.map((d) => d.decision))).toEqual(new Set(['allow']));
      for (const d of answers) expect(reader.decisionRow(d.id!)?.decision).toBe('allow');
      expect(reader.usage('trainer', dayPeriod(new Date()))).toEqual({ usd: sequential(0, Array(20).fill(0.5)), tokens: 60, requests: 20 });
      expect(reader.verifyLedger().problems).toEqual([]);
    } finally {
      reader.close();
      rt.close();
    }
  });
});

describe('the chain hash', () => {
  it('is sha256 of the previous hash, a newline and the record, for any text', () => {
    for (const record of ['', '{"a":1}', 'é ü 日本 \u{1F600}', 'x'.repeat(100_000)]) {
      const want = createHash('sha256').update(GENESIS).update('\n').update(record).digest('hex');
      expect(chainHash(GENESIS, record)).toBe(want);
    }
  });
});

describe('budget periods', () => {
  it('name the UTC hour and day of any time, in any order', () => {
    const times = ['2026-12-06T18:59:59.999Z', '2026-12-06T19:00:00.000Z', '2026-12-06T18:00:00.000Z', '2026-12-31T23:59:59.999Z', '2027-01-01T00:00:00.000Z', '1969-12-31T23:30:00.000Z', '2026-12-06T19:00:00.001Z'];
    for (const t of [...times, ...times.reverse()]) {
      const d = new Date(t);
      expect(hourPeriod(d)).toBe(`h:${t.slice(0, 13)}`);
      expect(dayPeriod(d)).toBe(`d:${t.slice(0, 10)}`);
    }
  });
});
