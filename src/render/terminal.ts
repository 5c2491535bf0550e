// Where output goes and how it looks: colour only on a TTY and never with NO_COLOR or --no-color;
// writes that wait for a slow reader, and a quiet end when the reader goes away; a progress bar on stderr for long runs.
import type { Style } from '../diagnostics/render.js';
import { plain } from '../diagnostics/render.js';
import { EXIT } from '../diagnostics/exit.js';

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
 * that goes away ends the process through stdout's error handler, see src/cli/program.ts.)
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

/**
 * Resolves once everything written so far to stdout and stderr has been handed to the OS. A pipe
 * takes 64 KB at a time and Node queues the rest, which `process.exit` would drop: a large
 * `--format json` report piped to another program arrived cut off. An empty write's callback runs
 * after the writes queued before it.
 */
export async function flushOutput(): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.destroyed || stream.writableLength === 0) continue;
    await new Promise<void>((resolve) => {
      stream.once('close', resolve);
      stream.write('', () => {
        stream.removeListener('close', resolve);
        resolve();
      });
    });
  }
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

let pipeHandled = false;

/**
 * A reader that goes away (`govern ledger export | head -n 1`) closes stdout: the command stops
 * quietly, with the exit code it has set so far (0 if none), instead of an EPIPE stack trace.
 */
export function endQuietlyOnClosedStdout(): void {
  if (pipeHandled) return;
  pipeHandled = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
    process.stderr.write(`govern: cannot write the output: ${e.message}\n`);
    process.exit(EXIT.failure);
  });
}
