// The client path `govern eval` takes before it loads the engine: when a daemon for the same
// configuration, policies, bundle and state file answers on the default socket, the request is
// decided there and its answer printed as is. The client loads only node:fs, node:net and
// node:path, so a daemon-backed eval starts about as fast as node itself.
//
// The default socket is in a folder only the user can use ($XDG_RUNTIME_DIR/govern, else
// govern-UID in the temporary folder, 0700), named by the configuration file's path (or the
// working folder when there is none). The client never talks to a socket, nor through a folder,
// owned by another user or open to others: it decides in process instead.
import { existsSync, lstatSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../diagnostics/usage.js';
import { useColor } from '../render/terminal.js';
import { FLAG_FIELDS, readRequest, requestWhere, type RequestFlags } from '../request/input.js';

/** What a daemon serves; a client uses it only when every field is the same as its own. */
export interface Identity {
  /** The configuration file, absolute, or null when there is none. */
  config: string | null;
  /** The working folder, when there is no configuration file (policies are then found from it). */
  root: string | null;
  policies: string | null;
  bundle: string | null;
  /** The state file given with --state, false for --no-state, null for the configuration's. */
  state: string | false | null;
}

export interface Flags { config?: string; policies?: string; bundle?: string; state?: string | boolean }

/** The nearest govern.config.yaml at or above `from`, as the configuration is found (without loading it). */
function findConfig(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const p = join(dir, 'govern.config.yaml');
    if (existsSync(p)) return p;
    if (dirname(dir) === dir) return undefined;
  }
}

/** FNV-1a, 64 bits, in hex: a stable short name (node:crypto costs more to load than the whole client). */
function shortHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, 'utf8')) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

export function identityOf(g: Flags, cwd = process.cwd()): Identity {
  const config = g.config ? resolve(cwd, g.config) : findConfig(cwd) ?? null;
  return {
    config,
    root: config ? null : resolve(cwd),
    policies: g.policies ? resolve(cwd, g.policies) : null,
    bundle: g.bundle ? resolve(cwd, g.bundle) : null,
    state: g.state === false ? false : typeof g.state === 'string' ? resolve(cwd, g.state) : null,
  };
}

export function sameIdentity(a: Identity, b: Identity): boolean {
  return a.config === b.config && a.root === b.root && a.policies === b.policies && a.bundle === b.bundle && a.state === b.state;
}

export const myUid = () => (typeof process.getuid === 'function' ? process.getuid() : -1);

/** The folder of the user's daemons: $XDG_RUNTIME_DIR/govern, else govern-UID in the temporary folder. */
export function daemonDir(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  return xdg ? join(xdg, 'govern') : join(tmpdir(), `govern-${myUid()}`);
}

/** The default socket of the daemon for this identity: one per configuration file (or working folder). */
export function socketPath(id: Identity): string {
  const key = shortHash(id.config ?? `dir:${id.root}`);
  return join(daemonDir(), `${key}.sock`);
}

/**
 * Why the socket may not be trusted, or undefined when it may: the socket and its folder must be
 * this user's, and the folder closed to everyone else (no one else could have put a socket there).
 */
export function distrust(path: string): string | undefined {
  const dir = join(path, '..');
  try {
    const d = lstatSync(dir);
    if (!d.isDirectory()) return `${dir} is not a folder`;
    if (d.uid !== myUid()) return `${dir} belongs to another user`;
    if ((d.mode & 0o077) !== 0) return `${dir} is open to other users`;
    const s = lstatSync(path);
    if (!s.isSocket()) return `${path} is not a socket`;
    if (s.uid !== myUid()) return `${path} belongs to another user`;
  } catch {
    return 'no daemon';
  }
  return undefined;
}

/** The call could not be sent: nothing was decided, so deciding in process is safe. */
class NotSent extends Error {}

/**
 * One JSON-RPC call on the socket. Rejects with NotSent when no connection was made; once the
 * request is sent, a lost connection is an error of its own (the daemon may have decided it).
 */
export function call(path: string, method: string, params: unknown, timeoutMs = 0): Promise<unknown> {
  return new Promise((resolveCall, reject) => {
    const sock = connect(path);
    let sent = false;
    let buf = '';
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      f();
    };
    if (timeoutMs) sock.setTimeout(timeoutMs, () => finish(() => reject(sent ? new Error('the daemon did not answer in time') : new NotSent('timeout'))));
    sock.once('connect', () => {
      sent = true;
      sock.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) + '\n');
    });
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      finish(() => {
        try {
          const m = JSON.parse(buf.slice(0, nl)) as { result?: unknown; error?: { message: string } };
          if (m.error) reject(new Error(m.error.message));
          else resolveCall(m.result);
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    sock.on('error', (e) => finish(() => reject(sent ? e : new NotSent(e.message))));
    sock.on('close', () => finish(() => reject(sent ? new Error('the daemon closed the connection before answering') : new NotSent('closed'))));
  });
}

/** What the daemon's `govern/eval` answers. */
export type EvalAnswer =
  | { stdout: string; exit: number }
  | { fallback: string }
  | { error: string; kind: 'request' | 'state' };

export interface EvalCall {
  identity: Identity;
  request: unknown;
  format: 'human' | 'json';
  explain: boolean;
  color: boolean;
  quiet: boolean;
}

/**
 * The daemon's answer to one eval, or undefined when there is no usable daemon (none running,
 * another user's socket, another configuration, or policies changed and not yet served): the
 * caller then decides in process.
 */
export async function evalThroughDaemon(params: EvalCall): Promise<Exclude<EvalAnswer, { fallback: string }> | undefined> {
  const path = socketPath(params.identity);
  if (distrust(path) !== undefined) return undefined;
  let answer: EvalAnswer;
  try {
    answer = (await call(path, 'govern/eval', params)) as EvalAnswer;
  } catch (e) {
    if (e instanceof NotSent) return undefined;
    throw new UsageError(`the daemon on ${path} failed while deciding: ${(e as Error).message}. Run again, or with --no-daemon; govern daemon status shows it.`);
  }
  if ('fallback' in answer) return undefined;
  return answer;
}

/** The daemon's answer to one eval, with an error answer turned into a message naming `where` the request came from. */
export async function askDaemon(params: EvalCall, where: string): Promise<{ stdout: string; exit: number } | undefined> {
  const answer = await evalThroughDaemon(params);
  if (answer && 'error' in answer) throw new UsageError(answer.kind === 'request' ? `${where}: ${answer.error}` : answer.error);
  return answer;
}

const GLOBAL_VALUE_FLAGS: Record<string, 'config' | 'policies' | 'state' | 'bundle'> = { '-c': 'config', '--config': 'config', '-p': 'policies', '--policies': 'policies', '--state': 'state', '--bundle': 'bundle' };
const EVAL_VALUE_FLAGS: Record<string, string> = {
  '-f': 'format', '--format': 'format', '--cost-usd': 'costUsd', '--tokens': 'tokens',
  ...Object.fromEntries(FLAG_FIELDS.map(([k]) => [`--${k}`, k])),
};

/**
 * `govern eval` through a daemon without loading commander or anything else: argv is read here
 * only when it is plainly `eval` (or `explain`) with the flags below, a trusted socket exists, and
 * nothing asks for more (help, --batch, --wait, --no-daemon); anything else returns undefined
 * before stdin is touched, and the command runs as usual. Otherwise the request is read and the
 * daemon asked: `answer` is what to print, or missing when it declined (other policies, an edit
 * not yet served), and the request read is kept for the usual path, which then decides in process.
 */
export async function askEarly(argv: string[]): Promise<{ request: unknown; answer?: { stdout: string; exit: number } } | undefined> {
  const g: Flags & { quiet?: boolean; color?: boolean } = {};
  const opts: RequestFlags & { format?: string; explain?: boolean } = { format: 'human' };
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
      else return undefined;
      if (command !== 'eval') return undefined;
      continue;
    }
    if (a === '-q' || a === '--quiet') g.quiet = true;
    else if (a === '--no-color') g.color = false;
    else if (a === '--no-state') g.state = false;
    else if (a === '--explain' && command !== undefined) opts.explain = true;
    else if (a in GLOBAL_VALUE_FLAGS) {
      const v = take();
      if (v === undefined) return undefined;
      g[GLOBAL_VALUE_FLAGS[a]!] = v;
    } else if (a in EVAL_VALUE_FLAGS && command !== undefined) {
      const v = take();
      if (v === undefined) return undefined;
      (opts as Record<string, unknown>)[EVAL_VALUE_FLAGS[a]!] = v;
    } else return undefined;
    if (value !== undefined && !(a in GLOBAL_VALUE_FLAGS) && !(a in EVAL_VALUE_FLAGS)) return undefined;
  }
  if (command !== 'eval' || (opts.format !== 'human' && opts.format !== 'json')) return undefined;
  const identity = identityOf(g);
  if (distrust(socketPath(identity)) !== undefined) return undefined;
  const request = await readRequest(file, opts);
  const answer = await askDaemon({ identity, request, format: opts.format, explain: opts.explain === true, color: useColor(g), quiet: g.quiet === true }, requestWhere(file, opts));
  return answer ? { request, answer } : { request };
}
