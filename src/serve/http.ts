// `govern serve --http ADDR`: the decision service of `serve --stdio` as JSON over HTTP, for a
// sidecar. Each stdio method `governance/NAME` is `POST /v1/NAME` here (`/v1/decide` is
// `/v1/evaluate`): the request body is the params, the answer is the result, answered by the same
// Governance object, so decisions, group commit and recording are those of stdio. GET /healthz
// says the server is up; GET /metrics gives decisions by verdict and route and their latency in
// Prometheus' text format.
//
// Bound to a loopback address unless a token is given: a non-loopback address needs one
// (--token or GOVERN_HTTP_TOKEN), checked as `Authorization: Bearer` in constant time on every
// path but /healthz. Bodies over 1 MB are refused unread; every error is a JSON object naming
// what is wrong, and no input crashes the server.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import type { Runtime } from '../runtime/runtime.js';
import { CODE, errorOf, isCallerError, type RpcErrorObject } from './jsonrpc.js';
import { MAX_LINE_BYTES, PLAIN_METHODS } from './server.js';
import { Governance } from './service.js';
import { watchPolicies, type PolicyWatch } from './watch.js';

/** The largest request body read, as for a stdio line. */
export const MAX_BODY_BYTES = MAX_LINE_BYTES;
/** How long a shutdown waits for calls in flight before giving up on them. */
const SHUTDOWN_GRACE_MS = 30_000;

/** An address or token that cannot be served; the message names the flag. */
export class HttpSetupError extends Error {}

export interface Listen { host: string; port: number }

/** `HOST:PORT`, `[V6]:PORT`, `:PORT` (every interface) or `PORT` (127.0.0.1). */
export function parseAddress(addr: string): Listen {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(addr.trim()) ?? (/^\d+$/.test(addr.trim()) ? [addr, undefined, '127.0.0.1', addr.trim()] : null);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535) throw new HttpSetupError(`--http: "${addr}" is not an address; use HOST:PORT, e.g. 127.0.0.1:8181 (port 0 picks a free one).`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** Whether only this machine can reach `host`: 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || h === '0:0:0:0:0:0:0:1';
  return false;
}

const METHODS: Record<string, string> = Object.fromEntries([
  ...Object.keys(PLAIN_METHODS).map((m) => [m.slice('governance/'.length), m]),
  ['decide', 'governance/evaluate'],
]);
const DECIDING = new Set(['governance/evaluate', 'governance/explain']);

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Counters and a latency histogram, written in Prometheus' text exposition format. */
export class Metrics {
  private decisions = new Map<string, number>();
  private requests = new Map<string, number>();
  private buckets = new Array<number>(BUCKETS.length).fill(0);
  private count = 0;
  private sum = 0;

  decided(decision: string, route: string, seconds: number): void {
    const k = `decision="${label(decision)}",route="${label(route)}"`;
    this.decisions.set(k, (this.decisions.get(k) ?? 0) + 1);
    this.count++;
    this.sum += seconds;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) this.buckets[i]!++;
  }

  request(path: string, status: number): void {
    const k = `path="${label(path)}",code="${status}"`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  text(hash: string): string {
    const out: string[] = [];
    out.push('# HELP govern_decisions_total Decisions answered over HTTP, by verdict and route.', '# TYPE govern_decisions_total counter');
    for (const [k, n] of [...this.decisions].sort()) out.push(`govern_decisions_total{${k}} ${n}`);
    out.push('# HELP govern_decision_duration_seconds Time from a decision request\'s body to its recorded answer.', '# TYPE govern_decision_duration_seconds histogram');
    BUCKETS.forEach((b, i) => out.push(`govern_decision_duration_seconds_bucket{le="${b}"} ${this.buckets[i]}`));
    out.push(`govern_decision_duration_seconds_bucket{le="+Inf"} ${this.count}`, `govern_decision_duration_seconds_sum ${this.sum}`, `govern_decision_duration_seconds_count ${this.count}`);
    out.push('# HELP govern_http_requests_total HTTP requests, by path and status code.', '# TYPE govern_http_requests_total counter');
    for (const [k, n] of [...this.requests].sort()) out.push(`govern_http_requests_total{${k}} ${n}`);
    out.push('# HELP govern_policy_info The policy hash being served.', '# TYPE govern_policy_info gauge', `govern_policy_info{hash="${label(hash)}"} 1`);
    return out.join('\n') + '\n';
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares in time independent of where the strings differ (hashes first, so lengths match). */
function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return timingSafeEqual(digest(m?.[1] ?? ''), digest(token)) && m !== null;
}

/** The HTTP status of a service error. */
function statusOf(e: RpcErrorObject): number {
  if (e.code === CODE.invalidParams || e.code === CODE.parseError || e.code === CODE.invalidRequest) return 400;
  if (e.code === CODE.methodNotFound) return 404;
  if (e.code === CODE.unavailable) return 503;
  return 500;
}

class BodyTooLarge extends Error {}

/** The request body, at most MAX_BODY_BYTES; rejects with BodyTooLarge past that. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface HttpServer {
  server: Server;
  /** `http://host:port`, with the port actually bound. */
  url: string;
  metrics: Metrics;
  /** Stops accepting, finishes calls in flight; does not close the runtime. */
  close(): Promise<void>;
}

export interface HttpOptions {
  host: string;
  port: number;
  /** Required when `host` is not loopback. */
  token?: string;
  log?: (m: string) => void;
}

/** Checks the address and token; throws HttpSetupError naming the flag. */
export function checkSetup(host: string, token: string | undefined): void {
  if (token !== undefined && token.length < 16) throw new HttpSetupError('--token: the token must be at least 16 characters (e.g. `openssl rand -hex 32`).');
  if (!isLoopback(host) && token === undefined) throw new HttpSetupError(`--http: ${host} is reachable from other machines; give a token (--token or GOVERN_HTTP_TOKEN), or bind a loopback address such as 127.0.0.1.`);
}

/** Starts answering on host:port with `gov` (resolves once listening). */
export async function startHttp(gov: Governance, rt: Runtime, opts: HttpOptions): Promise<HttpServer> {
  checkSetup(opts.host, opts.token);
  const log = opts.log ?? (() => {});
  const metrics = new Metrics();

  const known = new Set(['/healthz', '/metrics', ...Object.keys(METHODS).map((m) => `/v1/${m}`)]);
  const send = (res: ServerResponse, path: string, status: number, body: unknown, headers: Record<string, string> = {}) => {
    // Only known paths become labels: a scanner's made-up paths must not grow the metrics without bound.
    metrics.request(known.has(path) ? path : '?', status);
    if (res.headersSent || res.destroyed) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body) + '\n';
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const fail = (res: ServerResponse, path: string, status: number, code: string, message: string, headers: Record<string, string> = {}, data?: unknown) =>
    send(res, path, status, { error: { code, message, ...(data !== undefined ? { data } : {}) } }, headers);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      path = '?';
    }
    if (path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, path, 405, 'method_not_allowed', `${req.method} ${path}: use GET.`, { allow: 'GET' });
      return send(res, path, 200, { status: 'ok', policy: { hash: rt.bundle.hash } });
    }
    if (opts.token !== undefined && !tokenMatches(req.headers.authorization, opts.token)) {
      return fail(res, path, 401, 'unauthorized', 'this server needs `Authorization: Bearer TOKEN` (the token it was started with).', { 'www-authenticate': 'Bearer' });
    }
    if (path === '/metrics') {
      if (req.method !== 'GET') return fail(res, path, 405, 'method_not_allowed', `${req.method} ${path}: use GET.`, { allow: 'GET' });
      return send(res, path, 200, metrics.text(rt.bundle.hash));
    }
    const name = path.startsWith('/v1/') ? path.slice(4) : undefined;
    const method = name !== undefined && Object.hasOwn(METHODS, name) ? METHODS[name]! : undefined;
    if (!method) {
      return fail(res, path, 404, 'not_found', `no endpoint ${path}; endpoints: ${Object.keys(METHODS).map((m) => `POST /v1/${m}`).join(', ')}, GET /healthz, GET /metrics.`);
    }
    const getOk = method === 'governance/status';
    if (req.method !== 'POST' && !(getOk && req.method === 'GET')) {
      return fail(res, path, 405, 'method_not_allowed', `${req.method} ${path}: use POST with a JSON body${getOk ? ' (or GET)' : ''}.`, { allow: getOk ? 'GET, POST' : 'POST' });
    }
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (e) {
      if (e instanceof BodyTooLarge) return fail(res, path, 413, 'too_large', `the body is over 1 MB (${MAX_BODY_BYTES} bytes); it was not read.`, { connection: 'close' }, { limit: MAX_BODY_BYTES });
      return; // the client went away
    }
    let params: unknown;
    if (body.length && body.toString('utf8').trim()) {
      try {
        params = JSON.parse(body.toString('utf8'));
      } catch (e) {
        return fail(res, path, 400, 'parse_error', `the body is not valid JSON: ${(e as Error).message}`);
      }
    }
    const t0 = performance.now();
    try {
      const result = await PLAIN_METHODS[method]!(gov, params);
      if (DECIDING.has(method)) {
        const d = (method === 'governance/explain' ? (result as { decision: { decision: string; route: string } }).decision : (result as { decision: string; route: string }));
        metrics.decided(d.decision, d.route, (performance.now() - t0) / 1000);
      }
      return send(res, path, 200, result);
    } catch (e) {
      if (!isCallerError(e)) log(`internal error in ${path}: ${(e as Error)?.stack ?? String(e)}`);
      const err = errorOf(e);
      const status = statusOf(err);
      const code = status === 400 ? 'invalid_params' : status === 503 ? 'unavailable' : 'internal';
      return fail(res, path, status, code, err.message, {}, err.data);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`internal error: ${(e as Error)?.stack ?? String(e)}`);
      if (!res.headersSent) fail(res, '?', 500, 'internal', 'internal error; see the server log.');
      else res.destroy();
    });
  });
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":{"code":"bad_request","message":"malformed HTTP request"}}\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  return {
    server,
    url,
    metrics,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await gov.idle();
    },
  };
}

export interface ServeHttpOptions {
  address: string;
  token?: string;
  watch: boolean;
  reloadDelayMs: number;
  quiet: boolean;
}

/** Serves HTTP until SIGTERM or SIGINT; resolves with the exit code. */
export async function serveHttp(rt: Runtime, opts: ServeHttpOptions): Promise<number> {
  const log = (m: string) => void process.stderr.write(`govern serve: ${m}\n`);
  const info = opts.quiet ? () => {} : log;
  const { host, port } = parseAddress(opts.address);
  checkSetup(host, opts.token);
  const gov = new Governance(rt);
  let http: HttpServer;
  try {
    http = await startHttp(gov, rt, { host, port, ...(opts.token !== undefined ? { token: opts.token } : {}), log });
  } catch (e) {
    rt.close();
    throw new HttpSetupError(`--http: cannot listen on ${opts.address}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  const watcher: PolicyWatch | undefined = opts.watch ? watchPolicies(rt, gov, { delayMs: opts.reloadDelayMs, log, info }) : undefined;
  try {
    rt.prepare({ agent: 'govern-serve', action: 'read', environment: 'dev' });
  } catch (e) {
    log(`warm-up failed: ${(e as Error).message}`);
  }
  const b = rt.bundle;
  // Always said, even with --quiet: with port 0 it is the only way to learn the port.
  log(`listening on ${http.url}: ${b.rules.length} rules (bundle ${b.hash.slice(0, 12)})${opts.token !== undefined ? ', token required' : ''}`);
  const code = await new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.removeListener('SIGTERM', stop);
      process.removeListener('SIGINT', stop);
      watcher?.close();
      info(`${signal}: finishing calls in flight, then stopping`);
      const timer = setTimeout(() => {
        log(`gave up waiting for calls after ${SHUTDOWN_GRACE_MS / 1000} s`);
        resolve(1);
      }, SHUTDOWN_GRACE_MS);
      timer.unref();
      void http.close().then(() => {
        clearTimeout(timer);
        resolve(0);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  rt.close();
  info(`stopped after ${gov.decisions} decision${gov.decisions === 1 ? '' : 's'}`);
  return code;
}
