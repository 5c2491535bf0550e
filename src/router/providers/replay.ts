// Answers from recorded decision records (JSON Lines, as `govern ledger export` writes them), for CI
// and A/B runs: no network, no tokens spent, the recorded model's decision returned as the model's
// answer. A request is looked up by the hash of its normalized form without its `id`, the same
// identity the runtime gives requests.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { canonicalJson, sha256 } from '../../compile/canonical.js';
import { normalizeRequest, type Request } from '../../request/normalize.js';
import { ProviderError, type ModelRequest, type ModelResponse, type ModelSettings, type Provider, type Usage } from '../provider.js';

const VERDICTS = ['allow', 'deny', 'escalate'];
const CATEGORIES = ['CREATE', 'MODIFY', 'DELETE', 'ACCESS', 'COMPLY'];
const RISKS = ['low', 'medium', 'high', 'critical'];

/** One recorded model answer. */
export interface Recording {
  key: string;
  text: string;
  usage: Usage;
  model: string;
  at: number;
  line: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The identity of a request: its normalized form, without the caller's id, hashed. */
export function replayKey(request: unknown): string {
  const normalized = normalizeRequest(request);
  return sha256(canonicalJson({ ...normalized, id: undefined }));
}

/** A recorded token count; anything but a whole number of 0 or more reads as 0, as a missing one does. */
function count(v: unknown): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0;
}

/** The answer a model would have given, rebuilt from a recorded decision. */
function answerOf(decision: Record<string, unknown>): string {
  const reasons = Array.isArray(decision.reasons) ? decision.reasons : [];
  const messages = reasons.flatMap((r) => (isObject(r) && typeof r.message === 'string' && r.message.trim() ? [r.message.trim()] : []));
  let reason = messages.join('; ') || `recorded ${String(decision.decision)} decision`;
  if (reason.length > 1000) reason = `${reason.slice(0, 997)}...`;
  // The recorded confidence where the record has one (a record from before confidence was asked for: sure).
  const confidence = typeof decision.confidence === 'number' && decision.confidence >= 0 && decision.confidence <= 1 ? decision.confidence : 1;
  const answer: Record<string, unknown> = { decision: decision.decision, confidence, reason };
  const facts = isObject(decision.facts) ? decision.facts : {};
  if (typeof facts.category === 'string' && CATEGORIES.includes(facts.category)) answer.category = facts.category;
  if (typeof facts.risk === 'string' && RISKS.includes(facts.risk)) answer.risk = facts.risk;
  return JSON.stringify(answer);
}

/**
 * The model answers in a records file, by request key; when several records share a key the one
 * with the latest `at` wins (the later line on a tie). Throws a ProviderError naming the file and
 * line of the first malformed record.
 */
export function loadRecordings(file: string, text?: string): Map<string, Recording> {
  let body = text;
  if (body === undefined) {
    try {
      body = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ProviderError('not-configured', `replay: cannot read the records file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
    }
  }
  const out = new Map<string, Recording>();
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const src = lines[i]!.trim();
    if (!src) continue;
    const line = i + 1;
    const bad = (what: string) => new ProviderError('not-configured', `replay: ${file}:${line}: ${what}`);
    let rec: unknown;
    try {
      rec = JSON.parse(src);
    } catch (e) {
      throw bad(`not a JSON object (${(e as Error).message}).`);
    }
    if (!isObject(rec)) throw bad('a record must be a JSON object {"request", "decision", "model", "usage", "at"}.');
    if (!isObject(rec.request)) throw bad('"request" must be the recorded request object.');
    if (!isObject(rec.decision)) throw bad('"decision" must be the recorded decision object.');
    const decision = rec.decision;
    if (typeof decision.decision !== 'string' || !VERDICTS.includes(decision.decision)) throw bad('"decision.decision" must be allow, deny or escalate.');
    if (rec.model !== undefined && rec.model !== null && typeof rec.model !== 'string') throw bad('"model" must be a string or null.');
    if (rec.usage !== undefined && rec.usage !== null && !isObject(rec.usage)) throw bad('"usage" must be {"input_tokens", "output_tokens"} or null.');
    const at = rec.at === undefined ? 0 : typeof rec.at === 'string' ? Date.parse(rec.at) : NaN;
    if (Number.isNaN(at)) throw bad('"at" must be an ISO time.');
    // Only what a model decided is a model answer; rules, cache and router decisions are not.
    if (decision.route !== 'model' && typeof rec.model !== 'string') continue;
    let key: string;
    try {
      key = replayKey(rec.request);
    } catch (e) {
      throw bad(`the recorded request is not a valid request (${(e as Error).message})`);
    }
    const usage = isObject(rec.usage) ? { input_tokens: count(rec.usage.input_tokens), output_tokens: count(rec.usage.output_tokens) } : { input_tokens: 0, output_tokens: 0 };
    const recording: Recording = { key, text: answerOf(decision), usage, model: typeof rec.model === 'string' && rec.model ? rec.model : 'replay', at, line };
    const prev = out.get(key);
    if (!prev || recording.at >= prev.at) out.set(key, recording);
  }
  return out;
}

export class ReplayProvider implements Provider {
  private recordings?: Map<string, Recording>;
  readonly file: string;

  constructor(readonly settings: ModelSettings) {
    if (!settings.file) throw new ProviderError('not-configured', 'replay: no records file: set `file` in the model settings to a JSON Lines export of decision records.');
    this.file = resolve(settings.file);
  }

  private load(): Map<string, Recording> {
    this.recordings ??= loadRecordings(this.file);
    return this.recordings;
  }

  async complete(req: ModelRequest): Promise<ModelResponse> {
    const recordings = this.load();
    // Recorded decisions answer the decision question only, not (for example) the intent router's.
    const props = isObject(req.schema.properties) ? req.schema.properties : {};
    if (Object.keys(req.schema).length && !('decision' in props)) throw new ProviderError('no-recording', `replay: decision records cannot answer ${req.schemaName}.`);
    let key: string;
    try {
      key = replayKey(req.request);
    } catch (e) {
      throw new ProviderError('bad-request', `replay: the request cannot be normalized (${(e as Error).message}).`);
    }
    const hit = recordings.get(key);
    if (!hit) throw new ProviderError('no-recording', `replay: ${this.file} holds no model answer for this request (agent ${describe(req.request)}).`);
    return { text: hit.text, usage: { ...hit.usage }, model: hit.model };
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    try {
      const n = this.load().size;
      return { ok: true, detail: `replay: ${n} recorded model answer${n === 1 ? '' : 's'} in ${this.file}.` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  }
}

function describe(r: Request): string {
  const resource = r.resource.type === 'none' ? '' : `, resource ${r.resource.type}${r.resource.id ? `/${r.resource.id}` : ''}`;
  return `${r.agent.id}, action ${r.action}${resource}, ${r.environment}`;
}
