// Request fixtures for `govern route`: a file of requests, each line a plain request, a decision
// record (read by its request), or a labeled fixture `{"request": {...}, "category", "risk",
// "route", "decision", "rules"}`; and the scoring of what the pipeline and the router said against
// those labels: accuracy per expectation, confusion matrices, the lines that differ.
import { readFileSync } from 'node:fs';
import { CATEGORIES } from '../policy/vocabulary.js';

export const EXPECTATIONS = ['category', 'risk', 'route', 'decision', 'rules'] as const;
export type Expectation = (typeof EXPECTATIONS)[number];
export const RISKS = ['low', 'medium', 'high', 'critical'] as const;
export const ROUTES = ['cache', 'rules', 'router', 'model', 'default'] as const;
export const VERDICTS = ['allow', 'deny', 'escalate'] as const;

/** Who gave the answer an expectation is checked against. */
export type Source = 'router' | 'model' | 'pipeline';
/** category and risk are the intent router's (and, with --model, the small model's); the rest the decision's. */
export const SOURCE_OF: Record<Expectation, Source> = { category: 'router', risk: 'router', route: 'pipeline', decision: 'pipeline', rules: 'pipeline' };

export interface Expected {
  category?: string;
  risk?: string;
  route?: string;
  decision?: string;
  rules?: string[];
}

/** One line of a fixture file. `error` is set when the line cannot be used. */
export interface Item {
  line: number;
  raw: unknown;
  expected: Expected;
  error?: string;
}

/** The file cannot be read at all. */
export class FixtureFileError extends Error {}

const FIXTURE_KEYS = ['request', ...EXPECTATIONS];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const oneOf = (field: string, v: unknown, allowed: readonly string[], fold: (s: string) => string): string => {
  if (typeof v !== 'string' || !allowed.includes(fold(v))) throw new Error(`${field}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}.`);
  return fold(v);
};

/**
 * A line's request and expectations. A decision record (`decision` an object) gives its request
 * and no expectation; a plain request (its `request` is text, or absent) is taken as it is.
 * Throws an Error whose message names the field at fault.
 */
export function readItem(value: unknown): { raw: unknown; expected: Expected } {
  if (!isObject(value) || !isObject(value.request)) return { raw: value, expected: {} };
  if (isObject(value.decision)) return { raw: value.request, expected: {} };
  for (const k of Object.keys(value)) {
    if (!FIXTURE_KEYS.includes(k)) throw new Error(`${k}: is not a fixture field. A fixture is {"request": {...}} with any of ${EXPECTATIONS.join(', ')}; a request's own fields go inside "request".`);
  }
  const expected: Expected = {};
  if (value.category !== undefined) expected.category = oneOf('category', value.category, CATEGORIES, (s) => s.toUpperCase());
  if (value.risk !== undefined) expected.risk = oneOf('risk', value.risk, RISKS, (s) => s.toLowerCase());
  if (value.route !== undefined) expected.route = oneOf('route', value.route, ROUTES, (s) => s.toLowerCase());
  if (value.decision !== undefined) expected.decision = oneOf('decision', value.decision, VERDICTS, (s) => s.toLowerCase());
  if (value.rules !== undefined) {
    const r = typeof value.rules === 'string' ? [value.rules] : value.rules;
    if (!Array.isArray(r) || !r.every((x) => typeof x === 'string' && x.trim())) throw new Error('rules: must be a rule id or a list of rule ids (an empty list: no rule decides).');
    expected.rules = r.map((x: string) => x.trim());
  }
  return { raw: value.request, expected };
}

/** The lines of a fixture file: JSON Lines, or one JSON array ("-" reads stdin). */
export function readFixtures(path: string): Item[] {
  let text: string;
  try {
    text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (e) {
    throw new FixtureFileError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}.`);
  }
  const item = (line: number, value: unknown): Item => {
    try {
      return { line, ...readItem(value) };
    } catch (e) {
      return { line, raw: undefined, expected: {}, error: (e as Error).message };
    }
  };
  if (text.trimStart().startsWith('[')) {
    let values: unknown[];
    try {
      values = JSON.parse(text) as unknown[];
    } catch (e) {
      throw new FixtureFileError(`${path}: not valid JSON: ${(e as Error).message}.`);
    }
    return values.map((v, i) => item(i + 1, v));
  }
  const out: Item[] = [];
  text.split('\n').forEach((l, i) => {
    if (!l.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(l);
    } catch (e) {
      out.push({ line: i + 1, raw: undefined, expected: {}, error: `not valid JSON: ${(e as Error).message}` });
      return;
    }
    out.push(item(i + 1, value));
  });
  return out;
}

/** What was said about one line: the decision, and each reader's category and risk. */
export interface Observed {
  route: string;
  decision: string;
  rules: string[];
  /** The decision's reasons, for "why". */
  reasons: string;
  readings: Partial<Record<'router' | 'model', Reading>>;
}

/** One reader's classification: category, risk and why (its signals, or why it gave none). */
export interface Reading {
  category: string | null;
  risk: string | null;
  why: string;
}

export interface Difference {
  line: number;
  expectation: Expectation;
  source: Source;
  expected: string;
  got: string;
  why: string;
}

export interface Accuracy {
  checked: number;
  passed: number;
  accuracy: number | null;
}

export type Matrix = Record<string, Record<string, number>>;

export interface Score {
  /** Accuracy per expectation and source (`category.router`, `category.model`, `decision.pipeline`). */
  accuracy: Record<string, Accuracy>;
  confusion: { category: Partial<Record<'router' | 'model', Matrix>>; risk: Partial<Record<'router' | 'model', Matrix>> };
  differences: Difference[];
  /** Lines with at least one expectation. */
  labeled: number;
}

const NONE = 'none';

function matrix(rows: readonly string[]): Matrix {
  return Object.fromEntries(rows.map((r) => [r, Object.fromEntries([...rows, NONE].map((c) => [c, 0]))]));
}

const listed = (rules: string[]): string => (rules.length ? rules.join(', ') : 'no rule');

/** Whether `got` meets one expectation, and the two sides as text. */
function check(e: Expectation, want: Expected, obs: Observed, source: Source): { ok: boolean; expected: string; got: string; why: string } | undefined {
  if (e === 'rules') {
    if (!want.rules) return undefined;
    const ok = want.rules.length ? want.rules.every((r) => obs.rules.includes(r)) : obs.rules.length === 0;
    return { ok, expected: listed(want.rules), got: listed(obs.rules), why: obs.reasons };
  }
  const w = want[e];
  if (w === undefined) return undefined;
  if (source === 'pipeline') {
    const got = e === 'route' ? obs.route : obs.decision;
    return { ok: got === w, expected: w, got, why: obs.reasons };
  }
  const r = obs.readings[source];
  if (!r) return undefined;
  const got = (e === 'category' ? r.category : r.risk) ?? NONE;
  return { ok: got === w, expected: w, got, why: r.why };
}

/** Scores observed lines against their expectations. */
export class Scorer {
  private readonly score: Score = { accuracy: {}, confusion: { category: {}, risk: {} }, differences: [], labeled: 0 };

  add(line: number, want: Expected, obs: Observed): Difference[] {
    const found: Difference[] = [];
    if (Object.keys(want).length) this.score.labeled++;
    for (const e of EXPECTATIONS) {
      const sources: Source[] = SOURCE_OF[e] === 'pipeline' ? ['pipeline'] : (['router', 'model'] as const).filter((s) => obs.readings[s]);
      for (const source of sources) {
        const c = check(e, want, obs, source);
        if (!c) continue;
        const key = `${e}.${source}`;
        const a = (this.score.accuracy[key] ??= { checked: 0, passed: 0, accuracy: null });
        a.checked++;
        if (c.ok) a.passed++;
        a.accuracy = a.passed / a.checked;
        if ((e === 'category' || e === 'risk') && source !== 'pipeline') {
          const m = (this.score.confusion[e][source] ??= matrix(e === 'category' ? CATEGORIES : RISKS));
          const row = m[c.expected];
          if (row) row[c.got in row ? c.got : NONE]!++;
        }
        if (!c.ok) found.push({ line, expectation: e, source, expected: c.expected, got: c.got, why: c.why });
      }
    }
    this.score.differences.push(...found);
    return found;
  }

  /** The score, its accuracies in the order of EXPECTATIONS, each reader before the model. */
  result(): Score {
    const order = EXPECTATIONS.flatMap((e) => (['router', 'model', 'pipeline'] as const).map((src) => `${e}.${src}`));
    const accuracy = Object.fromEntries(order.filter((k) => this.score.accuracy[k]).map((k) => [k, this.score.accuracy[k]!]));
    return { ...this.score, accuracy };
  }
}

/** The gate: every accuracy at least `min` (1: every expectation met). Returns what fell short. */
export function shortfalls(score: Score, min: number): { key: string; accuracy: number }[] {
  return Object.entries(score.accuracy)
    .filter(([, a]) => a.accuracy !== null && a.accuracy < min - 1e-12)
    .map(([key, a]) => ({ key, accuracy: a.accuracy! }));
}
