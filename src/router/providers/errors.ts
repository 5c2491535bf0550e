// What every provider shares: the deadline of one call and the translation of whatever an SDK or
// fetch throws into a ProviderError with a kind, so that the pipeline can escalate on any failure
// and a person can read what went wrong (status, the provider's own message, the network cause).
import { Console } from 'node:console';
import { ProviderError, type ProviderName } from '../provider.js';

/** One call's signal: the caller's (if any) and a deadline that also covers reading the body. */
export interface Deadline {
  signal: AbortSignal;
  /** True once the deadline (not the caller) ended the call. */
  expired(): boolean;
  /** True once the caller's own signal ended the call. */
  cancelled(): boolean;
}

export function deadline(ms: number, caller?: AbortSignal): Deadline {
  // SDK timeouts stop at the response headers; a server that stalls in the body needs this one.
  const timer = AbortSignal.timeout(ms);
  const signal = caller ? AbortSignal.any([caller, timer]) : timer;
  return { signal, expired: () => timer.aborted, cancelled: () => caller?.aborted === true };
}

let logger: Console | undefined;

/** Where the SDKs log: stderr, because stdout carries govern's answers (serve --stdio, --format json). */
export function stderrLogger(): Console {
  logger ??= new Console({ stdout: process.stderr, stderr: process.stderr });
  return logger;
}

/** Loads an SDK on first use, so that a process that never calls a model never loads one. */
export async function loadSdk<T>(provider: ProviderName, pkg: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    throw new ProviderError('not-configured', `${provider}: the ${pkg} package cannot be loaded (${(e as Error).message}); reinstall govern's dependencies.`);
  }
}

function field(e: unknown, key: string): unknown {
  return typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[key] : undefined;
}

/** The first network error code (ECONNREFUSED, ENOTFOUND, ...) in an error's cause chain. */
function networkCode(e: unknown): string | undefined {
  for (let cur = e, depth = 0; cur && depth < 8; cur = field(cur, 'cause'), depth++) {
    const code = field(cur, 'code');
    if (typeof code === 'string' && /^E[A-Z]+$|^UND_ERR/.test(code)) return code;
    const errors = field(cur, 'errors');
    if (Array.isArray(errors)) for (const inner of errors) {
      const c = networkCode(inner);
      if (c) return c;
    }
  }
  return undefined;
}

function causeText(e: unknown): string {
  const parts: string[] = [];
  for (let cur = e, depth = 0; cur && depth < 8; cur = field(cur, 'cause'), depth++) {
    const m = field(cur, 'message');
    if (typeof m === 'string' && m && !parts.includes(m)) parts.push(m);
  }
  return parts.join(': ');
}

/** The provider's own words, without the status the SDK puts in front, and not too long. */
function providerMessage(e: unknown, status: number): string {
  const api = field(e, 'apiMessage');
  const nested = field(field(field(e, 'error'), 'error'), 'message');
  let m = typeof api === 'string' && api ? api : typeof nested === 'string' && nested ? nested : String(field(e, 'message') ?? '');
  m = m.replace(new RegExp(`^${status}\\s+`), '').replace(/\s+/g, ' ').trim();
  if (m === `${status} status code (no body)`) m = '';
  return m.length > 300 ? `${m.slice(0, 297)}...` : m;
}

const HTTP_KIND = (status: number): { kind: ProviderError['kind']; what: string } => {
  if (status === 429) return { kind: 'rate-limit', what: 'rate limited' };
  if (status === 401 || status === 403) return { kind: 'auth', what: 'the API key was refused' };
  if (status === 408) return { kind: 'timeout', what: 'the server timed out' };
  if (status >= 500) return { kind: 'server', what: 'server error' };
  if (status >= 400) return { kind: 'bad-request', what: 'the request was refused' };
  return { kind: 'other', what: 'unexpected answer' };
};

/**
 * Any failure of one call as a ProviderError. An HTTP status wins over everything else; `where`
 * names the endpoint, and `limitMs` lets a timeout say how long it waited.
 */
export function toProviderError(provider: ProviderName, e: unknown, d: Deadline | undefined, limitMs: number, where: string): ProviderError {
  if (e instanceof ProviderError) return e;
  // Anthropic and OpenAI errors carry `status`; Ollama's ResponseError carries `status_code`.
  const raw = field(e, 'status') ?? field(e, 'status_code');
  if (typeof raw === 'number' && raw >= 400) {
    const { kind, what } = HTTP_KIND(raw);
    const m = providerMessage(e, raw);
    return new ProviderError(kind, `${provider}: ${what} (HTTP ${raw}${m ? `: ${m}` : ''}).`, raw);
  }
  if (d?.expired()) return new ProviderError('timeout', `${provider}: no answer within ${limitMs} ms from ${where}.`);
  if (d?.cancelled()) return new ProviderError('timeout', `${provider}: the call to ${where} was cancelled before it answered.`);
  const name = String(field(e, 'name') ?? '');
  if (name === 'APIConnectionTimeoutError' || name === 'TimeoutError') {
    return new ProviderError('timeout', `${provider}: no answer within ${limitMs} ms from ${where}.`);
  }
  if (name === 'APIUserAbortError' || name === 'AbortError') {
    return new ProviderError('timeout', `${provider}: the call to ${where} was aborted before it answered.`);
  }
  const code = networkCode(e);
  if (code || name === 'APIConnectionError' || (e instanceof TypeError && /fetch failed/i.test(e.message))) {
    const detail = code === 'ECONNREFUSED' ? 'connection refused' : code ?? causeText(e);
    return new ProviderError('connection', `${provider}: cannot reach ${where} (${detail}).`);
  }
  return new ProviderError('other', `${provider}: ${causeText(e) || String(e)}`);
}

/**
 * A token count from a provider's usage fields: a whole number of 0 or more (absent counts as 0,
 * as servers that do not report usage leave it out). Anything else (a string, a negative or
 * fractional number, one past 2^53) is the server's error: the call fails and the request
 * escalates, with its usage unknown, instead of a count that would be summed as text or that the
 * ledger could not record as it was given.
 */
export function tokenCount(provider: ProviderName, field: string, value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  const shown = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? typeof value);
  throw new ProviderError('invalid-output', `${provider}: the server reported ${field} ${shown.length > 40 ? `${shown.slice(0, 37)}...` : shown}, which is not a token count (a whole number of 0 or more).`);
}

/** A base URL for messages, without any credentials it may carry. */
export function endpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return url;
  }
}
