// Cedar's parsed policy sets are a bounded resource: a reload frees the sets of the engine it
// replaces, set ids are used again, and the pool of live policies never outgrows its bound while
// the decisions stay the same. A set is handed only the parts of a request its policies read.
import { afterEach, describe, expect, it } from 'vitest';
import { check } from '../src/check/check.js';
import { narrowRequest, parsedSets, reads, setMaxLivePolicies, DEFAULT_MAX_LIVE_POLICIES, type CedarRequest } from '../src/cedar/cedar.js';
import type { Bundle } from '../src/compile/bundle.js';
import { Engine, SMALL_BUNDLE } from '../src/engine/engine.js';
import { factsOf } from '../src/engine/facts.js';
import { normalizeRequest } from '../src/request/normalize.js';
import { tempTree } from './helpers.js';

const CATS = ['CREATE', 'MODIFY', 'DELETE', 'ACCESS'];
const ENVS = ['dev', 'staging', 'production'];
const ACTIONS: Record<string, string> = { CREATE: 'create', MODIFY: 'write_file', DELETE: 'delete', ACCESS: 'read' };

/** A bundle of `n` rules spread over categories and environments, more than one set holds. */
function bigBundle(n: number, salt = ''): Bundle {
  const rules = Array.from({ length: n }, (_, i) => {
    const effect = ['deny', 'escalate', 'allow'][i % 3];
    const match = [`category: ${CATS[i % CATS.length]}`, ...(i % 2 ? [`environment: ${ENVS[i % ENVS.length]}`] : [])];
    return `  - id: r${i}${salt}\n    match: {${match.join(', ')}}\n    when: {cost.usd: {gt: ${(i % 50) / 100}}}\n    effect: ${effect}`;
  });
  const r = check([tempTree({ 'p.yaml': `rules:\n${rules.join('\n')}\n` })], { tests: false });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.bundle!;
}

const requests = CATS.flatMap((c) => ENVS.map((environment, k) => ({ agent: 'coder', action: ACTIONS[c], resource: `file:tmp/x-${k}.txt`, environment, cost: { usd: 0.1 + k * 0.15 } })));
const verdicts = (e: Engine) => requests.map((q) => {
  const d = e.decide(factsOf(normalizeRequest(q), { hour: 12 }));
  return `${d.decision} ${d.reasons.map((r) => r.rule).join(',')}`;
});

afterEach(() => {
  setMaxLivePolicies(DEFAULT_MAX_LIVE_POLICIES);
});

describe('Cedar policy sets', () => {
  it('are freed on reload: live sets and set ids do not grow across 100 reloads', () => {
    const bundles = [bigBundle(SMALL_BUNDLE * 2, 'a'), bigBundle(SMALL_BUNDLE * 2, 'b')];
    let engine = new Engine(bundles[0]!);
    const first = verdicts(engine);
    const before = parsedSets();
    for (let i = 1; i <= 100; i++) {
      engine.dispose();
      engine = new Engine(bundles[i % 2]!);
      verdicts(engine);
    }
    const after = parsedSets();
    expect(after.sets).toBeLessThanOrEqual(before.sets);
    expect(after.policies).toBeLessThanOrEqual(before.policies);
    // Ids are reused: a handful more than one engine's sets, not 100 times as many.
    expect(after.ids).toBeLessThanOrEqual(before.ids + before.sets);
    engine.dispose();
    engine = new Engine(bundles[0]!);
    expect(verdicts(engine)).toEqual(first);
    engine.dispose();
  });

  it('stay within the bound on live policies when engines are dropped without dispose, and decide the same', () => {
    const bundle = bigBundle(SMALL_BUNDLE * 3);
    const unbounded = new Engine(bundle);
    const expected = verdicts(unbounded);
    unbounded.dispose();
    const bound = SMALL_BUNDLE;
    setMaxLivePolicies(bound);
    // The pool is the process's: ids other files' engines took before this test are not its own.
    const idsBefore = parsedSets().ids;
    for (let i = 0; i < 20; i++) {
      // Each engine is a reload nobody disposed of: the pool evicts the least recently used sets.
      const e = new Engine(bundle);
      expect(verdicts(e)).toEqual(expected);
      expect(parsedSets().policies).toBeLessThanOrEqual(bound);
    }
    expect(parsedSets().ids - idsBefore).toBeLessThan(3 * SMALL_BUNDLE);
  });

  it('are parsed again after eviction, with the same decisions', () => {
    const bundle = bigBundle(SMALL_BUNDLE * 2);
    const e = new Engine(bundle);
    const expected = verdicts(e);
    // A bound of one policy keeps at most one set: every other set is evicted and parsed again on use.
    setMaxLivePolicies(1);
    expect(verdicts(e)).toEqual(expected);
    expect(parsedSets().sets).toBe(1);
    e.dispose();
    expect(parsedSets().sets).toBe(0);
  });
});

describe('the request a set is handed', () => {
  const principal = { type: 'Agent', id: 'ops' };
  const resource = { type: 'Resource', id: 'file/x' };
  const usd = { __extn: { fn: 'decimal', arg: '0.5000' } };
  const req: CedarRequest = {
    principal, action: { type: 'Action', id: 'DELETE' }, resource,
    context: { environment: 'production', cost: { usd, tokens: 3 }, command: 'rm -rf /' },
    entities: [{ uid: principal, attrs: { name: 'ops', trust: 20 }, parents: [] }, { uid: resource, attrs: { type: 'file', path: 'x' }, parents: [] }],
  };

  it('holds what its policies read, the context used whole kept whole, and nothing else', () => {
    const some = reads(['forbid (principal, action, resource) when { context.cost.usd.greaterThan(decimal("0.1")) && resource has path };'])!;
    expect(narrowRequest(req, some)).toEqual({ ...req, context: { cost: { usd } }, entities: [{ uid: resource, attrs: { path: 'x' }, parents: [] }] });
    const scope = reads(['forbid (principal == Agent::"ops", action, resource);'])!;
    // An entity used whole is compared by its id and parents: none of its attributes is read.
    expect(narrowRequest(req, scope)).toEqual({ ...req, context: {}, entities: [{ uid: principal, attrs: {}, parents: [] }] });
    const scopeAndAttr = reads(['forbid (principal == Agent::"ops", action, resource is Resource) when { principal.trust > 5 };'])!;
    expect(narrowRequest(req, scopeAndAttr)).toEqual({ ...req, context: {}, entities: [{ uid: principal, attrs: { trust: 20 }, parents: [] }, { uid: resource, attrs: {}, parents: [] }] });
    const both = reads(['forbid (principal, action, resource) when { context.cost.tokens > 2 };', 'forbid (principal, action, resource) when { context.cost == context.cost };'])!;
    expect(narrowRequest(req, both).context).toEqual({ cost: { usd, tokens: 3 } });
    expect(reads(['forbid (principal, action, resource) when { ('])).toBeUndefined();
  });
});
