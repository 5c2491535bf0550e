// govern distill and govern rules, end to end through bin/govern on decision records written for
// these tests: what is learned and what is refused, the files and their provenance, idempotence,
// versions and history, --check's exit codes, --dry-run, --model drafts, and the safety
// invariant that no distilled rule allows what any recorded decision denied or escalated.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { check } from '../src/check/check.js';
import { attributeReads, decimalValue, likeMatches } from '../src/cedar/cedar.js';
import { requestView, valueClasses } from '../src/distill/distill.js';
import { Engine } from '../src/engine/engine.js';
import { categoriesFor, cedarRequest, factsOf, hasUpperPath } from '../src/engine/facts.js';
import { detect } from '../src/request/detectors/index.js';
import { normalizeRequest } from '../src/request/normalize.js';
import { LABELED_REQUESTS, labeledRequests } from '../src/init/scaffold.js';
import { FakeServer, openaiWire } from './fake-servers.js';
import { cli } from './core.js';
import { governAsync, ROOT, tempTree } from './helpers.js';

type Verdict = 'allow' | 'deny' | 'escalate';
let seq = 0;

/** One decision record as `govern ledger export` writes it. */
function rec(request: Record<string, unknown>, verdict: Verdict, opts: { route?: string; at?: string; trust?: number } = {}): string {
  const route = opts.route ?? 'model';
  const n = ++seq;
  return JSON.stringify({
    request: { environment: 'dev', cost: { usd: 0, tokens: 0 }, context: {}, ...request },
    decision: {
      decision: verdict,
      tier: verdict === 'allow' ? 1 : verdict === 'escalate' ? 2 : 3,
      reasons: [{ rule: route === 'model' ? null : 'some-rule', effect: verdict, message: route === 'model' ? `openai/gpt-x: ${verdict}` : 'by rule' }],
      warnings: [],
      facts: { category: request.category, detectors: [], trust: opts.trust ?? 50, hour: 10, budget: { used_pct: 0, exceeded: false } },
      route,
      tokens: { input: 500, output: 50 },
      policy: { hash: 'h' },
      elapsed_ms: 800,
      id: `dec_t${String(n).padStart(4, '0')}`,
    },
    model: route === 'model' ? 'openai/gpt-x' : null,
    usage: route === 'model' ? { input_tokens: 500, output_tokens: 50 } : null,
    at: opts.at ?? new Date(Date.parse('2026-11-01T00:00:00Z') + n * 60_000).toISOString(),
  });
}

const dashboard = (agent: string, extra: Record<string, unknown> = {}) => ({ agent: { id: agent, team: 'team-a' }, action: 'view', category: 'ACCESS', resource: { type: 'metrics:dashboard', id: `d-${agent}` }, namespace: 'team-a', ...extra });
const fetchPage = (agent: string, domain: string, i: number) => ({ agent: { id: agent }, action: 'fetch', category: 'ACCESS', resource: { type: 'web:page', id: `p${i}` }, environment: 'staging', context: { domain } });

/** Allows to learn, denies that need their domain, an outlier, and a group that disagrees. */
function baseRecords(): string[] {
  seq = 0;
  const lines: string[] = [];
  // Six unanimous allows (at 90% confidence five are the fewest whose lower bound clears an allow's 75%).
  for (const a of ['a1', 'a2', 'a3', 'a4', 'a5', 'a6']) lines.push(rec(dashboard(a), 'allow'));
  for (let i = 0; i < 20; i++) lines.push(rec(fetchPage(`b${i % 5}`, 'pastebin.com', i), 'deny'));
  lines.push(rec(fetchPage('b9', 'pastebin.com', 99), 'allow')); // a lenient outlier among 21
  for (let i = 0; i < 3; i++) lines.push(rec(fetchPage(`c${i}`, 'example.com', 100 + i), 'escalate'));
  // A group that disagrees: same scope, the model allowed three agents and escalated a fourth.
  for (const a of ['q1', 'q2', 'q3']) lines.push(rec({ agent: { id: a }, action: 'peek', category: 'ACCESS', resource: { type: 'queue:jobs', id: 'x' } }, 'allow'));
  lines.push(rec({ agent: { id: 'q4' }, action: 'peek', category: 'ACCESS', resource: { type: 'queue:jobs', id: 'x' } }, 'escalate'));
  return lines;
}

function project(records: string[]): string {
  const dir = tempTree({ 'records.jsonl': records.join('\n') + '\n' });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  return dir;
}

const distilledFiles = (dir: string) => readdirSync(join(dir, 'policies', 'distilled')).filter((n) => n.endsWith('.yaml')).sort();
const ALLOW = 'distilled-allow-access-dev-metrics-dashboard';
const DENY = 'distilled-deny-access-staging-domain-pastebin-com';

describe('govern distill', () => {
  it('writes verified rule files with provenance and tests, and only where the record agrees', async () => {
    const dir = project(baseRecords());
    const r = await cli(['distill', '--from', 'records.jsonl', '--format', 'json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.rules.map((x: { id: string }) => x.id).sort()).toEqual([ALLOW, DENY, 'distilled-escalate-access-staging-domain-example-com']);
    // The queue group disagrees: no rule, it stays with the model.
    expect(out.unlearned.some((u: { description: string }) => u.description.includes('queue:jobs'))).toBe(true);
    // The lenient outlier is set aside and reported, not hidden.
    expect(out.outliers).toEqual([{ rule: DENY, decision: 'dec_t0027', recorded: 'allow', line: 27 }]);

    const text = readFileSync(join(dir, 'policies', 'distilled', `${ALLOW}.yaml`), 'utf8');
    expect(text).toContain('version: 1');
    expect(text).toMatch(/support: 6\n/);
    expect(text).toContain('models:\n    - openai/gpt-x');
    expect(text).toContain('first: 2026-11-01T00:01:00.000Z');
    expect(text).toContain('effect: allow');
    // An allow names its whole scope: no findings, no path, no classification, no cost.
    expect(text).toContain('resource.classification:\n          exists: false');
    expect(text).toContain('detected:');
    expect((text.match(/expect: allow/g) ?? []).length).toBe(6);
    const lock = JSON.parse(readFileSync(join(dir, 'policies', 'distilled', 'distill.lock.json'), 'utf8'));
    expect(lock.rules.map((x: { id: string }) => x.id)).toContain(ALLOW);

    // The result is a valid policy folder whose tests (the supporting requests) pass.
    const check = await cli(['check', 'policies'], { cwd: dir });
    expect(check.stdout).toMatch(/tests passed; no problems/);
    expect(check.code).toBe(0);
    // And a new request like the group is now decided by the rule, with no model.
    const e = await cli(['eval', '--no-state', '--format', 'json'], { cwd: dir, input: JSON.stringify({ ...dashboard('a9'), environment: 'dev' }) });
    expect(JSON.parse(e.stdout)).toMatchObject({ decision: 'allow', route: 'rules', reasons: [{ rule: ALLOW }] });
    const d = await cli(['eval', '--no-state', '--format', 'json'], { cwd: dir, input: JSON.stringify(fetchPage('z', 'pastebin.com', 5)) });
    expect(JSON.parse(d.stdout)).toMatchObject({ decision: 'deny', reasons: [{ rule: DENY }] });
    expect(d.code).toBe(2);
  });

  it('changes nothing on a second run with the same input, and --check agrees', async () => {
    const dir = project(baseRecords());
    expect((await cli(['distill', '--from', 'records.jsonl'], { cwd: dir })).code).toBe(0);
    const before = Object.fromEntries(distilledFiles(dir).map((n) => [n, readFileSync(join(dir, 'policies', 'distilled', n), 'utf8')]));
    const again = await cli(['distill', '--from', 'records.jsonl'], { cwd: dir });
    expect(again.stdout).toContain('nothing to change');
    expect(Object.fromEntries(distilledFiles(dir).map((n) => [n, readFileSync(join(dir, 'policies', 'distilled', n), 'utf8')]))).toEqual(before);
    const check = await cli(['distill', '--from', 'records.jsonl', '--check'], { cwd: dir });
    expect(check.stdout).toContain('distilled rules are up to date with the record');
    expect(check.code).toBe(0);
  });

  it('--check exits 7 when a rule is missing or was edited by hand, and writes nothing', async () => {
    const dir = project(baseRecords());
    const fresh = await cli(['distill', '--from', 'records.jsonl', '--check'], { cwd: dir });
    expect(fresh.code).toBe(7);
    expect(fresh.stdout).toContain(`distilled/${ALLOW}.yaml: missing: new allow rule from 6 requests`);
    expect(existsSync(join(dir, 'policies', 'distilled'))).toBe(false);

    await cli(['distill', '--from', 'records.jsonl'], { cwd: dir });
    const file = join(dir, 'policies', 'distilled', `${DENY}.yaml`);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/message: .*/, 'message: Edited by hand.'));
    const edited = await cli(['distill', '--from', 'records.jsonl', '--check', '--format', 'json'], { cwd: dir });
    expect(edited.code).toBe(7);
    expect(JSON.parse(edited.stdout).changes).toContainEqual(expect.objectContaining({ kind: 'edited', rule: DENY }));
  });

  it('--check exits 8 when the record now contradicts a rule; distill retires it and keeps it in history', async () => {
    const dir = project(baseRecords());
    await cli(['distill', '--from', 'records.jsonl'], { cwd: dir });
    // Later, the model escalated a request the allow rule covers.
    writeFileSync(join(dir, 'records.jsonl'), readFileSync(join(dir, 'records.jsonl'), 'utf8') + rec(dashboard('a7'), 'escalate', { at: '2026-11-20T00:00:00Z' }) + '\n');
    const check = await cli(['distill', '--from', 'records.jsonl', '--check'], { cwd: dir });
    expect(check.code).toBe(8);
    expect(check.stdout).toMatch(new RegExp(`${ALLOW}.yaml: disagrees: would allow what was escalated \\(decision dec_t\\d+: a7 view metrics:dashboard\\)`));
    const w = await cli(['distill', '--from', 'records.jsonl'], { cwd: dir });
    expect(w.code).toBe(0);
    expect(existsSync(join(dir, 'policies', 'distilled', `${ALLOW}.yaml`))).toBe(false);
    expect(existsSync(join(dir, 'policies', 'distilled', '.history', ALLOW, 'v1.yaml'))).toBe(true);
    const h = await cli(['rules', 'history', ALLOW], { cwd: dir });
    expect(h.stdout).toContain(`${ALLOW}: 1 version (retired)`);
  });

  it('retires a rule on disk that a written rule has made redundant, and is then up to date', async () => {
    const dir = project(baseRecords());
    await cli(['distill', '--from', 'records.jsonl'], { cwd: dir });
    writeFileSync(join(dir, 'policies', 'dashboards.yaml'), 'rules:\n  - id: allow-dev-dashboards\n    match: {category: ACCESS, environment: dev, resource: "metrics:dashboard"}\n    effect: allow\n    audit: true\n');
    const r = await cli(['distill', '--from', 'records.jsonl'], { cwd: dir });
    expect(r.stdout).toMatch(new RegExp(`retired\\s+${ALLOW} v1: adds nothing`));
    // It names the written rule where it lives, not in a scratch folder.
    expect(r.stdout).toContain('the broader rule `allow-dev-dashboards` (policies/dashboards.yaml:2:5)');
    expect(existsSync(join(dir, 'policies', 'distilled', `${ALLOW}.yaml`))).toBe(false);
    expect(existsSync(join(dir, 'policies', 'distilled', '.history', ALLOW, 'v1.yaml'))).toBe(true);
    expect((await cli(['distill', '--from', 'records.jsonl', '--check'], { cwd: dir })).code).toBe(0);
  });

  it('raises the version when the evidence calls for a different rule, keeping the old one in history', async () => {
    const dir = project(baseRecords());
    await cli(['distill', '--from', 'records.jsonl'], { cwd: dir });
    // Later records: the same dashboards viewed from another namespace were escalated.
    const more = ['x1', 'x2', 'x3'].map((a, i) => rec(dashboard(a, { agent: { id: a, team: 'team-b' }, namespace: 'team-b', resource: { type: 'metrics:dashboard', id: `e${i}` } }), 'escalate', { at: '2026-11-21T00:00:00Z' }));
    writeFileSync(join(dir, 'records.jsonl'), readFileSync(join(dir, 'records.jsonl'), 'utf8') + more.join('\n') + '\n');
    const r = await cli(['distill', '--from', 'records.jsonl', '--format', 'json'], { cwd: dir });
    const rule = JSON.parse(r.stdout).rules.find((x: { id: string }) => x.id === ALLOW);
    expect(rule).toMatchObject({ version: 2, status: 'changed' });
    const now = readFileSync(join(dir, 'policies', 'distilled', `${ALLOW}.yaml`), 'utf8');
    expect(now).toContain('version: 2');
    expect(now).toMatch(/namespace:\n\s+exists: true\n\s+eq:\n\s+field: agent.team|namespace:\n\s+exists: true\n\s+eq: team-a/);
    expect(readFileSync(join(dir, 'policies', 'distilled', '.history', ALLOW, 'v1.yaml'), 'utf8')).toContain('version: 1');
    const h = await cli(['rules', 'history', ALLOW], { cwd: dir });
    expect(h.stdout).toContain('2 versions');
    expect(h.stdout).toMatch(/v2 \(current\)/);
    expect(h.stdout).toMatch(/^\s+\+.*namespace/m);
    expect((await cli(['check', 'policies'], { cwd: dir })).code).toBe(0);
  });

  it('--dry-run shows the diff and writes nothing', async () => {
    const dir = project(baseRecords());
    const r = await cli(['distill', '--from', 'records.jsonl', '--dry-run'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`+++ distilled/${ALLOW}.yaml`);
    expect(r.stdout).toContain('+    effect: allow');
    expect(r.stdout).toContain('dry run: nothing written');
    expect(existsSync(join(dir, 'policies', 'distilled'))).toBe(false);
  });

  it('never writes an allow where any recorded decision denied or escalated, even one decided by rules', async () => {
    const lines = baseRecords();
    // A written rule escalated one dashboard view in the same scope: the allow must not cover it.
    lines.push(rec(dashboard('r1', { resource: { type: 'metrics:dashboard', id: 'secret-board' } }), 'escalate', { route: 'rules' }));
    const dir = project(lines);
    const r = await cli(['distill', '--from', 'records.jsonl', '--format', 'json'], { cwd: dir });
    const out = JSON.parse(r.stdout);
    expect(out.rules.map((x: { id: string }) => x.id)).not.toContain(ALLOW);
    // The group stays with the model.
    expect(out.unlearned.some((u: { verdict: string; description: string }) => u.verdict === 'allow' && u.description.includes('metrics:dashboard'))).toBe(true);
  });

  it('refuses a rule that would overrule a written allow, naming the test it would break', async () => {
    seq = 0;
    // The model escalated staging Deployments, which the default pack allows: a distilled escalate would overrule it.
    const lines = ['d1', 'd2', 'd3', 'd4'].map((a) => rec({ agent: { id: a }, action: 'create', category: 'CREATE', resource: { type: 'k8s:deployment', id: a }, environment: 'staging' }, 'escalate'));
    const dir = project(lines);
    const out = JSON.parse((await cli(['distill', '--from', 'records.jsonl', '--format', 'json'], { cwd: dir })).stdout);
    expect(out.rules).toEqual([]);
    expect(out.rejected[0].reason).toMatch(/breaks the written policies' test `a staging Deployment is allowed`|adds nothing|decides none/);
  });

  it('learns an attribute whose values never repeat (a ticket id) by its presence', async () => {
    seq = 0;
    const cm = (a: string, ctx: Record<string, unknown>) => ({ agent: { id: a }, action: 'patch', category: 'MODIFY', resource: { type: 'k8s:configmap', id: a }, environment: 'staging', context: ctx });
    const lines = [
      ...Array.from({ length: 12 }, (_, i) => rec(cm(`t${i}`, { change_ticket: `CHG-${1000 + i}` }), 'allow')),
      ...Array.from({ length: 4 }, (_, i) => rec(cm(`n${i}`, {}), 'escalate')),
    ];
    const dir = project(lines);
    const out = JSON.parse((await cli(['distill', '--from', 'records.jsonl', '--format', 'json'], { cwd: dir })).stdout);
    const allow = out.rules.find((r: { effect: string }) => r.effect === 'allow');
    expect(allow).toMatchObject({ support: 12 });
    expect(readFileSync(join(dir, 'policies', allow.file), 'utf8')).toMatch(/context\.change_ticket:\n\s+exists: true/);
  });

  it('when the most general rule would break a written test, writes the narrower one that does not', async () => {
    seq = 0;
    const lines = ['s1', 's2', 's3', 's4'].map((a) => rec({ agent: { id: a }, action: 'provision', category: 'CREATE', resource: { type: 's3:bucket', id: a }, environment: 'staging' }, 'escalate'));
    const dir = project(lines);
    const out = JSON.parse((await cli(['distill', '--from', 'records.jsonl', '--format', 'json'], { cwd: dir })).stdout);
    // "escalate CREATE in staging" would overrule the pack's allow of staging Deployments...
    expect(out.rejected).toContainEqual(expect.objectContaining({ id: 'distilled-escalate-create-staging', reason: expect.stringMatching(/breaks the written policies' test `a staging Deployment is allowed`/) }));
    // ...so the rule names the resource type as well.
    expect(out.rules.map((r: { id: string }) => r.id)).toEqual(['distilled-escalate-create-staging-s3-bucket']);
    expect((await cli(['check', 'policies'], { cwd: dir })).code).toBe(0);
  });

  it('names the file and line of a malformed record, and exits 1', async () => {
    const dir = project([...baseRecords().slice(0, 3), '{"request": {"agent": "x", "action": "read"}, "decision": {"decision": "maybe"}, "at": "2026-11-01T00:00:00Z"}']);
    const r = await cli(['distill', '--from', 'records.jsonl'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/records\.jsonl:4: decision\.decision must be allow, deny or escalate/);
    const missing = await cli(['distill', '--from', 'nope.jsonl'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.jsonl.*cannot read it \(ENOENT\)/);
    const bad = await cli(['distill', '--from', 'records.jsonl', '--min-support', 'two'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--min-support: "two" is not a whole number/);
  });

  it('reads the ledger when no file is given', async () => {
    const dir = project([]);
    // No model here: the ledger holds rule and default decisions only, so nothing is learned.
    await cli(['eval', '--format', 'json'], { cwd: dir, input: JSON.stringify({ agent: 'a', action: 'frobnicate', resource: 'widget:1', environment: 'dev' }) });
    const r = await cli(['distill', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).stats).toMatchObject({ records: 1, evidence: 0 });
  });
});

describe('govern rules', () => {
  it('lists and shows distilled rules with their evidence', async () => {
    const dir = project(baseRecords());
    await cli(['distill', '--from', 'records.jsonl'], { cwd: dir });
    const list = await cli(['rules', 'list'], { cwd: dir });
    expect(list.stdout).toMatch(new RegExp(`${ALLOW}\\s+v1\\s+allow\\s+support\\s+6`));
    const show = await cli(['rules', 'show', DENY], { cwd: dir });
    expect(show.stdout).toContain('learned from 20 decisions (20 distinct requests) of openai/gpt-x');
    expect(show.stdout).toContain('1 outliers set aside: dec_t0027');
    const none = await cli(['rules', 'show', 'distilled-allow'], { cwd: dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no distilled rule "distilled-allow"; did you mean/);
  });
});

describe('govern distill --model', () => {
  let server: FakeServer;
  beforeEach(async () => { server = await FakeServer.start(); });
  afterEach(async () => { await server.close(); });

  function modelProject(): string {
    const dir = project(baseRecords());
    writeFileSync(join(dir, 'govern.config.yaml'), `models:\n  large: {provider: openai, model: gpt-test, base_url: "${server.url}/v1", timeout_ms: 60000}\n`);
    return dir;
  }
  const draft = (yaml: string) => ({ json: openaiWire.completion(JSON.stringify({ rule: yaml }), { input: 900, output: 120 }) });
  const env = { OPENAI_API_KEY: 'test-key' };

  it("keeps a draft that passes verification, and refuses one that is broader than the record allows", async () => {
    const dir = modelProject();
    // Three groups are asked in seed order (largest first): the deny, the escalate, then the allow.
    server.reply(
      draft('id: x\ndescription: pastebin\nmatch: {category: ACCESS, environment: staging}\nwhen: {context.domain: {exists: true, eq: pastebin.com}}\neffect: deny\nmessage: Pastes leak data.'),
      draft('id: y\ndescription: too broad\nmatch: {category: ACCESS}\neffect: escalate\nmessage: Everything.'),
      draft('not: [valid'),
    );
    const r = await governAsync(['distill', '--from', 'records.jsonl', '--model', '--format', 'json'], { cwd: dir, env });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(server.to('/v1/chat/completions').length).toBe(3);
    expect(readFileSync(join(dir, 'policies', 'distilled', `${DENY}.yaml`), 'utf8')).toMatch(/drafted_by: openai\/gpt-test[\s\S]*message: Pastes leak data\./);
    // The broad draft was refused on the record and the learned rule stands; the broken one too.
    expect(out.rejected.filter((x: { draft?: boolean }) => x.draft).length).toBe(2);
    expect(out.rules.map((x: { id: string }) => x.id).sort()).toEqual([ALLOW, DENY, 'distilled-escalate-access-staging-domain-example-com']);
    expect(readFileSync(join(dir, 'policies', 'distilled', 'distilled-escalate-access-staging-domain-example-com.yaml'), 'utf8')).toContain('drafted_by: learner');
    expect((await cli(['check', 'policies'], { cwd: dir })).code).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('the example CI workflow', () => {
  it("its govern steps pass on a repository whose distilled rules are up to date, and fail when they are not", async () => {
    const dir = project(baseRecords());
    mkdirSync(join(dir, 'records'));
    cpSync(join(dir, 'records.jsonl'), join(dir, 'records', 'decisions.jsonl'));
    // The labeled requests `govern init` writes, which the workflow routes.
    mkdirSync(join(dir, 'examples', 'requests'), { recursive: true });
    writeFileSync(join(dir, LABELED_REQUESTS), labeledRequests(['dev', 'test', 'staging', 'production']).map((l) => JSON.stringify(l)).join('\n') + '\n');
    const workflow = parseYaml(readFileSync(join(ROOT, 'examples', 'ci', 'govern.yml'), 'utf8')) as { jobs: Record<string, { steps: { run?: string }[] }> };
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps).map((s) => s.run).filter((r): r is string => !!r && r.startsWith('govern '));
    expect(steps.map((s) => s.split(' ')[1])).toEqual(['check', 'route', 'distill', 'replay']);
    const path = `${join(ROOT, 'bin')}:${process.env.PATH}`;
    const run = (cmd: string) => spawnSync('sh', ['-c', cmd], { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: path, NO_COLOR: '1' } });
    // Before distilling, the distill gate fails with its documented code.
    expect(run(steps[2]!).status).toBe(7);
    expect((await cli(['distill', '--from', 'records/decisions.jsonl'], { cwd: dir })).code).toBe(0);
    for (const cmd of steps) {
      const r = run(cmd);
      expect({ cmd, status: r.status, stderr: r.stderr }).toEqual({ cmd, status: 0, stderr: expect.not.stringMatching(/error|fail/i) });
    }
    expect(JSON.parse(readFileSync(join(dir, 'govern.sarif'), 'utf8')).version).toBe('2.1.0');
    expect(existsSync(join(dir, 'replay.html'))).toBe(true);
  });
});

describe('verification decides alike only what the rules cannot tell apart', () => {
  const bundleOf = (files: Record<string, string>) => check([tempTree(files)], { tests: false }).bundle!;

  it('trust values between the same constants share a class; values across a constant do not', () => {
    const cls = valueClasses(bundleOf({ 'a.yaml': 'rules:\n  - id: r\n    match: {category: ACCESS}\n    when: {trust: {gte: 60}}\n    effect: allow\n  - id: s\n    match: {category: DELETE}\n    when: {trust: {lt: 80}}\n    effect: escalate\n' }), 'principal.trust');
    expect(cls(61)).toBe(cls(79));
    expect(cls(59)).not.toBe(cls(60));
    expect(cls(60)).not.toBe(cls(61));
    expect(cls(79)).not.toBe(cls(80));
  });

  it('every value is its own class when a rule uses the attribute any other way', () => {
    const cls = valueClasses(bundleOf({ 'a.cedar': '@id("raw") forbid (principal, action, resource) when { principal["trust"] + 1 > 50 };\n', 'b.yaml': 'rules:\n  - id: r\n    match: {category: ACCESS}\n    when: {trust: {gte: 60}}\n    effect: allow\n' }), 'principal.trust');
    expect(cls(61)).not.toBe(cls(62));
  });

  it('reads from each rule, by Cedar\'s parse, the attributes it compares and those it only tests for presence', () => {
    const reads = attributeReads('forbid (principal, action, resource) when { context has attrs && context.attrs has ticket && resource.path like "docs/*" && context.cost.usd.greaterThan(decimal("1.0")) && {"Var": principal.name}.Var == "x" };');
    expect(reads!.values).toEqual([['principal', 'name']]);
    expect(reads!.tests).toEqual([[['resource', 'path'], { op: 'like', pattern: ['d', 'o', 'c', 's', '/', null] }], [['context', 'cost', 'usd'], { op: 'decimal', value: '1.0' }]]);
    expect(reads!.presence).toEqual([['context', 'attrs'], ['context', 'attrs', 'ticket']]);
    // A rule that names an entity, or uses a variable whole, reads it whole.
    expect(attributeReads('forbid (principal == Agent::"a", action, resource) when { resource is Resource };')!.values).toEqual([['principal'], ['resource']]);
    // Literals, `like` patterns and decimal constants: which one a value equals, matches or passes stands for it.
    const t = attributeReads('forbid (principal, action, resource) when { ["a", "b"].contains(resource.type) && resource.path like "docs/\\**" && decimal("50.0").lessThan(context.cost.usd) };')!;
    expect(t.values).toEqual([]);
    expect(t.literals).toEqual([[['resource', 'type'], ['a', 'b']]]);
    expect(t.tests).toEqual([[['resource', 'path'], { op: 'like', pattern: ['d', 'o', 'c', 's', '/', '*', null] }], [['context', 'cost', 'usd'], { op: 'decimal', value: '50.0' }]]);
  });

  it('matches `like` patterns and reads decimals as Cedar does', () => {
    const cases: [string, string, boolean][] = [['docs/*', 'docs/a/b.md', true], ['docs/*', 'doc/a', false], ['*', '', true], ['a*b*c', 'aXbYbc', true], ['a*b', 'ab', true], ['a*b', 'abc', false], ['*.md', 'x.md.txt', false], ['é*', 'éa', true], ['a\\*', 'a*', true], ['a\\*', 'ab', false]];
    for (const [pattern, value, expected] of cases) {
      const reads = attributeReads(`forbid (principal, action, resource) when { resource.path like "${pattern}" };`)!;
      const test = reads.tests[0]![1] as { op: 'like'; pattern: (string | null)[] };
      expect([pattern, value, likeMatches(value, test.pattern)]).toEqual([pattern, value, expected]);
    }
    expect(decimalValue('50.0')).toBe(500000n);
    expect(decimalValue('-0.25')).toBe(-2500n);
    expect(decimalValue('50')).toBeUndefined();
  });
});

describe('the view verification decides each request by', () => {
  it('never merges two requests the engine decides differently', () => {
    // The default pack beside rules that read paths by pattern, costs by constant, trust, the
    // hour, a namespace and a context attribute: every kind of read the view narrows.
    const extra = `rules:
  - id: deny-keys-anywhere
    match: {resource: file}
    when: {resource.basename: {glob: "*.pem"}}
    effect: deny
  - id: escalate-costly
    when: {cost.usd: {gt: 10}}
    effect: escalate
  - id: deny-untrusted-prod
    match: {environment: production}
    when: {trust: {lt: 30}}
    effect: deny
  - id: escalate-night-prod
    match: {environment: production}
    when: {hour: {lt: 6}}
    effect: escalate
  - id: allow-payments-reads
    match: {category: ACCESS, namespace: payments}
    when: {context.ticket: {glob: "CHG-*"}}
    effect: allow
  - id: allow-dev-docs
    match: {environment: dev, resource: file}
    when: {resource.path: {glob: "docs/**"}}
    effect: allow
`;
    const dir = tempTree({ 'extra.yaml': extra });
    cpSync(join(ROOT, 'policies'), join(dir, 'default'), { recursive: true });
    const r = check([dir], { tests: false });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const bundle = r.bundle!;
    const engine = new Engine(bundle);
    const view = requestView(bundle.rules);
    const groups = new Map<string, { decision: string; request: unknown }>();
    let merged = 0;
    try {
      for (const path of ['docs/a.md', 'docs/deep/B.md', 'secrets/db.yaml', 'Secrets/db.yaml', 'tmp/x.pem', 'tmp/notes.txt', '.env', 'src/.env.local'])
        for (const usd of [0, 10, 10.0001, 50])
          for (const trust of [10, 29, 30, 90])
            for (const hour of [3, 6, 14])
              for (const environment of ['dev', 'production'])
                for (const [action, namespace, ticket] of [['read', 'payments', 'CHG-1'], ['read', 'payments', 'INC-1'], ['read', 'web', 'CHG-1'], ['write_file', undefined, undefined]] as const) {
                  const request = normalizeRequest({ agent: 'a', action, resource: `file:${path}`, environment, cost: { usd }, ...(namespace ? { namespace } : {}), ...(ticket ? { context: { ticket } } : {}) });
                  const facts = factsOf(request, { trust, hour, findings: detect(request).map((f) => f.kind) });
                  // What the engine reads outside Cedar, as verification keys it, and the view of each form Cedar sees.
                  const lower = hasUpperPath(facts) ? view(cedarRequest(facts, bundle, { lowerPath: true })) : null;
                  const key = JSON.stringify([categoriesFor(facts), facts.findings, hasUpperPath(facts), view(cedarRequest(facts, bundle)), lower]);
                  const d = engine.decide(facts);
                  const decision = `${d.decision} ${d.reasons.map((x) => x.rule).sort().join(',')}`;
                  const seen = groups.get(key);
                  if (!seen) groups.set(key, { decision, request });
                  else {
                    merged++;
                    expect({ request, decision }).toEqual({ request, decision: seen.decision });
                  }
                }
    } finally {
      engine.dispose();
    }
    // The view does merge requests (else it would save nothing): those that differ only where no rule looks.
    expect(merged).toBeGreaterThan(100);
  });
});
