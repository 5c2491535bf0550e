// `govern daemon start|stop|status`, and the client path `govern eval` takes before it loads the
// engine: when a daemon for the same configuration, policies, bundle and state file answers on the
// default socket, the request is decided there and its answer printed as is. The client loads only
// node:fs, node:net and node:path, so a daemon-backed eval starts about as fast as node itself.
//
// The default socket is in a folder only the user can use ($XDG_RUNTIME_DIR/govern, else
// govern-UID in the temporary folder, 0700), named by the configuration file's path (or the
// working folder when there is none). The client never talks to a socket, nor through a folder,
// owned by another user or open to others: it decides in process instead.
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { EXIT, UsageError, writeOut } from './output.js';
import type { GlobalOptions } from './options.js';

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

interface Flags { config?: string; policies?: string; bundle?: string; state?: string | boolean }

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

const myUid = () => (typeof process.getuid === 'function' ? process.getuid() : -1);

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

// ---- govern daemon start|stop|status ----

interface DaemonInfo {
  pid: number;
  socket: string;
  started: string;
  identity: Identity;
  status: { version: string; bundle: { hash: string; rules: number; loaded_at: string }; policies: string; watching: boolean; reload_error: { message: string } | null; reloads: number; state: string | null; decisions: number; uptime_s: number };
}

async function daemonInfo(path: string, timeoutMs = 5000): Promise<DaemonInfo | undefined> {
  if (distrust(path) !== undefined) return undefined;
  try {
    return (await call(path, 'govern/daemon', {}, timeoutMs)) as DaemonInfo;
  } catch {
    return undefined;
  }
}

function flagsOf(c: Command): Flags & { quiet?: boolean } {
  return c.optsWithGlobals<GlobalOptions & { state?: string | boolean }>();
}

/** The global flags that say what the daemon serves, absolute, for the detached `serve --socket`. */
function serveArgs(id: Identity): string[] {
  return [
    ...(id.config ? ['--config', id.config] : []),
    ...(id.policies ? ['--policies', id.policies] : []),
    ...(id.bundle ? ['--bundle', id.bundle] : []),
    ...(id.state === false ? ['--no-state'] : id.state ? ['--state', id.state] : []),
  ];
}

function describe(i: DaemonInfo): string {
  const s = i.status;
  return [
    `running: pid ${i.pid}, socket ${i.socket}`,
    `  config     ${i.identity.config ?? `(none; working folder ${i.identity.root})`}`,
    `  policies   ${s.policies}: ${s.bundle.rules} rules, bundle ${s.bundle.hash.slice(0, 12)}${s.watching ? ', watched' : ''}${s.reload_error ? ` (reload failed: ${s.reload_error.message})` : ''}`,
    `  state      ${s.state ?? 'none (--no-state)'}`,
    `  decisions  ${s.decisions} since ${i.started} (${s.reloads} reload${s.reloads === 1 ? '' : 's'})`,
  ].join('\n') + '\n';
}

/** Waits until the daemon's pid is gone (or the time is up). */
async function gone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function start(c: Command, opts: { format: string }): Promise<void> {
  const id = identityOf(flagsOf(c));
  const path = socketPath(id);
  const dir = daemonDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const why = distrustDir(dir);
  if (why) throw new UsageError(`daemon start: ${why}; remove it, or set XDG_RUNTIME_DIR to a folder only you can use.`);
  const running = await daemonInfo(path);
  if (running) {
    if (!sameIdentity(running.identity, id)) throw new UsageError(`daemon start: a daemon for this configuration already runs with other flags (pid ${running.pid}); stop it first: govern daemon stop.`);
    await report(running, opts.format, 'already running');
    return;
  }
  const log = path.replace(/\.sock$/, '.log');
  const { openSync, closeSync } = await import('node:fs');
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const bin = fileURLToPath(new URL('../../bin/govern', import.meta.url));
  const fd = openSync(log, 'w', 0o600);
  const child = spawn(process.execPath, [bin, ...serveArgs(id), 'serve', '--socket', path], { cwd: process.cwd(), detached: true, stdio: ['ignore', 'ignore', fd] });
  closeSync(fd);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.unref();
  const end = Date.now() + 60_000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    if (exited !== undefined) {
      const tail = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-12).join('\n');
      throw new UsageError(`daemon start: the daemon stopped at start (exit ${exited}):\n${tail}`);
    }
    const info = await daemonInfo(path, 1000);
    if (info) {
      await report(info, opts.format, 'started');
      return;
    }
    if (Date.now() > end) {
      child.kill('SIGTERM');
      throw new UsageError(`daemon start: the daemon did not answer within 60 s; see ${log}.`);
    }
  }
}

function distrustDir(dir: string): string | undefined {
  try {
    const d = lstatSync(dir);
    if (!d.isDirectory()) return `${dir} is not a folder`;
    if (d.uid !== myUid()) return `${dir} belongs to another user`;
    if ((d.mode & 0o077) !== 0) return `${dir} is open to other users (it must be 0700)`;
  } catch (e) {
    return `cannot use ${dir}: ${(e as Error).message}`;
  }
  return undefined;
}

async function report(info: DaemonInfo, format: string, what: string): Promise<void> {
  if (format === 'json') await writeOut(JSON.stringify({ ...info, state: what }, null, 2) + '\n');
  else await writeOut(`${what === 'running' ? '' : `${what}; `}${describe(info)}`);
}

async function stop(c: Command): Promise<void> {
  const path = socketPath(identityOf(flagsOf(c)));
  const info = await daemonInfo(path);
  if (!info) {
    if (!flagsOf(c).quiet) await writeOut('no daemon runs for this configuration.\n');
    return;
  }
  process.kill(info.pid, 'SIGTERM');
  if (!(await gone(info.pid, 35_000))) throw new UsageError(`daemon stop: pid ${info.pid} is still finishing calls after 35 s; try again, or kill ${info.pid}.`);
  // A clean stop leaves nothing behind; the log of a daemon that failed stays for reading.
  rmSync(path.replace(/\.sock$/, '.log'), { force: true });
  if (!flagsOf(c).quiet) await writeOut(`stopped: pid ${info.pid} (${info.status.decisions} decision${info.status.decisions === 1 ? '' : 's'})\n`);
}

async function status(c: Command, opts: { format: string }): Promise<void> {
  const path = socketPath(identityOf(flagsOf(c)));
  const info = await daemonInfo(path);
  if (!info) {
    if (opts.format === 'json') await writeOut(JSON.stringify({ state: 'stopped', socket: path }, null, 2) + '\n');
    else process.stderr.write(`govern: no daemon runs for this configuration (socket ${path}); start one with govern daemon start.\n`);
    process.exitCode = EXIT.failure;
    return;
  }
  await report(info, opts.format, 'running');
}

export function register(program: Command): void {
  const daemon = program
    .command('daemon')
    .description('a background decision service that makes govern eval and explain fast (a Unix socket); start, stop, status')
    .addHelpText('after', `
The daemon serves the configuration, policies, bundle and state file of the flags it was started
with (found as eval finds them), on a socket in ${'$'}XDG_RUNTIME_DIR/govern (else govern-UID in the
temporary folder), a folder only you can use. govern eval and explain use it when it serves exactly
what they would use; otherwise, or with --no-daemon, they decide in process. It reloads changed
policies as serve --stdio does.

Exit codes: 0 done (status: running), 1 failure (status: no daemon running).`);
  const format = (cmd: Command) => cmd.addOption(cmd.createOption('-f, --format <format>', 'output format').choices(['human', 'json']).default('human'));
  format(daemon.command('start').description('start the daemon in the background for this configuration (nothing if it runs already)'))
    .action(async (opts: { format: string }, c: Command) => start(c, opts));
  daemon.command('stop').description('stop the daemon: it finishes the calls in flight, then exits')
    .action(async (_opts: unknown, c: Command) => stop(c));
  format(daemon.command('status').description('print the daemon\'s pid, socket, policies and bundle hash; exit 1 when none runs'))
    .action(async (opts: { format: string }, c: Command) => status(c, opts));
}
