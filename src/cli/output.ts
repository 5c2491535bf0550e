// Where output goes and how it looks: colour only on a TTY and never with NO_COLOR or --no-color.
import type { Style } from '../diagnostics/render.js';
import { plain } from '../diagnostics/render.js';

export const EXIT = {
  ok: 0, failure: 1, deny: 2, policyErrors: 3, escalate: 3, testsFailed: 4, ledgerTampered: 5, providerDown: 6,
  /** distill --check: distilled rules are missing, stale, retired or edited by hand. */
  distillOutOfDate: 7,
  /** distill --check: a distilled rule disagrees with a recorded decision. */
  distillDisagrees: 8,
  /** replay: the pipeline allowed what the model denied or escalated. */
  falseAllow: 9,
  /** replay: agreement or coverage under --min-agreement / --min-coverage. */
  belowThreshold: 10,
  /** route: a fixture's expectation is not met, or an accuracy is under --min-accuracy. */
  expectationsFailed: 11,
} as const;

export function useColor(opts: { color?: boolean }, stream: NodeJS.WriteStream = process.stdout): boolean {
  if (opts.color === false) return false;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '' && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

/** Colours for a terminal; chalk is loaded only when there is one. */
export async function styleFor(color: boolean): Promise<Style> {
  if (!color) return plain;
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: 1 });
  return { red: c.red, yellow: c.yellow, blue: c.cyan, dim: c.dim, bold: c.bold };
}

/**
 * Writes to stdout and resolves once the stream has taken it, waiting for 'drain' when a slow
 * reader has filled the pipe. Callers await it before producing more, and the process exits only
 * after the last write resolved, so no output is dropped behind a pipe that is full. (A reader
 * that goes away ends the process through stdout's error handler, see program.ts.)
 */
export function writeOut(text: string, stream: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (stream.write(text)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.removeListener('drain', done);
      stream.removeListener('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}

/** An error the user caused; the CLI prints it without a stack trace and exits with `code`. */
export class UsageError extends Error {
  constructor(message: string, readonly code: number = EXIT.failure) {
    super(message);
  }
}

/** `n` of `d` as a percentage with one decimal, or "-" when there is nothing to divide by. */
export function pct(n: number, d: number): string {
  return d ? `${((n / d) * 100).toFixed(1)}%` : '-';
}

/**
 * A progress bar on stderr for a run over `total` items: only on a terminal, never with --quiet,
 * only for long inputs, and only once the run has taken a second.
 */
export function progressBar(total: number, quiet?: boolean): { tick(done: number): void; clear(): void } {
  const on = process.stderr.isTTY === true && !quiet && total > 50;
  const started = Date.now();
  return {
    tick(done) {
      if (!on || done % 10 !== 0 || Date.now() - started <= 1000) return;
      const w = 30;
      const filled = Math.round((done / total) * w);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(w - filled)}] ${done}/${total}`);
    },
    clear() {
      if (on) process.stderr.write('\r\x1b[K');
    },
  };
}

/** A share from "0.95" or "95%"; anything else is a usage error naming the flag. */
export function parseShare(flag: string, v: string, opts: { open?: boolean } = {}): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(%?)\s*$/.exec(v);
  const n = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  const inRange = opts.open ? n > 0 && n < 1 : n >= 0 && n <= 1;
  if (!m || !inRange) {
    throw new UsageError(`${flag}: "${v}" is not ${opts.open ? 'a share between 0 and 1 (exclusive)' : 'a share from 0 to 1'}; give a fraction such as ${opts.open ? '0.7' : '0.95'} or a percentage such as ${opts.open ? '70%' : '95%'}.`);
  }
  return n;
}
