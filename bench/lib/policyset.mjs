// A generated policy set for the check benchmark: the same rules and tests written twice, as govern
// YAML and as Cerbos resource policies with test suites. Each test's expectation comes from a small
// reference evaluator of the subset of the policy language used here, so that every test passes in
// both tools. Deterministic for a given seed.
//
// Mapping to Cerbos (one resource policy per resource type, one test suite per policy):
//   agent            -> principal id;  agent.team, trust, budget -> principal attributes
//   resource type    -> resource kind; the other request fields -> resource attributes
//   action/category  -> the rule's actions (a category is the list of its verbs)
//   deny, escalate   -> EFFECT_DENY;  allow -> EFFECT_ALLOW (Cerbos denies by default, so
//                       "allow" is the only decision both tools can be checked against)
//   warn             -> EFFECT_ALLOW on `warn:<verb>`, govern's advisory set as separate actions;
//                       each Cerbos test asks for both the verb and `warn:<verb>`, as each govern
//                       test gets both a decision and its warnings
//   match, when      -> one CEL expression: && for all, || for any, ! for not
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { categoriesOf } from '../../dist/request/category.js';

export const KINDS = ['file', 'k8s:pod', 'k8s:deployment', 'k8s:service', 'k8s:namespace', 'db:table', 's3:bucket', 'git:repo', 'vm:instance', 'queue:topic'];
const VERBS = {
  DELETE: ['delete', 'remove', 'destroy'],
  CREATE: ['create', 'deploy', 'upload'],
  MODIFY: ['update', 'scale', 'write'],
  ACCESS: ['read', 'list', 'get'],
  COMPLY: ['audit', 'report'],
};
const CATEGORIES = Object.keys(VERBS);
const ALL_VERBS = Object.values(VERBS).flat();
const CATEGORY_OF = Object.fromEntries(Object.entries(VERBS).flatMap(([c, vs]) => vs.map((v) => [v, c])));
const TEAMS = ['team-a', 'team-b', 'team-c', 'team-d', 'team-e', 'team-f'];
const AGENTS = Array.from({ length: 24 }, (_, i) => `agent-${String(i).padStart(2, '0')}`);
const teamOf = (agent) => TEAMS[Number(agent.slice(6)) % TEAMS.length];
const ENVS = ['production', 'staging', 'dev', 'test'];
const NAMESPACES = [...TEAMS, 'kube-system', 'default'];
const PATHS = [
  'secrets/db.env', 'secrets/prod/key.pem', 'app/secrets/token.txt', '.env', 'app/.env', 'tmp/x.txt', 'tmp/a/x.txt',
  'src/main.ts', 'src/lib/util.ts', 'src/index.js', 'config/app.yaml', 'config/prod/db.yaml', 'logs/app.log',
  'logs/2024/01/app.log', 'data/users.csv', 'data/2024/orders.csv', 'build/out.js', 'README.md', 'docs/guide.md', 'main.tf',
];
const GLOBS = ['secrets/**', '**/secrets/**', '**/.env', 'tmp/*', 'src/*.ts', 'src/**', '*.md', 'config/*.yaml', 'logs/**', 'data/*', 'build/*', '*.tf'];
const COMMANDS = [
  'kubectl get pods', 'kubectl delete pod web-1', 'kubectl delete namespace team-a', 'terraform plan', 'terraform destroy',
  'git push --force origin main', 'git status', 'rm -rf /tmp/build', 'rm -rf build', 'psql -c select', 'ls -la', 'echo ok',
];
const COMMAND_GLOBS = ['kubectl delete *', 'terraform *', 'rm -rf *', 'git push *', 'kubectl *'];
const FINDINGS = {
  'aws-access-key': 'secret', 'github-token': 'secret', 'private-key': 'secret', 'ssn': 'pii', 'email': 'pii',
  'credit-card': 'pii', 'rm-recursive': 'destructive', 'sql-drop': 'destructive', 'prompt-injection': 'injection',
};
const DETECT_NAMES = ['secret', 'pii', 'destructive', 'injection', ...Object.keys(FINDINGS)];
const CLASSIFICATIONS = ['public', 'internal', 'pii', 'secret'];

// Value domains of the request fields the conditions test.
const DOMAIN = {
  trust: [10, 25, 40, 55, 65, 75, 85, 95],
  usd: [0, 0.5, 5, 20, 45, 60, 99.5, 150, 800, 2500],
  tokens: [0, 500, 5000, 50000, 200000],
  usedPct: [0, 50, 79, 81, 90, 96, 100],
  sizeMb: [1, 10, 100, 1000, 5000],
  ageHours: [1, 12, 30, 100, 1000],
};

/** Where each condition field lives: in the request's facts, in YAML and in CEL. */
const FIELDS = {
  'trust': { get: (q) => q.trust, cel: 'P.attr.trust' },
  'cost.usd': { get: (q) => q.usd, cel: 'R.attr.cost_usd' },
  'cost.tokens': { get: (q) => q.tokens, cel: 'R.attr.cost_tokens' },
  'hour': { get: (q) => q.hour, cel: 'R.attr.hour' },
  'budget.used_pct': { get: (q) => q.usedPct, cel: 'P.attr.budget_used_pct' },
  'budget.exceeded': { get: (q) => q.exceeded, cel: 'P.attr.budget_exceeded' },
  'resource.size_mb': { get: (q) => q.sizeMb, cel: 'R.attr.size_mb' },
  'resource.path': { get: (q) => q.path, cel: 'R.attr.path' },
  'resource.classification': { get: (q) => q.classification, cel: 'R.attr.classification' },
  'context.age_hours': { get: (q) => q.ageHours, cel: 'R.attr.age_hours' },
  'context.has_backup': { get: (q) => q.hasBackup, cel: 'R.attr.has_backup' },
  'context.change_ticket': { get: (q) => q.changeTicket, cel: 'R.attr.change_ticket' },
  'command': { get: (q) => q.command, cel: 'R.attr.command' },
  'namespace': { get: (q) => q.namespace, cel: 'R.attr.namespace' },
  'environment': { get: (q) => q.environment, cel: 'R.attr.environment' },
  'agent.team': { get: (q) => q.team, cel: 'P.attr.team' },
};

function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The meaning of a glob: `*` within a path segment, `**` across, a leading `**\/` also matching none. */
export function globRegExpSource(pattern) {
  let src = '';
  let rest = pattern;
  if (rest.startsWith('**/')) { src = '(?:.*/)?'; rest = rest.slice(3); }
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === '*' && rest[i + 1] === '*') { src += '.*'; i++; }
    else if (c === '*') src += '[^/]*';
    else if (c === '?') src += '[^/]';
    else src += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return `^${src}$`;
}

const regexCache = new Map();
function globMatch(pattern, value) {
  let re = regexCache.get(pattern);
  if (!re) regexCache.set(pattern, (re = new RegExp(globRegExpSource(pattern))));
  return re.test(value);
}
const hasWildcard = (s) => /[*?]/.test(s);

class Generator {
  constructor(seed) {
    this.r = prng(seed);
  }
  pick(xs) { return xs[Math.floor(this.r() * xs.length)]; }
  chance(p) { return this.r() < p; }
  some(xs, min, max) {
    const n = min + Math.floor(this.r() * (max - min + 1));
    const pool = [...xs];
    const out = [];
    while (out.length < n && pool.length) out.push(pool.splice(Math.floor(this.r() * pool.length), 1)[0]);
    return out;
  }

  // A condition that is not a combination.
  simple() {
    const p = (xs) => this.pick(xs);
    switch (Math.floor(this.r() * 15)) {
      case 0: return { t: 'cmp', field: 'trust', op: p(['gte', 'lt']), value: p([30, 50, 60, 80]) };
      case 1: return { t: 'cmp', field: 'cost.usd', op: p(['gt', 'lte']), value: p([10, 50, 99.5, 1000]) };
      case 2: return { t: 'cmp', field: 'cost.tokens', op: 'gt', value: p([1000, 10000, 100000]) };
      case 3: return { t: 'cmp', field: 'hour', op: p(['gte', 'lt']), value: p([6, 9, 18]) };
      case 4: return { t: 'cmp', field: 'budget.used_pct', op: 'gt', value: p([80, 95]) };
      case 5: return { t: 'cmp', field: 'budget.exceeded', op: 'eq', value: true };
      case 6: return { t: 'cmp', field: 'resource.size_mb', op: p(['gt', 'lt']), value: p([50, 500, 2000]) };
      case 7: return { t: 'cmp', field: 'context.age_hours', op: p(['lt', 'gte']), value: p([24, 72]) };
      case 8: return { t: 'cmp', field: 'resource.path', op: this.chance(0.75) ? 'glob' : 'not_glob', value: this.some(GLOBS, 1, 2) };
      case 9: return { t: 'cmp', field: 'command', op: 'glob', value: [p(COMMAND_GLOBS)] };
      case 10: {
        const op = p(['in', 'not_in', 'eq', 'ne']);
        return { t: 'cmp', field: 'resource.classification', op, value: op === 'in' || op === 'not_in' ? this.some(CLASSIFICATIONS, 2, 2) : p(CLASSIFICATIONS) };
      }
      case 11: return { t: 'ref', field: 'namespace', op: p(['eq', 'ne']), other: 'agent.team' };
      case 12: return { t: 'cmp', field: 'context.has_backup', op: 'eq', value: this.chance(0.5) };
      case 13: return { t: 'cmp', field: 'context.change_ticket', op: 'exists', value: this.chance(0.5) };
      default: return { t: 'detected', names: this.some(DETECT_NAMES, 1, 2) };
    }
  }

  condition() {
    const x = this.r();
    if (x < 0.1) return { t: 'not', c: this.simple() };
    if (x < 0.2) return { t: 'any', cs: Array.from({ length: 2 + Math.floor(this.r() * 2) }, () => this.simple()) };
    return this.simple();
  }

  rule(i) {
    const kind = KINDS[i % KINDS.length];
    const x = this.r();
    const effect = x < 0.25 ? 'deny' : x < 0.5 ? 'escalate' : x < 0.85 ? 'allow' : 'warn';
    // A hundred rules share a resource type; restrictions are kept narrow enough that the tests
    // see every decision, not only deny.
    const narrow = effect === 'allow' ? 0 : 0.25;
    const match = {};
    if (this.chance(0.3 + narrow)) match.agent = this.some(AGENTS, 1, 3);
    else if (this.chance(0.07)) match.agent = [`agent-${this.pick(['0', '1'])}*`];
    const y = this.r();
    if (y < 0.35) match.category = this.some(CATEGORIES, 1, 2);
    else if (y < 0.7 + narrow) match.action = this.some(ALL_VERBS, 1, 3);
    if (this.chance(0.5 + narrow)) match.environment = this.some(ENVS, 1, 2);
    if (this.chance(0.25)) match.namespace = this.some(NAMESPACES, 1, 2);
    // Every rule has a condition (an unconditional allow is what the linter warns about).
    const n = 1 + Math.floor(this.r() * 3);
    const when = Array.from({ length: n }, () => this.condition());
    const id = `r${String(i).padStart(4, '0')}-${effect}`;
    return { id, kind, effect, audit: effect === 'allow' && this.chance(0.2), match, when };
  }

  request(kind) {
    const agent = this.pick(AGENTS);
    const namespace = this.chance(0.4) ? teamOf(agent) : this.pick(NAMESPACES);
    const findings = this.chance(0.6) ? [] : this.some(Object.keys(FINDINGS), 1, 2).sort();
    const q = {
      agent, team: teamOf(agent), trust: this.pick(DOMAIN.trust), action: this.pick(ALL_VERBS), kind,
      id: `obj-${Math.floor(this.r() * 1000)}`, path: this.pick(PATHS), namespace, classification: this.pick(CLASSIFICATIONS),
      environment: this.pick(ENVS), command: this.pick(COMMANDS), usd: this.pick(DOMAIN.usd), tokens: this.pick(DOMAIN.tokens),
      hour: Math.floor(this.r() * 24), usedPct: this.pick(DOMAIN.usedPct), exceeded: this.chance(0.1),
      sizeMb: this.pick(DOMAIN.sizeMb), ageHours: this.pick(DOMAIN.ageHours), hasBackup: this.chance(0.5), findings,
    };
    if (this.chance(0.5)) q.changeTicket = `CHG-${1000 + Math.floor(this.r() * 9000)}`;
    return q;
  }

  /** A request that meets the rule's `match` (its `when` is left to chance). */
  requestFor(rule) {
    const q = this.request(rule.kind);
    const m = rule.match;
    if (m.agent) {
      const fits = AGENTS.filter((a) => m.agent.some((p) => (hasWildcard(p) ? globMatch(p, a) : p === a)));
      q.agent = this.pick(fits);
      q.team = teamOf(q.agent);
    }
    if (m.category) q.action = this.pick(m.category.flatMap((c) => VERBS[c]));
    if (m.action) q.action = this.pick(m.action);
    if (m.environment) q.environment = this.pick(m.environment);
    if (m.namespace) q.namespace = this.pick(m.namespace);
    return q;
  }
}

// ---- the reference semantics -------------------------------------------------------------------

function expandFindings(kinds) {
  return [...new Set(kinds.flatMap((k) => [k, FINDINGS[k]]))].sort();
}

function holds(c, q) {
  switch (c.t) {
    case 'not': return !holds(c.c, q);
    case 'any': return c.cs.some((x) => holds(x, q));
    case 'detected': { const f = expandFindings(q.findings); return c.names.some((n) => f.includes(n)); }
    case 'ref': { const a = FIELDS[c.field].get(q); const b = FIELDS[c.other].get(q); return c.op === 'eq' ? a === b : a !== b; }
    case 'cmp': {
      const v = FIELDS[c.field].get(q);
      switch (c.op) {
        case 'exists': return (v !== undefined) === c.value;
        case 'eq': return v === c.value;
        case 'ne': return v !== c.value;
        case 'in': return c.value.includes(v);
        case 'not_in': return !c.value.includes(v);
        case 'gt': return v > c.value;
        case 'gte': return v >= c.value;
        case 'lt': return v < c.value;
        case 'lte': return v <= c.value;
        case 'glob': return c.value.some((p) => globMatch(p, v));
        case 'not_glob': return !c.value.some((p) => globMatch(p, v));
      }
    }
  }
  throw new Error(`unknown condition ${JSON.stringify(c)}`);
}

/**
 * The categories govern asks the rules about for a request: the one its test states (the verb's)
 * with what the command, the verb and the resource say, derived by govern's own code.
 */
function categoriesOfRequest(q) {
  let cs = requestCategories.get(q);
  if (!cs) requestCategories.set(q, (cs = categoriesOf({ action: q.action, command: q.command, category: CATEGORY_OF[q.action], resource: { type: q.kind, classification: q.classification } })));
  return cs;
}
const requestCategories = new WeakMap();

/** Whether a rule matches a request, asked about one of its categories (by default, the stated one). */
function matches(rule, q, category = CATEGORY_OF[q.action]) {
  const m = rule.match;
  if (rule.kind !== q.kind) return false;
  if (m.agent && !m.agent.some((p) => (hasWildcard(p) ? globMatch(p, q.agent) : p === q.agent))) return false;
  if (m.category && !m.category.includes(category)) return false;
  if (m.action && !m.action.includes(q.action)) return false;
  if (m.environment && !m.environment.includes(q.environment)) return false;
  if (m.namespace && !m.namespace.includes(q.namespace)) return false;
  return rule.when.every((c) => holds(c, q));
}

/** Whether a rule's conditions read the request's command. */
const testsCommand = (rule) => JSON.stringify(rule.when).includes('"field":"command"');

/**
 * govern's decision rules: deny, else escalate, else allow, else undetermined (escalate); warns
 * aside. As in the engine, a request is asked about each of its categories (a deny, escalate or
 * warn rule applies when it matches any, an allow only when it matches every one), and an allow
 * never covers a destructive finding, nor a command it does not test: such a request escalates,
 * with the withheld allows among its warnings. `asWritten` decides by the rules' text alone (one
 * category, the verb's; no withheld allow), which is what the Cerbos form of the set means.
 */
export function decide(rules, q, { asWritten = false } = {}) {
  const categories = asWritten ? [CATEGORY_OF[q.action]] : categoriesOfRequest(q);
  const hit = rules.filter((r) => (r.effect === 'allow' ? categories.every((c) => matches(r, q, c)) : categories.some((c) => matches(r, q, c))));
  const of = (e) => hit.filter((r) => r.effect === e);
  const warnings = of('warn').map((r) => r.id);
  if (of('deny').length) return { decision: 'deny', tier: 3, by: of('deny'), warnings };
  if (of('escalate').length) return { decision: 'escalate', tier: 2, by: of('escalate'), warnings };
  const held = of('allow');
  const destructive = q.findings.some((f) => FINDINGS[f] === 'destructive');
  const allows = asWritten ? held : held.filter((r) => !destructive && (q.command === undefined || testsCommand(r)));
  if (allows.length) return { decision: 'allow', tier: allows.some((r) => r.audit) ? 1 : 0, by: allows, warnings };
  return { decision: 'escalate', tier: 2, by: [], warnings: [...warnings, ...held.map((r) => r.id)] };
}

// ---- govern YAML -------------------------------------------------------------------------------

function governCond(c) {
  switch (c.t) {
    case 'not': return { not: governCond(c.c) };
    case 'any': return { any: c.cs.map(governCond) };
    case 'detected': return { detected: c.names.length === 1 ? c.names[0] : c.names };
    case 'ref': return { [c.field]: { [c.op]: { field: c.other } } };
    case 'cmp': {
      // Use the shorthands where the language has them, the operator form elsewhere.
      if (c.op === 'eq' && typeof c.value !== 'number') return { [c.field]: c.value };
      if (c.op === 'in') return { [c.field]: c.value };
      const v = Array.isArray(c.value) && c.value.length === 1 && (c.op === 'glob' || c.op === 'not_glob') ? c.value[0] : c.value;
      return { [c.field]: { [c.op]: v } };
    }
  }
  throw new Error(`unknown condition ${JSON.stringify(c)}`);
}

function governRule(r) {
  const match = { resource: r.kind };
  const one = (xs) => (xs.length === 1 ? xs[0] : xs);
  for (const k of ['agent', 'category', 'action', 'environment', 'namespace']) if (r.match[k]) match[k] = one(r.match[k]);
  const out = { id: r.id, match };
  if (r.when.length === 1) out.when = governCond(r.when[0]);
  else if (r.when.length > 1) out.when = r.when.map(governCond);
  out.effect = r.effect;
  if (r.audit) out.audit = true;
  if (r.effect !== 'allow') out.message = `${r.effect} by generated rule ${r.id}`;
  return out;
}

function governTest(name, q, d, target) {
  const resource = { type: q.kind, id: q.id, path: q.path, namespace: q.namespace, classification: q.classification, size_mb: q.sizeMb };
  const context = { age_hours: q.ageHours, has_backup: q.hasBackup };
  if (q.changeTicket !== undefined) context.change_ticket = q.changeTicket;
  const t = {
    name,
    request: {
      // The category is given, so that the request's command does not decide it.
      agent: { id: q.agent, team: q.team }, action: q.action, category: CATEGORY_OF[q.action], resource, environment: q.environment, namespace: q.namespace,
      command: q.command, cost: { usd: q.usd, tokens: q.tokens }, context,
    },
    facts: { trust: q.trust, hour: q.hour, findings: q.findings, budget: { used_pct: q.usedPct, exceeded: q.exceeded } },
    expect: d.decision,
  };
  if (d.decision === 'allow') t.tier = d.tier;
  if (d.by.includes(target)) t.rules = [target.id];
  if (target.effect === 'warn' && d.warnings.includes(target.id)) t.warnings = [target.id];
  return t;
}

// ---- Cerbos ------------------------------------------------------------------------------------

const celString = (s) => JSON.stringify(s);
const celNumber = (n) => (Number.isInteger(n) ? `${n}.0` : String(n));
const celLiteral = (v) => (typeof v === 'number' ? celNumber(v) : typeof v === 'string' ? celString(v) : String(v));

function celExpr(c) {
  switch (c.t) {
    case 'not': return `!(${celExpr(c.c)})`;
    case 'any': return `(${c.cs.map(celExpr).join(' || ')})`;
    case 'detected': return `R.attr.findings.exists(f, f in [${c.names.map(celString).join(', ')}])`;
    case 'ref': return `${FIELDS[c.field].cel} ${c.op === 'eq' ? '==' : '!='} ${FIELDS[c.other].cel}`;
    case 'cmp': {
      const f = FIELDS[c.field].cel;
      switch (c.op) {
        case 'exists': return c.value ? `has(${f})` : `!has(${f})`;
        case 'eq': return `${f} == ${celLiteral(c.value)}`;
        case 'ne': return `${f} != ${celLiteral(c.value)}`;
        case 'in': return `${f} in [${c.value.map(celLiteral).join(', ')}]`;
        case 'not_in': return `!(${f} in [${c.value.map(celLiteral).join(', ')}])`;
        case 'gt': return `${f} > ${celNumber(c.value)}`;
        case 'gte': return `${f} >= ${celNumber(c.value)}`;
        case 'lt': return `${f} < ${celNumber(c.value)}`;
        case 'lte': return `${f} <= ${celNumber(c.value)}`;
        case 'glob': case 'not_glob': {
          const any = c.value.map((p) => `${f}.matches(${celString(globRegExpSource(p))})`);
          const e = any.length === 1 ? any[0] : `(${any.join(' || ')})`;
          return c.op === 'glob' ? e : `!${e.startsWith('(') ? e : `(${e})`}`;
        }
      }
    }
  }
  throw new Error(`unknown condition ${JSON.stringify(c)}`);
}

function cerbosRule(r) {
  const verbs = r.match.action ?? (r.match.category ? r.match.category.flatMap((c) => VERBS[c]) : ALL_VERBS);
  const conds = [];
  const m = r.match;
  if (m.agent) {
    const exact = m.agent.filter((a) => !hasWildcard(a));
    const parts = exact.length ? [`P.id in [${exact.map(celString).join(', ')}]`] : [];
    for (const g of m.agent.filter(hasWildcard)) parts.push(`P.id.matches(${celString(globRegExpSource(g))})`);
    conds.push(parts.length === 1 ? parts[0] : `(${parts.join(' || ')})`);
  }
  if (m.environment) conds.push(`R.attr.environment in [${m.environment.map(celString).join(', ')}]`);
  if (m.namespace) conds.push(`R.attr.namespace in [${m.namespace.map(celString).join(', ')}]`);
  for (const c of r.when) conds.push(celExpr(c));
  const out = {
    name: r.id,
    actions: r.effect === 'warn' ? verbs.map((v) => `warn:${v}`) : verbs,
    effect: r.effect === 'allow' || r.effect === 'warn' ? 'EFFECT_ALLOW' : 'EFFECT_DENY',
    roles: ['*'],
  };
  // One expression per rule rather than a match tree of all/any/none: Cerbos 0.55 merges rules of
  // different resource policies whose trees differ only in those operators (same action and
  // effect), so that `none: [X]` in one policy can be evaluated as `X`. Equal CEL text is safe.
  if (conds.length) out.condition = { match: { expr: conds.join(' && ') } };
  return out;
}

function cerbosFixtures(q, n) {
  const principal = {
    id: q.agent, roles: ['agent'],
    attr: { team: q.team, trust: q.trust, budget_used_pct: q.usedPct, budget_exceeded: q.exceeded },
  };
  const attr = {
    path: q.path, namespace: q.namespace, classification: q.classification, environment: q.environment, command: q.command,
    cost_usd: q.usd, cost_tokens: q.tokens, hour: q.hour, size_mb: q.sizeMb, age_hours: q.ageHours, has_backup: q.hasBackup,
    findings: expandFindings(q.findings),
  };
  if (q.changeTicket !== undefined) attr.change_ticket = q.changeTicket;
  return { principal, resource: { kind: q.kind, id: `${q.id}-${n}`, attr } };
}

// ---- the set -----------------------------------------------------------------------------------

/**
 * Generates `rules` rules and `tests` tests spread over one file per resource type. Most tests aim at
 * one rule (a request that meets its match, and usually its condition); the rest are random.
 */
export function generate({ rules: ruleCount = 1000, tests: testCount = 5000, seed = 20240611 } = {}) {
  const g = new Generator(seed);
  const rules = Array.from({ length: ruleCount }, (_, i) => g.rule(i));
  const byKind = new Map(KINDS.map((k) => [k, rules.filter((r) => r.kind === k)]));
  const tests = [];
  const stats = { deny: 0, escalate: 0, allow: 0, undetermined: 0, warnings: 0 };
  for (let i = 0; i < testCount; i++) {
    const target = rules[i % rules.length];
    const mode = Math.floor(i / rules.length) % 5;
    let q;
    if (mode === 4) q = g.request(target.kind);
    else {
      // Modes 0-2 look for a request the target rule matches, mode 3 for one it does not.
      const want = mode !== 3;
      for (let tries = 0; tries < 200; tries++) {
        q = g.requestFor(target);
        if (matches(target, q) === want) break;
      }
    }
    const d = decide(byKind.get(target.kind), q);
    stats[d.by.length || d.decision !== 'escalate' ? d.decision : 'undetermined']++;
    if (d.warnings.length) stats.warnings++;
    tests.push({ n: i, q, d, written: decide(byKind.get(target.kind), q, { asWritten: true }), target });
  }
  return { rules, tests, stats };
}

const fileName = (kind) => kind.replace(/[^a-z0-9]+/g, '-');
const yamlText = (doc) => stringify(doc, { lineWidth: 0 });

/** Writes the govern policy files into `dir`. */
export function writeGovern(set, dir) {
  mkdirSync(dir, { recursive: true });
  KINDS.forEach((kind, k) => {
    const rules = set.rules.filter((r) => r.kind === kind);
    const tests = set.tests.filter((t) => t.target.kind === kind);
    const doc = {
      name: `bench-${fileName(kind)}`,
      description: `Generated rules and tests for ${kind}.`,
      rules: rules.map(governRule),
      tests: tests.map((t) => governTest(`t${String(t.n).padStart(4, '0')} ${t.target.id}`, t.q, t.d, t.target)),
    };
    writeFileSync(join(dir, `${String(k).padStart(2, '0')}-${fileName(kind)}.yaml`), yamlText(doc));
  });
}

/** Writes the Cerbos resource policies and, under `_tests`, one test suite per policy. */
export function writeCerbos(set, dir) {
  mkdirSync(join(dir, '_tests'), { recursive: true });
  for (const kind of KINDS) {
    const rules = set.rules.filter((r) => r.kind === kind);
    const tests = set.tests.filter((t) => t.target.kind === kind);
    const policy = { apiVersion: 'api.cerbos.dev/v1', resourcePolicy: { version: 'default', resource: kind, rules: rules.map(cerbosRule) } };
    writeFileSync(join(dir, `${fileName(kind)}.yaml`), yamlText(policy));
    const principals = {};
    const resources = {};
    const cases = tests.map((t) => {
      const p = `p${t.n}`;
      const r = `r${t.n}`;
      const f = cerbosFixtures(t.q, t.n);
      principals[p] = f.principal;
      resources[r] = f.resource;
      const warn = `warn:${t.q.action}`;
      return {
        name: `t${String(t.n).padStart(4, '0')} ${t.target.id}`,
        input: { principals: [p], resources: [r], actions: [t.q.action, warn] },
        expected: [{
          principal: p, resource: r,
          actions: { [t.q.action]: t.written.decision === 'allow' ? 'EFFECT_ALLOW' : 'EFFECT_DENY', [warn]: t.written.warnings.length ? 'EFFECT_ALLOW' : 'EFFECT_DENY' },
        }],
      };
    });
    const suite = { name: `bench-${fileName(kind)}`, description: `Generated tests for ${kind}.`, principals, resources, tests: cases };
    writeFileSync(join(dir, '_tests', `${fileName(kind)}_test.yaml`), yamlText(suite));
  }
}
