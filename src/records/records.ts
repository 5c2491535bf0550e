// Decision records, the input of distill and replay: read from a JSON Lines file (as `govern
// ledger export` writes them) or from the ledger, checked line by line, and turned back into the
// facts the rules saw when the decision was made.
import { createReadStream, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Decision } from '../engine/engine.js';
import { DEFAULT_TRUST, factsOf, type Facts } from '../engine/facts.js';
import { UNCLASSIFIED } from '../policy/vocabulary.js';
import { LOW_CONFIDENCE, MODEL_FAILURE_CODE } from '../router/provider.js';
import { detect } from '../request/detectors/index.js';
import { normalizeRequest, RequestError, type Request } from '../request/normalize.js';

export interface DecisionRecord {
  request: Request;
  decision: Decision;
  model: string | null;
  usage: { input_tokens: number; output_tokens: number } | null;
  at: string;
}

/** A record as read, with where it came from. */
export interface Recorded extends DecisionRecord {
  /** Position in the input (1-based line of the file, or ledger sequence number). */
  line: number;
  /** Milliseconds since the epoch of `at`. */
  time: number;
  /** A human's answer to an escalation (who answered): evidence that outweighs the model's. */
  human?: string;
  /** State facts the record does not know (a record from elsewhere): no distilled rule depends on them. */
  unknown?: string[];
}

/** A record that cannot be read: names the file and line, says what is wrong. */
export class RecordError extends Error {
  constructor(readonly file: string, readonly line: number, what: string) {
    super(`${file}:${line}: ${what}`);
  }
}

export { LOW_CONFIDENCE, MODEL_FAILURE, MODEL_FAILURE_CODE } from '../router/provider.js';

const VERDICTS = new Set(['allow', 'deny', 'escalate']);
const ROUTES = new Set(['cache', 'rules', 'router', 'model', 'default']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The model was asked and answered (it did not time out or return something invalid). */
export function isModelJudgement(r: DecisionRecord): boolean {
  return r.decision.route === 'model' && r.model !== null && !r.decision.reasons.some((x) => x.rule === null && x.code === MODEL_FAILURE_CODE);
}


/** The model answered, but said it was not sure. */
export function isLowConfidence(r: DecisionRecord): boolean {
  return isModelJudgement(r) && typeof r.decision.confidence === 'number' && r.decision.confidence < LOW_CONFIDENCE;
}

/** What distill learns from: a human's answer to an escalation, or a confident decision of the model. */
export function isEvidence(r: DecisionRecord & { human?: string }): boolean {
  return r.human !== undefined || (isModelJudgement(r) && !isLowConfidence(r));
}

/** The decision was a judgement (of rules, cache, router, model or a human), not the default escalation or a failed model call. */
export function isJudgement(r: DecisionRecord & { human?: string }): boolean {
  if (r.human !== undefined) return true;
  if (r.decision.route === 'default') return false;
  if (r.decision.route === 'model') return isModelJudgement(r);
  return true;
}

/** Checks one parsed line and returns it as a record; throws a RecordError naming what is wrong. */
export function toRecord(v: unknown, file: string, line: number): Recorded {
  const bad = (what: string) => new RecordError(file, line, what);
  if (!isObject(v)) throw bad('a decision record must be a JSON object {"request", "decision", "model", "usage", "at"}.');
  for (const k of ['request', 'decision', 'at']) if (!(k in v)) throw bad(`the record has no "${k}"; is this a decision record (govern ledger export)?`);
  let request: Request;
  try {
    request = normalizeRequest(v.request);
  } catch (e) {
    throw bad(`request.${e instanceof RequestError ? e.message : (e as Error).message}`);
  }
  const d = v.decision;
  if (!isObject(d)) throw bad('"decision" must be a decision object.');
  if (typeof d.decision !== 'string' || !VERDICTS.has(d.decision)) throw bad(`decision.decision must be allow, deny or escalate, not ${JSON.stringify(d.decision)}.`);
  if (typeof d.route !== 'string' || !ROUTES.has(d.route)) throw bad(`decision.route must be one of ${[...ROUTES].join(', ')}, not ${JSON.stringify(d.route)}.`);
  if (d.reasons === undefined) d.reasons = [];
  if (!Array.isArray(d.reasons)) throw bad('decision.reasons must be a list.');
  for (const r of d.reasons) if (!isObject(r) || typeof r.message !== 'string' || !(r.rule === null || typeof r.rule === 'string')) throw bad('each of decision.reasons must be {"rule", "effect", "message"}.');
  // A record from elsewhere may carry no facts: those the request gives are computed, the state's are unknown.
  const unknown: string[] = [];
  if (d.facts === undefined) d.facts = { category: request.category ?? UNCLASSIFIED, detectors: [...new Set(detect(request).map((f) => f.kind))].sort() };
  if (!isObject(d.facts) || typeof d.facts.category !== 'string' || !Array.isArray(d.facts.detectors)) throw bad('decision.facts must hold "category" and "detectors" (or be left out, to be computed from the request).');
  if (typeof d.facts.trust !== 'number') unknown.push('trust');
  if (typeof d.facts.hour !== 'number') unknown.push('hour');
  if (d.confidence !== undefined && (typeof d.confidence !== 'number' || d.confidence < 0 || d.confidence > 1)) throw bad('decision.confidence must be a number from 0 to 1.');
  if (!Array.isArray(d.warnings)) d.warnings = [];
  if (!isObject(d.tokens)) d.tokens = { input: 0, output: 0 };
  if (!isObject(d.policy)) d.policy = { hash: '' };
  const model = v.model ?? null;
  if (model !== null && typeof model !== 'string') throw bad('"model" must be "provider/model" or null.');
  let usage: DecisionRecord['usage'] = null;
  if (v.usage !== null && v.usage !== undefined) {
    const u = v.usage;
    if (!isObject(u) || !Number.isInteger(u.input_tokens) || !Number.isInteger(u.output_tokens) || (u.input_tokens as number) < 0 || (u.output_tokens as number) < 0) throw bad('"usage" must be {"input_tokens": n, "output_tokens": n} or null.');
    usage = { input_tokens: u.input_tokens as number, output_tokens: u.output_tokens as number };
  }
  const time = typeof v.at === 'string' ? Date.parse(v.at) : NaN;
  if (Number.isNaN(time)) throw bad(`"at" must be an ISO 8601 time, not ${JSON.stringify(v.at)}.`);
  return { request, decision: d as unknown as Decision, model, usage, at: v.at as string, line, time, ...(unknown.length ? { unknown } : {}) };
}

/** Reads a JSON Lines file of decision records ("-" for stdin), streaming. Throws RecordError on the first bad line. */
export async function readRecords(file: string): Promise<Recorded[]> {
  const name = file === '-' ? 'stdin' : file;
  let input: NodeJS.ReadableStream = process.stdin;
  if (file !== '-') {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      throw new RecordError(name, 0, `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Pass a file of decision records, e.g. from \`govern ledger export -o FILE\`.`);
    }
    input = createReadStream('', { fd });
  }
  const out: Recorded[] = [];
  const share = stringSharer();
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    const src = text.trim();
    if (!src) continue;
    let v: unknown;
    try {
      v = JSON.parse(src);
    } catch (e) {
      throw new RecordError(name, line, `not JSON (${(e as Error).message}). Each line must be one decision record.`);
    }
    const r = toRecord(v, name, line);
    share(r);
    out.push(r);
  }
  return out;
}

/**
 * Makes records share one copy of each short string (agent ids, categories, environments, model
 * names, reasons): JSON.parse gives every record its own copy, and a hundred thousand records
 * repeat a few hundred values. In place, record by record as they are read; no value changes.
 */
export function stringSharer(): (record: DecisionRecord) => void {
  const pool = new Map<string, string>();
  const walk = (o: Record<string, unknown> | unknown[]): void => {
    for (const k in o) {
      const v = (o as Record<string, unknown>)[k];
      if (typeof v === 'string') {
        if (v.length > 64) continue;
        const shared = pool.get(v);
        if (shared === undefined) {
          // Values seen once so far are many (ids, times): keep the pool to the repeated kind.
          if (pool.size < 100_000) pool.set(v, v);
        } else (o as Record<string, unknown>)[k] = shared;
      } else if (v !== null && typeof v === 'object') walk(v as Record<string, unknown>);
    }
  };
  return (r) => walk(r as unknown as Record<string, unknown>);
}

/** Records in time order (stable: equal times keep their input order). */
export function byTime(records: Recorded[]): Recorded[] {
  return records.map((r, i) => [r, i] as const).sort((a, b) => a[0].time - b[0].time || a[1] - b[1]).map(([r]) => r);
}

export interface RecordFilter {
  since?: number;
  agent?: string;
  category?: string;
}

export function filterRecords(records: Recorded[], f: RecordFilter): Recorded[] {
  return records.filter((r) => (f.since === undefined || r.time >= f.since) && (f.agent === undefined || r.request.agent.id === f.agent) && (f.category === undefined || r.decision.facts.category === f.category || r.request.category === f.category));
}

/**
 * The facts the rules saw, rebuilt from a record: the request as recorded (redacted), the
 * detector kinds and state facts the decision carries. The category is the request's own, as in
 * the first pass of the pipeline; the router may classify it again.
 */
export function recordFacts(r: DecisionRecord): Facts {
  const f = r.decision.facts;
  const hour = typeof f.hour === 'number' ? f.hour : new Date(r.at).getUTCHours();
  return factsOf(r.request, {
    findings: f.detectors,
    trust: typeof f.trust === 'number' ? f.trust : DEFAULT_TRUST,
    ...(typeof f.team === 'string' ? { team: f.team } : {}),
    hour,
    ...(f.budget ? { budget: f.budget } : {}),
  });
}

/** The category the decision was made under (the router's or model's, where the request gave none). */
export function decidedCategory(r: DecisionRecord): string {
  return r.decision.facts.category !== UNCLASSIFIED ? r.decision.facts.category : (r.request.category ?? UNCLASSIFIED);
}

/** Every record in the ledger, in order. */
export function ledgerRecords(rows: Iterable<{ seq: number; record: string }>, name = 'ledger'): Recorded[] {
  const out: Recorded[] = [];
  const share = stringSharer();
  for (const row of rows) {
    const r = toRecord(JSON.parse(row.record) as unknown, name, row.seq);
    share(r);
    out.push(r);
  }
  return out;
}

/** An escalation a human answered, as the state keeps it. */
export interface Answered {
  id: string;
  decision_id: string;
  status: string;
  resolved_at: string | null;
  resolved_by: string | null;
}

/**
 * The humans' answers to escalations as records: the escalated request and its facts, decided as
 * the human decided (approved: allow, denied: deny). Only escalations no written rule made count:
 * a distilled rule never outranks a written one, so those teach nothing.
 */
export function humanRecords(escalations: Iterable<Answered>, ledger: Recorded[]): Recorded[] {
  const byId = new Map(ledger.flatMap((r) => (r.decision.id ? [[r.decision.id, r] as const] : [])));
  const out: Recorded[] = [];
  for (const e of escalations) {
    if (!e.resolved_at || !['approved', 'used', 'denied'].includes(e.status)) continue;
    const r = byId.get(e.decision_id);
    if (!r || (r.decision.route !== 'default' && r.decision.route !== 'model')) continue;
    const verdict = e.status === 'denied' ? 'deny' : 'allow';
    const time = Date.parse(e.resolved_at);
    out.push({
      ...r,
      decision: { ...r.decision, decision: verdict, id: e.id, reasons: [{ rule: null, effect: verdict, message: `${e.status === 'denied' ? 'denied' : 'approved'} by ${e.resolved_by ?? 'a human'} (escalation ${e.id})` }] },
      model: null,
      usage: null,
      at: e.resolved_at,
      time: Number.isNaN(time) ? r.time : time,
      human: e.resolved_by ?? 'a human',
    });
  }
  return out;
}

/** A shadow answer as the state keeps it (see runtime/shadow.ts). */
export interface Shadowed {
  decision_id: string;
  at: string;
  model_decision: string;
  model: string;
  confidence: number | null;
  input_tokens: number;
  output_tokens: number;
  reason: string;
}

/**
 * Shadow answers as records of the model's decisions on the requests they were asked about: the
 * evidence that narrows or retires a rule its shadow contradicts (and supports one it agrees with).
 */
export function shadowRecords(rows: Iterable<Shadowed>, ledger: Recorded[]): Recorded[] {
  const byId = new Map(ledger.flatMap((r) => (r.decision.id ? [[r.decision.id, r] as const] : [])));
  const out: Recorded[] = [];
  let n = 0;
  for (const s of rows) {
    const r = byId.get(s.decision_id);
    if (!r || !VERDICTS.has(s.model_decision)) continue;
    const verdict = s.model_decision as Decision['decision'];
    const time = Date.parse(s.at);
    out.push({
      ...r,
      decision: {
        ...r.decision,
        decision: verdict,
        tier: verdict === 'allow' ? 1 : verdict === 'escalate' ? 2 : 3,
        route: 'model',
        id: `shadow-${++n}-${s.decision_id}`,
        reasons: [{ rule: null, effect: verdict, message: `shadow: ${s.reason}` }],
        tokens: { input: s.input_tokens, output: s.output_tokens },
        ...(s.confidence !== null ? { confidence: s.confidence } : {}),
      },
      model: s.model || 'shadow',
      usage: { input_tokens: s.input_tokens, output_tokens: s.output_tokens },
      at: s.at,
      time: Number.isNaN(time) ? r.time : time,
    });
  }
  return out;
}

/** The decision was made by a distilled rule (its source is under distilled/): the rule's echo, not a judgement to learn from. */
export function decidedByDistilled(r: DecisionRecord): boolean {
  if (r.decision.route !== 'rules' && r.decision.route !== 'router' && r.decision.route !== 'cache') return false;
  const deciding = r.decision.reasons.filter((x) => x.effect === r.decision.decision && x.rule);
  return deciding.length > 0 && deciding.every((x) => typeof x.source === 'string' && /(^|[\\/])distilled[\\/]/.test(x.source));
}
