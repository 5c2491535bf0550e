// The detectors over a normalized request, in every string of it at any depth: secrets and
// personal identifiers everywhere, destructive commands in `command` (and in any string that reads
// like one; destructive SQL in `content`), dynamic execution in the shape of the command, prompt
// injection in every string a model may read. Findings carry a kind, the
// field, a span and a preview that never holds a secret; `redact` replaces secret and PII spans so
// that the ledger stores no credential in clear.
import { FINDING_KINDS } from '../../policy/vocabulary.js';
import type { Request } from '../normalize.js';
import { detectDestructive } from './destructive.js';
import { detectInjection } from './injection.js';
import { detectPii } from './pii.js';
import { detectSecrets } from './secrets.js';
import { detectSqlEmbedded, mentionsSql } from './sql.js';
import { detectCommandShape } from './shell.js';
import { foldText } from './fold.js';
import { strings } from '../canonical.js';
import type { Finding, Hit } from './types.js';

export type { Finding, Hit } from './types.js';
export { detectDestructive } from './destructive.js';
export { detectInjection, injectionScore } from './injection.js';
export { detectPii } from './pii.js';
export { detectSecrets } from './secrets.js';

const PREVIEW_LENGTH = 80;

const classOf = (kind: string): string | undefined => FINDING_KINDS[kind];
const isSensitive = (kind: string): boolean => {
  const c = classOf(kind);
  return c === 'secret' || c === 'pii';
};

/** A masked secret: at most its first four characters, the rest as `*`. */
export function mask(secret: string, kind: string): string {
  const n = secret.length;
  const keep = kind === 'ssn' || kind === 'iban' || kind === 'phone-number' ? 0 : n >= 16 ? 4 : n >= 10 ? 2 : 0;
  return secret.slice(0, keep) + '*'.repeat(Math.min(Math.max(n - keep, 4), 32));
}

/** `text` with every secret or PII hit replaced by `[REDACTED:kind]`; overlapping hits are merged. */
function redactHits(text: string, hits: { kind: string; start: number; end: number }[]): string {
  const spans = hits
    .filter((h) => isSensitive(h.kind))
    .map((h) => ({ kind: h.kind, start: Math.max(0, Math.min(h.start, text.length)), end: Math.max(0, Math.min(h.end, text.length)) }))
    .filter((h) => h.end > h.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  if (spans.length === 0) return text;
  const out: string[] = [];
  let at = 0;
  let i = 0;
  while (i < spans.length) {
    const first = spans[i]!;
    let end = first.end;
    let j = i + 1;
    while (j < spans.length && spans[j]!.start < end) { end = Math.max(end, spans[j]!.end); j++; }
    out.push(text.slice(at, Math.max(at, first.start)), `[REDACTED:${first.kind}]`);
    at = Math.max(at, end);
    i = j;
  }
  out.push(text.slice(at));
  return out.join('');
}

/**
 * `text` with the secret and PII spans of `findings` replaced by `[REDACTED:kind]`. Pass the
 * findings of the field this text came from (or give `field` to pick them).
 */
export function redact(text: string, findings: Finding[], field?: string): string {
  const mine = field === undefined ? findings : findings.filter((f) => f.field === field);
  return redactHits(text, mine.map((f) => ({ kind: f.kind, start: f.span.start, end: f.span.end })));
}

/**
 * The request with every string that holds a secret or personal identifier redacted, at any
 * depth (context, resource attributes, the agent), as the ledger keeps it and a model reads it.
 */
export function redactRequest(request: Request, findings: Finding[] = detect(request)): Request {
  const fields = new Set(findings.filter((f) => isSensitive(f.kind)).map((f) => f.field));
  if (fields.size === 0) return { ...request };
  const out = redactValue(request, '', findings, fields) as Request;
  return out;
}

/** A copy of `v` with the strings at the flagged field paths redacted (depth is bounded by normalization). */
function redactValue(v: unknown, path: string, findings: Finding[], fields: Set<string>): unknown {
  if (typeof v === 'string') return fields.has(path) ? redact(v, findings, path) : v;
  if (v === null || typeof v !== 'object') return v;
  const at = (k: string) => (path === '' ? k : `${path}.${k}`);
  if (Array.isArray(v)) return v.map((x, i) => redactValue(x, at(String(i)), findings, fields));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) Object.defineProperty(out, k, { value: redactValue(x, at(k), findings, fields), enumerable: true, writable: true, configurable: true });
  return out;
}

function preview(text: string, hit: Hit, sensitive: Hit[]): string {
  if (isSensitive(hit.kind)) return mask(text.slice(hit.start, hit.end), hit.kind);
  // An excerpt of a command or phrase, with any secret inside it masked, cut to a short line.
  const from = Math.max(0, hit.start);
  const to = Math.min(text.length, hit.end, from + PREVIEW_LENGTH * 4);
  const inside = sensitive
    .filter((s) => s.start < to && s.end > from)
    .map((s) => ({ kind: s.kind, start: Math.max(s.start, from) - from, end: Math.min(s.end, to) - from }));
  const excerpt = redactHits(text.slice(from, to), inside).replace(/\s+/g, ' ').trim();
  return excerpt.length > PREVIEW_LENGTH ? excerpt.slice(0, PREVIEW_LENGTH - 1) + '…' : excerpt;
}

/** What a text was scanned for, besides secrets and personal identifiers. */
export interface Scan {
  destructive?: boolean;
  sql?: boolean;
  injection?: boolean;
}

/** A finding without its field: what one text holds, whichever field it came from. */
type Found = Omit<Finding, 'field'>;

/** Texts whose findings are remembered, at most; the least recently used is forgotten first. */
export const DETECT_MEMO_SIZE = 4096;
/** Longer texts are scanned every time: the memo holds at most DETECT_MEMO_SIZE texts this long. */
export const DETECT_MEMO_TEXT_MAX = 1024;

/**
 * Findings of texts scanned lately, by the scan's flags and the whole text (the detectors read
 * nothing else: their rule sets and the injection model are fixed when the module loads). A
 * repeated request, as every cache hit is, finds its texts here instead of running the secret
 * rule set, the PII checks and the injection classifier again.
 */
const memo = new Map<string, readonly Found[]>();

function memoKey(text: string, what: Scan): string {
  return `${what.destructive ? 'd' : '-'}${what.sql ? 's' : '-'}${what.injection ? 'i' : '-'}\0${text}`;
}

/** Forgets every remembered text (tests, and nothing else, need it). */
export function clearDetectMemo(): void {
  memo.clear();
}

/** Texts remembered now. */
export function detectMemoSize(): number {
  return memo.size;
}

/** Detects what one field of the request holds. */
export function detectText(text: string, field: string, what: Scan): Finding[] {
  if (text.length === 0) return [];
  if (text.length > DETECT_MEMO_TEXT_MAX) return scanText(text, what).map((f) => ({ ...f, field, span: { ...f.span } }));
  const key = memoKey(text, what);
  let found = memo.get(key);
  if (found) {
    // Most recently used last: Map keeps insertion order, so the first key is the least recent.
    memo.delete(key);
  } else {
    found = scanText(text, what);
    if (memo.size >= DETECT_MEMO_SIZE) memo.delete(memo.keys().next().value!);
  }
  memo.set(key, found);
  // Fresh objects each time: a caller may change what it was given without changing the memo.
  return found.map((f) => ({ kind: f.kind, field, span: { start: f.span.start, end: f.span.end }, preview: f.preview }));
}

/** The findings of one text, sorted by where they start. */
function scanText(text: string, what: Scan): Found[] {
  const sensitive = [...detectSecrets(text), ...detectPii(text)];
  // A zero-width space or a fullwidth letter inside a key does not hide it (fold.ts).
  const folded = foldText(text);
  if (folded) for (const h of [...detectSecrets(folded.text), ...detectPii(folded.text)]) sensitive.push(folded.back(h));
  const hits: Hit[] = [...sensitive];
  if (what.destructive) hits.push(...detectDestructive(text));
  else if (what.sql && mentionsSql(text)) hits.push(...detectSqlEmbedded(text));
  if (what.injection) {
    hits.push(...detectInjection(text));
    // `I\u200bg\u200bn\u200bo\u200br\u200be ...` reads as the instruction it spells, to a model too.
    if (folded) hits.push(...detectInjection(folded.text).map((h) => folded.back(h)));
  }
  const seen = new Set<string>();
  const out: Found[] = [];
  for (const h of hits) {
    if (!(h.kind in FINDING_KINDS)) continue;
    const key = `${h.kind}:${h.start}:${h.end}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ kind: h.kind, span: { start: h.start, end: h.end }, preview: preview(text, h, sensitive) });
  }
  return out.sort((a, b) => a.span.start - b.span.start || a.kind.localeCompare(b.kind));
}

/** Text that may be a command: a program whose use the destructive detector knows, or SQL. */
const COMMAND_LIKE = /(?:^|[\s;&|`(])(?:sudo|rm|dd|mkfs|shred|wipefs|kubectl|oc|helm|terraform|tofu|git|docker|podman|find|xargs|chmod|chown|sh|bash|zsh|eval|curl|wget|aws|gcloud|az|psql|mysql|redis-cli|mongo|mongosh|systemctl|truncate|mv|cp|dropdb|shred)(?=[\s;&|)]|$)/i;

/**
 * Every finding in a request, in every string at any depth: secrets and personal identifiers
 * everywhere; destructive commands in `command` and in any other string that reads like one
 * (destructive SQL in `content`); prompt injection in every string a model may read.
 */
export function detect(request: Request): Finding[] {
  const out: Finding[] = [];
  if (request.content) out.push(...detectText(request.content, 'content', { sql: true, injection: true }));
  if (request.command) {
    out.push(...detectText(request.command, 'command', { destructive: true }));
    out.push(...detectCommandShape(request.command));
  }
  if (request.request) out.push(...detectText(request.request, 'request', { injection: true }));
  if (request.justification) out.push(...detectText(request.justification, 'justification', { injection: true }));
  const rest = { agent: request.agent, resource: request.resource, namespace: request.namespace, context: request.context, id: request.id };
  for (const [top, v] of Object.entries(rest)) out.push(...detectField(top, v));
  return out;
}

/**
 * The findings in one of the request's other fields (agent, resource, namespace, context, id), in
 * every string at any depth; `detect` gives them in that order, the id's last.
 */
export function detectField(top: string, v: unknown): Finding[] {
  const out: Finding[] = [];
  for (const [field, text] of strings(v, top)) {
    out.push(...detectText(text, field, { injection: true, destructive: COMMAND_LIKE.test(text), sql: !COMMAND_LIKE.test(text) }));
  }
  return out;
}
