// `govern eval`: one request in (stdin, a file, or flags), one decision out, recorded; the exit
// code says allow (0), deny (2) or escalate (3), so `govern eval ... && act` fails closed.
// `--batch` decides JSON Lines in one process, one decision a line, in order.
import { closeSync, constants, createReadStream, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import type { Command } from 'commander';
// Only what reading the request and asking a daemon need is imported at start; the engine, the
// state file and the detectors are loaded when the request is decided in this process.
import type { Decision } from '../engine/engine.js';
import type { Evaluation, Runtime } from '../runtime/runtime.js';
import { LineSplitter } from '../serve/lines.js';
import { distrust, evalThroughDaemon, identityOf, socketPath } from './daemon.js';
import { EXIT, styleFor, UsageError, useColor, writeOut } from './output.js';
import type { GlobalOptions } from './options.js';
import { renderDecision, renderExplanation } from './render-decision.js';

type Errors = { RequestError: typeof import('../request/normalize.js').RequestError; StateError: typeof import('../ledger/state.js').StateError };

/** The error classes a decision can raise, loaded with the engine rather than at start. */
async function errorClasses(): Promise<Errors> {
  const [{ RequestError }, { StateError }] = await Promise.all([import('../request/normalize.js'), import('../ledger/state.js')]);
  return { RequestError, StateError };
}

async function openRuntime(c: Command): Promise<Runtime> {
  return (await import('./runtime.js')).openRuntime(c);
}

/** Requests larger than this are refused before parsing: no agent needs more, and it bounds memory. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

interface EvalOptions {
  format: 'human' | 'json';
  daemon: boolean;
  explain?: boolean;
  batch?: string;
  wait?: string;
  agent?: string; action?: string; category?: string; resource?: string; env?: string; namespace?: string;
  command?: string; content?: string; request?: string; justification?: string; costUsd?: string; tokens?: string;
}

const FLAG_FIELDS: [keyof EvalOptions, string][] = [
  ['agent', 'agent'], ['action', 'action'], ['category', 'category'], ['resource', 'resource'], ['env', 'environment'],
  ['namespace', 'namespace'], ['command', 'command'], ['content', 'content'], ['request', 'request'], ['justification', 'justification'],
];

export function exitCodeOf(d: Decision): number {
  return d.decision === 'allow' ? EXIT.ok : d.decision === 'deny' ? EXIT.deny : EXIT.escalate;
}

function parseNumber(flag: string, v: string, integer: boolean): number {
  const n = Number(v);
  if (!v.trim() || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new UsageError(`${flag}: "${v}" is not ${integer ? 'a whole number' : 'a number'} of 0 or more.`);
  return n;
}

/** The request from flags, a file or stdin; each source is an error to combine with another. */
async function readRequest(file: string | undefined, opts: EvalOptions): Promise<unknown> {
  const fromFlags: Record<string, unknown> = {};
  for (const [flag, field] of FLAG_FIELDS) if (opts[flag] !== undefined) fromFlags[field] = opts[flag];
  if (opts.costUsd !== undefined || opts.tokens !== undefined) {
    fromFlags.cost = {
      ...(opts.costUsd !== undefined ? { usd: parseNumber('--cost-usd', opts.costUsd, false) } : {}),
      ...(opts.tokens !== undefined ? { tokens: parseNumber('--tokens', opts.tokens, true) } : {}),
    };
  }
  const hasFlags = Object.keys(fromFlags).length > 0;
  if (hasFlags && file) throw new UsageError('give the request either as a file or with flags, not both.');
  if (hasFlags) return fromFlags;
  if (!file && process.stdin.isTTY) throw new UsageError('no request: pipe JSON on stdin, name a file, or use flags such as --agent and --action (see govern eval --help).');
  if (!file || file === '-') return parseRequestText(await readStdin(MAX_REQUEST_BYTES), 'stdin');
  return parseRequestText(readRequestFile(file).toString('utf8'), file);
}

/** Over the limit, in MB rounded up (so a request just over 1 MB never reads "1.0 MB"). */
function tooLarge(where: string, bytes: number, atLeast = false): UsageError {
  return new UsageError(`${where}: the request is ${atLeast ? 'over ' : ''}${(Math.ceil(bytes / 104857.6) / 10).toFixed(1)} MB; the limit is 1 MB.`);
}

function cannotRead(where: string, e: unknown): UsageError {
  const code = (e as NodeJS.ErrnoException).code;
  return new UsageError(`cannot read ${where}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}.`);
}

function stdinStats(): Stats | undefined {
  try {
    return fstatSync(0);
  } catch {
    return undefined;
  }
}

/** What a file that is not a regular one is, for messages. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * One request file, read only up to the limit: a regular file only (a device or a FIFO would
 * never end, or never start), refused by its size before anything is read, and never more than
 * `limit` + 1 bytes read even if it grows meanwhile.
 */
export function readRequestFile(path: string, limit = MAX_REQUEST_BYTES): Buffer {
  let fd: number;
  try {
    // Non-blocking, so that opening a FIFO does not wait for a writer; regular files read as usual.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw cannotRead(path, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UsageError(`${path} is ${kindOf(st)}, not a file; give a file that holds one request as JSON, or pipe the request on stdin.`);
    if (st.size > limit) throw tooLarge(path, st.size);
    // Sized by the file, grown as it reads (a file may grow, and a /proc file says 0): at most limit + 1.
    let buf = Buffer.allocUnsafe(Math.min(limit, Math.max(st.size, 4096)) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        const bigger = Buffer.allocUnsafe(Math.min(limit + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) return buf.subarray(0, n);
      n += got;
      if (n > limit) throw tooLarge(path, n, true);
    }
  } catch (e) {
    throw e instanceof UsageError ? e : cannotRead(path, e);
  } finally {
    closeSync(fd);
  }
}

/**
 * Stdin as text, read up to twice the limit and no further, so that an endless or huge input
 * (`< /dev/zero`) is refused with its size instead of filling memory.
 */
async function readStdin(limit: number): Promise<string> {
  // A file on stdin (`< big.json`) says its size: refused before it is read.
  const st = stdinStats();
  if (st?.isDirectory()) throw new UsageError('stdin is a directory; pipe the request as JSON, or name a file.');
  if (st?.isFile() && st.size > limit) throw tooLarge('stdin', st.size);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of process.stdin) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size > limit * 2) throw tooLarge('stdin', limit * 2, true);
    }
  } catch (e) {
    throw e instanceof UsageError ? e : cannotRead('stdin', e);
  }
  if (size > limit) throw tooLarge('stdin', size);
  return Buffer.concat(chunks, size).toString('utf8');
}

export function parseRequestText(text: string, where: string): unknown {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_REQUEST_BYTES) throw tooLarge(where, bytes);
  if (!text.trim()) throw new UsageError(`${where}: empty input; expected a request as JSON.`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${where}: not valid JSON: ${(e as Error).message}.`);
  }
}

function requestError(e: unknown, where: string, { RequestError, StateError }: Errors): UsageError {
  if (e instanceof RequestError) return new UsageError(`${where}: ${e.message}`);
  if (e instanceof StateError) return new UsageError(e.message);
  throw e;
}

/** Lines decided per transaction: one commit for many decisions, whose output is written after it. */
const BATCH_CHUNK = 256;

/**
 * The batch's input: stdin, or a file or pipe (`--batch <(producer)`). A directory or a device
 * is refused: one would fail on the first read, the other (`/dev/zero`) would never end.
 */
/** /dev/null: a device, but an empty input, as scripts and services give a command with no stdin. */
function isNull(st: Stats): boolean {
  try {
    return st.isCharacterDevice() && st.rdev === statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}

/** A device other than /dev/null: its input may never end (`/dev/zero`, `/dev/urandom`). */
function isDevice(st: Stats): boolean {
  return (st.isCharacterDevice() || st.isBlockDevice()) && !isNull(st);
}

function batchInput(source: string): NodeJS.ReadableStream {
  if (source === '-') {
    const st = stdinStats();
    if (st && (st.isDirectory() || (isDevice(st) && !process.stdin.isTTY))) throw new UsageError(`--batch: stdin is ${kindOf(st)}; give a file of JSON Lines or a pipe.`);
    return process.stdin;
  }
  let st: Stats;
  try {
    st = statSync(source);
  } catch (e) {
    throw cannotRead(source, e);
  }
  if (!st.isFile() && !st.isFIFO() && !isNull(st)) throw new UsageError(`--batch: ${source} is ${kindOf(st)}; give a file of JSON Lines, a pipe, or "-" for stdin.`);
  return createReadStream(source);
}

async function runBatch(rt: Runtime, source: string): Promise<number> {
  const { RequestError, StateError } = await errorClasses();
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
        return { line, p: rt.prepare(parseRequestText(text!, `line ${line}`)) };
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
  if (failed) process.stderr.write(`govern: ${failed} of ${n} lines could not be decided (see their error objects).\n`);
  return failed ? EXIT.failure : EXIT.ok;
}

/** What the early path (before commander) read and asked, for the action not to do it twice. */
const early: { read: boolean; raw?: unknown; asked: boolean } = { read: false, asked: false };

const GLOBAL_VALUE_FLAGS: Record<string, 'config' | 'policies' | 'state' | 'bundle'> = { '-c': 'config', '--config': 'config', '-p': 'policies', '--policies': 'policies', '--state': 'state', '--bundle': 'bundle' };
const EVAL_VALUE_FLAGS: Record<string, keyof EvalOptions> = {
  '-f': 'format', '--format': 'format', '--cost-usd': 'costUsd', '--tokens': 'tokens',
  ...Object.fromEntries(FLAG_FIELDS.map(([k]) => [`--${k}`, k])),
};

/**
 * `govern eval` through a daemon without loading commander or anything else: argv is read here
 * only when it is plainly `eval` (or `explain`) with the flags below, a trusted socket exists, and
 * nothing asks for more (help, --batch, --wait, --no-daemon); anything else returns false before
 * stdin is touched, and the command runs as usual. When the daemon answers, its output is printed
 * and true returned. When it declines (other policies, an edit not yet served), the request read
 * is kept for the usual path, which then decides in process.
 */
export async function evalEarly(argv: string[]): Promise<boolean> {
  const g: GlobalOptions & { state?: string | boolean } = {};
  const opts: Partial<EvalOptions> = { format: 'human' };
  let command: string | undefined;
  let file: string | undefined;
  for (let i = 2; i < argv.length; i++) {
    let a = argv[i]!;
    let value: string | undefined;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    if (eq > 0) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const take = (): string | undefined => {
      if (value !== undefined) return value;
      const v = argv[++i];
      return v === undefined || v.startsWith('-') ? undefined : v;
    };
    if (!a.startsWith('-')) {
      if (command === undefined) command = a;
      else if (file === undefined) file = a;
      else return false;
      if (command !== 'eval') return false;
      continue;
    }
    if (a === '-q' || a === '--quiet') g.quiet = true;
    else if (a === '--no-color') g.color = false;
    else if (a === '--no-state') g.state = false;
    else if (a === '--explain' && command !== undefined) opts.explain = true;
    else if (a in GLOBAL_VALUE_FLAGS) {
      const v = take();
      if (v === undefined) return false;
      g[GLOBAL_VALUE_FLAGS[a]!] = v;
    } else if (a in EVAL_VALUE_FLAGS && command !== undefined) {
      const v = take();
      if (v === undefined) return false;
      (opts as Record<string, unknown>)[EVAL_VALUE_FLAGS[a]!] = v;
    } else return false;
    if (value !== undefined && !(a in GLOBAL_VALUE_FLAGS) && !(a in EVAL_VALUE_FLAGS)) return false;
  }
  if (command !== 'eval' || (opts.format !== 'human' && opts.format !== 'json')) return false;
  const identity = identityOf(g);
  if (distrust(socketPath(identity)) !== undefined) return false;
  early.raw = await readRequest(file, opts as EvalOptions);
  early.read = true;
  early.asked = true;
  const where = file && file !== '-' ? file : Object.keys(opts).some((k) => FLAG_FIELDS.some(([f]) => f === k)) ? 'flags' : 'stdin';
  const answer = await evalThroughDaemon({ identity, request: early.raw, format: opts.format, explain: opts.explain === true, color: useColor(g), quiet: g.quiet === true });
  if (!answer) return false;
  if ('error' in answer) throw new UsageError(answer.kind === 'request' ? `${where}: ${answer.error}` : answer.error);
  process.exitCode = answer.exit;
  if (answer.stdout) await writeOut(answer.stdout);
  return true;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description('decide one request (JSON on stdin, a file, or flags); exit 0 allow, 2 deny, 3 escalate')
    .argument('[file]', 'a request as JSON ("-" for stdin)')
    .addOption(program.createOption('-f, --format <format>', 'output format').choices(['human', 'json']).default('human'))
    .option('--explain', 'also show the facts, detector findings and how each rule was decided')
    .option('--batch <file>', 'decide JSON Lines ("-" for stdin), one decision a line, in order')
    .option('--wait <seconds>', 'on escalate, wait up to this long for a human: approved, the request is decided again (allowed once); denied, expired or timed out, exit 2')
    .option('--agent <id>', 'the agent that asks')
    .option('--action <verb>', 'what it wants to do, e.g. delete')
    .option('--category <category>', 'CREATE, MODIFY, DELETE, ACCESS or COMPLY (else inferred)')
    .option('--resource <resource>', 'TYPE/ID, e.g. k8s:pod/web-1, or file:PATH')
    .option('--env <environment>', 'environment (default production)')
    .option('--namespace <namespace>', 'namespace')
    .option('--command <command>', 'the shell command it will run')
    .option('--content <text>', 'text that leaves the agent')
    .option('--request <text>', 'free-text description of the intent')
    .option('--justification <text>', 'why the agent wants it')
    .option('--cost-usd <usd>', 'estimated cost in dollars')
    .option('--tokens <n>', 'estimated tokens')
    .option('--no-daemon', 'decide in this process even when a govern daemon for this configuration runs')
    .addHelpText('after', '\nExit codes: 0 allow, 2 deny, 3 escalate, 1 failure (bad input, bad policies, internal error).\nWith --batch: 0 when every line was decided, 1 when any line failed (its line holds an error object).');
  cmd.action(async (file: string | undefined, opts: EvalOptions, c: Command) => {
    const g = c.optsWithGlobals<GlobalOptions & EvalOptions>();
    if (opts.batch !== undefined) {
      if (file) throw new UsageError('--batch reads its own input; drop the request file.');
      const rt = await openRuntime(c);
      try {
        process.exitCode = await runBatch(rt, opts.batch);
        await rt.settled();
      } finally {
        rt.close();
      }
      return;
    }
    const waitS = opts.wait !== undefined ? parseNumber('--wait', opts.wait, false) : undefined;
    const raw = early.read ? early.raw : await readRequest(file, opts);
    const where = file && file !== '-' ? file : Object.keys(opts).some((k) => FLAG_FIELDS.some(([f]) => f === k)) ? 'flags' : 'stdin';
    // A daemon that serves exactly what this process would load decides it, and prints the same.
    if (opts.daemon && waitS === undefined && !early.asked) {
      const answer = await evalThroughDaemon({ identity: identityOf(g), request: raw, format: opts.format, explain: opts.explain === true, color: useColor(g), quiet: g.quiet === true });
      if (answer && 'error' in answer) throw new UsageError(answer.kind === 'request' ? `${where}: ${answer.error}` : answer.error);
      if (answer) {
        process.exitCode = answer.exit;
        if (answer.stdout) await writeOut(answer.stdout);
        return;
      }
    }
    const rt = await openRuntime(c);
    let ev: Evaluation;
    try {
      ev = await rt.evaluate(raw);
    } catch (e) {
      rt.close();
      throw requestError(e, where, await errorClasses());
    }
    await rt.settled();
    let unanswered: string | undefined;
    if (waitS !== undefined && ev.decision.decision === 'escalate' && ev.escalation && rt.state) {
      const { waitForAnswer } = await import('../escalation/escalation.js');
      if (!g.quiet && opts.format !== 'json') process.stderr.write(`waiting up to ${waitS} s for a human: govern escalations approve ${ev.escalation}\n`);
      const answer = await waitForAnswer(rt.state, ev.escalation, waitS * 1000);
      if (answer.status === 'approved') ev = await rt.evaluate(raw);
      else unanswered = answer.timed_out ? `no human answered escalation ${ev.escalation} within ${waitS} s (--wait): do not proceed` : `escalation ${ev.escalation} was ${answer.status}${answer.resolved_by ? ` by ${answer.resolved_by}` : ''}: do not proceed`;
    }
    // The decision is committed. The state file is not closed: closing checkpoints the WAL (a disk
    // flush, most of the cost of a cached decision), which the next writer or checkpoint does anyway.
    process.exitCode = exitCodeOf(ev.decision);
    if (opts.format === 'json') {
      await writeOut(JSON.stringify(opts.explain ? { ...ev.decision, explanation: explanationData(ev, rt) } : ev.decision, null, 2) + '\n');
    } else if (!g.quiet) {
      const style = await styleFor(useColor(g));
      await writeOut(renderDecision(ev, style) + (opts.explain ? renderExplanation(ev, rt, style) : ''));
    }
    if (unanswered) {
      process.stderr.write(`govern: ${unanswered}\n`);
      process.exitCode = EXIT.deny;
    }
  });
}

export { explanationData } from '../runtime/explain.js';
import { explanationData } from '../runtime/explain.js';
