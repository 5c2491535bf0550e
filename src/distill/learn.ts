// Rule learning over recorded decisions, precision first. Each judged record is a vector of
// feature values with a verdict; the evidence is the model's confident decisions and the humans'
// answers to escalations (which weigh more). For each group of evidence not yet covered, the
// learner looks for the most general conjunction of feature values (fewest features beyond those
// an effect must always name) whose evidence agrees with the group's verdict well enough: Wilson's
// lower bound of the agreement clears the threshold (tolerance.ts), the written rules decided
// nothing inside it more leniently (nor, for an allow, more strictly), and no feature tells the
// dissent apart as a group of its own. The dissent that is left is noise, and is listed.
import { ABSENT, UNSAYABLE, type Feature } from './features.js';

import { wilsonLower, zOf, type Tolerance } from './tolerance.js';

export type Verdict = 'allow' | 'escalate' | 'deny';
/** Verdicts by strictness: a rule may set aside only decisions more lenient than its own. */
export const VERDICTS: Verdict[] = ['allow', 'escalate', 'deny'];

export interface Example {
  vec: string[];
  verdict: number;
  /** Evidence: a confident decision of the model or a human's (else of rules, cache or router, which only ever contradict). */
  evidence: boolean;
  /** How much the evidence counts: 1 for the model, more for a human. */
  weight: number;
  /** Tells requests apart (equal numbers, equal requests), so that one request asked five times is support 1. */
  requestKey: number;
  index: number;
}

export interface LearnOptions {
  minSupport: number;
  tolerance: Tolerance;
  /** Most features a rule adds to those its effect must name. */
  maxExtra?: number;
  /** Rules (by ruleKey) refused before: the learner looks for a narrower one instead. */
  forbidden?: Set<string>;
  /** Features (by index) whose value some records do not know: no rule may depend on them. */
  unknownOf?: (feature: number) => boolean;
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
  /** Indexes of the examples inside the rule, by role: agreeing, and the evidence that dissents. */
  agreeing: number[];
  outliers: number[];
  /** Judged decisions inside the rule. */
  judged: number;
  /** Weighted share of the evidence that agrees, and Wilson's lower bound of it. */
  agreement: number;
  bound: number;
  /** Weighted evidence inside the rule (agreeing and dissenting). */
  weight: number;
}

export interface Unlearned {
  verdict: Verdict;
  values: string[];
  evidence: number;
  reason: string;
}

interface Counts {
  /** Judged decisions per verdict; those that are evidence, their weight, and their distinct requests. */
  counts: number[];
  evidence: number[];
  weight: number[];
  distinct: number[];
}

interface Cell extends Counts {
  vec: string[];
  examples: number[];
}

interface Agg extends Counts {
  /** Indexes of the cells, in order. */
  cells: number[] | Int32Array;
}

/**
 * The cells grouped by their values of some features, compactly (a projection is kept for every
 * feature set tried, over every cell): each cell's group, and each group's cells, in order, at
 * start[g] to start[g + 1]. A group's counts are summed when first asked for (few groups are).
 */
interface Projection {
  of: Int32Array;
  start: Int32Array;
  cells: Int32Array;
  groups: Map<number, Agg>;
}

const zero = (): Counts => ({ counts: [0, 0, 0], evidence: [0, 0, 0], weight: [0, 0, 0], distinct: [0, 0, 0] });
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

function addInto(a: Counts, b: Counts): void {
  for (let v = 0; v < 3; v++) {
    a.counts[v]! += b.counts[v]!;
    a.evidence[v]! += b.evidence[v]!;
    a.weight[v]! += b.weight[v]!;
    a.distinct[v]! += b.distinct[v]!;
  }
}

/** Features an effect must always name: an allow never reaches past the scope its evidence shows. */
export function pinnedFor(verdict: Verdict, features: Feature[]): Set<number> {
  const names = verdict === 'allow' ? ['category', 'environment', 'resource', 'path', 'classification', 'cost', 'findings'] : ['category', 'environment'];
  return new Set(features.flatMap((f, i) => (names.includes(f.name) ? [i] : [])));
}

export function learn(examples: Example[], features: Feature[], opts: LearnOptions): { rules: Learned[]; unlearned: Unlearned[] } {
  const t = opts.tolerance;
  const z = zOf(t.confidence);
  const boundFor = (verdict: number) => (verdict === 0 ? t.minAllowBound : t.minBound);
  const cells = new Map<string, Cell>();
  for (const e of examples) {
    const key = e.vec.join('\u0001');
    let c = cells.get(key);
    if (!c) cells.set(key, (c = { vec: e.vec, examples: [], ...zero() }));
    c.examples.push(e.index);
    c.counts[e.verdict]!++;
    if (e.evidence) {
      c.evidence[e.verdict]!++;
      c.weight[e.verdict]! += e.weight;
    }
  }
  const list = [...cells.values()];
  for (const c of list) {
    const seen = [new Set<number>(), new Set<number>(), new Set<number>()];
    for (const i of c.examples) {
      const e = examples[i]!;
      if (e.evidence) seen[e.verdict]!.add(e.requestKey);
    }
    c.distinct = seen.map((s) => s.size);
  }
  // Seeds: the stricter verdicts first (their rules outrank an allow, so an allow need not answer
  // for what they decide), then the groups with the most evidence; ties by their values, so the
  // result is stable.
  const majority = (c: Cell) => {
    let verdict = -1;
    for (let v = 0; v < 3; v++) if (c.weight[v]! > 0 && (verdict < 0 || c.weight[v]! >= c.weight[verdict]!)) verdict = v;
    return verdict;
  };
  const order = list.map((_, i) => i).sort((a, b) => {
    const va = majority(list[a]!);
    const vb = majority(list[b]!);
    const ea = sum(list[a]!.weight);
    const eb = sum(list[b]!.weight);
    return vb - va || eb - ea || (list[a]!.vec.join('\u0001') < list[b]!.vec.join('\u0001') ? -1 : 1);
  });
  /** Per cell, the strictest verdict of a rule learned over it: Cedar decides those requests so, whatever a more lenient rule says. */
  const decidedBy = new Map<number, number>();
  /** The part of a projection a rule of `verdict` answers for: cells a stricter learned rule decides are set aside. */
  const answerable = (agg: Agg, verdict: number): Agg => {
    let some = false;
    for (const c of agg.cells) if ((decidedBy.get(c) ?? -1) > verdict) some = true;
    if (!some) return agg;
    const out: Agg = { ...zero(), cells: [] };
    for (const c of agg.cells) {
      if ((decidedBy.get(c) ?? -1) > verdict) continue;
      addInto(out, list[c]!);
      (out.cells as number[]).push(c);
    }
    return out;
  };

  const projections = new Map<string, Projection>();
  const project = (mask: number[]): Projection => {
    const id = mask.join(',');
    let p = projections.get(id);
    if (p) return p;
    const groups = new Map<string, number>();
    const of = new Int32Array(list.length);
    list.forEach((c, ci) => {
      const key = mask.map((f) => c.vec[f]).join('\u0001');
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = groups.size));
      of[ci] = g;
    });
    const start = new Int32Array(groups.size + 1);
    for (let ci = 0; ci < list.length; ci++) start[of[ci]! + 1]!++;
    for (let g = 0; g < groups.size; g++) start[g + 1]! += start[g]!;
    const cells = new Int32Array(list.length);
    const at = start.slice(0, groups.size);
    for (let ci = 0; ci < list.length; ci++) cells[at[of[ci]!]!++] = ci;
    p = { of, start, cells, groups: new Map() };
    projections.set(id, p);
    return p;
  };
  /** The group of cell `ci` in a projection. */
  const groupOf = (p: Projection, ci: number): Agg => {
    const g = p.of[ci]!;
    let a = p.groups.get(g);
    if (!a) {
      a = { ...zero(), cells: p.cells.subarray(p.start[g]!, p.start[g + 1]!) };
      for (const c of a.cells) addInto(a, list[c]!);
      p.groups.set(g, a);
    }
    return a;
  };

  /** Whether a rule of `verdict` may stand over these decisions: the written rules' and the evidence's say. */
  const judge = (a: Counts, verdict: number): { ok: boolean; agreement: number; bound: number; why?: string } => {
    let stricterOther = 0;
    let lenientOther = 0;
    for (let v = 0; v < 3; v++) {
      const other = a.counts[v]! - a.evidence[v]!;
      if (v > verdict) stricterOther += other;
      if (v < verdict) lenientOther += other;
    }
    const n = sum(a.weight);
    const agree = a.weight[verdict]!;
    const agreement = n ? agree / n : 0;
    const bound = wilsonLower(agree, n, z);
    // Never an allow over what the written rules denied or escalated; never overrule them the other way either.
    if (verdict === 0 && stricterOther > 0) return { ok: false, agreement, bound, why: `${stricterOther} recorded decision${stricterOther === 1 ? '' : 's'} of the written rules denied or escalated the same kind of request` };
    if (lenientOther > 0) return { ok: false, agreement, bound, why: `the written rules decided ${lenientOther} such request${lenientOther === 1 ? '' : 's'} more leniently` };
    if (bound + 1e-12 < boundFor(verdict)) return { ok: false, agreement, bound, why: `${num(agree)} of ${num(n)} agree (${pct(agreement)}); the lower bound ${pct(bound)} is under ${pct(boundFor(verdict))}` };
    return { ok: true, agreement, bound };
  };

  /**
   * A feature tells the dissent apart when, among the requests inside the rule that differ from
   * the seed in it, one value holds a group that would earn a rule of another verdict by itself:
   * then the dissent is a pattern, not noise, and the rule must name the feature.
   */
  const separates = (agg: Agg, mask: number[], verdict: number, seed: Cell): string | undefined => {
    for (let f = 0; f < features.length; f++) {
      if (mask.includes(f)) continue;
      const parts = new Map<string, Counts>();
      for (const ci of agg.cells) {
        const v = list[ci]!.vec[f]!;
        if (v === seed.vec[f]) continue;
        const p = parts.get(v) ?? parts.set(v, zero()).get(v)!;
        addInto(p, list[ci]!);
      }
      for (const [value, p] of parts) {
        for (let d = 0; d < 3; d++) {
          if (d === verdict || p.distinct[d]! < opts.minSupport) continue;
          if (wilsonLower(p.weight[d]!, sum(p.weight), z) + 1e-12 >= boundFor(d)) return `the dissent is a pattern, not noise: ${features[f]!.describe(value)} is decided ${VERDICTS[d]}`;
        }
      }
    }
    return undefined;
  };

  const covered = new Set<string>();
  const rules: Learned[] = [];
  const unlearned: Unlearned[] = [];
  const maxExtra = opts.maxExtra ?? 3;
  for (const ci of order) {
    const seed = list[ci]!;
    // The verdict the evidence gave this group most often (the stricter on a tie).
    const verdict = majority(seed);
    if (verdict < 0 || covered.has(`${ci}:${verdict}`)) continue;
    const name = VERDICTS[verdict]!;
    const evidence = sum(seed.evidence);
    const usable = (f: number) => seed.vec[f] !== UNSAYABLE && !(f === 0 && seed.vec[f] === ABSENT) && !opts.unknownOf?.(f);
    if (!usable(0)) {
      unlearned.push({ verdict: name, values: seed.vec, evidence, reason: 'the category is unknown, and a distilled rule always names one' });
      covered.add(`${ci}:${verdict}`);
      continue;
    }
    const pinned = [...pinnedFor(name, features)].filter(usable);
    if (name === 'allow' && [...pinnedFor(name, features)].some((f) => !usable(f))) {
      unlearned.push({ verdict: name, values: seed.vec, evidence, reason: 'an allow must name its scope exactly, and one of its values cannot be said in the policy language' });
      covered.add(`${ci}:${verdict}`);
      continue;
    }
    const free = features.map((_, i) => i).filter((f) => !pinned.includes(f) && usable(f));
    let best: { mask: number[]; agg: Agg; j: ReturnType<typeof judge> } | undefined;
    let lastWhy = '';
    // First as if no other rule existed; an allow that finds nothing so may then set aside what
    // the stricter rules learned before decide (a group of dissent they took, say).
    let carve = false;
    const tryMask = (mask: number[]) => {
      if (opts.forbidden?.has(ruleKey(name, mask.map((f) => [features[f]!.name, seed.vec[f]!])))) return;
      const whole = groupOf(project(mask), ci);
      const agg = carve ? answerable(whole, verdict) : whole;
      const j = judge(agg, verdict);
      if (!j.ok) {
        lastWhy = j.why!;
        return;
      }
      if (best && agg.distinct[verdict]! <= best.agg.distinct[verdict]!) return;
      const dissent = sum(agg.evidence) - agg.evidence[verdict]!;
      const apart = dissent > 0 ? separates(agg, mask, verdict, seed) : undefined;
      if (apart) {
        lastWhy = apart;
        return;
      }
      best = { mask, agg, j };
    };
    const search = () => {
      for (let k = 0; k <= Math.min(maxExtra, free.length) && !best; k++) {
        for (const combo of combinations(free, k)) tryMask([...pinned, ...combo].sort((a, b) => a - b));
      }
      if (!best && free.length > maxExtra) tryMask([...pinned, ...free].sort((a, b) => a - b));
    };
    search();
    if (!best && verdict === 0 && decidedBy.size) {
      const why = lastWhy;
      carve = true;
      search();
      if (!best) lastWhy = why;
    }
    if (!best) {
      unlearned.push({ verdict: name, values: seed.vec, evidence, reason: lastWhy || 'no rule fits' });
      covered.add(`${ci}:${verdict}`);
      continue;
    }
    const { mask, agg, j } = best as { mask: number[]; agg: Agg; j: ReturnType<typeof judge> };
    const support = agg.distinct[verdict]!;
    if (support < opts.minSupport) {
      for (const c of agg.cells) covered.add(`${c}:${verdict}`);
      unlearned.push({ verdict: name, values: seed.vec, evidence, reason: `support ${support} is under the minimum of ${opts.minSupport}` });
      continue;
    }
    // The dissent inside a rule is its noise: those groups seed no rule of their own.
    for (const c of agg.cells) {
      for (let v = 0; v < 3; v++) covered.add(`${c}:${v}`);
      decidedBy.set(c, Math.max(decidedBy.get(c) ?? -1, verdict));
    }
    const agreeing: number[] = [];
    const outliers: number[] = [];
    for (const c of agg.cells) {
      for (const i of list[c]!.examples) {
        const e = examples[i]!;
        if (e.verdict === verdict) agreeing.push(i);
        else if (e.evidence) outliers.push(i);
      }
    }
    rules.push({
      verdict: name,
      features: mask,
      values: mask.map((f) => seed.vec[f]!),
      support,
      agreeing: agreeing.sort((a, b) => a - b),
      outliers: outliers.sort((a, b) => a - b),
      judged: sum(agg.counts),
      agreement: j.agreement,
      bound: j.bound,
      weight: sum(agg.weight),
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
