// `govern eval --batch`: JSON Lines decided in one process, one decision a line, in input order.
// Lines are decided in chunks, each recorded in one transaction and printed only once committed.
import { UsageError } from '../diagnostics/usage.js';
import { StateError } from '../ledger/state.js';
import { writeOut } from '../render/terminal.js';
import { batchInput, cannotRead, MAX_REQUEST_BYTES, parseRequestText, tooLarge } from '../request/input.js';
import { RequestError } from '../request/normalize.js';
import type { Runtime } from '../runtime/runtime.js';
import { LineSplitter } from '../serve/lines.js';

/** Lines decided per transaction: one commit for many decisions, whose output is written after it. */
const BATCH_CHUNK = 256;

/** Decides every line of `source` ("-" for stdin) and writes a decision or an error object a line. */
export async function runBatch(rt: Runtime, source: string): Promise<{ failed: number; lines: number }> {
  const input = batchInput(source);
  let failed = 0;
  let n = 0;
  const pending: { line: number; text?: string; error?: UsageError }[] = [];
  const fail = (line: number, e: unknown) => {
    failed++;
    const message = e instanceof UsageError ? e.message : e instanceof RequestError ? `line ${line}: ${e.message}` : `line ${line}: internal error: ${String((e as Error)?.message ?? e).replace(/\s*\n\s*/g, ' ')}`;
    return { error: { line, message } };
  };
  // Lines over the limit are counted, not kept, and answered with an error object in their place.
  const splitter = new LineSplitter(MAX_REQUEST_BYTES, {
    line: (text) => void pending.push({ line: ++n, text }),
    oversized: (bytes) => {
      n++;
      pending.push({ line: n, error: tooLarge(`line ${n}`, bytes) });
    },
    blank: () => void n++,
  });
  const decideChunk = async () => {
    if (!pending.length) return;
    const chunk = pending.splice(0, BATCH_CHUNK);
    // Prepare every line, ask the model about those nobody decided, then record the chunk at once.
    const prepared = chunk.map(({ line, text, error }) => {
      if (error) return { line, error: fail(line, error) };
      try {
        return { line, p: rt.prepare(parseRequestText(text!, `line ${line}`), new Date(), { parsed: true }) };
      } catch (e) {
        return { line, error: fail(line, e) };
      }
    });
    const asked = await Promise.all(prepared.map(async (x) => (x.p ? rt.consult(x.p) : undefined)));
    let results: unknown[];
    try {
      results = rt.transaction(() => prepared.map((x, i) => {
        if (!x.p) return x.error as unknown;
        try {
          return rt.commit(x.p, asked[i]).decision as unknown;
        } catch (e) {
          return fail(x.line, e);
        }
      }));
    } catch (e) {
      if (e instanceof StateError) throw new UsageError(`${e.message} (at line ${chunk[0]!.line}; the lines before it were decided and printed)`);
      throw e;
    }
    // Written only once the chunk is committed: a printed decision is a recorded one. The next
    // chunk waits until stdout has taken this one, so a slow reader slows the batch down instead
    // of losing its output.
    await writeOut(results.map((r) => JSON.stringify(r) + '\n').join(''));
  };
  // Reading waits while a chunk is decided and written: the input is read no faster than stdout is.
  const chunks = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  let readError: unknown;
  for (;;) {
    let next: IteratorResult<Buffer | string>;
    try {
      next = await chunks.next();
    } catch (e) {
      readError = e;
      break;
    }
    if (next.done) break;
    splitter.push(typeof next.value === 'string' ? Buffer.from(next.value) : next.value);
    while (pending.length >= BATCH_CHUNK) await decideChunk();
  }
  // The lines read whole before a read error are still decided; a partial last line is not.
  if (readError === undefined) splitter.end();
  while (pending.length) await decideChunk();
  if (readError !== undefined) throw cannotRead(source === '-' ? 'stdin' : source, readError);
  return { failed, lines: n };
}
