// `govern route` against labeled fixtures: lines that carry expectations (category, risk, route,
// decision, rules) are decided and scored; the run reports accuracy, confusion matrices and the
// lines that differ, counts tokens honestly, writes JSON and JUnit, and gates CI by exit code.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFixtures, readItem, shortfalls } from '../src/route/fixtures.js';
import { labeledRequests, plan } from '../src/init/scaffold.js';
import { renderHuman, renderJson, renderJunit, savingsLine, type Gate } from '../src/route/report.js';
import { runFixtures, withNamedAgent } from '../src/route/run.js';
import { plain } from '../src/diagnostics/render.js';
import { Runtime } from '../src/runtime/runtime.js';
import { FakeServer, openaiWire } from './fake-servers.js';
import { cli } from './core.js';
import { governAsync, ROOT, tempTree } from './helpers.js';

function project(config = ''): string {
  const dir = tempTree({ 'govern.config.yaml': config });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  return dir;
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const gateOf = (run: Awaited<ReturnType<typeof runFixtures>>, min = 1): Gate => {
  const failed = shortfalls(run.score, min);
  return { min_accuracy: min, passed: failed.length === 0, failed, exit_code: failed.length ? 11 : 0 };
};

describe('a fixture line', () => {
  it('is a request with expectations; plain requests and decision records stay valid', () => {
    expect(readItem({ request: { agent: 'a', action: 'read' }, category: 'access', risk: 'LOW', decision: 'Allow', route: 'rules', rules: 'r1' }))
      .toEqual({ raw: { agent: 'a', action: 'read' }, expected: { category: 'ACCESS', risk: 'low', decision: 'allow', route: 'rules', rules: ['r1'] } });
    expect(readItem({ agent: 'a', request: 'list the pods' })).toEqual({ raw: { agent: 'a', request: 'list the pods' }, expected: {} });
    const record = { request: { agent: 'a', action: 'read' }, decision: { decision: 'allow' }, model: null, usage: null, at: '2026-01-01T00:00:00Z' };
    expect(readItem(record)).toEqual({ raw: { agent: 'a', action: 'read' }, expected: {} });
  });
  it('names the field at fault', () => {
    expect(() => readItem({ request: { agent: 'a' }, risk: 'severe' })).toThrow('risk: "severe" is not one of low, medium, high, critical.');
    expect(() => readItem({ request: { agent: 'a' }, expect: 'allow' })).toThrow(/^expect: is not a fixture field/);
    expect(() => readItem({ request: { agent: 'a' }, rules: [3] })).toThrow(/^rules: must be a rule id or a list/);
  });
  it('in a file: bad lines are kept with their line number and the problem', () => {
    const dir = tempTree({ 'f.jsonl': `{"request": {"agent": "a", "action": "read"}, "category": "ACCESS"}\n\n{not json\n{"request": {"agent": "a"}, "route": "llm"}\n` });
    const items = readFixtures(join(dir, 'f.jsonl'));
    expect(items.map((i) => [i.line, i.error?.split(':')[0]])).toEqual([[1, undefined], [3, 'not valid JSON'], [4, 'route']]);
    writeFileSync(join(dir, 'a.json'), JSON.stringify([{ request: { agent: 'a', action: 'read' }, risk: 'low' }, { agent: 'b', action: 'read' }]));
    expect(readFixtures(join(dir, 'a.json')).map((i) => [i.line, i.expected])).toEqual([[1, { risk: 'low' }], [2, {}]]);
  });
  it('a question without an agent takes the agent it names', () => {
    expect(withNamedAgent({ request: 'Can cleanup-agent delete temp files in my-project?' })).toEqual({ agent: 'cleanup-agent', request: 'Can cleanup-agent delete temp files in my-project?' });
    expect(withNamedAgent({ agent: 'x', request: 'Can cleanup-agent delete temp files?' })).toEqual({ agent: 'x', request: 'Can cleanup-agent delete temp files?' });
  });
});

describe('scoring a run', () => {
  let rt: Runtime;
  let dir: string;
  beforeAll(async () => {
    dir = project();
    rt = await Runtime.open({ cwd: dir, noState: true });
  });
  afterAll(() => rt.close());

  const lines = [
    { request: { agent: 'coder', action: 'write_file', resource: 'file:tmp/x.txt', environment: 'dev' }, decision: 'allow', route: 'rules', rules: ['allow-temp-files-dev'] },
    { request: { agent: 'ops', command: 'kubectl delete pod web-1', environment: 'staging' }, category: 'DELETE', risk: 'medium', decision: 'escalate' },
    // Two labels that the project's router does not give: the run must say so, and where.
    { request: { agent: 'sre', request: 'show me the error logs of checkout', environment: 'production' }, category: 'ACCESS', risk: 'high' },
    { request: { agent: 'ops', command: 'kubectl get pods', environment: 'dev' }, category: 'MODIFY', decision: 'deny' },
    { request: 'Can cleanup-agent delete temp files in my-project?' },
  ];

  it('reports accuracy per expectation, confusion matrices, and the lines that differ with why', async () => {
    writeFileSync(join(dir, 'f.jsonl'), jsonl(lines));
    const run = await runFixtures(rt, readFixtures(join(dir, 'f.jsonl')));
    expect(run.score.labeled).toBe(4);
    expect(run.score.accuracy).toMatchObject({
      'category.router': { checked: 3, passed: 2 },
      'risk.router': { checked: 2, passed: 1 },
      'decision.pipeline': { checked: 3, passed: 2 },
      'route.pipeline': { checked: 1, passed: 1 },
      'rules.pipeline': { checked: 1, passed: 1 },
    });
    expect(run.score.differences.map((d) => [d.line, d.expectation, d.expected, d.got])).toEqual([
      [3, 'risk', 'high', 'low'],
      [4, 'category', 'MODIFY', 'ACCESS'],
      [4, 'decision', 'deny', run.rows[3]!.decision],
    ]);
    expect(run.score.differences[0]!.why).toContain('read-only');
    expect(run.score.confusion.category.router!.MODIFY!.ACCESS).toBe(1);
    expect(run.score.confusion.risk.router!.high!.low).toBe(1);
    // The unlabeled question is decided, not scored: classified by the router, not left unclassified.
    expect(run.rows[4]).toMatchObject({ route: 'router', category: 'DELETE' });

    const gate = gateOf(run);
    expect(gate.failed.map((f) => f.key)).toEqual(['category.router', 'risk.router', 'decision.pipeline']);
    const human = renderHuman(run, 'f.jsonl', gate, plain, {});
    expect(human).toContain('  f.jsonl:3  risk: expected high, got low\n');
    expect(human).toMatch(/^category +3 +2 +66\.7%$/m);
    expect(human).toContain('failed: category (router) 66.7%, risk (router) 50.0%, decision 66.7%');
    expect(gateOf(run, 0.5).passed).toBe(true);

    const json = JSON.parse(renderJson(run, gate, {}));
    expect(Object.keys(json)).toEqual(['requests', 'totals', 'expectations', 'confusion', 'differences', 'gate']);
    expect(json.requests[2]).toMatchObject({ line: 3, expected: { category: 'ACCESS', risk: 'high' }, got: { category: 'ACCESS', risk: 'low' }, differences: [{ expectation: 'risk' }] });
    expect(json.gate).toMatchObject({ min_accuracy: 1, passed: false, exit_code: 11 });
  });

  it('a rule label that names no rule of the policies says so', async () => {
    writeFileSync(join(dir, 'g.jsonl'), jsonl([{ request: lines[0]!.request, rules: ['allow-temp-file-dev'] }]));
    const run = await runFixtures(rt, readFixtures(join(dir, 'g.jsonl')));
    expect(run.score.differences).toEqual([expect.objectContaining({ expectation: 'rules', expected: 'allow-temp-file-dev', got: 'allow-temp-files-dev' })]);
    expect(run.score.differences[0]!.why).toMatch(/^no rule allow-temp-file-dev in the policies; allow-temp-files-dev: /);
  });

  it('writes JUnit XML that a CI system can read: a test case per labeled line, failures with the difference', async () => {
    writeFileSync(join(dir, 'f.jsonl'), jsonl(lines));
    const run = await runFixtures(rt, readFixtures(join(dir, 'f.jsonl')));
    const xml = renderJunit(run, 'fixtures <&> "x".jsonl', gateOf(run));
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const suite = doc.testsuites.testsuite;
    expect(suite.name).toBe('fixtures <&> "x".jsonl');
    const cases = suite.testcase as { name: string; failure?: { message: string } }[];
    expect(cases).toHaveLength(Number(suite.tests));
    const byLine = cases.filter((c) => c.name.startsWith('line '));
    expect(byLine.map((c) => c.name.split(':')[0])).toEqual(['line 1', 'line 2', 'line 3', 'line 4']);
    expect(byLine[2]!.failure!.message).toBe('risk: expected high, got low');
    expect(byLine[0]!.failure).toBeUndefined();
    expect(cases.filter((c) => c.failure)).toHaveLength(Number(suite.failures));
    expect(cases.find((c) => c.name === 'accuracy of risk (router) >= 100.0%')!.failure!.message).toBe('50.0% (1 of 2)');
  });
});

describe('the labeled requests govern init writes', () => {
  it('are met by the default pack and the router, whatever environments the team names', async () => {
    const dir = project();
    const rt = await Runtime.open({ cwd: dir, noState: true });
    try {
      for (const envs of [['production', 'staging', 'dev', 'test'], ['prod', 'qa'], ['uat', 'edge', 'sandbox']]) {
        const items = labeledRequests(envs).map((l, i) => ({ line: i + 1, ...readItem(l) }));
        const run = await runFixtures(rt, items);
        expect(run.score.differences, envs.join(',')).toEqual([]);
        expect(run.score.accuracy['decision.pipeline']!.checked, envs.join(',')).toBeGreaterThanOrEqual(5);
        expect(run.score.accuracy['category.router']!.checked).toBe(5);
      }
    } finally {
      rt.close();
    }
  });
  it('are written beside the examples, and the workflow runs them', () => {
    const files = new Map(plan({ environments: ['production', 'dev'], policies: 'policies', precommit: false, workflow: true }, '0.1.0').map((f) => [f.path, f.content]));
    const lines = files.get('examples/requests/labeled.jsonl')!.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(8);
    expect(files.get('.github/workflows/govern.yml')).toContain('- run: govern route examples/requests/labeled.jsonl --no-state\n');
  });
});

describe('honest savings', () => {
  let server: FakeServer;
  const key = process.env.OPENAI_API_KEY;
  beforeEach(async () => {
    server = await FakeServer.start();
    process.env.OPENAI_API_KEY = 'test-key';
  });
  afterEach(async () => {
    await server.close();
    if (key === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = key;
  });

  it('failed model calls and default escalations save nothing, and the report says so', async () => {
    const dir = project(`models:\n  large: {provider: openai, model: gpt-test, base_url: "${server.url}/v1", timeout_ms: 60000}\n`);
    server.reply(openaiWire.error(500, 'server_error', 'down'), openaiWire.error(500, 'server_error', 'down'));
    const rt = await Runtime.open({ cwd: dir, noState: true });
    writeFileSync(join(dir, 'f.jsonl'), jsonl([
      { agent: 'coder', action: 'write_file', resource: 'file:tmp/x', environment: 'dev' },
      { agent: 'analyst', action: 'query', resource: 'warehouse:table/orders', environment: 'dev' },
    ]));
    const run = await runFixtures(rt, readFixtures(join(dir, 'f.jsonl')));
    rt.close();
    expect(run.rows.map((r) => [r.route, r.decision, r.not_saved ?? null])).toEqual([['rules', 'allow', null], ['model', 'escalate', 'failed model call']]);
    expect(run.rows[1]!.saved).toBe(0);
    expect(run.totals.saved).toBe(run.rows[0]!.baseline.input + run.rows[0]!.baseline.output);
    expect(run.totals.saved_share).toBeLessThan(0.6);
    expect(run.totals.not_saved).toEqual({ default_escalations: 0, failed_model_calls: 1 });
    expect(savingsLine(run)).toMatch(/^saved \d+ tokens \(\d+\.\d% of the baseline\); not saved: 1 failed model call \(a human decides\)$/);
  });

  it('--model: the small model classifies every line, reported beside the built-in router', async () => {
    const answers: Record<string, { category: string; risk: string }> = {
      'show me the error logs of checkout': { category: 'ACCESS', risk: 'low' },
      'purge the stale sessions': { category: 'MODIFY', risk: 'medium' },
    };
    const small = await FakeServer.start([(req) => {
      const user = JSON.stringify(req.body?.messages ?? '');
      const hit = Object.entries(answers).find(([text]) => user.includes(text));
      return hit ? { json: openaiWire.completion(JSON.stringify({ ...hit[1], confidence: 0.9, environment: null, resource_kind: null }), { input: 100, output: 10 }) } : undefined;
    }]);
    try {
      const dir = project(`models:\n  small: {provider: openai, model: small-test, base_url: "${small.url}/v1"}\n`);
      const rt = await Runtime.open({ cwd: dir, noState: true });
      writeFileSync(join(dir, 'f.jsonl'), jsonl([
        { request: { agent: 'sre', request: 'show me the error logs of checkout', environment: 'dev' }, category: 'ACCESS', risk: 'low' },
        { request: { agent: 'ops', request: 'purge the stale sessions', environment: 'staging' }, category: 'DELETE', risk: 'medium' },
      ]));
      const run = await runFixtures(rt, readFixtures(join(dir, 'f.jsonl')), { model: true });
      rt.close();
      expect(run.score.accuracy).toMatchObject({
        'category.router': { checked: 2, passed: 2 }, 'category.model': { checked: 2, passed: 1 },
        'risk.router': { checked: 2, passed: 2 }, 'risk.model': { checked: 2, passed: 2 },
      });
      expect(run.score.differences).toEqual([expect.objectContaining({ line: 2, expectation: 'category', source: 'model', expected: 'DELETE', got: 'MODIFY' })]);
      expect(run.totals.model_classification).toEqual({ model: expect.stringMatching(/^openai\//), answered: 2, tokens: { input: 200, output: 20 } });
      const human = renderHuman(run, 'f.jsonl', gateOf(run), plain, { model: true });
      expect(human).toMatch(/^category +2 +2 +100\.0% +1 +50\.0%$/m);
      expect(human).toContain('category (rows: expected, columns: the small model)');
    } finally {
      await small.close();
    }
  });
});

describe('govern route as CI runs it', () => {
  it('passes on the project\'s labels, and fails with exit 11 naming file:line when a label is changed', async () => {
    const ok = await governAsync(['route', 'fixtures/router/requests.jsonl', '--no-state', '--totals']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^passed: \d+ labeled requests$/m);
    // A label changed, in a short file of the project's lines (the whole file is checked above).
    const lines = readFileSync(join(ROOT, 'fixtures', 'router', 'requests.jsonl'), 'utf8').split('\n').slice(0, 30);
    const at = lines.findIndex((l) => l.includes('"risk": "low"'));
    lines[at] = lines[at]!.replace('"risk": "low"', '"risk": "high"');
    const dir = tempTree({ 'requests.jsonl': lines.join('\n') + '\n' });
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    const bad = await cli(['route', 'requests.jsonl', '--no-state'], { cwd: dir });
    expect(bad.code).toBe(11);
    expect(bad.stdout).toContain(`  requests.jsonl:${at + 1}  risk: expected high, got low\n`);
    expect(bad.stdout).toMatch(/^failed: risk \(router\) 96\.7%$/m);
    const tolerated = await cli(['route', 'requests.jsonl', '--no-state', '--min-accuracy', '95%', '--format', 'json', '--totals'], { cwd: dir });
    expect(tolerated.code).toBe(0);
    expect(JSON.parse(tolerated.stdout).gate).toMatchObject({ passed: true, min_accuracy: 0.95, exit_code: 0 });
  }, 120_000);

  it('usage errors name the flag', async () => {
    const dir = project();
    writeFileSync(join(dir, 'f.jsonl'), jsonl([{ request: { agent: 'a', action: 'read' }, category: 'ACCESS' }]));
    const share = await governAsync(['route', 'f.jsonl', '--no-state', '--min-accuracy', '120%'], { cwd: dir });
    expect(share.code).toBe(1);
    expect(share.stderr).toContain('--min-accuracy: "120%" is not a share from 0 to 1');
    const model = await governAsync(['route', 'f.jsonl', '--no-state', '--model'], { cwd: dir });
    expect(model.code).toBe(1);
    expect(model.stderr).toContain('--model: no small model is configured; set models.small in govern.config.yaml');
  });
});
