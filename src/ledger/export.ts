// `govern ledger export`: decision records as JSON Lines to a stream, at the pace the reader takes
// them, stopping when it goes away.
import { createWriteStream } from 'node:fs';
import type { State } from './state.js';

/** Resolves when `out` can take more, or has closed or failed (then `writable` is false). */
function drained(out: NodeJS.WritableStream & { writable: boolean }): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    out.once('drain', done).once('close', done).once('error', done);
  });
}

/** Writes the ledger's records that pass `filter` to `file` (else stdout); returns how many. */
export async function exportLedger(st: () => State, filter: { since?: string; agent?: string; route?: string }, file: string | undefined): Promise<number> {
  const out = file ? createWriteStream(file) : process.stdout;
  let n = 0;
  for (const row of st().ledgerRows(filter)) {
    // The reader went away (`| head`): stop reading the ledger.
    if (!out.writable) break;
    if (!out.write(row.record + '\n')) await drained(out);
    n++;
  }
  if (file) await new Promise<void>((res, rej) => (out as ReturnType<typeof createWriteStream>).end((e?: Error | null) => (e ? rej(e) : res())));
  return n;
}
