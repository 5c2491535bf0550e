// Decisions from compiled rules: the order of effects, the missing-attribute rule, evaluation
// errors, the trust boundary, and the action hierarchy that category rules depend on.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { check } from '../src/check/check.js';
import { Engine, mayReadRisk } from '../src/engine/engine.js';
import { reads } from '../src/cedar/cedar.js';
import { factsOf, type FactInputs } from '../src/engine/facts.js';
import { detect } from '../src/request/detectors/index.js';
import { normalizeRequest } from '../src/request/normalize.js';
import { ROOT, tempTree } from './helpers.js';
import { decideWithIntent } from '../src/runtime/runtime.js';
import type { Intent } from '../src/router/intent.js';

function engineFor(yaml: string): Engine {
  const r = check([tempTree({ 'p.yaml': yaml })], { tests: false });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return new Engine(r.bundle!, { validate: true });
}

function decide(e: Engine, req: Record<string, unknown>, facts: FactInputs = {}) {
  return e.decide(factsOf(normalizeRequest(req), { hour: 12, ...facts }));
}

describe('decision order', () => {
  const e = engineFor(`rules:
  - id: allow-all-dev
    match: {environment: dev}
    when: {trust: {gte: 0}}
    effect: allow
  - id: audit-dev-writes
    match: {environment: dev, category: MODIFY}
    when: {trust: {gte: 0}}
    effect: allow
    audit: true
  - id: escalate-dev-deletes
    match: {environment: dev, category: DELETE}
    effect: escalate
  - id: deny-dev-drops
    match: {environment: dev, category: DELETE}
    when: {detected: sql-drop}
    effect: deny
  - id: warn-dev
    match: {environment: dev}
    effect: warn
    message: dev is shared
`);
  it('deny beats escalate beats allow; warn only warns', () => {
    const deny = decide(e, { agent: 'a', action: 'drop', environment: 'dev' }, { findings: ['sql-drop'] });
    expect([deny.decision, deny.tier, deny.reasons.map((r) => r.rule)]).toEqual(['deny', 3, ['deny-dev-drops']]);
    const esc = decide(e, { agent: 'a', action: 'delete', environment: 'dev' });
    expect([esc.decision, esc.tier, esc.reasons.map((r) => r.rule)]).toEqual(['escalate', 2, ['escalate-dev-deletes']]);
    const allow = decide(e, { agent: 'a', action: 'read', environment: 'dev' });
    expect([allow.decision, allow.tier, allow.route]).toEqual(['allow', 0, 'rules']);
    expect(allow.warnings).toEqual([{ rule: 'warn-dev', message: 'dev is shared', source: expect.stringMatching(/p\.yaml:\d+:5$/) }]);
  });
  it('an audited allow makes the tier 1', () => {
    const d = decide(e, { agent: 'a', action: 'update', environment: 'dev' });
    expect([d.decision, d.tier]).toEqual(['allow', 1]);
    expect(d.reasons.map((r) => r.rule).sort()).toEqual(['allow-all-dev', 'audit-dev-writes']);
  });
  it('no matching rule and no model: escalate to a human, route default', () => {
    const d = decide(e, { agent: 'a', action: 'read', environment: 'production' });
    expect(d).toMatchObject({ decision: 'escalate', tier: 2, route: 'default', reasons: [{ rule: null, effect: 'escalate' }] });
    expect(d.policy.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('missing attributes never switch a restriction off or a permission on', () => {
  const e = engineFor(`rules:
  - id: deny-secret-class
    match: {action: read}
    when: {resource.classification: secret}
    effect: deny
  - id: allow-public-class
    match: {action: fetch}
    when: {resource.classification: public}
    effect: allow
  - id: escalate-unless-approved
    match: {action: ship}
    when:
      not: {context.approved: true}
    effect: escalate
`);
  it('a deny whose attribute is missing matches', () => {
    expect(decide(e, { agent: 'a', action: 'read', resource: 'db/x' }).decision).toBe('deny');
    expect(decide(e, { agent: 'a', action: 'read', resource: { type: 'db', id: 'x', classification: 'internal' } }).decision).toBe('escalate');
  });
  it('an allow whose attribute is missing does not', () => {
    expect(decide(e, { agent: 'a', action: 'fetch', resource: 'db/x' }).route).toBe('default');
    expect(decide(e, { agent: 'a', action: 'fetch', resource: { type: 'db', id: 'x', classification: 'public' } }).decision).toBe('allow');
  });
  it('under `not` the polarity flips, so the escalate still applies', () => {
    expect(decide(e, { agent: 'a', action: 'ship' }).reasons[0]!.rule).toBe('escalate-unless-approved');
    expect(decide(e, { agent: 'a', action: 'ship', context: { approved: 'yes' } }).reasons[0]!.rule).toBe('escalate-unless-approved');
    expect(decide(e, { agent: 'a', action: 'ship', context: { approved: true } }).route).toBe('default');
  });
});

describe('evaluation errors', () => {
  const e = engineFor(`rules:
  - id: deny-overflow
    match: {action: compute}
    when:
      cedar: 'context.cost.tokens * 4611686018427387904 > 0'
    effect: deny
  - id: allow-overflow
    match: {action: compute}
    when:
      cedar: 'context.cost.tokens * 4611686018427387904 >= 0'
    effect: allow
`);
  it('a deny rule that fails to evaluate counts as matched; an allow that fails does not allow', () => {
    const d = decide(e, { agent: 'a', action: 'compute', cost: { tokens: 4 } });
    expect(d.decision).toBe('deny');
    expect(d.reasons.map((r) => r.rule)).toEqual(['deny-overflow']);
    expect(d.warnings.map((w) => w.rule).sort()).toEqual(['allow-overflow', 'deny-overflow']);
    expect(decide(e, { agent: 'a', action: 'compute', cost: { tokens: 0 } }).decision).toBe('allow');
  });
});

describe('trust boundary', () => {
  const e = engineFor(`rules:
  - id: deny-low-trust
    when: {trust: {lt: 60}}
    effect: deny
`);
  it('a request may lower its trust, never raise it', () => {
    expect(decide(e, { agent: { id: 'a', trust: 99 }, action: 'x' }, { trust: 50 }).decision).toBe('deny');
    expect(decide(e, { agent: { id: 'a', trust: 10 }, action: 'x' }, { trust: 90 }).decision).toBe('deny');
    expect(decide(e, { agent: { id: 'a', trust: 70 }, action: 'x' }, { trust: 90 }).route).toBe('default');
  });
});

describe('categories are Cedar actions', () => {
  const e = engineFor(`rules:
  - id: deny-deletes
    match: {category: DELETE}
    effect: deny
`);
  it('a category-level deny matches every verb of that category and an explicit category', () => {
    for (const action of ['delete', 'remove_file', 'destroy', 'terminate-instance', 'drop']) {
      expect(decide(e, { agent: 'a', action }).decision).toBe('deny');
    }
    expect(decide(e, { agent: 'a', action: 'tidy', category: 'DELETE' }).decision).toBe('deny');
    expect(decide(e, { agent: 'a', action: 'shell_exec', command: 'rm -rf build' }).decision).toBe('deny');
    expect(decide(e, { agent: 'a', action: 'read' }).route).toBe('default');
  });
});

describe('invalid policies never load partially', () => {
  it('one bad file means no bundle at all', () => {
    const dir = tempTree({
      'good.yaml': 'rules:\n  - id: deny-all-deletes\n    match: {category: DELETE}\n    effect: deny\n',
      'bad.yaml': 'rules:\n  - id: x\n    effect: allw\n',
    });
    expect(check([dir]).bundle).toBeUndefined();
  });
});

describe('the policy file types', () => {
  it('are generated from schemas/policy.schema.json and up to date', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-types.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('hand-written Cedar', () => {
  it('a one-line permit with annotations allows, and a forbid beside it still wins', () => {
    const dir = tempTree({
      'p.cedar': '@id("raw-allow-reads") @message("reads (are) fine") permit (principal, action == Action::"ACCESS", resource);\n// a forbid\n@id("raw-no-prod-reads")\nforbid (principal, action, resource) when { context.environment == "production" };\n',
      'w.yaml': 'rules:\n  - id: warn-all\n    effect: warn\n    message: noted\n',
    });
    const r = check([dir], { tests: false });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const e = new Engine(r.bundle!, { validate: true });
    const dev = e.decide(factsOf(normalizeRequest({ agent: 'a', action: 'read', environment: 'dev' }), { hour: 12 }));
    expect([dev.decision, dev.reasons.map((x) => x.rule), dev.warnings.map((w) => w.rule)]).toEqual(['allow', ['raw-allow-reads'], ['warn-all']]);
    const prod = e.decide(factsOf(normalizeRequest({ agent: 'a', action: 'read', environment: 'production' }), { hour: 12 }));
    expect([prod.decision, prod.reasons.map((x) => x.rule)]).toEqual(['deny', ['raw-no-prod-reads']]);
  });
});

describe('hand-written Cedar effects', () => {
  it('a one-line forbid is a deny, whatever sits before it on its line', () => {
    const dir = tempTree({ 'p.cedar': '// deny it all\n@id("raw-deny") @message("no (really)") forbid (principal, action, resource) when { context.environment == "dev" };\n@id("raw-allow") permit (principal, action, resource);\n' });
    const r = check([dir], { tests: false });
    expect(r.bundle!.byId.get('raw-deny')!.effect).toBe('deny');
    expect(r.bundle!.byId.get('raw-allow')!.effect).toBe('allow');
    const e = new Engine(r.bundle!, { validate: true });
    const d = e.decide(factsOf(normalizeRequest({ agent: 'a', action: 'read', environment: 'dev' }), { hour: 12 }));
    expect([d.decision, d.tier, d.reasons.map((x) => x.rule)]).toEqual(['deny', 3, ['raw-deny']]);
    const traces = e.explain(factsOf(normalizeRequest({ agent: 'a', action: 'read', environment: 'dev' }), { hour: 12 }));
    expect(traces.filter((t) => t.status === 'matched').map((t) => t.id).sort()).toEqual(['raw-allow', 'raw-deny']);
  });
});

describe('hand-written Cedar annotations', () => {
  const facts = (req: Record<string, unknown>) => factsOf(normalizeRequest(req), { hour: 12 });

  it('@message is the reason\'s message, escapes read as Cedar reads them', () => {
    const dir = tempTree({ 'p.cedar': '@id("raw-esc")\n@effect("escalate")\n@message("deletes need a \\"human\\"\\u{2014}always")\nforbid (principal, action == Action::"DELETE", resource);\n' });
    const r = check([dir], { tests: false });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const d = new Engine(r.bundle!, { validate: true }).decide(facts({ agent: 'a', action: 'delete', environment: 'dev' }));
    expect([d.decision, d.tier]).toEqual(['escalate', 2]);
    expect(d.reasons).toEqual([{ rule: 'raw-esc', effect: 'escalate', message: 'deletes need a "human"\u2014always', source: expect.stringMatching(/p\.cedar:1:1$/) }]);
  });

  it('@effect("warn") on a permit only warns, as a YAML warn rule does', () => {
    const dir = tempTree({ 'p.cedar': '@id("w") @effect("warn") @message("production deletes are watched") permit (principal, action, resource);\n' });
    const r = check([dir], { tests: false });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.bundle!.byId.get('w')).toMatchObject({ effect: 'warn', set: 'warn', tier: 0 });
    const d = new Engine(r.bundle!, { validate: true }).decide(facts({ agent: 'a', action: 'delete', environment: 'production' }));
    expect([d.decision, d.route]).toEqual(['escalate', 'default']);
    expect(d.warnings).toEqual([{ rule: 'w', message: 'production deletes are watched', source: expect.stringMatching(/p\.cedar:1:1$/) }]);
  });

  it('an @effect that contradicts permit or forbid is an error at the annotation', () => {
    const dir = tempTree({ 'p.cedar': '@id("a") @effect("allow") forbid (principal, action, resource);\n\n@id("d")\n  @effect("deny")\npermit (principal, action, resource);\n@id("x") @effect("block") permit (principal, action, resource);\n' });
    const r = check([dir], { tests: false });
    expect(r.bundle).toBeUndefined();
    const errs = r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, `${d.file.replace(/.*\//, '')}:${d.line}:${d.column}-${d.endColumn}`, d.message]);
    expect(errs).toEqual([
      ['cedar/effect-mismatch', 'p.cedar:1:10-26', '`@effect("allow")` contradicts `forbid` in policy `a`: a forbid can only deny or escalate.'],
      ['cedar/effect-mismatch', 'p.cedar:4:3-18', '`@effect("deny")` contradicts `permit` in policy `d`: a permit can only allow or warn.'],
      ['cedar/effect-mismatch', 'p.cedar:6:10-26', '`@effect("block")` in policy `x` is not an effect: use allow or warn on a permit.'],
    ]);
  });
});

describe('the index never hides a deny from a variant of a denied request', () => {
  // Split so that no scanner of this repository takes it for a real key.
  const AWS_KEY = ['AKIA', 'QYLPMN5HFIQR7XYZ'].join('');
  // Over 64 rules, so the engine indexes them, and over 64 of them naming other actions, so sets
  // are split by the request's action: the deny rules below sit among many that cannot match.
  const filler = Array.from({ length: 150 }, (_, i) => `  - id: allow-verb-${i}\n    match: {action: verb_${i}, environment: dev}\n    effect: allow`).join('\n');
  const e = engineFor(`rules:
${filler}
  - id: deny-drop-table
    match: {action: drop_table}
    effect: deny
  - id: deny-secret-paths
    match: {resource: file}
    when: {resource.path: {glob: "secrets/**"}}
    effect: deny
  - id: deny-prod-deletes
    match: {category: DELETE, environment: production}
    effect: deny
  - id: deny-leaked-keys
    when: {detected: aws-access-key}
    effect: deny
  - id: allow-reads
    match: {category: ACCESS}
    effect: allow
`);

  it('decides each variant as the rules say, whatever the spelling, category or company', () => {
    const variants: [string, Record<string, unknown>, string][] = [
      ['the action in capitals', { agent: 'a', action: 'DROP_TABLE', resource: 'db:table/x', environment: 'dev' }, 'deny-drop-table'],
      ['the action in full-width letters', { agent: 'a', action: 'ｄｒｏｐ＿ｔａｂｌｅ', resource: 'db:table/x', environment: 'dev' }, 'deny-drop-table'],
      ['a read of a secret path in capitals', { agent: 'a', action: 'read', resource: 'file:Secrets/DB.yaml', environment: 'dev' }, 'deny-secret-paths'],
      ['a read of a secret path that climbs', { agent: 'a', action: 'read', resource: 'file:tmp/../secrets/db.yaml', environment: 'dev' }, 'deny-secret-paths'],
      ['a delete stated as a read', { agent: 'a', action: 'read', category: 'ACCESS', command: 'rm -rf /srv/app', resource: 'file:srv/app', environment: 'production' }, 'deny-prod-deletes'],
      ['a delete command beside an allowed verb', { agent: 'a', action: 'verb_7', command: 'kubectl delete deployment web', resource: 'k8s:deployment/web', environment: 'production' }, 'deny-prod-deletes'],
      ['a key nested deep in the context', { agent: 'a', action: 'verb_3', resource: 'doc:x', environment: 'dev', context: { a: { b: { c: { d: { e: AWS_KEY } } } } } }, 'deny-leaked-keys'],
      ['a key in an allowed read', { agent: 'a', action: 'read', resource: 'doc:x', environment: 'dev', content: `id ${AWS_KEY}` }, 'deny-leaked-keys'],
    ];
    for (const [name, request, rule] of variants) {
      // What the runtime hands the engine: the request normalized, and what the detectors found in it.
      const normalized = normalizeRequest(request);
      const d = e.decide(factsOf(normalized, { hour: 12, findings: detect(normalized).map((f) => f.kind) }));
      expect([name, d.decision, d.reasons.map((r) => r.rule)], name).toEqual([name, 'deny', expect.arrayContaining([rule])]);
    }
    // And the allowed forms stay allowed, so the denies above are the variants' doing.
    expect(decide(e, { agent: 'a', action: 'verb_7', resource: 'doc:x', environment: 'dev' }).decision).toBe('allow');
    expect(decide(e, { agent: 'a', action: 'read', resource: 'file:docs/a.md', environment: 'dev' }).decision).toBe('allow');
  });
});

describe('a risk the router adds', () => {
  const intent = (risk: Intent['risk']): Intent => ({ category: null, risk, environment: null, resource_kind: null, confidence: 0.9, unclear: false, signals: [] });
  const requests = [
    { agent: 'auditor', action: 'read', resource: { type: 'logs', id: 'web-1' }, namespace: 'team-alpha', environment: 'production' },
    { agent: 'coder', action: 'shell_exec', resource: 'host:vm-1', command: 'git status', environment: 'dev' },
    { agent: 'ops', action: 'send_message', resource: 'chat:m-1', content: 'Order 7 shipped; contact ops@example.com.', environment: 'staging' },
    { agent: 'coder', action: 'write_file', resource: 'file:docs/a.md', environment: 'production' },
  ];
  const strip = (r: ReturnType<typeof decideWithIntent>) => r && { ...r, decision: { ...r.decision, elapsed_ms: 0 } };

  it('that no rule reads is added to the facts, and the rules are not asked again: they would answer as before', () => {
    const cases: [string, Engine, boolean][] = [
      ['the default pack', new Engine(check([join(ROOT, 'policies')], { tests: false }).bundle!), false],
      ['a rule on risk', engineFor('rules:\n  - id: escalate-high-risk\n    when: {cedar: \'context has risk && context.risk == "high"\'}\n    effect: escalate\n'), true],
      ['raw Cedar that reads the whole context', engineFor('rules:\n  - id: odd\n    when: {cedar: "context != context"}\n    effect: deny\n'), true],
    ];
    for (const [name, e, readsRisk] of cases) {
      expect({ name, readsRisk: e.readsRisk }).toEqual({ name, readsRisk });
      let asked = 0;
      for (const req of requests) {
        const request = normalizeRequest(req);
        const facts = factsOf(request, { hour: 12, findings: detect(request).map((f) => f.kind) });
        const before = e.decide(facts);
        if (before.route !== 'default') continue;
        for (const risk of ['low', 'medium', 'high', 'critical'] as const) {
          asked++;
          const quick = decideWithIntent(e, facts, intent(risk), before);
          expect(quick!.facts.risk).toBe(risk);
          expect({ name, risk, got: strip(quick) }).toEqual({ name, risk, got: strip(decideWithIntent(e, facts, intent(risk))) });
        }
      }
      expect({ name, asked: asked > 0 }).toEqual({ name, asked: true });
    }
    // However Cedar lets a policy spell the read: by index, or under a test of its presence.
    for (const cond of ['context has risk && context["risk"] == "high"', 'context has "risk"', 'if context has risk then context.risk like "h*" else false', 'context has "\\u{72}isk" && context["\\u{72}isk"] == "high"']) {
      const e = engineFor(`rules:\n  - id: r\n    when: {cedar: '${cond}'}\n    effect: deny\n`);
      expect({ cond, readsRisk: e.readsRisk }).toEqual({ cond, readsRisk: true });
    }
    // Rules are read by Cedar's parser only where their text may read the risk; where it may
    // not, Cedar's parser agrees that it does not.
    const texts = [
      ...cases[0]![1].bundle.rules.map((r) => r.matcher),
      'forbid (principal, action, resource) when { context == {"action": "x"} };',
      'forbid (principal, action, resource) when { [context].contains({"action": "x"}) };',
      'forbid (principal, action, resource) when { context.attrs has contextual && context.cost.usd.greaterThan(decimal("1.0")) };',
      'forbid (principal, action, resource) when { principal.name == "context" && context.hour > 3 };',
      'forbid (principal, action, resource) when { context // the whole of it\n  has risk };',
    ];
    let skipped = 0;
    for (const text of texts) {
      if (mayReadRisk(text)) continue;
      skipped++;
      const keep = reads([text]);
      const context = keep instanceof Map ? keep.get('context') : true;
      expect({ text, context: context === true ? 'whole' : context?.has('risk') ? 'risk' : 'no risk' }).toEqual({ text, context: 'no risk' });
    }
    expect(skipped).toBeGreaterThan(10);
    for (const text of texts.slice(-5, -3)) expect({ text, may: mayReadRisk(text) }).toEqual({ text, may: true });
    // A method called on the whole context (none exists in Cedar today) would read all of it.
    expect(mayReadRisk('forbid (principal, action, resource) when { context.values().contains("high") };')).toBe(true);
    // Where a rule reads it, the rules decide again: a high risk escalates.
    const e = cases[1]![1];
    const request = normalizeRequest(requests[3]!);
    const facts = factsOf(request, { hour: 12 });
    expect(decideWithIntent(e, facts, intent('high'), e.decide(facts))!.decision).toMatchObject({ decision: 'escalate', route: 'router' });
  });
});
