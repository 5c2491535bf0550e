// The daemon behind `govern daemon start|stop|status`: a detached `govern serve --socket` for one
// configuration, started, asked who it is, and stopped; and, inside it, the methods the command
// line's client calls: `govern/eval` (decide and render exactly as `govern eval` would) and
// `govern/daemon` (who it is).
import { lstatSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../diagnostics/usage.js';
import { verdictExit } from '../diagnostics/exit.js';
import type { Runtime } from '../runtime/runtime.js';
import { call, daemonDir, distrust, identityOf, myUid, sameIdentity, socketPath, type EvalAnswer, type EvalCall, type Flags, type Identity } from './client.js';

export interface DaemonInfo {
  pid: number;
  socket: string;
  started: string;
  identity: Identity;
  status: { version: string; bundle: { hash: string; rules: number; loaded_at: string }; policies: string; watching: boolean; reload_error: { message: string } | null; reloads: number; state: string | null; decisions: number; uptime_s: number };
}

/** What the daemon on `path` says about itself, or undefined when none answers (or it may not be trusted). */
export async function daemonInfo(path: string, timeoutMs = 5000): Promise<DaemonInfo | undefined> {
  if (distrust(path) !== undefined) return undefined;
  try {
    return (await call(path, 'govern/daemon', {}, timeoutMs)) as DaemonInfo;
  } catch {
    return undefined;
  }
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

/** Starts the daemon for `id` in the background, or finds it running; waits until it answers. */
export async function startDaemon(id: Identity): Promise<{ info: DaemonInfo; what: 'started' | 'already running' }> {
  const path = socketPath(id);
  const dir = daemonDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const why = distrustDir(dir);
  if (why) throw new UsageError(`daemon start: ${why}; remove it, or set XDG_RUNTIME_DIR to a folder only you can use.`);
  const running = await daemonInfo(path);
  if (running) {
    if (!sameIdentity(running.identity, id)) throw new UsageError(`daemon start: a daemon for this configuration already runs with other flags (pid ${running.pid}); stop it first: govern daemon stop.`);
    return { info: running, what: 'already running' };
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
    if (info) return { info, what: 'started' };
    if (Date.now() > end) {
      child.kill('SIGTERM');
      throw new UsageError(`daemon start: the daemon did not answer within 60 s; see ${log}.`);
    }
  }
}

/** Stops the daemon for `id` once it has finished its calls; undefined when none runs. */
export async function stopDaemon(id: Identity): Promise<DaemonInfo | undefined> {
  const path = socketPath(id);
  const info = await daemonInfo(path);
  if (!info) return undefined;
  process.kill(info.pid, 'SIGTERM');
  if (!(await gone(info.pid, 35_000))) throw new UsageError(`daemon stop: pid ${info.pid} is still finishing calls after 35 s; try again, or kill ${info.pid}.`);
  // A clean stop leaves nothing behind; the log of a daemon that failed stays for reading.
  rmSync(path.replace(/\.sock$/, '.log'), { force: true });
  return info;
}

/**
 * `serve --socket PATH`: the service on a Unix socket, plus what the command line's client asks.
 * `open` opens the runtime from the same flags, once the socket path is claimed.
 */
export async function serveDaemon(g: Flags, path: string, o: { watch: boolean; reloadDelayMs: number; quiet: boolean }, open: () => Promise<Runtime>): Promise<number> {
  const socket = await import('./socket.js');
  const identity = identityOf(g);
  const abs = resolve(path);
  try {
    // Refuse an unsafe folder or a live daemon before loading anything.
    await socket.claimSocketPath(abs);
  } catch (e) {
    if (e instanceof socket.SocketSetupError) throw new UsageError(e.message);
    throw e;
  }
  // Read before the runtime opens: a change made while it opens is then seen as a change.
  const configStamp = socket.fileStamp(identity.config ?? undefined);
  const { loadConfig } = await import('../config/config.js');
  let policiesDir: string | undefined;
  try {
    policiesDir = identity.policies ?? (await loadConfig(g.config)).policies;
  } catch {
    // Opening the runtime reports a bad configuration below.
  }
  const initialKey = policiesDir ? socket.policiesContentKey(policiesDir) : undefined;
  const rt = await open();
  const [{ evalOutput }, { RequestError }, { StateError }] = await Promise.all([
    import('../render/decision.js'), import('../request/normalize.js'), import('../ledger/state.js'),
  ]);
  const evalMethod = async (ctx: import('./socket.js').SocketContext, params: unknown): Promise<EvalAnswer> => {
    const p = params as EvalCall;
    if (!p || typeof p !== 'object' || !p.identity) return { fallback: 'not a govern eval call' };
    if (!sameIdentity(p.identity, identity)) return { fallback: 'the daemon serves another configuration' };
    const why = await ctx.stale();
    if (why) return { fallback: why };
    let ev;
    try {
      ev = await ctx.gov.evaluation(p.request);
    } catch (e) {
      if (e instanceof RequestError) return { error: e.message, kind: 'request' };
      if (e instanceof StateError) return { error: e.message, kind: 'state' };
      throw e;
    }
    const stdout = await evalOutput(ev, ctx.rt, { format: p.format, explain: p.explain === true, quiet: p.quiet === true, color: p.color === true });
    return { stdout, exit: verdictExit(ev.decision.decision) };
  };
  try {
    return await socket.serveSocket(rt, {
      path: abs, watch: o.watch && !rt.bundleFile, reloadDelayMs: o.reloadDelayMs, quiet: o.quiet, configStamp,
      ...(initialKey !== undefined ? { initialKey } : {}),
      methods: {
        'govern/eval': evalMethod,
        'govern/daemon': (ctx) => ({ ...ctx.info, identity, status: ctx.gov.status() }),
      },
    });
  } catch (e) {
    if (e instanceof socket.SocketSetupError) throw new UsageError(e.message);
    throw e;
  }
}
