// Incremental verification: distill decides again, in each pass after the first, only the records
// an added, removed or changed rule can reach. It must write the same rules, byte for byte, and
// refuse the same ones, as verifying every record in every pass does.
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
});
