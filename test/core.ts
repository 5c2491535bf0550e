// Running govern's commands inside the test process: the same commander program bin/govern runs,
// with its output, exit code, working folder, environment and stdin captured for one call. Most
// tests use this; a few per command keep spawning bin/govern (helpers.ts) for what only a real
// process shows: the exit of the process, the daemon's fast path, a closed pipe.
import { Readable } from 'node:stream';
import { buildProgram } from '../src/cli/program.js';
import { usageErrorOf } from '../src/cli/errors.js';
import { ROOT, type Run } from './helpers.js';

class Exit extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

/** One call at a time: a call changes process-wide state (cwd, env, stdio) until it returns. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * `govern ARGS` in process, as `govern()` in helpers.ts runs it in a child: NO_COLOR set, no TTY,
 * `input` on stdin, `cwd` as the working folder. Errors are reported as main() in
 * src/cli/program.ts reports them: commander's usage line, or `govern: MESSAGE` for a user's error;
 * anything else is thrown, so that a test fails on it.
 */
export function cli(args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const next = queue.then(() => runNow(args, opts));
  queue = next.catch(() => undefined);
  return next;
}

async function runNow(args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string> }): Promise<Run> {
  // `govern explain ...` is `govern eval --explain ...`, as bin/govern rewrites it.
  const i = args.findIndex((a) => !a.startsWith('-'));
  if (i >= 0 && args[i] === 'explain') args = [...args.slice(0, i), 'eval', '--explain', ...args.slice(i + 1)];
  let stdout = '';
  let stderr = '';
  const saved = {
    cwd: process.cwd(),
    exitCode: process.exitCode,
    exit: process.exit,
    out: process.stdout.write,
    err: process.stderr.write,
    stdin: Object.getOwnPropertyDescriptor(process, 'stdin')!,
    env: { ...process.env },
  };
  const env: Record<string, string> = { NO_COLOR: '1', FORCE_COLOR: '', ...opts.env };
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  process.chdir(opts.cwd ?? ROOT);
  process.exitCode = undefined;
  process.exit = ((code?: number) => { throw new Exit(code ?? (process.exitCode as number | undefined) ?? 0); }) as typeof process.exit;
  const capture = (add: (s: string) => void) => ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    add(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture((s) => (stdout += s));
  process.stderr.write = capture((s) => (stderr += s));
  Object.defineProperty(process, 'stdin', { value: Readable.from([Buffer.from(opts.input ?? '')]), configurable: true, writable: true });
  let code: number;
  try {
    code = await main(args);
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    code = e.code;
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    Object.defineProperty(process, 'stdin', saved.stdin);
    process.exit = saved.exit;
    process.chdir(saved.cwd);
    for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
    Object.assign(process.env, saved.env);
  }
  process.exitCode = saved.exitCode;
  return { code, stdout, stderr };
}

/** main() of src/cli/program.ts without the daemon's fast path; resolves with the exit code. */
async function main(args: string[]): Promise<number> {
  const program = await buildProgram(['node', 'govern', ...args]);
  const { CommanderError } = await import('commander');
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      const name = args.find((a) => !a.startsWith('-'));
      const sub = program.commands.find((c) => c.name() === name);
      process.stderr.write(`usage: ${sub ? `govern ${sub.name()} ${sub.usage()}` : `govern ${program.usage()}`}\n`);
      return 1;
    }
    // An error the user caused, mapped as main() maps it: a message and the exit code that goes with it.
    const usage = await usageErrorOf(e);
    if (usage) {
      process.stderr.write(`govern: ${usage.message}\n`);
      return usage.code;
    }
    throw e;
  }
  return Number(process.exitCode ?? 0);
}
