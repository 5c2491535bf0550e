// govern replay, end to end on recorded fixtures (fixtures/replay/): records.jsonl is a morning of
// traffic decided by rules, the cache, the router and a model (openai/gpt-x), with one default
// escalation and one failed model call; policies/ is the default pack plus a distilled rule that
// agrees with the model; wrong-rule.yaml allows every warehouse read, including two the model
// denied or escalated, so that the false-allow gate is seen to fail.
//
// The figures with the correct policies, by hand (lines of records.jsonl):
//   skipped: 13 (default escalation), 14 (failed model call); judged: the other 18.
//   would ask the model: 4, 7, 12, 15, 16 (no rule decides them) -> covered 13, coverage 13/18.
//   covered and agreeing: all but 20 (the model allowed PII at trust 70; a rule now denies it:
//   a false deny) -> agreement 12/13, overall (12 + 5)/18.
//   cache: 6 (rule decision of 2, same facts), 8 (the model's answer to 7, same facts).
//   tokens: the uncovered 4, 7, 12, 15, 16 cost 4057 in and 189 out, as recorded.
// With wrong-rule.yaml: 4 (recorded deny) and 12 (recorded escalate) are allowed by
// allow-warehouse-reads: two false allows; coverage 15/18, agreement 12/15.
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { byTime, readRecords } from '../src/records/records.js';
import { estimateTokens } from '../src/runtime/baseline.js';
import { parseShare } from '../src/cli/output.js';
import { percentile } from '../src/replay/metrics.js';
import { escapeHtml, printable } from '../src/replay/report.js';
import { FakeServer, openaiWire } from './fake-servers.js';
import { cli } from './core.js';
import { governAsync, ROOT, tempTree } from './helpers.js';

const FIXTURES = join(ROOT, 'fixtures', 'replay');
const PRIVATE_TEXT = ['quarterly churn numbers', 'retry the checkout call'];

/** A project with the fixture policies (and the wrong rule if asked) and the fixture records. */
function project(opts: { wrong?: boolean; config?: string } = {}): string {
  const dir = tempTree({ 'govern.config.yaml': opts.config ?? '' });
  cpSync(join(FIXTURES, 'policies'), join(dir, 'policies'), { recursive: true });
  if (opts.wrong) cpSync(join(FIXTURES, 'wrong-rule.yaml'), join(dir, 'policies', 'wrong.yaml'));
  for (const f of ['records.jsonl', 'split.jsonl']) cpSync(join(FIXTURES, f), join(dir, f));
  return dir;
}

async function replayJson(dir: string, args: string[] = []) {
  const r = await cli(['replay', 'records.jsonl', '--format', 'json', ...args], { cwd: dir });
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : undefined };
}

describe('govern replay on recorded traffic', () => {
  it('with correct policies: the figures computed by hand, and exit 0', async () => {
    const { code, report, stderr } = await replayJson(project());
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(report.totals).toEqual({ records: 20, judged: 18, skipped: 2, covered: 13, uncovered: 5, agreeing: 12 });
    expect(report.skipped).toEqual({ count: 2, reason: 'no judgement recorded', default: 1, model_failed: 1 });
    expect(report.coverage).toBe(13 / 18);
    expect(report.agreement).toBe(12 / 13);
    expect(report.overall_agreement).toBe(17 / 18);
    expect(report.confusion).toEqual({
      allow: { allow: 8, deny: 1, escalate: 0, model: 3 },
      deny: { allow: 0, deny: 2, escalate: 0, model: 1 },
      escalate: { allow: 0, deny: 0, escalate: 2, model: 1 },
    });
    expect(report.false_allows).toEqual([]);
    expect(report.false_denies).toBe(1);
    expect(Object.fromEntries(Object.entries(report.by_route).map(([k, v]) => [k, (v as { requests: number }).requests]))).toEqual({ cache: 2, rules: 10, router: 1, model: 5 });
    expect(report.by_route.rules).toMatchObject({ agreeing: 9, agreement: 0.9, false_allows: 0, false_denies: 1 });
    expect(report.by_route.model.agreement).toBeNull();
    const rule = (id: string) => report.by_rule.find((x: { rule: string }) => x.rule === id);
    expect(rule('distilled-warehouse-dev-reads')).toMatchObject({ requests: 4, agreeing: 4, agreement: 1, false_allows: 0, false_denies: 0 });
    expect(rule('deny-sensitive-data-below-privileged')).toMatchObject({ requests: 1, agreeing: 0, agreement: 0, false_denies: 1 });
    expect(rule('escalate-delete-outside-dev')).toMatchObject({ requests: 2, agreeing: 2 });

    // Tokens: the measured usage of the ten model judgements, and estimates for the other ten,
    // among them the default escalation and the failed model call (lines 13 and 14): nobody decides
    // them without the model, so they count as spent, not as saved.
    const records = byTime(await readRecords(join(FIXTURES, 'records.jsonl')));
    const sumOf = (lines: number[]) => lines.map((line) => estimateTokens(records.find((r) => r.line === line)!.request)).reduce((a, t) => ({ input: a.input + t.input, output: a.output + t.output }), { input: 0, output: 0 });
    const estimate = sumOf([1, 3, 5, 6, 9, 11, 13, 14, 17, 18]);
    const unsaved = sumOf([13, 14]);
    expect(report.tokens.baseline).toEqual({ input: 8139 + estimate.input, output: 393 + estimate.output, total: 8532 + estimate.input + estimate.output, measured: 10, estimated: 10 });
    expect(report.tokens.replayed).toEqual({ input: 4057 + unsaved.input, output: 189 + unsaved.output, total: 4246 + unsaved.input + unsaved.output });
    expect(report.tokens.not_saved).toEqual({ model_failed: 1, default: 1, tokens: unsaved.input + unsaved.output });
    expect(report.tokens.saved).toBe(report.tokens.baseline.total - report.tokens.replayed.total);
    expect(report.tokens.saved_share).toBeCloseTo(report.tokens.saved / report.tokens.baseline.total, 12);
    expect(report.latency.requests).toBe(20);
    expect(report.latency.p50_ms).toBeGreaterThan(0);
    expect(report.latency.p99_ms).toBeGreaterThanOrEqual(report.latency.p50_ms);
    expect(report.gates).toEqual({ passed: true, exit_code: 0, min_agreement: null, min_coverage: null, failed: [] });
  });

  it('prints a plain table when piped', async () => {
    const r = await cli(['replay', 'records.jsonl'], { cwd: project() });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    expect(r.stdout).toContain('replay of 20 records from records.jsonl');
    expect(r.stdout).toContain('18 judged, 2 skipped: no judgement recorded (1 default escalation, 1 failed model call)');
    expect(r.stdout).toMatch(/coverage +72\.2% +13 of 18 judged requests decided without the model/);
    expect(r.stdout).toMatch(/agreement +92\.3% +12 of 13 covered requests decided as recorded/);
    expect(r.stdout).toMatch(/overall agreement +94\.4%/);
    expect(r.stdout).toMatch(/false allows +0/);
    expect(r.stdout).toMatch(/tokens +6,547 +against a baseline of [\d,]+ \(every request to the model: 10 measured, 10 estimated\)/);
    expect(r.stdout).toMatch(/not saved +2,301 +1 failed model call and 1 default escalation the model would still decide count as spent/);
    expect(r.stdout).toMatch(/allow +8 +1 +0 +3\n/);
    expect(r.stdout).toMatch(/distilled-warehouse-dev-reads +4 +100\.0% +0 +0/);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('gates: passed (no false allows)');
  });

  it('a deliberately wrong allow rule: exit 9, each false allow listed with the rule that allowed it', async () => {
    const dir = project({ wrong: true });
    const { code, report, stderr } = await replayJson(dir);
    expect(code).toBe(9);
    expect(report.false_allows).toEqual([
      { line: 4, at: '2026-11-02T08:20:00.000Z', agent: 'analyst', action: 'query', resource: 'warehouse:table/customers', recorded: 'deny', route: 'rules', rules: ['allow-warehouse-reads'] },
      { line: 12, at: '2026-11-02T10:00:00.000Z', agent: 'analyst', action: 'query', resource: 'warehouse:table/payments<script>alert(1)</script>', recorded: 'escalate', route: 'rules', rules: ['allow-warehouse-reads'] },
    ]);
    expect(report.totals).toMatchObject({ judged: 18, covered: 15, agreeing: 12 });
    expect(report.coverage).toBe(15 / 18);
    expect(report.agreement).toBe(12 / 15);
    expect(report.by_rule[0]).toMatchObject({ rule: 'allow-warehouse-reads', requests: 6, agreeing: 4, false_allows: 2 });
    expect(report.gates).toMatchObject({ passed: false, exit_code: 9, failed: [{ gate: 'false-allows' }] });
    expect(stderr).toContain('gate failed: 2 false allows');

    const human = await cli(['replay', 'records.jsonl'], { cwd: dir });
    expect(human.code).toBe(9);
    expect(human.stdout).toMatch(/records\.jsonl:4 +analyst +query +warehouse:table\/customers +deny +allow-warehouse-reads/);
    expect(human.stdout).toMatch(/records\.jsonl:12 +analyst +query +warehouse:table\/payments<script>alert\(1\)<\/script> +escalate +allow-warehouse-reads/);
    expect(human.stdout).toContain('gates: 1 failed (exit 9)');
    expect(human.stderr.trim().split('\n').at(-1)).toBe('govern replay: gate failed: 2 false allows: the pipeline allows what the recorded decision denied or escalated (exit 9)');
    const quiet = await cli(['replay', 'records.jsonl', '--quiet'], { cwd: dir });
    expect(quiet.code).toBe(9);
    expect(quiet.stdout.split('\n')[0]).toBe('false allows (2):');
  });

  it('gates on agreement and coverage: exit 10, and 9 wins over 10', async () => {
    const dir = project();
    const agreement = await cli(['replay', 'records.jsonl', '--min-agreement', '95%'], { cwd: dir });
    expect(agreement.code).toBe(10);
    expect(agreement.stderr).toContain('gate failed: agreement 92.3% is under --min-agreement 95.0% (exit 10)');
    const coverage = await replayJson(dir, ['--min-coverage', '0.8']);
    expect(coverage.code).toBe(10);
    expect(coverage.report.gates).toMatchObject({ passed: false, exit_code: 10, min_coverage: 0.8, failed: [{ gate: 'min-coverage', message: 'coverage 72.2% is under --min-coverage 80.0%' }] });
    expect((await cli(['replay', 'records.jsonl', '--min-agreement', '0.9', '--min-coverage', '72%'], { cwd: dir })).code).toBe(0);
    const both = await replayJson(project({ wrong: true }), ['--min-coverage', '0.99', '--min-agreement', '1']);
    expect(both.code).toBe(9);
    expect(both.report.gates.failed.map((g: { gate: string }) => g.gate)).toEqual(['false-allows', 'min-agreement', 'min-coverage']);
  });

  it('bad gate values, filters and inputs are usage errors naming the flag (exit 1)', async () => {
    const dir = project();
    for (const [args, text] of [
      [['--min-agreement', '95'], '--min-agreement: "95" is not a share from 0 to 1'],
      [['--min-coverage', 'most'], '--min-coverage: "most"'],
      [['--split', '1'], '--split: "1" is not a share between 0 and 1'],
      [['--since', 'yesterday'], '--since: "yesterday" is not a date'],
      [['--category', 'READ'], '--category: "READ" is not one of CREATE, MODIFY, DELETE, ACCESS, COMPLY'],
      [['--ledger'], 'either as FILE or with --ledger, not both'],
    ] as const) {
      const r = await cli(['replay', 'records.jsonl', ...args], { cwd: dir });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(text);
    }
    const none = await cli(['replay'], { cwd: dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('name a FILE (from `govern ledger export`) or pass --ledger');
    expect(none.stderr).toContain('usage: govern replay');
    const missing = await cli(['replay', 'nope.jsonl'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.jsonl');
  });

  it('a malformed record: exit 1 naming file:line', async () => {
    const dir = project();
    const lines = readFileSync(join(dir, 'records.jsonl'), 'utf8').trim().split('\n');
    writeFileSync(join(dir, 'bad.jsonl'), [lines[0], lines[1], lines[2]!.slice(0, 80), lines[3]].join('\n') + '\n');
    const r = await cli(['replay', 'bad.jsonl'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^govern: bad\.jsonl:3: not JSON/);
    writeFileSync(join(dir, 'bad.jsonl'), [lines[0], lines[1]!.replace('"decision":"allow"', '"decision":"maybe"')].join('\n') + '\n');
    const v = await cli(['replay', 'bad.jsonl'], { cwd: dir });
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('bad.jsonl:2: decision.decision must be allow, deny or escalate, not "maybe"');
    expect(v.stdout).toBe('');
  });

  it('filters apply before replay: --agent, --category, --since; none left is exit 1', async () => {
    const dir = project();
    expect((await replayJson(dir, ['--agent', 'analyst'])).report.totals).toMatchObject({ records: 8, judged: 7, skipped: 1 });
    const del = (await replayJson(dir, ['--category', 'delete'])).report;
    expect(del.totals).toMatchObject({ records: 4, judged: 4, covered: 4, agreeing: 4 });
    expect(del.filters).toEqual({ since: null, agent: null, category: 'DELETE' });
    const since = (await replayJson(dir, ['--since', '2026-11-02T10:00:00Z'])).report;
    expect(since.totals.records).toBe(9);
    expect(since.input.from).toBe('2026-11-02T10:00:00.000Z');
    const none = await cli(['replay', 'records.jsonl', '--agent', 'nobody'], { cwd: dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no decision records to replay: none of the 20 in records.jsonl match --agent nobody');
  });

  it('the cache: the second of two requests with the same facts is served from the first one\'s model answer', async () => {
    const on = (await replayJson(project(), ['--agent', 'support-bot'])).report;
    expect(on.totals).toMatchObject({ records: 2, judged: 2, covered: 1, uncovered: 1, agreeing: 1 });
    expect([on.by_route.model.requests, on.by_route.cache.requests]).toEqual([1, 1]);
    expect(on.tokens.replayed.total).toBe(790 + 35);
    const off = (await replayJson(project({ config: 'cache:\n  enabled: false\n' }), ['--agent', 'support-bot'])).report;
    expect([off.by_route.model.requests, off.by_route.cache.requests]).toEqual([2, 0]);
    expect(off.coverage).toBe(0);
    // The second request comes 10 minutes later: past a 60-second TTL the model is asked again.
    const expired = (await replayJson(project({ config: 'cache:\n  ttl_seconds: {allow: 60}\n' }), ['--agent', 'support-bot'])).report;
    expect(expired.by_route.cache.requests).toBe(0);
  });

  it('reads records from stdin with "-"', async () => {
    const dir = project();
    const r = await cli(['replay', '-', '--format', 'json'], { cwd: dir, input: readFileSync(join(dir, 'records.jsonl'), 'utf8') });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).input).toMatchObject({ source: 'file', name: 'stdin' });
  });

  it('--format json is a stable, documented object', async () => {
    const { report } = await replayJson(project());
    expect(Object.keys(report)).toEqual(['input', 'policies', 'filters', 'split', 'totals', 'skipped', 'coverage', 'agreement', 'overall_agreement', 'confusion', 'false_allows', 'false_denies', 'tokens', 'latency', 'by_route', 'by_rule', 'live', 'gates', 'shadow']);
    expect(report.input).toEqual({ source: 'file', name: 'records.jsonl', from: '2026-11-02T08:00:00.000Z', to: '2026-11-02T11:40:00.000Z' });
    expect(report.policies.path).toBe('policies');
    expect(report.policies.hash).toMatch(/^[0-9a-f]{64}$/);
    expect([report.split, report.live]).toEqual([null, null]);
    expect(Object.keys(report.tokens)).toEqual(['baseline', 'replayed', 'saved', 'saved_share', 'not_saved']);
    expect(Object.keys(report.latency)).toEqual(['p50_ms', 'p99_ms', 'requests']);
    for (const f of [...Object.values(report.by_route), ...report.by_rule] as Record<string, unknown>[]) {
      expect(Object.keys(f).filter((k) => k !== 'rule')).toEqual(['requests', 'agreeing', 'agreement', 'false_allows', 'false_denies', 'p50_ms', 'p99_ms']);
    }
  });

  it('--report writes one self-contained HTML file with the four charts, all recorded text escaped', async () => {
    const dir = project({ wrong: true });
    const r = await cli(['replay', 'records.jsonl', '--report', 'replay.html', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(9);
    expect(r.stderr).toContain('wrote the replay report to replay.html');
    const html = readFileSync(join(dir, 'replay.html'), 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const id of ['chart-routes', 'chart-tokens', 'chart-confusion', 'chart-rules']) expect(html).toContain(`<figure id="${id}">`);
    expect(html.match(/<svg /g)?.length).toBe(3);
    expect(html).toContain('<table class="heat">');
    // Nothing is fetched: no script, no link, no source or reference, no URL at all.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|\b(src|href)\s*=|https?:|\/\//i);
    // The request that carried a <script> is shown, escaped.
    expect(html).toContain('warehouse:table/payments&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('allow-warehouse-reads');
    expect(html).toContain('Gates failed (exit 9)');
    for (const t of PRIVATE_TEXT) expect(html).not.toContain(t);
  });

  it('never prints content or justification, only agent, action and resource', async () => {
    const dir = project({ wrong: true });
    for (const args of [[], ['--format', 'json']]) {
      const r = await cli(['replay', 'records.jsonl', ...args], { cwd: dir });
      for (const t of PRIVATE_TEXT) expect(r.stdout + r.stderr).not.toContain(t);
    }
  });

  it('help lists every flag, the definitions and the exit codes', async () => {
    const r = await cli(['replay', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--ledger', '--since', '--agent', '--category', '--split', '--live', '--min-agreement', '--min-coverage', '--format', '--report']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('coverage = judged requests decided without the model');
    expect(r.stdout).toContain('Exit codes: 0 gates passed, 9 a false allow, 10 agreement or coverage under');
  });
});

describe('govern replay with a model', () => {
  let server: FakeServer;
  beforeEach(async () => { server = await FakeServer.start(); });
  afterEach(async () => { await server.close(); });

  const env = { OPENAI_API_KEY: 'test-key' };
  const answer = (decision: string, usage = { input: 700, output: 30 }) => ({ json: openaiWire.completion(JSON.stringify({ decision, confidence: 0.9, reason: `the model says ${decision}` }), usage) });
  const modelConfig = () => `models:\n  large: {provider: openai, model: gpt-test, base_url: "${server.url}/v1", timeout_ms: 60000}\n`;

  it('--ledger replays a real state file written by govern eval', async () => {
    const dir = project({ config: modelConfig() });
    const requests = [
      { agent: 'coder', action: 'write_file', resource: 'file:tmp/x', environment: 'dev' },
      { agent: 'analyst', action: 'query', resource: 'warehouse:table/metrics', environment: 'staging' },
      { agent: 'analyst', action: 'query', resource: 'warehouse:table/metrics', environment: 'staging' },
      { agent: 'ops', action: 'delete', resource: 'k8s:pod/x', environment: 'staging' },
      { agent: 'analyst', action: 'query', resource: 'warehouse:table/customers', environment: 'production' },
    ];
    server.reply(answer('allow', { input: 812, output: 41 }), answer('deny', { input: 830, output: 40 }));
    for (const req of requests) await cli(['eval'], { cwd: dir, input: JSON.stringify(req), env });
    expect(server.received).toHaveLength(2);
    const routes = (await cli(['ledger', 'export'], { cwd: dir })).stdout.trim().split('\n').map((l) => JSON.parse(l).decision.route);
    expect(routes).toEqual(['rules', 'model', 'cache', 'rules', 'model']);

    const r = await cli(['replay', '--ledger', '--format', 'json'], { cwd: dir, env });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.input).toMatchObject({ source: 'ledger', name: join('.govern', 'state.db') });
    expect(report.totals).toEqual({ records: 5, judged: 5, skipped: 0, covered: 3, uncovered: 2, agreeing: 3 });
    expect([report.by_route.rules.requests, report.by_route.cache.requests, report.by_route.model.requests]).toEqual([2, 1, 2]);
    expect(report.tokens.replayed).toEqual({ input: 812 + 830, output: 81, total: 1723 });
    expect(server.received).toHaveLength(2);

    // The same ledger against the wrong rule: the production read the model denied is a false allow.
    cpSync(join(FIXTURES, 'wrong-rule.yaml'), join(dir, 'policies', 'wrong.yaml'));
    const wrong = await governAsync(['replay', '--ledger'], { cwd: dir, env });
    expect(wrong.code).toBe(9);
    expect(wrong.stdout).toMatch(/ledger seq \d+ +analyst +query +warehouse:table\/customers +deny +allow-warehouse-reads/);
    const noState = await governAsync(['replay', '--ledger', '--no-state'], { cwd: dir });
    expect(noState.code).toBe(1);
    expect(noState.stderr).toContain('replay --ledger needs the state file; drop --no-state.');
  });

  it('--live asks the configured model about each judged request and compares its answers', async () => {
    const dir = project({ config: modelConfig() });
    // analyst's judged records in time order: lines 2, 4, 6, 10, 12, 19, 20 (14 failed and is skipped).
    server.reply(answer('allow'), answer('deny'), answer('allow'), answer('allow'), openaiWire.error(500, 'server_error', 'boom'), answer('allow'), answer('deny'));
    const r = await cli(['replay', 'records.jsonl', '--agent', 'analyst', '--live', '--format', 'json'], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(server.to('/v1/chat/completions')).toHaveLength(7);
    const live = JSON.parse(r.stdout).live;
    expect(live).toEqual({
      model: 'openai/gpt-test',
      asked: 7,
      errors: 1,
      agreeing: 6,
      agreement: 6 / 7,
      confusion: { allow: { allow: 4, deny: 1, escalate: 0 }, deny: { allow: 0, deny: 1, escalate: 0 }, escalate: { allow: 0, deny: 0, escalate: 1 } },
      replayed: { compared: 5, agreeing: 5, agreement: 1, false_allows: 0 },
      tokens: { input: 6 * 700, output: 6 * 30 },
    });
    // The request goes to the model as quoted data, like the live pipeline sends it.
    const user = server.to('/v1/chat/completions')[0]!.body.messages.find((m: { role: string }) => m.role === 'user').content as string;
    expect(user).toContain('warehouse:table');
  });

  it('--live prints its comparison in the table', async () => {
    const dir = project({ config: modelConfig() });
    server.reply(answer('allow'), answer('allow'));
    const r = await cli(['replay', 'records.jsonl', '--agent', 'support-bot', '--live'], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('live: openai/gpt-test asked about 2 judged requests');
    expect(r.stdout).toMatch(/agreement with the recorded decision +100\.0% \(2 of 2\)/);
  });

  it('--live without a large model configured is a usage error saying how to configure one', async () => {
    const r = await cli(['replay', 'records.jsonl', '--live'], { cwd: project() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--live needs a large model: configure models.large in govern.config.yaml');
  });
});

describe('govern replay --split (distill on the first part, replay the rest)', () => {
  it('gives a held-out figure: rules distilled from the first 70% decide the last 30%, policies/distilled/ left out', async () => {
    const dir = project();
    const before = readdirSync(join(dir, 'policies', 'distilled'));
    const r = await cli(['replay', 'split.jsonl', '--split', '0.7', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.split).toMatchObject({ fraction: 0.7, train: 14, test: 6 });
    expect(report.split.files.length).toBeGreaterThanOrEqual(1);
    expect(report.totals.records).toBe(6);
    expect(report.input.from).toBe('2026-11-05T15:30:00.000Z');
    // The fixture's own distilled rule stays out; a rule learned from the first 14 records allows the dev reads.
    const rules = report.by_rule.map((x: { rule: string }) => x.rule);
    expect(rules).not.toContain('distilled-warehouse-dev-reads');
    expect(report.confusion.allow.allow).toBe(3);
    expect(report.false_allows).toEqual([]);
    // Nothing was written to the policy folder.
    expect(readdirSync(join(dir, 'policies', 'distilled'))).toEqual(before);
    expect(existsSync(join(dir, 'policies', 'distilled', 'distill.lock.json'))).toBe(false);
  });
});

describe('replay helpers', () => {
  it('shares parse from fractions and percentages', () => {
    expect(parseShare('--min-agreement', '0.95')).toBe(0.95);
    expect(parseShare('--min-agreement', '95%')).toBe(0.95);
    expect(parseShare('--min-agreement', '1')).toBe(1);
    expect(() => parseShare('--split', '0', { open: true })).toThrow(/--split/);
    expect(() => parseShare('--min-coverage', '-0.1')).toThrow(/--min-coverage/);
  });
  it('percentiles are nearest-rank', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([3, 1, 2, 4], 0.5)).toBe(2);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 0.99)).toBe(99);
    expect(percentile([5], 0.99)).toBe(5);
  });
  it('recorded text cannot drive a terminal or a browser', () => {
    expect(printable('ops\x1b[2J\u009b')).toBe('ops\\u001b[2J\\u009b');
    expect(escapeHtml(`<a href="x" onclick='y'>&`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;');
  });
});
