// The optional guard model for prompt injection (`detectors.injection.model`): a moderation model a
// team runs itself (Llama Guard on Ollama and the like) reads the texts that the shipped classifier
// and the patterns let through. It can only add findings: an `unsafe` answer adds
// `prompt-injection-suspected`, and so does any answer that is not a verdict and any failure to get
// one (unreachable server, missing model, timeout), because a guard that cannot answer must not
// read as a guard that saw nothing. The model is reached through a function the caller builds (see
// router/providers/guard.ts), so this module holds the policy and none of the transport.
import { strings } from '../canonical.js';
import type { Request } from '../normalize.js';
import type { Finding } from './types.js';

/** Sends one text to the guard model and resolves to its raw answer; rejects when there is none. */
export type GuardModel = (text: string) => Promise<string>;

export type GuardVerdict = { verdict: 'safe' } | { verdict: 'unsafe'; categories: string[] } | { verdict: 'unreadable' };

/** Texts shorter than this (ids, names, enum values) hold no instruction worth a model call. */
const MIN_LENGTH = 16;

/**
 * Llama Guard's answer format: `safe`, or `unsafe` with a line of hazard categories (`S1,S14`).
 * Anything else (an explanation, JSON, an empty answer) is unreadable.
 */
export function parseVerdict(answer: string): GuardVerdict {
  const lines = answer.trim().split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const first = lines[0]?.toLowerCase().replace(/[.!]$/, '');
  if (first === 'safe' && lines.length === 1) return { verdict: 'safe' };
  if (first === 'unsafe') return { verdict: 'unsafe', categories: (lines[1] ?? '').split(/[\s,]+/).filter(Boolean) };
  return { verdict: 'unreadable' };
}

/**
 * The texts of a request the guard reads: every string the injection detectors scan (content,
 * request, justification, context and resource values, ...) that has no injection finding yet and
 * is long enough to carry an instruction; `command` is left to the command detectors.
 */
export function guardTexts(request: Request, findings: Finding[]): { field: string; text: string }[] {
  const flagged = new Set(findings.filter((f) => f.kind === 'prompt-injection' || f.kind === 'prompt-injection-suspected').map((f) => f.field));
  const out: { field: string; text: string }[] = [];
  const take = (field: string, text: string | undefined) => {
    if (text !== undefined && text.trim().length >= MIN_LENGTH && !flagged.has(field)) out.push({ field, text });
  };
  take('content', request.content);
  take('request', request.request);
  take('justification', request.justification);
  const rest = { agent: request.agent, resource: request.resource, namespace: request.namespace, context: request.context };
  for (const [top, v] of Object.entries(rest)) for (const [field, text] of strings(v, top)) take(field, text);
  return out;
}

const PREVIEW_LENGTH = 80;
const short = (s: string): string => {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > PREVIEW_LENGTH ? one.slice(0, PREVIEW_LENGTH - 1) + '…' : one;
};

/**
 * The guard model's findings for a request: one `prompt-injection-suspected` per text it calls
 * unsafe, cannot be read on, or could not be asked about. Texts are asked about in parallel; a call
 * never throws out of here. Previews name the verdict, never the text (which may hold a secret).
 */
export async function guardFindings(model: GuardModel, request: Request, findings: Finding[], name: string): Promise<Finding[]> {
  const texts = guardTexts(request, findings);
  const results = await Promise.all(texts.map(async ({ field, text }): Promise<Finding | undefined> => {
    const span = { start: 0, end: text.length };
    let answer: string;
    try {
      answer = await model(text);
    } catch (e) {
      return { kind: 'prompt-injection-suspected', field, span, preview: short(`guard model ${name} gave no verdict: ${(e as Error).message}`) };
    }
    const v = parseVerdict(answer);
    if (v.verdict === 'safe') return undefined;
    if (v.verdict === 'unsafe') return { kind: 'prompt-injection-suspected', field, span, preview: short(`guard model ${name}: unsafe${v.categories.length ? ` (${v.categories.join(', ')})` : ''}`) };
    return { kind: 'prompt-injection-suspected', field, span, preview: short(`guard model ${name} answered neither safe nor unsafe`) };
  }));
  return results.filter((f): f is Finding => f !== undefined);
}
