// The canonical form of the request's fields, before any rule sees them. Identifiers (agent, team,
// action, resource type, environment, namespace) are NFKC-normalized and lower-cased, so that
// `Deploy-Agent`, `ｄｅｐｌｏｙ-agent` and `deploy-agent` are one agent; paths are POSIX-normalized
// (`\` is a separator, percent-encoding is decoded once, `.` and `..` are resolved), and a path that
// climbs above its root keeps its leading `..` so that the `path-traversal` finding can be read off
// the canonical form again. Text that cannot be compared honestly (invisible or control characters
// in an identifier or a path, lone surrogates anywhere, nesting deeper than MAX_DEPTH) is refused.
import { ENVIRONMENT_ALIASES } from '../policy/vocabulary.js';

/** A request field that cannot be taken as it is. */
export class RequestError extends Error {
  /** The refusal's code in the catalogue (diagnostics/codes.ts). */
  readonly code = 'decision/invalid-request' as const;
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

/** Objects and lists in a request nest at most this deep. */
export const MAX_DEPTH = 32;

/** Items and attributes a request holds at most, in all: more than a request's 1 MiB of JSON can hold. */
export const MAX_VALUES = 512 * 1024;

/**
 * Characters that take no visible space in running text: format characters (zero-width spaces and
 * joiners, bidi overrides, soft hyphen) and the Hangul fillers. Text is read without them where
 * what it says matters (the detectors' folded form, detectors/fold.ts).
 */
export const HIDDEN = /[\p{Cf}\u115F\u1160\u3164\uFFA0]/u;

/** What an identifier or a path may not hold: the hidden characters, control characters and private use. */
const INVISIBLE = /[\p{Cc}\p{Co}\u2028\u2029\p{Cf}\u115F\u1160\u3164\uFFA0]/u;

function describe(ch: string): string {
  return `U+${ch.charCodeAt(0) >= 0xd800 && ch.charCodeAt(0) <= 0xdfff ? ch.charCodeAt(0).toString(16).toUpperCase() : ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Refuses a lone surrogate: such a string is not Unicode text and cannot be stored or compared. */
export function wellFormed(s: string, field: string): string {
  const m = LONE_SURROGATE.exec(s);
  if (m) throw new RequestError(field, `holds a lone surrogate (${describe(m[0])}) at character ${m.index}, which is not valid Unicode text; send UTF-8 text.`);
  return s;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function refuseInvisible(s: string, field: string, what: string): void {
  const m = INVISIBLE.exec(s);
  if (m) throw new RequestError(field, `holds an invisible or control character (${describe(m[0])}) at character ${m.index}; ${what} must be plain visible text.`);
}

/** An identifier as rules compare it: NFKC, trimmed, lower case; invisible characters refused. */
export function identifier(s: string, field: string): string {
  wellFormed(s, field);
  const n = s.normalize('NFKC').trim();
  refuseInvisible(n, field, 'an identifier');
  return n.toLowerCase();
}

/** An environment name: canonical identifier, then the usual aliases (prod, stg, ...). */
export function environmentName(s: string, field = 'environment'): string {
  const k = identifier(s, field);
  return Object.hasOwn(ENVIRONMENT_ALIASES, k) ? ENVIRONMENT_ALIASES[k]! : k;
}

/** `%XX` sequences decoded once, as UTF-8; other `%` signs are kept. */
function percentDecode(s: string, field: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new RequestError(field, `holds percent-encoding (${run}) that is not UTF-8 text; send the path as plain text.`);
    }
  });
}

export interface CanonicalPath {
  path: string;
  /** The path climbs above its root (`tmp/../../etc`): it keeps its leading `..` segments. */
  traversal: boolean;
}

/**
 * A path in POSIX form: NFKC, percent-decoded once, `\` read as `/`, empty and `.` segments
 * dropped, `..` resolved. Case is kept (an allow compares exactly; deny and escalate rules are also
 * tried on the lower-case form).
 */
export function canonicalPath(raw: string, field: string): CanonicalPath {
  wellFormed(raw, field);
  let p = raw.normalize('NFKC');
  refuseInvisible(p, field, 'a path');
  p = percentDecode(p, field).normalize('NFKC');
  refuseInvisible(p, field, 'a path');
  p = p.replace(/\\/g, '/');
  const absolute = p.startsWith('/');
  const out: string[] = [];
  let climbs = 0;
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length) out.pop();
      else climbs++;
      continue;
    }
    out.push(seg);
  }
  const segs = [...Array<string>(climbs).fill('..'), ...out];
  return { path: (absolute ? '/' : '') + segs.join('/'), traversal: climbs > 0 };
}

/** A canonical path that climbs above its root. */
export function isTraversal(path: string): boolean {
  return path === '..' || path.startsWith('../') || path.startsWith('/../') || path === '/..';
}

/**
 * A request's value copied as plain data, checking every string (and key) for lone surrogates and
 * the nesting for depth, without recursion, so that hostile nesting gets a message instead of a
 * stack overflow. `field` is the value's path ('' for the request itself). Every property is read
 * here, once: a getter, a proxy or a `toJSON` in what a library caller passed cannot show the
 * detectors, the rules, the cache and the ledger different values. An object's `toJSON` stands for
 * it, as in JSON; numbers stay as they are (an infinity is refused or ignored where it is read, not
 * made null), and a key `__proto__` stays an attribute, never the copy's prototype. What JSON
 * cannot carry reads as JSON reads it: `undefined`, a function or a symbol is left out of an object
 * and is null in a list, as is a hole in a list; a BigInt is refused, as is a value with more items
 * and attributes than 1 MiB of JSON can hold (a sparse list can claim billions).
 */
export function checkedCopy(v: unknown, field: string): unknown {
  const root: Record<string, unknown> = {};
  let values = 0;
  const count = (n: number, path: string) => {
    values += n;
    if (values > MAX_VALUES) throw new RequestError(path || 'request', `holds more than ${MAX_VALUES} items and attributes; a request is at most 1 MiB of JSON.`);
  };
  const put = (into: Record<string, unknown> | unknown[], key: string | number, value: unknown) => {
    if (key === '__proto__') Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
    else (into as Record<string, unknown>)[key] = value;
  };
  const stack: [unknown, string, number, Record<string, unknown> | unknown[], string | number][] = [[v, field, 0, root, 'value']];
  while (stack.length) {
    const [raw, path, depth, into, key] = stack.pop()!;
    const at = (k: string) => (path === '' ? k : `${path}.${k}`);
    const x = raw !== null && typeof raw === 'object' && typeof (raw as { toJSON?: unknown }).toJSON === 'function' ? (raw as { toJSON(k: string): unknown }).toJSON(String(key)) : raw;
    if (typeof x === 'string') wellFormed(x, path || 'request');
    if (typeof x === 'bigint') throw new RequestError(path || 'request', 'is a BigInt, which JSON cannot carry; send a number or a string.');
    if (x === undefined || typeof x === 'function' || typeof x === 'symbol') {
      if (Array.isArray(into)) into[key as number] = null;
      continue;
    }
    if (x === null || typeof x !== 'object') { put(into, key, x); continue; }
    if (depth >= MAX_DEPTH) throw new RequestError(path || 'request', `nests deeper than ${MAX_DEPTH} levels; flatten it.`);
    if (Array.isArray(x)) {
      const n = x.length;
      count(n, path);
      const out: unknown[] = new Array(n);
      put(into, key, out);
      for (let i = 0; i < n; i++) stack.push([x[i], at(String(i)), depth + 1, out, i]);
    } else {
      const entries = Object.entries(x);
      count(entries.length, path);
      const out: Record<string, unknown> = {};
      put(into, key, out);
      for (const [k, y] of entries) { wellFormed(k, `${path || 'request'} (a key)`); stack.push([y, at(k), depth + 1, out, k]); }
    }
  }
  return root.value;
}

/** Every string of a value at any depth with its field path (`context.a.0.b`), without recursion. */
export function* strings(v: unknown, field: string): Generator<[string, string]> {
  const stack: [unknown, string][] = [[v, field]];
  while (stack.length) {
    const [x, path] = stack.pop()!;
    if (typeof x === 'string') { yield [path, x]; continue; }
    if (x === null || typeof x !== 'object') continue;
    const entries = Array.isArray(x) ? x.map((y, i): [string, unknown] => [String(i), y]) : Object.entries(x);
    for (let i = entries.length - 1; i >= 0; i--) stack.push([entries[i]![1], `${path}.${entries[i]![0]}`]);
  }
}
