// Reading a raw request: from flags, a file or stdin, each refused past 1 MB before it is parsed,
// and the JSON Lines input of a batch. Imports only node:fs, so a daemon-backed eval reads its
// request without loading the engine.
import { closeSync, constants, createReadStream, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { UsageError } from '../diagnostics/usage.js';

/** Requests larger than this are refused before parsing: no agent needs more, and it bounds memory. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** The request fields `govern eval` takes as flags, by option name. */
export interface RequestFlags {
  agent?: string; action?: string; category?: string; resource?: string; env?: string; namespace?: string;
  command?: string; content?: string; request?: string; justification?: string; costUsd?: string; tokens?: string;
}

/** Each flag's option name and the request field it sets. */
export const FLAG_FIELDS: [keyof RequestFlags, string][] = [
  ['agent', 'agent'], ['action', 'action'], ['category', 'category'], ['resource', 'resource'], ['env', 'environment'],
  ['namespace', 'namespace'], ['command', 'command'], ['content', 'content'], ['request', 'request'], ['justification', 'justification'],
];

/** A number of 0 or more from a flag (`integer`: a whole one); else a usage error naming the flag, with `note`. */
export function parseNumber(flag: string, v: string, integer: boolean, note?: string): number {
  const n = Number(v);
  if (!v.trim() || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new UsageError(`${flag}: "${v}" is not ${integer ? 'a whole number' : 'a number'} of 0 or more${note ? ` (${note})` : ''}.`);
  return n;
}

/** Where the request came from, for messages: the file, "flags" or "stdin". */
export function requestWhere(file: string | undefined, flags: object): string {
  return file && file !== '-' ? file : Object.keys(flags).some((k) => FLAG_FIELDS.some(([f]) => f === k)) ? 'flags' : 'stdin';
}

/** The request from flags, a file or stdin; each source is an error to combine with another. */
export async function readRequest(file: string | undefined, opts: RequestFlags): Promise<unknown> {
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
export function tooLarge(where: string, bytes: number, atLeast = false): UsageError {
  return new UsageError(`${where}: the request is ${atLeast ? 'over ' : ''}${(Math.ceil(bytes / 104857.6) / 10).toFixed(1)} MB; the limit is 1 MB.`);
}

export function cannotRead(where: string, e: unknown): UsageError {
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

/**
 * The batch's input: stdin, or a file or pipe (`--batch <(producer)`). A directory or a device
 * is refused: one would fail on the first read, the other (`/dev/zero`) would never end.
 */
export function batchInput(source: string): NodeJS.ReadableStream {
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
