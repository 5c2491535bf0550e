// A reference interpreter of the YAML policy language, for tests only. It reads rules as they are
// written (the objects a policy file holds) and decides a request by the documented semantics,
// with no Cedar in between, so that the compiled bundle can be checked against it.
//
// Semantics:
// - A rule applies when every `match` field and every `when` condition holds.
// - deny beats escalate beats allow (tiers 3, 2, 0; 1 when a matching allow has `audit`); when
//   nothing applies the request escalates (tier 2, no rule, route "default"). warn rules only warn.
// - A condition on an attribute the request lacks holds in deny and escalate rules and fails in
//   allow and warn rules; under `not` the default flips. `exists` tests presence itself.
// - Custom attributes (resource.X, context.X) are typed by how the policies use them; a value of
//   another type counts as missing.
// - Globs: `*` any run within a path segment, `**` any run across segments, `?` one character
//   other than `/`, and a leading `**/` also matches no directory at all.
import {
  BUILTIN_FIELDS, CATEGORIES, CUSTOM_PREFIXES, FIELD_ALIASES, FINDING_KINDS, normalizeEnvironment, type FieldType,
} from '../src/policy/vocabulary.js';
import { normalizeRequest, type Request } from '../src/request/normalize.js';
import { categoriesOf } from '../src/request/category.js';
import { isTraversal } from '../src/request/canonical.js';

export type Scalar = string | number | boolean;
export type FieldRef = { field: string };
export type Operators = Partial<Record<'eq' | 'ne', Scalar | FieldRef>> &
  Partial<Record<'in' | 'not_in', Scalar[]>> &
  Partial<Record<'gt' | 'gte' | 'lt' | 'lte', number>> &
  Partial<Record<'glob' | 'not_glob' | 'contains' | 'contains_any', string | string[]>> & { exists?: boolean };
export type TestValue = Scalar | Scalar[] | Operators;
export type YamlCondition = { [key: string]: TestValue | YamlCondition | YamlCondition[] | string | string[] };

export interface YamlRule {
  id: string;
  effect: 'allow' | 'deny' | 'escalate' | 'warn';
  audit?: boolean;
  message?: string;
  match?: {
    agent?: string | string[];
    category?: string | string[];
    action?: string | string[];
    resource?: string | string[];
    environment?: string | string[];
    namespace?: string | string[];
  };
  when?: YamlCondition | YamlCondition[];
}

export interface RefFacts {
  findings?: string[];
  trust?: number;
  team?: string;
  hour: number;
  risk?: string;
  budget?: { used_pct?: number; exceeded?: boolean };
}

export interface RefDecision {
  decision: 'allow' | 'deny' | 'escalate';
  tier: number;
  /** Ids of the rules that decided; [null] when none did. */
  reasons: (string | null)[];
  warnings: string[];
  route: 'rules' | 'default';
}

const STATE_TRUST = 40;
/** Largest magnitude Cedar's decimal (four fraction digits in 64 bits) can hold. */
const DECIMAL_LIMIT = 922337203685477;

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const isRef = (v: unknown): v is FieldRef =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as FieldRef).field === 'string';

const STRUCTURAL = new Set(['all', 'any', 'not', 'detected', 'cedar', 'category']);

// ---------- globs ----------

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export function globRegExp(pattern: string): RegExp {
  let src = '';
  let i = 0;
  if (pattern.startsWith('**/')) { src = '(?:.*/)?'; i = 3; }
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        src += '.*';
        while (pattern[i] === '*') i++;
        continue;
      }
      src += '[^/]*';
    } else if (c === '?') src += '[^/]';
    else src += escapeRe(c);
    i++;
  }
  return new RegExp(`^${src}$`, 'su');
}

export function globMatches(pattern: string, value: string): boolean {
  return /[*?]/.test(pattern) ? globRegExp(pattern).test(value) : pattern === value;
}

// ---------- custom attribute types ----------

function fieldName(key: string): string {
  return FIELD_ALIASES[key] ?? key;
}

function isCustom(name: string): boolean {
  return !BUILTIN_FIELDS.has(name) && Object.keys(CUSTOM_PREFIXES).some((p) => name.startsWith(p));
}

function builtinType(name: string): FieldType | undefined {
  return BUILTIN_FIELDS.get(name)?.type;
}

function impliedType(op: string, v: unknown): FieldType | undefined {
  if (isRef(v)) return builtinType(fieldName(v.field)) ?? 'String';
  switch (op) {
    case 'gt': case 'gte': case 'lt': case 'lte': return 'Decimal';
    case 'glob': case 'not_glob': return 'String';
    case 'contains': case 'contains_any': return 'Set<String>';
    case 'exists': return undefined;
    default: {
      const first = Array.isArray(v) ? v[0] : v;
      return typeof first === 'number' ? 'Decimal' : typeof first === 'boolean' ? 'Boolean' : 'String';
    }
  }
}

function operatorsOf(value: TestValue): [string, unknown][] {
  if (typeof value !== 'object') return [['eq', value]];
  if (Array.isArray(value)) return [['in', value]];
  return Object.entries(value);
}

/** The type of every custom attribute the rules use: by its typed uses, else String. */
export function customTypes(rules: YamlRule[]): Map<string, FieldType> {
  const types = new Map<string, FieldType>();
  const typedUses = new Set<string>();
  const note = (name: string, t: FieldType | undefined) => {
    if (!isCustom(name)) return;
    const prev = types.get(name);
    if (t === undefined) { if (!prev) types.set(name, 'String'); return; }
    if (prev && prev !== t && typedUses.has(name)) throw new Error(`reference: ${name} used as ${prev} and ${t}`);
    types.set(name, t);
    typedUses.add(name);
  };
  const walk = (c: YamlCondition) => {
    for (const [key, value] of Object.entries(c)) {
      if (key === 'all' || key === 'any') (value as YamlCondition[]).forEach(walk);
      else if (key === 'not') walk(value as YamlCondition);
      else if (STRUCTURAL.has(key)) continue;
      else {
        for (const [op, v] of operatorsOf(value as TestValue)) {
          if (isRef(v)) note(fieldName(v.field), undefined);
          note(fieldName(key), impliedType(op, v));
        }
      }
    }
  };
  for (const r of rules) list(r.when).forEach(walk);
  return types;
}

// ---------- request values ----------

interface Ctx {
  req: Request;
  facts: RefFacts;
  types: Map<string, FieldType>;
  findings: Set<string>;
  /** The one category this pass asks about (a request with several is asked about each). */
  category: string | undefined;
}

function basename(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  return parts.length ? parts[parts.length - 1]! : '';
}

function typed(v: unknown, t: FieldType): unknown {
  switch (t) {
    case 'String': return typeof v === 'string' ? v : undefined;
    case 'Long': return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
    case 'Decimal': return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) < DECIMAL_LIMIT ? v : undefined;
    case 'Boolean': return typeof v === 'boolean' ? v : undefined;
    case 'Set<String>': return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
  }
}

/** The value of a field for this request, or undefined when the request does not carry it. */
function valueOf(name: string, ctx: Ctx): unknown {
  const { req, facts } = ctx;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  switch (name) {
    case 'agent.id': return req.agent.id;
    case 'agent.team': return facts.team ?? req.agent.team;
    case 'agent.trust': return Math.min(facts.trust ?? STATE_TRUST, req.agent.trust ?? 100);
    case 'resource.type': return req.resource.type;
    case 'resource.id': return req.resource.id;
    case 'resource.path': return str(req.resource.path);
    case 'resource.namespace': return str(req.resource.namespace);
    case 'resource.classification': return str(req.resource.classification);
    case 'resource.basename': return typeof req.resource.path === 'string' ? basename(req.resource.path) : undefined;
    case 'action': return req.action;
    case 'environment': return req.environment;
    case 'namespace': return req.namespace;
    case 'command': return req.command;
    case 'hour': return facts.hour;
    case 'risk': return facts.risk;
    case 'cost.usd': return req.cost.usd;
    case 'cost.tokens': return req.cost.tokens;
    case 'budget.used_pct': return facts.budget?.used_pct ?? 0;
    case 'budget.exceeded': return facts.budget?.exceeded ?? false;
  }
  const t = ctx.types.get(name);
  if (!t) throw new Error(`reference: unknown field ${name}`);
  if (name.startsWith('resource.')) return typed(req.resource[name.slice('resource.'.length)], t);
  if (name.startsWith('context.')) return typed(req.context[name.slice('context.'.length)], t);
  throw new Error(`reference: unknown field ${name}`);
}

// ---------- conditions ----------

function compare(op: string, x: unknown, raw: unknown): boolean {
  const vals = list(raw as unknown);
  switch (op) {
    case 'eq': return x === vals[0];
    case 'ne': return x !== vals[0];
    case 'in': return vals.some((v) => v === x);
    case 'not_in': return !vals.some((v) => v === x);
    case 'gt': return (x as number) > (vals[0] as number);
    case 'gte': return (x as number) >= (vals[0] as number);
    case 'lt': return (x as number) < (vals[0] as number);
    case 'lte': return (x as number) <= (vals[0] as number);
    case 'glob': return vals.some((p) => globMatches(String(p), x as string));
    case 'not_glob': return !vals.some((p) => globMatches(String(p), x as string));
    case 'contains': return vals.every((v) => (x as string[]).includes(String(v)));
    case 'contains_any': return vals.some((v) => (x as string[]).includes(String(v)));
  }
  throw new Error(`reference: unknown operator ${op}`);
}

function normalizeValue(name: string, v: unknown): unknown {
  const one = (s: unknown) =>
    typeof s !== 'string' ? s : name === 'environment' ? normalizeEnvironment(s) : name === 'action' ? s.toLowerCase() : s;
  return Array.isArray(v) ? v.map(one) : one(v);
}

function fieldTest(key: string, value: TestValue, ctx: Ctx, dflt: boolean): boolean {
  const name = fieldName(key);
  for (const [op, v] of operatorsOf(value)) {
    let ok: boolean;
    if (op === 'exists') ok = (valueOf(name, ctx) !== undefined) === v;
    else if (isRef(v)) {
      const x = valueOf(name, ctx);
      const y = valueOf(fieldName(v.field), ctx);
      ok = x === undefined || y === undefined ? dflt : op === 'eq' ? x === y : x !== y;
    } else {
      const x = valueOf(name, ctx);
      ok = x === undefined ? dflt : compare(op, x, normalizeValue(name, v));
    }
    if (!ok) return false;
  }
  return true;
}

function categoryTest(value: TestValue, ctx: Ctx): boolean {
  const cat = ctx.category;
  const inList = (v: unknown) => cat !== undefined && list(v as Scalar | Scalar[]).includes(cat);
  if (typeof value !== 'object' || Array.isArray(value)) return inList(value);
  return Object.entries(value).every(([op, v]) => (op === 'eq' || op === 'in' ? inList(v) : !inList(v)));
}

/** One condition mapping: every key holds. `dflt` is what a test on a missing attribute yields. */
export function holds(c: YamlCondition, ctx: Ctx, dflt: boolean): boolean {
  for (const [key, value] of Object.entries(c)) {
    let ok: boolean;
    switch (key) {
      case 'all': ok = (value as YamlCondition[]).every((x) => holds(x, ctx, dflt)); break;
      case 'any': ok = (value as YamlCondition[]).some((x) => holds(x, ctx, dflt)); break;
      case 'not': ok = !holds(value as YamlCondition, ctx, !dflt); break;
      case 'detected': ok = list(value as string | string[]).some((n) => ctx.findings.has(n)); break;
      case 'category': ok = categoryTest(value as TestValue, ctx); break;
      case 'cedar': throw new Error('reference: raw cedar conditions are not interpreted');
      default: ok = fieldTest(key, value as TestValue, ctx, dflt);
    }
    if (!ok) return false;
  }
  return true;
}

function ruleApplies(rule: YamlRule, ctx: Ctx): boolean {
  const restrictive = rule.effect === 'deny' || rule.effect === 'escalate';
  const m = rule.match ?? {};
  const { req } = ctx;
  // Identifiers are compared in canonical form (NFKC, lower case) on both sides.
  const canon = (pats: string[]) => pats.map((p) => p.normalize('NFKC').trim().toLowerCase());
  const any = (pats: string[], v: string | undefined) => (v === undefined ? restrictive : canon(pats).some((p) => globMatches(p, v)));
  if (m.agent !== undefined && !any(list(m.agent), req.agent.id)) return false;
  if (m.category !== undefined && !(ctx.category !== undefined && list(m.category).includes(ctx.category))) return false;
  if (m.action !== undefined && !any(list(m.action), req.action)) return false;
  if (m.resource !== undefined && !any(list(m.resource), req.resource.type)) return false;
  if (m.environment !== undefined && !any(list(m.environment).map(normalizeEnvironment), req.environment)) return false;
  if (m.namespace !== undefined && !any(list(m.namespace), req.namespace)) return false;
  return list(rule.when).every((c) => holds(c, ctx, restrictive));
}

function expand(findings: string[]): Set<string> {
  const out = new Set<string>();
  for (const k of findings) {
    out.add(k);
    const cls = FINDING_KINDS[k];
    if (cls) out.add(cls);
  }
  return out;
}

/** The decision the policy language prescribes for a raw request and the facts state supplies. */
export function referenceDecide(rules: YamlRule[], rawRequest: unknown, facts: RefFacts, types = customTypes(rules)): RefDecision {
  const req = normalizeRequest(rawRequest);
  if (req.category !== undefined && !(CATEGORIES as readonly string[]).includes(req.category)) throw new Error('reference: bad category');
  const kinds = [...(facts.findings ?? [])];
  if (typeof req.resource.path === 'string' && isTraversal(req.resource.path)) kinds.push('path-traversal');
  const findings = expand(kinds);
  const categories: (string | undefined)[] = categoriesOf(req).length ? categoriesOf(req) : [undefined];
  // Deny and escalate rules also meet the lower-case form of the path; an allow compares it as it is.
  const lower: Request = typeof req.resource.path === 'string' && req.resource.path !== req.resource.path.toLowerCase()
    ? { ...req, resource: { ...req.resource, path: req.resource.path.toLowerCase(), ...(req.resource.type === 'file' ? { id: req.resource.id.toLowerCase() } : {}) } }
    : req;
  const passes = (r: YamlRule, q: Request) => categories.map((category) => ruleApplies(r, { req: q, facts, types, findings, category }));
  const restrictive = (r: YamlRule) => passes(r, req).some(Boolean) || (lower !== req && passes(r, lower).some(Boolean));
  const ids = (effect: YamlRule['effect']) => rules.filter((r) => r.effect === effect && restrictive(r)).map((r) => r.id);
  const warnings = rules.filter((r) => r.effect === 'warn' && passes(r, req).some(Boolean)).map((r) => r.id);
  const deny = ids('deny');
  if (deny.length) return { decision: 'deny', tier: 3, reasons: deny, warnings, route: 'rules' };
  const escalate = ids('escalate');
  if (escalate.length) return { decision: 'escalate', tier: 2, reasons: escalate, warnings, route: 'rules' };
  // An allow must hold in every category, and never covers a destructive or evasive finding or a command it does not test.
  const held = rules.filter((r) => r.effect === 'allow' && passes(r, req).every(Boolean));
  const blockedByFinding = [...findings].some((k) => k === 'destructive' || k === 'evasion');
  const testsCommand = (r: YamlRule) => JSON.stringify(r.when ?? null).includes('"command"');
  const allow = held.filter((r) => !blockedByFinding && (req.command === undefined || testsCommand(r)));
  if (allow.length) return { decision: 'allow', tier: allow.some((r) => r.audit === true) ? 1 : 0, reasons: allow.map((r) => r.id), warnings, route: 'rules' };
  const withheld = held.map((r) => r.id);
  return { decision: 'escalate', tier: 2, reasons: [null], warnings: [...warnings, ...withheld], route: 'default' };
}
