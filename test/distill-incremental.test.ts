// Incremental verification: distill decides each request once, by what the rules that can reach it
// read of it, and keeps those decisions for the passes after the first. It must write the same
// rules, byte for byte, and refuse the same ones, as verifying every record in every pass does.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { distill } from '../src/distill/distill.js';
import { readRecords } from '../src/records/records.js';
// @ts-expect-error: a plain JavaScript module shared with the benchmarks
import { generateRecords } from '../bench/lib/records.mjs';
import { ROOT } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'govern-distill-incr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('incremental distill', () => {
  it('writes the same files and refuses the same rules as a full verification in every pass', async () => {
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    const file = join(dir, 'records.jsonl');
    // Enough records that some learned rules are refused and verification takes several passes.
    writeFileSync(file, [...(generateRecords(1500) as Iterable<unknown>)].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const records = await readRecords(file);
    const incremental = await distill(records, { policies: join(dir, 'policies') });
    const full = await distill(records, { policies: join(dir, 'policies'), full: true });
    expect(incremental.stats.iterations).toBeGreaterThan(1);
    expect(incremental.rules.length).toBeGreaterThan(0);
    expect(incremental.rejected.length).toBeGreaterThan(0);
    expect([...incremental.files]).toEqual([...full.files]);
    expect(incremental.rejected).toEqual(full.rejected);
    expect(incremental.retired).toEqual(full.retired);
    expect(incremental.outliers).toEqual(full.outliers);
  }, 300_000);

  it('decides repeated requests once, keeps the one the model answered otherwise as dissent, and refuses what the record contradicts', async () => {
    const policies = join(dir, 'policies');
    cpSync(join(ROOT, 'policies'), policies, { recursive: true });
    const file = join(dir, 'repeats.jsonl');
    // Each request asked five times by callers of its own, and requests that differ only where no
    // rule looks (the resource id of a dashboard, the number of a change ticket) or only where
    // one does (a path, the trust): the engine sees far fewer requests than records.
    type Rec = { request: { id?: string; resource: { id: string }; agent: { trust?: number } }; decision: { id: string; decision: string; reasons: { effect: string }[] }; at: string };
    const base = [...(generateRecords(400, { seed: 11 }) as Iterable<Rec>)];
    const lines: Rec[] = [];
    base.forEach((r, i) => {
      for (let k = 0; k < 5; k++) {
        const copy = structuredClone(r);
        copy.request.id = `caller-${i}-${k}`;
        copy.decision.id = `${r.decision.id}-${k}`;
        copy.at = new Date(Date.parse(r.at) + k * 1000).toISOString();
        if (k === 4 && copy.request.resource.id.startsWith('d-')) copy.request.resource.id = `d-other-${i}`;
        lines.push(copy);
      }
    });
    // The model escalated one dashboard view, asked exactly as others it allowed: deciding it once
    // with them must not hide it; it stays on record as the allow rule's dissent.
    const view = structuredClone(lines.find((r) => r.request.resource.id.startsWith('d-') && r.decision.decision === 'allow')!);
    view.decision = { ...view.decision, id: 'dec_contradicts', decision: 'escalate', reasons: [{ ...view.decision.reasons[0]!, effect: 'escalate' }] };
    lines.push(view);
    writeFileSync(file, lines.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const records = await readRecords(file);
    const once = await distill(records, { policies });
    const full = await distill(records, { policies, full: true });
    expect([...once.files]).toEqual([...full.files]);
    expect(once.rejected).toEqual(full.rejected);
    expect(once.retired).toEqual(full.retired);
    expect(once.outliers).toEqual(full.outliers);
    expect(once.outliers.some((o) => o.decision === 'dec_contradicts' && o.recorded === 'escalate')).toBe(true);
    // A rule that decides a recorded request otherwise than the record is refused all the same.
    expect(once.rejected.some((r) => /^would (allow|escalate|deny) what was/.test(r.reason))).toBe(true);
  }, 300_000);
});
