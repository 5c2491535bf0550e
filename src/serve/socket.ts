// `govern serve --socket PATH`: the decision service of `serve --stdio` on a Unix domain socket,
// for a daemon that shell scripts reach through `govern eval`. Each connection speaks the plain
// JSON-RPC lines of stdio (`governance/evaluate`, ...), answered by one Governance object shared by
// every connection, so decisions, group commit and recording are those of stdio and HTTP.
//
// Only the user who started it can connect: the socket is created 0600 inside a folder that no
// other user can write (checked before listening), and a folder or socket that fails the check is
// refused. A socket file left by a daemon that died is removed; one a live daemon answers on is
// never taken over.
import { chmodSync, lstatSync, statSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Runtime } from '../runtime/runtime.js';
import { classify, CODE, errorOf, errorResponse, isCallerError, response, type Id } from './jsonrpc.js';
import { LineSplitter } from './lines.js';
import { MAX_LINE_BYTES, PLAIN_METHODS } from './server.js';
import { Governance } from './service.js';
import { policiesContentKey, watchPolicies, type PolicyWatch } from './watch.js';

/** How long a shutdown waits for calls in flight before giving up on them. */
const SHUTDOWN_GRACE_MS = 30_000;

/** A socket path that cannot be served; the message names the flag and what to do. */
export class SocketSetupError extends Error {}

/** What a method beyond `governance/*` is handed: the shared service and runtime. */
export interface SocketContext {
  gov: Governance;
  rt: Runtime;
  /**
   * Whether the policies (or the bundle file) and the configuration on disk are those being
   * served: undefined when they are, else why not. A change not yet reloaded is reloaded first.
   */
  stale(): Promise<string | undefined>;
  /** The daemon's pid, socket and when it started. */
  info: { pid: number; socket: string; started: string };
}

export type SocketMethod = (ctx: SocketContext, params: unknown) => unknown;

export interface SocketOptions {
  path: string;
  watch: boolean;
  reloadDelayMs: number;
  quiet: boolean;
  /** The policies' content key read before the runtime was opened (so a change while opening is seen). */
  initialKey?: string;
  /** The configuration file's stat and content when the runtime was opened. */
  configStamp?: string;
  /** Methods beyond governance/*, e.g. the command line's eval. */
  methods?: Record<string, SocketMethod>;
}

/** Whether a process answers on the socket at `path` (within `timeoutMs`). */
export function answers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

const uid = () => (typeof process.getuid === 'function' ? process.getuid() : -1);

/**
 * Checks where the socket goes: a folder owned by this user that no one else can write, and no
 * live daemon already there. A dead daemon's socket file is removed.
 */
export async function claimSocketPath(path: string): Promise<void> {
  const dir = dirname(path);
  let d;
  try {
    d = statSync(dir);
  } catch {
    throw new SocketSetupError(`--socket: the folder ${dir} does not exist; create it (mkdir -m 700 ${dir}) or choose another path.`);
  }
  if (!d.isDirectory()) throw new SocketSetupError(`--socket: ${dir} is not a folder.`);
  if (d.uid !== uid() || (d.mode & 0o022) !== 0) {
    throw new SocketSetupError(`--socket: ${dir} can be written by another user, who could replace the socket; put it in a folder only you can write (mkdir -m 700 DIR), or use govern daemon start.`);
  }
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new SocketSetupError(`--socket: ${path} exists and is not a socket; remove it or choose another path.`);
  if (await answers(path)) throw new SocketSetupError(`--socket: a daemon already answers on ${path}; stop it first (govern daemon stop), or choose another path.`);
  // Nobody answers: a socket file left by a daemon that died.
  unlinkSync(path);
}

function configStampOf(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return 'missing';
  }
}

/** The stamp `stale()` compares the configuration file with; read it before opening the runtime. */
export function fileStamp(file: string | undefined): string | undefined {
  return configStampOf(file);
}

export { policiesContentKey };

/** Serves on the socket until SIGTERM or SIGINT; resolves with the exit code. */
export async function serveSocket(rt: Runtime, opts: SocketOptions): Promise<number> {
  const log = (m: string) => void process.stderr.write(`govern serve: ${m}\n`);
  const info = opts.quiet ? () => {} : log;
  await claimSocketPath(opts.path);
  const gov = new Governance(rt);
  const watcher: PolicyWatch | undefined = opts.watch ? watchPolicies(rt, gov, { delayMs: opts.reloadDelayMs, log, info, ...(opts.initialKey !== undefined ? { initialKey: opts.initialKey } : {}) }) : undefined;
  const bundleStamp = rt.bundleFile ? configStampOf(rt.bundleFile) : undefined;
  const configFile = rt.config.file;
  const configStamp = opts.configStamp ?? configStampOf(configFile);
  const started = new Date().toISOString();

  const stale = async (): Promise<string | undefined> => {
    if (configStampOf(configFile) !== configStamp) return `the configuration ${configFile} changed since the daemon started`;
    if (rt.bundleFile) return configStampOf(rt.bundleFile) === bundleStamp ? undefined : `the bundle ${rt.bundleFile} changed since the daemon started`;
    const key = policiesContentKey(rt.config.policies);
    if (key === undefined) return 'the policies are being edited';
    if (!watcher) return key === opts.initialKey ? undefined : 'the policies changed and the daemon does not watch them (--no-watch)';
    if (watcher.key() !== key) await watcher.check();
    if (watcher.key() !== key) return 'the policies are being edited';
    if (gov.status().reload_error) return 'the policies do not compile';
    return undefined;
  };
  const ctx: SocketContext = { gov, rt, stale, info: { pid: process.pid, socket: opts.path, started } };
  const methods = opts.methods ?? {};

  const connections = new Set<Socket>();
  const serveConnection = (sock: Socket) => {
    connections.add(sock);
    sock.on('close', () => connections.delete(sock));
    sock.on('error', () => sock.destroy());
    const send = (m: unknown) => {
      if (!sock.destroyed) sock.write(JSON.stringify(m) + '\n');
    };
    const call = async (id: Id | undefined, method: string, params: unknown) => {
      const plain = PLAIN_METHODS[method];
      const extra = methods[method];
      if (!plain && !extra) {
        if (id !== undefined) send(errorResponse(id, { code: CODE.methodNotFound, message: `no method ${method}; see govern serve --help.` }));
        return;
      }
      try {
        const result = await (plain ? plain(gov, params) : extra!(ctx, params));
        if (id !== undefined) send(response(id, result));
      } catch (e) {
        if (!isCallerError(e)) log(`${method} failed: ${(e as Error)?.message ?? String(e)}`);
        if (id !== undefined) send(errorResponse(id, errorOf(e)));
      }
    };
    const splitter = new LineSplitter(MAX_LINE_BYTES, {
      line: (text) => {
        let msg: unknown;
        try {
          msg = JSON.parse(text);
        } catch {
          send(errorResponse(null, { code: CODE.parseError, message: 'not JSON: send one JSON-RPC 2.0 message a line.' }));
          return;
        }
        const env = classify(msg);
        if (env.kind === 'invalid') send(errorResponse(env.id, env.error));
        else if (env.kind === 'request') void call(env.id, env.message.method, env.message.params);
      },
      oversized: (bytes) => send(errorResponse(null, { code: CODE.invalidRequest, message: `the message is ${(bytes / 1048576).toFixed(1)} MB; the limit is 1 MB.` })),
    });
    sock.on('data', (chunk: Buffer) => splitter.push(chunk));
    sock.on('end', () => {
      splitter.end();
      sock.end();
    });
  };

  const server: Server = createServer(serveConnection);
  // Created 0600 from the start (the umask covers the moment between bind and chmod).
  const mask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.path, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  } catch (e) {
    watcher?.close();
    rt.close();
    throw new SocketSetupError(`--socket: cannot listen on ${opts.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  } finally {
    process.umask(mask);
  }
  chmodSync(opts.path, 0o600);
  server.on('error', (e) => log(`socket error: ${e.message}`));
  try {
    rt.prepare({ agent: 'govern-serve', action: 'read', environment: 'dev' });
  } catch (e) {
    log(`warm-up failed: ${(e as Error).message}`);
  }
  const b = rt.bundle;
  info(`listening on ${opts.path}: ${b.rules.length} rules (bundle ${b.hash.slice(0, 12)}), ${rt.state ? `state ${gov.status().state}` : 'no state file'}${watcher ? `, watching ${gov.status().policies}` : ''}`);

  const code = await new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.removeListener('SIGTERM', stop);
      process.removeListener('SIGINT', stop);
      watcher?.close();
      gov.stopWaiting();
      info(`${signal}: finishing calls in flight, then stopping`);
      const timer = setTimeout(() => {
        log(`gave up waiting for calls after ${SHUTDOWN_GRACE_MS / 1000} s`);
        resolve(1);
      }, SHUTDOWN_GRACE_MS);
      timer.unref();
      // Closing the server removes the socket file: no new client finds it from here on.
      server.close();
      void gov.idle().then(async () => {
        // Let the answers just released reach their connections before those are closed.
        await new Promise((r) => setImmediate(r));
        for (const s of connections) s.end();
        clearTimeout(timer);
        resolve(0);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await rt.settled();
  rt.close();
  info(`stopped after ${gov.decisions} decision${gov.decisions === 1 ? '' : 's'}`);
  return code;
}
