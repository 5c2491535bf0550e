// The only importer of @cedar-policy/cedar-wasm. Loads it lazily (about 25 ms), reads `.cedar`
// files and `cedar:` conditions with Cedar's own parser, validates policies against the generated
// schema, and authorizes against preparsed policy sets.
// Cedar's wasm build traps ("memory access out of bounds") on deeply nested input and is unusable
// afterwards; text from policy files is measured first, and a trap that still happens reloads the
// module and becomes a problem report instead of a crash.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BUILD } from '../version.js';
import { tiering } from './tiering.js';
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';

const require = createRequire(import.meta.url);
let wasm: typeof CedarWasm | undefined;
/** Goes up each time the module is reloaded after a trap: sets preparsed before are gone. */
let generation = 0;

function cedar(): typeof CedarWasm {
  if (!wasm) {
    tiering.beforeFlags?.();
    const v8 = require('node:v8') as typeof import('node:v8');
    // Node 20's optimizer can abort the process when it inlines calls into this module and later
    // deoptimizes them (seen after a few hundred bundles in one process); keep those calls plain.
    v8.setFlagsFromString('--no-turbo-inline-js-wasm-calls');
    // With V8's default tiering, Cedar's functions are recompiled by the optimizing compiler in the
    // background as soon as they have run a little: for a command that decides a handful of
    // requests that costs more than the command's own work. Here a function reaches the optimizing
    // tier only once it has run a thousand times longer than V8's default: a short command or serve
    // session costs what it does on the baseline compiler alone (half the CPU of V8's defaults for a
    // small distill, replay or serve session), and a long one still optimizes what runs hot (check
    // on 1,000 rules and 5,000 tests: a fifth less time than on the baseline compiler alone). A
    // tiering flag given to node wins: `node --wasm-tiering-budget=1800000 "$(command -v govern)"
    // serve ...` keeps V8's default, which suits a server that runs for long against a small pack.
    // Set here, before the module is compiled, so that a command that never loads Cedar (an eval
    // answered by a daemon) does not load node:v8 either; only for the command line (tiering.ts).
    if (tiering.shortCommands && !process.execArgv.some((a) => /^--(wasm-tiering-budget|liftoff-only|no-wasm-tier-up|wasm-dynamic-tiering|no-wasm-dynamic-tiering)\b/.test(a))) v8.setFlagsFromString('--wasm-tiering-budget=1800000000');
    // And each function is compiled when it is first called, not all of them up front: a short
    // command calls a small part of Cedar (a cold `govern eval` that Cedar decides: 55 ms less).
    if (tiering.shortCommands && !process.execArgv.some((a) => /^--(no-)?wasm-lazy-compilation\b/.test(a))) v8.setFlagsFromString('--wasm-lazy-compilation');
    wasm = require('@cedar-policy/cedar-wasm/nodejs') as typeof CedarWasm;
  }
  return wasm;
}

/** Cedar trapped: the input was more than its wasm stack holds. */
export class CedarCrash extends Error {}

/**
 * Runs one call into Cedar; a wasm trap reloads the module and throws CedarCrash. So does running
 * out of the engine's own stack inside Cedar (a RangeError): which of the two a deep input meets
 * first depends on how far the process has optimized Cedar's code, and after either the module's
 * memory may be left mid-call.
 */
function call<T>(f: (c: typeof CedarWasm) => T): T {
  try {
    return f(cedar());
  } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError) && !(e instanceof RangeError && /call stack/i.test(e.message))) throw e;
    const main = require.resolve('@cedar-policy/cedar-wasm/nodejs');
    const dir = main.slice(0, main.lastIndexOf('/') + 1);
    for (const k of Object.keys(require.cache)) if (k.startsWith(dir)) delete require.cache[k];
    wasm = undefined;
    generation++;
    throw new CedarCrash(`Cedar could not process this policy (${e.message})`);
  }
}

export function cedarVersion(): string {
  return call((c) => c.getCedarVersion());
}

export interface CedarProblem {
  /** The policy the problem is in, when Cedar says. */
  policyId?: string;
  message: string;
  help?: string;
  /** Byte offsets into that policy's text. */
  start?: number;
  end?: number;
}

type Detailed = CedarWasm.DetailedError;

function problem(e: Detailed, policyId?: string): CedarProblem {
  const loc = e.sourceLocations?.[0];
  const label = loc?.label ? ` (${loc.label})` : '';
  return {
    ...(policyId !== undefined ? { policyId } : {}),
    message: e.message.replace(/^for policy `[^`]*`, /, '').replace(/ (in context )?for Action::"[^"]*"/, (_m, c) => (c ? ' in context' : '')).replace(/^failed to parse policy (with id `[^`]*` )?from string: /, '').replace(/^failed to parse policies from string: /, '') + label,
    ...(e.help ? { help: e.help } : {}),
    ...(loc ? { start: loc.start, end: loc.end } : {}),
  };
}

/** A crash of Cedar on one policy, as a problem. */
function crashProblem(e: unknown, policyId?: string): CedarProblem {
  if (!(e instanceof CedarCrash)) throw e;
  return { ...(policyId !== undefined ? { policyId } : {}), message: `${e.message}: it is nested too deeply or too long`, help: NESTING_HELP };
}

// ---- nesting: measured before Cedar sees a text ----

/** Brackets and `if` nest; Cedar's wasm stack holds about 130 levels. */
export const MAX_CEDAR_NESTING = 48;
/** A chain of `.attr` accesses nests too (about 400 crash it). */
export const MAX_CEDAR_CHAIN = 64;
const NESTING_HELP = 'Split the condition into several rules or conditions, or use a list (`[...].contains(x)`) instead of nested expressions.';

/**
 * Where a Cedar text nests deeper than Cedar can take, as a problem with the offset; undefined
 * when it does not. A lexical measure (strings and comments skipped), for resource limits only:
 * what a text means is always read by Cedar's parser.
 */
export function nestingProblem(text: string): CedarProblem | undefined {
  const stack: number[] = [];
  let chain = 0;
  let ifs = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (ch === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') stack.push(ifs);
    else if (ch === ')' || ch === ']' || ch === '}') { ifs = stack.pop() ?? 0; }
    if (ch === '.') chain++;
    else if (!/[\s\w()[\]]/.test(ch)) chain = 0;
    if (/[A-Za-z_]/.test(ch) && !/[\w]/.test(text[i - 1] ?? ' ')) {
      let j = i;
      while (j < text.length && /\w/.test(text[j]!)) j++;
      if (text.slice(i, j) === 'if') ifs++;
      i = j - 1;
    }
    if (stack.length + ifs > MAX_CEDAR_NESTING || chain > MAX_CEDAR_CHAIN) {
      return {
        message: chain > MAX_CEDAR_CHAIN ? `a chain of more than ${MAX_CEDAR_CHAIN} attribute accesses` : `brackets and \`if\` nested more than ${MAX_CEDAR_NESTING} deep`,
        help: NESTING_HELP, start: i, end: i + 1,
      };
    }
  }
  return undefined;
}

/** Syntax problems of each policy, checked one by one so one bad policy does not hide the others. */
export function parseProblems(policies: Record<string, string>): CedarProblem[] {
  const out: CedarProblem[] = [];
  for (const [id, text] of Object.entries(policies)) {
    const deep = nestingProblem(text);
    if (deep) { out.push({ ...deep, policyId: id }); continue; }
    try {
      const r = call((c) => c.checkParsePolicySet({ staticPolicies: { [id]: text } }));
      if (r.type === 'failure') for (const e of r.errors) out.push(problem(e, id));
    } catch (e) {
      out.push(crashProblem(e, id));
    }
  }
  return out;
}

export function schemaProblems(schema: string): CedarProblem[] {
  const r = call((c) => c.checkParseSchema(schema));
  return r.type === 'success' ? [] : r.errors.map((e) => problem(e));
}

let versions: string | undefined;

/**
 * govern's version and cedar-wasm's, read from their package files (without loading Cedar): what
 * a result kept across processes (a validation, a test's decision) must have been made by.
 */
export function engineVersion(): string {
  if (versions === undefined) {
    const pkg = join(dirname(require.resolve('@cedar-policy/cedar-wasm/nodejs')), '..', 'package.json');
    versions = `govern ${BUILD}, cedar-wasm ${(JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version}`;
  }
  return versions;
}

/** Strict validation of policies that parse, against the schema. */
export function validate(schema: string, policies: Record<string, string>): CedarProblem[] {
  const r = call((c) => c.validate({ schema, policies: { staticPolicies: policies }, validationSettings: { mode: 'strict' } }));
  if (r.type === 'failure') return r.errors.map((e) => problem(e));
  return [...r.validationErrors.map((v) => problem(v.error, v.policyId))];
}

/**
 * The same in one call that parses the schema and each policy once, for the usual clean case;
 * undefined when the schema or a policy does not parse (or nests too deeply for Cedar), and the
 * caller must find out which.
 */
export function validateIfParsed(schema: string, policies: Record<string, string>): CedarProblem[] | undefined {
  for (const text of Object.values(policies)) if (nestingProblem(text)) return undefined;
  try {
    const r = call((c) => c.validate({ schema, policies: { staticPolicies: policies }, validationSettings: { mode: 'strict' } }));
    return r.type === 'failure' ? undefined : r.validationErrors.map((v) => problem(v.error, v.policyId));
  } catch (e) {
    if (e instanceof CedarCrash) return undefined;
    throw e;
  }
}

// ---- .cedar files, read by Cedar ----

/** One policy of a `.cedar` file as Cedar reads it. */
export interface CedarPart {
  /** The policy's text as written (without the comments before it). */
  text: string;
  /** Where it starts in the file. */
  offset: number;
  effect: 'permit' | 'forbid';
  /** Its annotations, by name, as Cedar reads them (`@name` alone reads as ""). */
  annotations: Record<string, string>;
  /** The same policy as a `forbid` without its annotations, which is how the engine evaluates every rule. */
  matcher: string;
}

export interface CedarFile {
  policies: CedarPart[];
  problems: CedarProblem[];
}

/**
 * Reads a `.cedar` file with Cedar's parser: each policy with its effect, annotations and offset.
 * Templates (`?principal`, `?resource`) are reported, as govern has nothing to link them with.
 */
export function readPolicySet(text: string): CedarFile {
  const deep = nestingProblem(text);
  if (deep) return { policies: [], problems: [deep] };
  try {
    const r = call((c) => c.policySetTextToParts(text));
    if (r.type === 'failure') return { policies: [], problems: r.errors.map((e) => problem(e)) };
    const problems: CedarProblem[] = [];
    const policies: CedarPart[] = [];
    let cursor = 0;
    for (const part of r.policies) {
      const offset = locate(text, part, cursor);
      cursor = offset + part.length;
      const j = call((c) => c.policyToJson(part));
      if (j.type === 'failure') { problems.push(...j.errors.map((e) => ({ ...problem(e), start: offset + (e.sourceLocations?.[0]?.start ?? 0), end: offset + (e.sourceLocations?.[0]?.end ?? 0) }))); continue; }
      // The matcher: the policy's logic as a forbid, without annotations (they take no part in
      // a decision, and Cedar would parse them for every set the rule falls in).
      const { annotations: _annotations, ...logic } = j.json;
      const forbid = { ...logic, effect: 'forbid' as const };
      const m = call((c) => c.policyToText(forbid));
      const back = m.type === 'success' ? call((c) => c.policyToJson(m.text)) : undefined;
      if (m.type === 'failure' || back?.type !== 'success' || JSON.stringify(back.json) !== JSON.stringify(forbid)) {
        problems.push({ message: 'Cedar cannot print this policy back the way it reads it, so govern cannot evaluate it exactly', help: 'Write the policy in plainer Cedar, or as a YAML rule.', start: offset, end: offset + part.length });
        continue;
      }
      policies.push({ text: part, offset, effect: j.json.effect, annotations: { ...(j.json.annotations ?? {}) }, matcher: m.text });
    }
    for (const t of r.policy_templates) {
      const at = text.indexOf(t);
      problems.push({ message: 'this is a policy template (it has `?principal` or `?resource`); govern evaluates static policies only', help: 'Name the principal or resource in the policy, or write the rule in YAML.', start: Math.max(0, at), end: Math.max(0, at) + t.length });
    }
    return { policies, problems };
  } catch (e) {
    return { policies: [], problems: [crashProblem(e)] };
  }
}

/**
 * The offset of a policy's text in its file, from `cursor` on. Cedar gives each policy's text but
 * not where it stands: the first occurrence whose stretch from the cursor Cedar reads as exactly
 * this one policy is the one (an occurrence inside a comment reads as none). Positions only.
 */
function locate(text: string, part: string, cursor: number): number {
  let first = -1;
  for (let at = text.indexOf(part, cursor); at >= 0; at = text.indexOf(part, at + 1)) {
    if (first < 0) first = at;
    const r = call((c) => c.policySetTextToParts(text.slice(cursor, at + part.length)));
    if (r.type === 'success' && r.policies.length === 1 && r.policies[0] === part) return at;
  }
  return first >= 0 ? first : cursor;
}

// ---- `cedar:` conditions ----

export interface ExpressionProblem extends CedarProblem {
  code: 'cedar/parse' | 'cedar/not-an-expression';
}

const PROBE = 'permit (principal, action, resource) when { ';

/**
 * A `cedar:` condition must be exactly one Cedar expression, since the compiler places it inside
 * a generated policy. It is parsed alone as the only `when` of a throwaway policy, and again in
 * the parentheses the compiler puts around it; both must read as that one condition and the same.
 * Text that closes its surroundings (`true) || (true`, `true } unless { false`) is refused.
 */
export function expressionProblem(expr: string): ExpressionProblem | undefined {
  const deep = nestingProblem(expr);
  if (deep) return { ...deep, code: 'cedar/parse' };
  const notOne = (why: string): ExpressionProblem => ({
    code: 'cedar/not-an-expression',
    message: `\`cedar:\` must be exactly one Cedar expression; ${why}`,
    help: 'Write one boolean expression with balanced brackets, such as `principal.trust > 50 && context.attrs.ticket != ""`; use `all:`, `any:` and `not:` to combine several.',
  });
  try {
    const bare = call((c) => c.policyToJson(`${PROBE}${expr} };`));
    if (bare.type === 'failure') {
      const wrapped = call((c) => c.checkParsePolicySet({ staticPolicies: `${PROBE}(${expr}) };` }));
      if (wrapped.type === 'success') return notOne('this text closes the brackets around it and adds more');
      const e = bare.errors[0]!;
      const loc = e.sourceLocations?.[0];
      const p = problem(e);
      return { ...p, code: 'cedar/parse', ...(loc ? { start: Math.max(0, loc.start - PROBE.length), end: Math.max(0, loc.end - PROBE.length) } : {}) };
    }
    const j = bare.json;
    const all = (x: { op: string }) => x.op === 'All';
    if (j.conditions.length !== 1 || j.conditions[0]!.kind !== 'when' || j.annotations || !all(j.principal) || !all(j.action) || !all(j.resource)) {
      return notOne('this text closes the condition around it and adds another');
    }
    const paren = call((c) => c.policyToJson(`${PROBE}(${expr}) };`));
    if (paren.type !== 'success' || JSON.stringify(paren.json) !== JSON.stringify(j)) return notOne('it reads differently inside the brackets the compiler puts around it');
    return undefined;
  } catch (e) {
    return { ...crashProblem(e), code: 'cedar/parse' };
  }
}

export type EntityUid = { type: string; id: string };
export type CedarValue = CedarWasm.CedarValueJson;

export interface CedarRequest {
  principal: EntityUid;
  action: EntityUid;
  resource: EntityUid;
  context: Record<string, CedarValue>;
  entities: { uid: EntityUid; attrs: Record<string, CedarValue>; parents: EntityUid[] }[];
}

export interface CedarAnswer {
  decision: 'allow' | 'deny';
  /** Ids of the policies that determined the decision. */
  reasons: string[];
  /** Policies that failed to evaluate, with the error. */
  errors: { policyId: string; message: string }[];
}

// ---- parsed policy sets: a bounded pool shared by every Authorizer ----
// cedar-wasm 4.13 keeps each preparsed set in a map inside the module, by id, and has no call to
// drop one: parsing another set under an id replaces (and frees) the set that was there. So ids
// are slots: a set that is evicted or disposed is overwritten by an empty set and its id is used
// again, and the number of live policies is bounded, whatever the callers forget to dispose.

/** Policies kept parsed at once across all sets; the least recently used sets go first. */
export const DEFAULT_MAX_LIVE_POLICIES = 40_000;

interface Slot { owner: Authorizer; key: string; weight: number }

const pool = {
  /** Slot id -> what it holds, least recently used first (a Map keeps insertion order). */
  lru: new Map<string, Slot>(),
  free: [] as string[],
  next: 0,
  policies: 0,
  maxPolicies: DEFAULT_MAX_LIVE_POLICIES,
  /** The generation of the module the slots were parsed in. */
  generation: 0,
};

/** Empties a slot in Cedar and makes its id available again. */
function release(id: string): void {
  const s = pool.lru.get(id);
  if (!s) return;
  pool.lru.delete(id);
  s.owner.forget(s.key);
  pool.policies -= s.weight;
  pool.free.push(id);
  if (pool.generation === generation) call((c) => c.preparsePolicySet(id, { staticPolicies: {} }));
}

/** Forgets every slot after the module was reloaded (its sets went with it). */
function poolFresh(): void {
  if (pool.generation === generation) return;
  for (const s of pool.lru.values()) s.owner.forget(s.key);
  pool.lru.clear();
  pool.free = [];
  pool.next = 0;
  pool.policies = 0;
  pool.generation = generation;
}

/** How many policy sets and policies are parsed in Cedar now, and how many set ids exist. */
export function parsedSets(): { sets: number; policies: number; ids: number; maxPolicies: number } {
  return { sets: pool.lru.size, policies: pool.policies, ids: pool.next, maxPolicies: pool.maxPolicies };
}

/** Sets the bound on live policies (tests use a small one), evicting down to it; returns the previous bound. */
export function setMaxLivePolicies(n: number): number {
  const before = pool.maxPolicies;
  pool.maxPolicies = Math.max(1, Math.floor(n));
  while (pool.lru.size && pool.policies > pool.maxPolicies) release(pool.lru.keys().next().value!);
  return before;
}

// ---- the parts of a request a set reads ----
// Handing Cedar a request costs more than deciding it against a small set: each string attribute
// of the context and entities, and each decimal, is converted into Cedar's values on every call
// (about 110 of the 130 microseconds a typical request takes against one policy). A set's
// policies read a few of them; the others cannot change any answer of the set, so they stay out.

/** The paths of a request to keep: `true` keeps the whole value, a map keeps those attributes. */
export type Keep = true | Map<string, Keep>;

/** A set is read for its paths once asked this many times: a short command asks a few times and never pays for it. */
export const READS_AFTER = 8;

/**
 * Everything a set of policies reads of the request (principal, resource and context paths, the
 * context used whole kept whole), as Cedar parses them; undefined when a policy does not parse.
 * The principal or resource used whole (`principal == Agent::"ops"`, `resource in ...`, `is`)
 * keeps its entity but none of its attributes: Cedar reads an entity's attributes only through
 * `.` and `has`, which are paths of their own, and whole it is compared by its id and parents
 * (the request's entities have no attribute that refers to another entity).
 */
export function reads(policies: string[]): Keep | undefined {
  const keep = new Map<string, Keep>();
  for (const text of policies) {
    const r = attributeReads(text);
    if (!r) return undefined;
    for (const path of [...r.values, ...r.presence, ...r.literals.map(([p]) => p), ...r.tests.map(([p]) => p)]) {
      if (path.length === 1 && (path[0] === 'principal' || path[0] === 'resource')) {
        if (!keep.has(path[0])) keep.set(path[0], new Map());
        continue;
      }
      let at: Map<string, Keep> = keep;
      for (let i = 0; i < path.length; i++) {
        const name = path[i]!;
        const next = at.get(name);
        if (next === true) break;
        if (i === path.length - 1) { at.set(name, true); break; }
        if (next === undefined) at.set(name, new Map());
        at = at.get(name) as Map<string, Keep>;
      }
    }
  }
  return keep;
}

function narrowValue(v: CedarValue, keep: Keep): CedarValue {
  if (keep === true || !v || typeof v !== 'object' || Array.isArray(v) || '__extn' in v || '__entity' in v) return v;
  const out: Record<string, CedarValue> = {};
  for (const [k, sub] of keep) {
    const x = (v as Record<string, CedarValue>)[k];
    if (x !== undefined) out[k] = narrowValue(x, sub);
  }
  return out;
}

/** The request with only the paths `keep` names: a variable none of them names keeps its id, not its attributes. */
export function narrowRequest(req: CedarRequest, keep: Keep): CedarRequest {
  if (keep === true) return req;
  const same = (a: EntityUid, b: EntityUid) => a.type === b.type && a.id === b.id;
  const entities: CedarRequest['entities'] = [];
  for (const e of req.entities) {
    const v = same(e.uid, req.principal) ? 'principal' : same(e.uid, req.resource) ? 'resource' : undefined;
    const k = v === undefined ? true : keep.get(v);
    if (k === undefined) continue;
    entities.push(k === true ? e : { uid: e.uid, attrs: narrowValue(e.attrs, k) as Record<string, CedarValue>, parents: e.parents });
  }
  const k = keep.get('context');
  return { ...req, context: k === undefined ? {} : (narrowValue(req.context, k) as Record<string, CedarValue>), entities };
}

/**
 * Evaluates requests against policy sets parsed once. A set is registered under a key and parsed
 * on first use into a slot of the shared pool; a set evicted from the pool is parsed again when it
 * is next used. The schema is parsed once per bundle. `dispose` frees this authorizer's sets.
 */
export class Authorizer {
  /** Every set registered, by key: how to get its policies again. */
  private defs = new Map<string, () => Record<string, string>>();
  /** The slot each live set is parsed in, by key. */
  private slots = new Map<string, string>();
  private schemaName: string | undefined;
  private generation = -1;

  /**
   * With `validate`, each request is also checked against the schema (about 30 ms more to start,
   * some microseconds a call). Evaluation does not need it: policies are validated when compiled,
   * and requests are built from the same declared types.
   */
  constructor(private readonly schema: string, schemaKey: string, validate = false) {
    if (validate) this.schemaName = `schema:${schemaKey}`;
    this.fresh();
  }

  /** Parses the schema again when the module was reloaded since. */
  private fresh(): void {
    poolFresh();
    if (this.generation === generation) return;
    this.slots.clear();
    if (this.schemaName) {
      const name = this.schemaName;
      const r = call((c) => c.preparseSchema(name, this.schema));
      if (r.type === 'failure') throw new Error(`generated Cedar schema does not parse: ${r.errors.map((e) => e.message).join('; ')}`);
    }
    this.generation = generation;
  }

  /** Called by the pool when a slot of this authorizer is taken back. */
  forget(key: string): void {
    this.slots.delete(key);
  }

  /** Registers a set under `key` and parses it now (a set that does not parse throws here). */
  prepare(key: string, policies: () => Record<string, string>): void {
    if (!this.defs.has(key)) this.defs.set(key, policies);
    this.slot(key);
  }

  /** The slot a registered set is parsed in, parsing it (and evicting others) when it is not. */
  private slot(key: string): string {
    this.fresh();
    const live = this.slots.get(key);
    if (live !== undefined) {
      const s = pool.lru.get(live)!;
      pool.lru.delete(live);
      pool.lru.set(live, s);
      return live;
    }
    const def = this.defs.get(key);
    if (!def) throw new Error(`no policy set was prepared under ${key}`);
    const policies = def();
    const weight = Math.max(1, Object.keys(policies).length);
    while (pool.lru.size && pool.policies + weight > pool.maxPolicies) release(pool.lru.keys().next().value!);
    const id = pool.free.pop() ?? `set${pool.next++}`;
    const r = call((c) => c.preparsePolicySet(id, { staticPolicies: policies }));
    if (r.type === 'failure') {
      // Cedar leaves the slot as it was on failure: empty, whether new or released.
      pool.free.push(id);
      this.defs.delete(key);
      throw new Error(`policy set does not parse: ${r.errors.map((e) => e.message).join('; ')}`);
    }
    pool.lru.set(id, { owner: this, key, weight });
    pool.policies += weight;
    this.slots.set(key, id);
    return id;
  }

  /**
   * What each set's policies read of a request (see `reads`), once the set has been asked
   * READS_AFTER times; until then, and for a set whose policies cannot all be read, nothing.
   */
  private readsOf = new Map<string, { asked: number; keep?: Keep }>();

  /** The request as Cedar needs it for this set: only what its policies read, once that is known. */
  private narrowed(key: string, req: CedarRequest): CedarRequest {
    if (this.schemaName) return req;
    let r = this.readsOf.get(key);
    if (!r) this.readsOf.set(key, (r = { asked: 0 }));
    if (r.keep === undefined && ++r.asked === READS_AFTER) r.keep = reads(Object.values(this.defs.get(key)!())) ?? true;
    return r.keep === undefined ? req : narrowRequest(req, r.keep);
  }

  authorize(key: string, req: CedarRequest): CedarAnswer {
    const id = this.slot(key);
    const q = this.narrowed(key, req);
    const r = call((c) => c.statefulIsAuthorized({
      principal: q.principal,
      action: q.action,
      resource: q.resource,
      context: q.context,
      entities: q.entities,
      preparsedPolicySetId: id,
      ...(this.schemaName ? { preparsedSchemaName: this.schemaName, validateRequest: true } : {}),
    }));
    if (r.type === 'failure') throw new Error(`Cedar rejected the request: ${r.errors.map((e) => e.message).join('; ')}`);
    return {
      decision: r.response.decision,
      reasons: r.response.diagnostics.reason,
      errors: r.response.diagnostics.errors.map((e) => ({ policyId: e.policyId, message: e.error.message })),
    };
  }

  /** Frees every set this authorizer has parsed; a later call parses again what it needs. */
  dispose(): void {
    for (const id of [...this.slots.values()]) release(id);
    this.slots.clear();
  }
}

/**
 * Whether a policy's conditions read `context.ATTR` (or test `context has ATTR`), as Cedar parses
 * them: annotations, comments and string literals that merely mention the name do not count.
 */
export function readsContextAttr(policyText: string, attr: string): boolean {
  const r = call((c) => c.policyToJson(policyText));
  if (r.type !== 'success') return false;
  const reads = (node: unknown): boolean => {
    if (Array.isArray(node)) return node.some(reads);
    if (!node || typeof node !== 'object') return false;
    const o = node as Record<string, unknown>;
    for (const op of ['.', 'has'] as const) {
      const access = o[op] as { left?: { Var?: string }; attr?: string } | undefined;
      if (access && access.left?.Var === 'context' && access.attr === attr) return true;
    }
    return Object.values(o).some(reads);
  };
  return reads((r.json as { conditions?: unknown }).conditions);
}

// ---- what a policy reads, from Cedar's JSON form of it ----

type Json = Record<string, unknown>;
/** Policies' JSON forms by text; a policy that does not parse is null. Cleared when it grows large. */
const jsonForms = new Map<string, Json | null>();

function jsonOf(policyText: string): Json | null {
  let j = jsonForms.get(policyText);
  if (j === undefined) {
    const r = call((c) => c.policyToJson(policyText));
    j = r.type === 'success' ? (r.json as unknown as Json) : null;
    if (jsonForms.size >= 20_000) jsonForms.clear();
    jsonForms.set(policyText, j);
  }
  return j;
}

const COMPARISONS = ['<', '<=', '>', '>=', '==', '!='];

function isAccess(node: unknown, variable: string, attr: string): boolean {
  const a = (node as Json | null)?.['.'] as { left?: { Var?: string }; attr?: string } | undefined;
  return !!a && a.left?.Var === variable && a.attr === attr;
}

function longValue(node: unknown): number | undefined {
  const v = (node as Json | null)?.Value;
  return typeof v === 'number' ? v : undefined;
}

/**
 * How a policy's conditions use `variable.attr` (e.g. principal.trust): the whole-number constants
 * it is compared with (`<`, `<=`, `>`, `>=`, `==`, `!=`, either side), and whether it is used any
 * other way (`has` tests do not count: they do not read the value). Undefined when the policy does
 * not parse.
 */
export function attributeComparisons(policyText: string, variable: string, attr: string): { points: number[]; other: boolean } | undefined {
  const j = jsonOf(policyText);
  if (!j) return undefined;
  const points: number[] = [];
  let other = false;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(walk); return; }
    if (!node || typeof node !== 'object') return;
    const o = node as Json;
    if (isAccess(o, variable, attr)) { other = true; return; }
    for (const op of COMPARISONS) {
      const b = o[op] as { left?: unknown; right?: unknown } | undefined;
      if (!b) continue;
      const n = isAccess(b.left, variable, attr) ? longValue(b.right) : isAccess(b.right, variable, attr) ? longValue(b.left) : undefined;
      if (n !== undefined) { points.push(n); return; }
    }
    Object.values(o).forEach(walk);
  };
  walk(j.conditions);
  return { points, other };
}

/**
 * Whether a policy can tell requests apart by `variable` (principal, action or resource): its
 * scope constrains it, or its conditions use it in any way. A policy that does not is decided the
 * same whatever the request's `variable` is. True when the policy does not parse.
 */
export function readsVariable(policyText: string, variable: 'principal' | 'action' | 'resource'): boolean {
  const j = jsonOf(policyText);
  if (!j) return true;
  if ((j[variable] as { op?: string } | undefined)?.op !== 'All') return true;
  const walk = (node: unknown): boolean => {
    if (Array.isArray(node)) return node.some(walk);
    if (!node || typeof node !== 'object') return false;
    const o = node as Json;
    if (o.Var === variable) return true;
    return Object.values(o).some(walk);
  };
  return walk(j.conditions);
}

/**
 * What a policy's scope and conditions read of the request, as Cedar parses them: each path of
 * attribute accesses from a variable (`["principal", "trust"]`, `["context", "cost", "usd"]`), and
 * those only tested with `has` (their presence is read, not their value), and those only compared
 * with string literals (`==`, `!=`, `[...].contains`: which literal they equal is read), matched
 * with `like` patterns or compared with `decimal(...)` constants (`tests`). A variable used
 * otherwise (`resource == ...`, a scope that names an entity, `principal is Agent`) is read whole:
 * `["resource"]`. `action` is left out: it is the category. Undefined when the policy does not parse.
 */
export function attributeReads(policyText: string): { values: string[][]; presence: string[][]; literals: [string[], string[]][]; tests: [string[], AttributeTest][] } | undefined {
  const j = jsonOf(policyText);
  if (!j) return undefined;
  const out: string[][] = [];
  const presence: string[][] = [];
  const literals: [string[], string[]][] = [];
  const tests: [string[], AttributeTest][] = [];
  for (const v of ['principal', 'resource'] as const) if ((j[v] as { op?: string } | undefined)?.op !== 'All') out.push([v]);
  const pathOf = (node: unknown): string[] | undefined => {
    const o = node as Json | null;
    if (!o || typeof o !== 'object') return undefined;
    if (typeof o.Var === 'string' && Object.keys(o).length === 1) return [o.Var];
    const a = o['.'] as { left?: unknown; attr?: unknown } | undefined;
    if (a && typeof a.attr === 'string' && Object.keys(o).length === 1) {
      const left = pathOf(a.left);
      return left ? [...left, a.attr] : undefined;
    }
    return undefined;
  };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(walk); return; }
    if (!node || typeof node !== 'object') return;
    const o = node as Json;
    const path = pathOf(o);
    if (path) { out.push(path); return; }
    if (Object.keys(o).length === 1) {
      const literal = (x: unknown) => (x as Json | null)?.Value;
      for (const op of ['==', '!='] as const) {
        const b = o[op] as { left?: unknown; right?: unknown } | undefined;
        if (!b) continue;
        const [p, v] = pathOf(b.left) ? [pathOf(b.left), literal(b.right)] : [pathOf(b.right), literal(b.left)];
        if (p && typeof v === 'string') { literals.push([p, [v]]); return; }
      }
      const l = o.like as { left?: unknown; pattern?: unknown } | undefined;
      const lp = l ? pathOf(l.left) : undefined;
      if (lp && Array.isArray(l!.pattern) && l!.pattern.every((x) => x === 'Wildcard' || typeof (x as Json | null)?.Literal === 'string')) {
        tests.push([lp, { op: 'like', pattern: l!.pattern.map((x) => (x === 'Wildcard' ? null : (x as { Literal: string }).Literal)) }]);
        return;
      }
      for (const op of ['lessThan', 'lessThanOrEqual', 'greaterThan', 'greaterThanOrEqual']) {
        const args = o[op];
        if (!Array.isArray(args) || args.length !== 2) continue;
        const constant = (x: unknown) => {
          const d = (x as Json | null)?.decimal;
          return Array.isArray(d) && d.length === 1 ? literal(d[0]) : undefined;
        };
        const [p, v] = pathOf(args[0]) ? [pathOf(args[0]), constant(args[1])] : [pathOf(args[1]), constant(args[0])];
        if (p && typeof v === 'string' && decimalValue(v) !== undefined) { tests.push([p, { op: 'decimal', value: v }]); return; }
      }
      const c = o.contains as { left?: { Set?: unknown }; right?: unknown } | undefined;
      const set = c?.left?.Set;
      const p = c ? pathOf(c.right) : undefined;
      if (p && Array.isArray(set) && set.every((x) => typeof literal(x) === 'string')) { literals.push([p, set.map((x) => literal(x) as string)]); return; }
    }
    const h = o.has as { left?: unknown; attr?: unknown } | undefined;
    if (h && Object.keys(o).length === 1) {
      const left = pathOf(h.left);
      if (left && typeof h.attr === 'string') { presence.push([...left, h.attr]); return; }
      if (left) { out.push(left); return; }
    }
    // A literal value holds no variable.
    for (const [k, v] of Object.entries(o)) if (k !== 'Value') walk(v);
  };
  walk(j.conditions);
  const other = (p: string[]) => p[0] !== 'action';
  return { values: out.filter(other), presence: presence.filter(other), literals: literals.filter(([p]) => other(p)), tests: tests.filter(([p]) => other(p)) };
}

/** A test an attribute is read by: a `like` pattern (characters, null for `*`) or a comparison with a decimal constant. */
export type AttributeTest = { op: 'like'; pattern: (string | null)[] } | { op: 'decimal'; value: string };

/** A decimal literal as Cedar writes it (at most four fraction digits), in ten-thousandths; undefined when it is not one. */
export function decimalValue(text: string): bigint | undefined {
  const m = /^(-?)(\d+)\.(\d{1,4})$/.exec(text);
  if (!m) return undefined;
  const n = BigInt(m[2]! + m[3]!.padEnd(4, '0'));
  return m[1] ? -n : n;
}

/** Whether a string matches a `like` pattern as Cedar matches it: character by character, `*` for any run. */
export function likeMatches(value: string, pattern: (string | null)[]): boolean {
  const s = Array.from(value);
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (i < s.length) {
    if (j < pattern.length && pattern[j] !== null && pattern[j] === s[i]) { i++; j++; }
    else if (j < pattern.length && pattern[j] === null) { star = j++; mark = i; }
    else if (star >= 0) { j = star + 1; i = ++mark; }
    else return false;
  }
  while (j < pattern.length && pattern[j] === null) j++;
  return j === pattern.length;
}

/**
 * What a policy decides, as Cedar reads it, without its annotations (which do not take part in
 * evaluation): two policies with the same key match the same requests. The text itself when the
 * policy does not parse.
 */
export function policyLogicKey(policyText: string): string {
  const j = jsonOf(policyText);
  if (!j) return policyText;
  const { annotations: _a, ...logic } = j;
  return JSON.stringify(logic);
}
