// Rule learning over recorded decisions, precision first. Each judged record is a vector of
// feature values with a verdict; the model's own decisions are the evidence. For each group of
// evidence not yet covered, the learner looks for the most general conjunction of feature values
// (fewest features beyond those an effect must always name) under which every recorded judgement
// agrees with the group: no other decision inside it, save the model's more lenient outliers up
// to a share, which are reported. Groups that disagree get no rule and stay with the model.
import { ABSENT, UNSAYABLE, type Feature } from './features.js';

export type Verdict = 'allow' | 'escalate' | 'deny';
/** Verdicts by strictness: a rule may set aside only decisions more lenient than its own. */
export const VERDICTS: Verdict[] = ['allow', 'escalate', 'deny'];

export interface Example {
  vec: string[];
  verdict: number;
  /** A decision of the model (else of rules, cache or router, which only ever contradict). */
  evidence: boolean;
  /** Tells requests apart, so that one request asked five times is support 1. */
  requestKey: string;
  index: number;
}

export interface LearnOptions {
  minSupport: number;
  /** Share of the decisions inside a rule that must agree with it, once outliers are set aside (0-1). */
  minAgreement: number;
  /** Largest share of a rule's decisions that may be set aside as the model's lenient outliers (0-1). */
  maxOutliers: number;
  /** Most features a rule adds to those its effect must name. */
  maxExtra?: number;
  /** Rules (by ruleKey) refused before: the learner looks for a narrower one instead. */
  forbidden?: Set<string>;
}

/** Identifies a rule by its verdict and feature values, independent of feature order. */
export function ruleKey(verdict: string, parts: [string, string][]): string {
  return `${verdict}|${[...parts].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('\u0001')}`;
}

export interface Learned {
  verdict: Verdict;
  /** Indexes into the feature list, in feature order. */
  features: number[];
  values: string[];
  /** Distinct requests of the evidence that agree. */
  support: number;
  /** Indexes of the examples inside the rule, by role. */
  agreeing: number[];
  outliers: number[];
  /** Judged decisions inside the rule, and how many agree. */
  judged: number;
  agreement: number;
}

export interface Unlearned {
  verdict: Verdict;
  values: string[];
  evidence: number;
  reason: string;
}

interface Cell {
  vec: string[];
  examples: number[];
  /** Judged decisions per verdict, and those that are the model's. */
  counts: number[];
  model: number[];
  /** Distinct evidence requests per verdict. */
  distinct: number[];
}

interface Agg {
  counts: number[];
  model: number[];
  distinct: number[];
  cells: number[];
}

/** Features an effect must always name: an allow never reaches past the scope its evidence shows. */
export function pinnedFor(verdict: Verdict, features: Feature[]): Set<number> {
  const names = verdict === 'allow' ? ['category', 'environment', 'resource', 'path', 'classification', 'cost', 'findings'] : ['category', 'environment'];
  return new Set(features.flatMap((f, i) => (names.includes(f.name) ? [i] : [])));
}

export function learn(examples: Example[], features: Feature[], opts: LearnOptions): { rules: Learned[]; unlearned: Unlearned[] } {
  const cells = new Map<string, Cell>();
  for (const e of examples) {
    const key = e.vec.join('\u0001');
    let c = cells.get(key);
    if (!c) cells.set(key, (c = { vec: e.vec, examples: [], counts: [0, 0, 0], model: [0, 0, 0], distinct: [0, 0, 0] }));
    c.examples.push(e.index);
    c.counts[e.verdict]!++;
    if (e.evidence) c.model[e.verdict]!++;
  }
  const list = [...cells.values()];
  for (const c of list) {
    const seen = [new Set<string>(), new Set<string>(), new Set<string>()];
    for (const i of c.examples) {
      const e = examples[i]!;
      if (e.evidence) seen[e.verdict]!.add(e.requestKey);
    }
    c.distinct = seen.map((s) => s.size);
  }
  // Seeds: the groups with the most evidence first; ties by their values, so the result is stable.
  const order = list.map((_, i) => i).sort((a, b) => {
    const ea = list[a]!.model.reduce((x, y) => x + y, 0);
    const eb = list[b]!.model.reduce((x, y) => x + y, 0);
    return eb - ea || (list[a]!.vec.join('\u0001') < list[b]!.vec.join('\u0001') ? -1 : 1);
  });

  const projections = new Map<number, Map<string, Agg>>();
  const project = (mask: number[]): Map<string, Agg> => {
    const id = mask.reduce((m, f) => m | (1 << f), 0);
    let p = projections.get(id);
    if (p) return p;
    p = new Map();
    list.forEach((c, ci) => {
      const key = mask.map((f) => c.vec[f]).join('\u0001');
      let a = p!.get(key);
      if (!a) p!.set(key, (a = { counts: [0, 0, 0], model: [0, 0, 0], distinct: [0, 0, 0], cells: [] }));
      for (let v = 0; v < 3; v++) {
        a.counts[v]! += c.counts[v]!;
        a.model[v]! += c.model[v]!;
        a.distinct[v]! += c.distinct[v]!;
      }
      a.cells.push(ci);
    });
    projections.set(id, p);
    return p;
  };

  /** Whether a rule of `verdict` may stand over these decisions, and how many it sets aside. */
  const judge = (a: Agg, verdict: number): { ok: boolean; outliers: number; agreement: number; why?: string } => {
    const total = a.counts[0]! + a.counts[1]! + a.counts[2]!;
    let stricter = 0;
    let lenientModel = 0;
    let lenientOther = 0;
    for (let v = 0; v < 3; v++) {
      if (v > verdict) stricter += a.counts[v]!;
      if (v < verdict) {
        lenientModel += a.model[v]!;
        lenientOther += a.counts[v]! - a.model[v]!;
      }
    }
    // Never an allow where any recorded decision denied or escalated; never overrule the written rules.
    if (verdict === 0 && stricter > 0) return { ok: false, outliers: 0, agreement: a.counts[0]! / total, why: `${stricter} recorded decision${stricter === 1 ? '' : 's'} denied or escalated the same kind of request` };
    if (lenientOther > 0) return { ok: false, outliers: 0, agreement: a.counts[verdict]! / total, why: `the written rules decided ${lenientOther} such request${lenientOther === 1 ? '' : 's'} more leniently` };
    const outliers = lenientModel <= opts.maxOutliers * total ? lenientModel : 0;
    const agreement = a.counts[verdict]! / (total - outliers);
    if (agreement + 1e-12 < opts.minAgreement) return { ok: false, outliers, agreement, why: `only ${(agreement * 100).toFixed(1)}% of the decisions agree` };
    return { ok: true, outliers, agreement };
  };

  const covered = new Set<string>();
  const rules: Learned[] = [];
  const unlearned: Unlearned[] = [];
  const maxExtra = opts.maxExtra ?? 3;
  for (const ci of order) {
    const seed = list[ci]!;
    // The verdict the model gave this group most often (the stricter on a tie).
    let verdict = -1;
    for (let v = 0; v < 3; v++) if (seed.model[v]! > 0 && (verdict < 0 || seed.model[v]! >= seed.model[verdict]!)) verdict = v;
    if (verdict < 0 || covered.has(`${ci}:${verdict}`)) continue;
    const name = VERDICTS[verdict]!;
    const usable = (f: number) => seed.vec[f] !== UNSAYABLE && !(f === 0 && seed.vec[f] === ABSENT);
    if (!usable(0)) {
      unlearned.push({ verdict: name, values: seed.vec, evidence: seed.model[0]! + seed.model[1]! + seed.model[2]!, reason: 'the category is unknown, and a distilled rule always names one' });
      covered.add(`${ci}:${verdict}`);
      continue;
    }
    const pinned = [...pinnedFor(name, features)].filter(usable);
    if (name === 'allow' && [...pinnedFor(name, features)].some((f) => !usable(f))) {
      unlearned.push({ verdict: name, values: seed.vec, evidence: seed.model[0]! + seed.model[1]! + seed.model[2]!, reason: 'an allow must name its scope exactly, and one of its values cannot be said in the policy language' });
      covered.add(`${ci}:${verdict}`);
      continue;
    }
    const free = features.map((_, i) => i).filter((f) => !pinned.includes(f) && usable(f));
    let best: { mask: number[]; agg: Agg; j: ReturnType<typeof judge> } | undefined;
    let lastWhy = '';
    const tryMask = (mask: number[]) => {
      if (opts.forbidden?.has(ruleKey(name, mask.map((f) => [features[f]!.name, seed.vec[f]!])))) return;
      const agg = project(mask).get(mask.map((f) => seed.vec[f]).join('\u0001'))!;
      const j = judge(agg, verdict);
      if (!j.ok) {
        lastWhy = j.why!;
        return;
      }
      if (!best || agg.distinct[verdict]! > best.agg.distinct[verdict]!) best = { mask, agg, j };
    };
    for (let k = 0; k <= Math.min(maxExtra, free.length) && !best; k++) {
      for (const combo of combinations(free, k)) tryMask([...pinned, ...combo].sort((a, b) => a - b));
    }
    if (!best && free.length > maxExtra) tryMask([...pinned, ...free].sort((a, b) => a - b));
    if (!best) {
      unlearned.push({ verdict: name, values: seed.vec, evidence: seed.model[0]! + seed.model[1]! + seed.model[2]!, reason: lastWhy || 'no rule fits' });
      covered.add(`${ci}:${verdict}`);
      continue;
    }
    const { mask, agg, j } = best as { mask: number[]; agg: Agg; j: ReturnType<typeof judge> };
    for (const c of agg.cells) covered.add(`${c}:${verdict}`);
    const support = agg.distinct[verdict]!;
    if (support < opts.minSupport) {
      unlearned.push({ verdict: name, values: seed.vec, evidence: seed.model[0]! + seed.model[1]! + seed.model[2]!, reason: `support ${support} is under the minimum of ${opts.minSupport}` });
      continue;
    }
    const agreeing: number[] = [];
    const outliers: number[] = [];
    for (const c of agg.cells) {
      for (const i of list[c]!.examples) {
        const e = examples[i]!;
        if (e.verdict === verdict) agreeing.push(i);
        else if (j.outliers > 0 && e.evidence && e.verdict < verdict) outliers.push(i);
      }
    }
    rules.push({
      verdict: name,
      features: mask,
      values: mask.map((f) => seed.vec[f]!),
      support,
      agreeing: agreeing.sort((a, b) => a - b),
      outliers: outliers.sort((a, b) => a - b),
      judged: agg.counts[0]! + agg.counts[1]! + agg.counts[2]!,
      agreement: j.agreement,
    });
  }
  return { rules, unlearned };
}

function* combinations(items: number[], k: number, start = 0, prefix: number[] = []): Generator<number[]> {
  if (prefix.length === k) {
    yield prefix;
    return;
  }
  for (let i = start; i < items.length; i++) yield* combinations(items, k, i + 1, [...prefix, items[i]!]);
}
