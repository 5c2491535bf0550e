// What the command line does before the commander program and the engine are loaded: find the
// command word, and answer a plain `govern eval` through a running daemon. bin/govern runs this
// first, from its own small bundle (dist/early.cjs, scripts/bundle.mjs), so that an eval a daemon
// answers never loads the bundle of the whole command line; the command line's main() runs it
// when nothing did.
import { askEarly } from './client.js';
import { endQuietlyOnClosedStdout, writeOut } from '../render/terminal.js';
import { UsageError } from '../diagnostics/usage.js';

export { flushOutput } from '../render/terminal.js';

/** Global options that take a value: the word after them is not the command. */
const GLOBAL_VALUES = new Set(['-c', '--config', '-p', '--policies', '--state', '--bundle']);

/** Where the command word of argv is (after node and the script), or -1 when there is none. */
export function commandAt(argv: string[]): number {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return -1;
    if (GLOBAL_VALUES.has(a)) i++;
    else if (!a.startsWith('-')) return i;
  }
  return -1;
}

export const commandOf = (argv: string[]): string | undefined => argv[commandAt(argv)];

/** `explain` is `eval --explain`: same input, same flags, same exit codes. */
export function rewriteExplain(argv: string[]): string[] {
  const i = commandAt(argv);
  return i >= 0 && argv[i] === 'explain' ? [...argv.slice(0, i), 'eval', '--explain', ...argv.slice(i + 1)] : argv;
}

/** Prints an error the user caused, and sets the exit code it names. */
export function reportUsage(usage: UsageError): void {
  process.stderr.write(`govern: ${usage.message}\n`);
  process.exitCode = usage.code;
}

/**
 * The early path's outcome: `done` when the command is over (a daemon answered, or the request
 * could not be read: the error is printed); else the request it read, if any, which the eval
 * command then takes instead of reading its input again.
 */
export type Early = { done: true } | { done: false; read?: { request: unknown } };

/** A plain `govern eval` (or explain) answered by a daemon for the same config and policies. */
export async function answerEarly(argv: string[]): Promise<Early> {
  argv = rewriteExplain(argv);
  if (commandOf(argv) !== 'eval') return { done: false };
  try {
    const r = await askEarly(argv);
    if (!r) return { done: false };
    if (!r.answer) return { done: false, read: { request: r.request } };
    endQuietlyOnClosedStdout();
    process.exitCode = r.answer.exit;
    if (r.answer.stdout) await writeOut(r.answer.stdout);
    return { done: true };
  } catch (e) {
    // Reading the request and asking the daemon raise usage errors only; anything else is a bug.
    if (!(e instanceof UsageError)) throw e;
    reportUsage(e);
    return { done: true };
  }
}
