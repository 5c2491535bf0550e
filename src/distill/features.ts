// The request features a distilled rule may be made of, each with a value per record and the YAML
// that says "this feature has this value" in the policy language. A value is a string; a feature
// the request lacks has the value ABSENT, and a value the language cannot say exactly (a glob
// character in an agent id, say) has the value UNSAYABLE, which no rule ever uses.
import { FINDING_CLASSES } from '../policy/vocabulary.js';
import { decidedCategory, type DecisionRecord } from '../records/records.js';
import { UNCLASSIFIED } from '../policy/vocabulary.js';

export const ABSENT = '\u2205';
export const UNSAYABLE = '\u0000';

/** Where a feature's condition goes in a rule. */
export interface Said {
  match?: Record<string, string>;
  when?: Record<string, unknown>;
}

export interface Feature {
  name: string;
  value(r: DecisionRecord): string;
  /** The condition that holds exactly when the feature has `value`. */
  say(value: string): Said;
  /** How a reader would say it: "environment staging". */
  describe(value: string): string;
}

const GLOB_CHARS = /[*?[\]{}]/;

function plain(v: unknown): string {
  if (typeof v !== 'string' || v === '') return ABSENT;
  return GLOB_CHARS.test(v) ? UNSAYABLE : v;
}

const COST_BANDS = [0, 1, 10, 100, 1000];
const TRUST_BANDS = [0, 20, 40, 60, 80, 90];

function band(n: number, edges: number[]): number {
  let i = 0;
  while (i + 1 < edges.length && n >= edges[i + 1]!) i++;
  return i;
}

function segments(path: string): string[] {
  return path.split('/').filter(Boolean);
}

function pathAt(depth: number) {
  return (r: DecisionRecord): string => {
    const p = r.request.resource.path;
    if (typeof p !== 'string' || !p) return ABSENT;
    const s = segments(p);
    const dir = s.slice(0, Math.min(depth, s.length - 1));
    if (dir.some((x) => GLOB_CHARS.test(x))) return UNSAYABLE;
    // A file at the top has the directory "."; a shallower file than `depth` keeps its whole directory.
    return dir.length ? dir.join('/') + (dir.length < depth ? '/' : '') : '.';
  };
}

/** The glob for a directory value of pathAt: "." is a top-level file, "a/" a file right in a, "a/b" anything under a/b. */
function pathGlob(v: string): string {
  if (v === '.') return '*';
  if (v.endsWith('/')) return `${v}*`;
  return `${v}/**`;
}

/**
 * A test of an optional field. A present value is tested with `exists: true` too: without it a
 * deny or escalate rule would also match requests that lack the field (they fail closed).
 */
function exists(field: string, v: string, present: (v: string) => Record<string, unknown>): Said {
  return { when: { [field]: v === ABSENT ? { exists: false } : { exists: true, ...present(v) } } };
}

export const FEATURES: Feature[] = [
  {
    name: 'category',
    value: (r) => {
      const c = decidedCategory(r);
      return c === UNCLASSIFIED ? ABSENT : c;
    },
    say: (v) => ({ match: { category: v } }),
    describe: (v) => v,
  },
  {
    name: 'environment',
    value: (r) => plain(r.request.environment),
    say: (v) => ({ match: { environment: v } }),
    describe: (v) => `in ${v}`,
  },
  {
    name: 'resource',
    value: (r) => plain(r.request.resource.type),
    say: (v) => ({ match: { resource: v } }),
    describe: (v) => `on ${v}`,
  },
  {
    name: 'namespace',
    value: (r) => plain(r.request.namespace),
    say: (v) => exists('namespace', v, (x) => ({ eq: x })),
    describe: (v) => (v === ABSENT ? 'with no namespace' : `in namespace ${v}`),
  },
  {
    name: 'own_namespace',
    value: (r) => {
      const team = typeof r.decision.facts.team === 'string' ? r.decision.facts.team : r.request.agent.team;
      const ns = r.request.namespace;
      return ns === undefined || team === undefined ? ABSENT : ns === team ? 'yes' : 'no';
    },
    say: (v) => (v === ABSENT ? { when: { namespace: { exists: false } } } : { when: { 'agent.team': { exists: true }, namespace: { exists: true, [v === 'yes' ? 'eq' : 'ne']: { field: 'agent.team' } } } }),
    describe: (v) => (v === 'yes' ? "in the agent's own namespace" : v === 'no' ? "outside the agent's own namespace" : 'with no namespace'),
  },
  {
    name: 'agent',
    value: (r) => plain(r.request.agent.id),
    say: (v) => ({ match: { agent: v } }),
    describe: (v) => `by ${v}`,
  },
  {
    name: 'action',
    value: (r) => plain(r.request.action),
    say: (v) => ({ match: { action: v } }),
    describe: (v) => `action ${v}`,
  },
  {
    name: 'path',
    value: pathAt(1),
    say: (v) => exists('resource.path', v, (x) => ({ glob: pathGlob(x) })),
    describe: (v) => (v === ABSENT ? 'with no path' : `under ${pathGlob(v)}`),
  },
  {
    name: 'path2',
    value: pathAt(2),
    say: (v) => exists('resource.path', v, (x) => ({ glob: pathGlob(x) })),
    describe: (v) => (v === ABSENT ? 'with no path' : `under ${pathGlob(v)}`),
  },
  {
    name: 'classification',
    value: (r) => plain(r.request.resource.classification),
    say: (v) => exists('resource.classification', v, (x) => ({ eq: x })),
    describe: (v) => (v === ABSENT ? 'unclassified' : `classified ${v}`),
  },
  {
    name: 'cost',
    value: (r) => (r.request.cost.usd <= 0 ? 'free' : String(band(r.request.cost.usd, COST_BANDS))),
    say: (v) => {
      if (v === 'free') return { when: { 'cost.usd': { lte: 0 } } };
      const i = Number(v);
      const lo = COST_BANDS[i]!;
      const hi = COST_BANDS[i + 1];
      return { when: { 'cost.usd': { ...(lo > 0 ? { gte: lo } : { gt: 0 }), ...(hi !== undefined ? { lt: hi } : {}) } } };
    },
    describe: (v) => {
      if (v === 'free') return 'at no cost';
      const i = Number(v);
      const hi = COST_BANDS[i + 1];
      return hi !== undefined ? `costing $${COST_BANDS[i]}-${hi}` : `costing $${COST_BANDS[i]} or more`;
    },
  },
  {
    name: 'trust',
    // A record that does not know the trust it was decided under (one from elsewhere) has no value here.
    value: (r) => (typeof r.decision.facts.trust === 'number' ? String(band(r.decision.facts.trust, TRUST_BANDS)) : UNSAYABLE),
    say: (v) => {
      const i = Number(v);
      const lo = TRUST_BANDS[i]!;
      const hi = TRUST_BANDS[i + 1];
      return { when: { trust: { ...(lo > 0 ? { gte: lo } : {}), ...(hi !== undefined ? { lt: hi } : {}) } } };
    },
    describe: (v) => {
      const i = Number(v);
      const hi = TRUST_BANDS[i + 1];
      return hi !== undefined ? `at trust ${TRUST_BANDS[i]}-${hi - 1}` : `at trust ${TRUST_BANDS[i]}+`;
    },
  },
  {
    name: 'findings',
    value: (r) => (r.decision.facts.detectors.length ? [...r.decision.facts.detectors].sort().join(',') : 'none'),
    say: (v) => (v === 'none' ? { when: { not: { detected: [...FINDING_CLASSES] } } } : { when: { all: v.split(',').map((k) => ({ detected: k })) } }),
    describe: (v) => (v === 'none' ? 'with no findings' : `with findings ${v}`),
  },
];

const CONTEXT_VALUE = /^[^\n]{1,120}$/;

/** A feature for one context attribute holding a string or a boolean. */
export function contextFeature(key: string): Feature {
  const field = `context.${key}`;
  return {
    name: field,
    value: (r) => {
      const v = r.request.context[key];
      if (v === undefined || v === null) return ABSENT;
      if (typeof v === 'boolean') return `b:${v}`;
      if (typeof v === 'string' && CONTEXT_VALUE.test(v)) return `s:${v}`;
      return UNSAYABLE;
    },
    say: (v) => exists(field, v, (x) => ({ eq: x.startsWith('b:') ? x === 'b:true' : x.slice(2) })),
    describe: (v) => (v === ABSENT ? `without ${field}` : `${field} = ${v.slice(2)}`),
  };
}

/** A feature for whether a context attribute is there at all (for ids, tickets: values that never repeat). */
export function contextPresence(key: string): Feature {
  const field = `context.${key}`;
  return {
    name: field,
    value: (r) => (r.request.context[key] === undefined || r.request.context[key] === null ? ABSENT : 'present'),
    say: (v) => ({ when: { [field]: { exists: v !== ABSENT } } }),
    describe: (v) => (v === ABSENT ? `without ${field}` : `with ${field}`),
  };
}

/**
 * Context attributes worth learning from: scalar, named like a field, seen in at least `min`
 * records. One whose values rarely repeat is learned by its presence, not its value.
 */
const MANY_VALUES = 64;

export function contextFeatures(records: DecisionRecord[], min: number, max = 8): Feature[] {
  const seen = new Map<string, { n: number; values: Set<string> }>();
  for (const r of records) {
    for (const [k, v] of Object.entries(r.request.context)) {
      if ((typeof v !== 'string' && typeof v !== 'boolean') || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) continue;
      const e = seen.get(k) ?? seen.set(k, { n: 0, values: new Set() }).get(k)!;
      e.n++;
      if (e.values.size <= MANY_VALUES) e.values.add(String(v));
    }
  }
  return [...seen]
    .filter(([, e]) => e.n >= min)
    .sort((a, b) => b[1].n - a[1].n || (a[0] < b[0] ? -1 : 1))
    .slice(0, max)
    .map(([k, e]) => (e.values.size > MANY_VALUES || e.values.size > Math.max(10, e.n / 4) ? contextPresence(k) : contextFeature(k)));
}

/** The conditions of a conjunction of feature values, merged into one match and one when. */
export function sayAll(parts: [Feature, string][]): { match: Record<string, string>; when: Record<string, unknown>[] } {
  const match: Record<string, string> = {};
  const when: Record<string, unknown>[] = [];
  for (const [f, v] of parts) {
    const s = f.say(v);
    Object.assign(match, s.match ?? {});
    if (s.when) when.push(s.when);
  }
  return { match, when };
}
