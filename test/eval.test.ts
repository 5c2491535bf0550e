// `govern eval` and the state it keeps, as scripts use it: real processes on a real SQLite file.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { beforeEach, describe, expect, it } from 'vitest';
import { openGovernor } from '../src/index.js';
import { cli } from './core.js';
import { BIN, clearOfTheHour, govern, ROOT, tempTree } from './helpers.js';

const require = createRequire(import.meta.url);

/** A project folder with the default pack and the given config. */
function project(config = '', extra: Record<string, string> = {}): string {
  const dir = tempTree({ 'govern.config.yaml': config, ...extra });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  return dir;
}

const AWS_KEY = ['AKIA', 'QYLPMN5HFIQR7XYZ'].join('');

async function evalJson(dir: string, req: unknown, args: string[] = []) {
  const r = await cli(['eval', '--format', 'json', ...args], { cwd: dir, input: JSON.stringify(req) });
  return { ...r, decision: r.stdout ? JSON.parse(r.stdout) : undefined };
}

/**
 * One decision in process, as one `govern eval` makes it: a governor opened on the folder (the
 * config, the state file, the bundle cache), one request, closed. For tests about decisions
 * rather than the binary's input and output.
 */
async function decide(dir: string, req: unknown) {
  const gov = await openGovernor({ cwd: dir });
  try {
    return await gov.decide(req);
  } finally {
    await gov.close();
  }
}

function db(dir: string) {
  const Database = require('better-sqlite3');
  return new Database(join(dir, '.govern', 'state.db'));
}

describe('one request in, one decision out', () => {
  it('exit codes say allow 0, deny 2, escalate 3', async () => {
    const dir = project();
    expect((await evalJson(dir, { agent: 'coder', action: 'write_file', resource: 'file:tmp/a.txt', environment: 'dev' })).code).toBe(0);
    expect((await evalJson(dir, { agent: 'coder', action: 'read_file', resource: 'file:secrets/db.yaml', environment: 'dev' })).code).toBe(2);
    expect((await evalJson(dir, { agent: 'ops', action: 'delete', resource: 'k8s:pod/web-1', environment: 'staging' })).code).toBe(3);
  });

  it('prints the Decision contract as JSON', async () => {
    const dir = project();
    const { decision } = await evalJson(dir, { agent: 'ops', action: 'delete', resource: 'k8s:pod/web-1', environment: 'staging' });
    expect(decision).toMatchObject({
      decision: 'escalate', tier: 2, route: 'rules', tokens: { input: 0, output: 0 },
      reasons: [{ rule: 'escalate-delete-outside-dev', effect: 'escalate', source: 'policies/approvals.yaml:7:5' }],
      facts: { category: 'DELETE', detectors: [] },
      policy: { hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      id: expect.stringMatching(/^dec_/),
    });
    expect(typeof decision.elapsed_ms).toBe('number');
  });

  it('takes the request from flags, a file, or stdin', () => {
    const dir = project('', { 'req.json': JSON.stringify({ agent: 'ops', action: 'delete', resource: 'k8s:pod/x', environment: 'staging' }) });
    expect(govern(['eval', '--agent', 'coder', '--action', 'write_file', '--resource', 'file:tmp/x', '--env', 'dev'], { cwd: dir }).code).toBe(0);
    expect(govern(['eval', 'req.json'], { cwd: dir }).code).toBe(3);
    const human = govern(['eval', '--agent', 'ops', '--command', 'sudo rm -rf /', '--env', 'dev'], { cwd: dir });
    expect(human.code).toBe(2);
    expect(human.stdout).toMatch(/^DENY  tier 3/);
    expect(human.stdout).toContain('deny-wipe-root-or-disk');
    expect(human.stdout).toContain('policies/destructive.yaml:');
  });

  it('explain shows facts and why each rule matched or not', async () => {
    const dir = project();
    const r = await cli(['explain', '--agent', 'deploy-agent', '--action', 'deploy', '--resource', 'k8s:deployment/web', '--env', 'prod'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('trust 40');
    expect(r.stdout).toMatch(/matched deny +deny-production-write-low-trust/);
    expect(r.stdout).toMatch(/skipped allow +allow-temp-files-dev/);
    expect(r.stdout).toMatch(/skipped allow +allow-temp-files-dev[^\n]*\n +because the request's environment production is not dev or test\n/);
    expect(r.stdout).toMatch(/skipped escalate escalate-credential-read[^\n]*\n +because the request's category CREATE is not ACCESS\n/);
    expect(r.stdout).not.toMatch(/because not [^\n]* is not /);
    expect(r.stdout).toMatch(/unmet +escalate escalate-cost-over-50[^\n]*\n +because not when: cost\.usd: \{gt: 50\}/);
    const j = JSON.parse((await cli(['explain', '--format', 'json', '--agent', 'ops', '--action', 'delete', '--resource', 'k8s:pod/x', '--env', 'staging'], { cwd: dir })).stdout);
    const rule = (id: string) => j.explanation.rules.find((x: { id: string }) => x.id === id);
    expect(rule('escalate-delete-outside-dev')).toMatchObject({ status: 'matched', source: 'policies/approvals.yaml:7:5' });
    expect(rule('escalate-cost-over-50')).toMatchObject({ status: 'unmet', because: [{ label: 'when: cost.usd: {gt: 50}' }] });
    expect(rule('allow-temp-files-dev')).toMatchObject({ status: 'skipped', because: [{ label: "the request's environment staging is not dev or test" }, { label: "the request's resource type k8s:pod is not file" }] });
  });
});

describe('bad input gets a clear error and changes no state', () => {
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{"agent": ', /stdin: not valid JSON/],
    ['an unknown field', JSON.stringify({ agent: 'a', action: 'x', bogus: 1 }), /stdin: bogus: is not a request field/],
    ['a wrong type', JSON.stringify({ agent: 'a', action: 'x', cost: { usd: 'lots' } }), /stdin: cost\.usd: must be a number/],
    ['no agent', JSON.stringify({ action: 'x' }), /stdin: agent: is required/],
    ['an oversized payload', JSON.stringify({ agent: 'a', action: 'x', content: 'y'.repeat(1_100_000) }), /the request is 1\.\d MB; the limit is 1 MB/],
    ['empty input', '', /stdin: empty input/],
  ];
  for (const [name, input, message] of cases) {
    it(name, async () => {
      const dir = project();
      await cli(['eval', '--agent', 'a', '--action', 'read', '--env', 'dev'], { cwd: dir });
      const before = db(dir).prepare('SELECT count(*) n FROM ledger').get().n;
      const r = await cli(['eval'], { cwd: dir, input });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain('    at ');
      expect(db(dir).prepare('SELECT count(*) n FROM ledger').get().n).toBe(before);
    });
  }

  it('a bad flag value names the flag', async () => {
    const r = await cli(['eval', '--agent', 'a', '--action', 'x', '--cost-usd', 'ten'], { cwd: project() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--cost-usd: "ten" is not a number');
  });

  it('policies with errors fail with their place, not a decision', async () => {
    const dir = project('', { 'policies/broken.yaml': 'rules:\n  - id: x\n    effect: alow\n' });
    const r = await cli(['eval', '--agent', 'a', '--action', 'read'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('policies/broken.yaml:3:13');
  });

  it('a config that is not YAML, or expands through aliases, is an error with its place', async () => {
    let r = await cli(['eval', '--agent', 'a', '--action', 'read'], { cwd: project('budgets: [\n') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/govern\.config\.yaml:\d+:\d+ error config\/syntax .*Fix the YAML syntax/);
    const bomb = 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
    r = await cli(['eval', '--agent', 'a', '--action', 'read'], { cwd: project(bomb) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/govern\.config\.yaml:1:1 error config\/syntax .*alias/i);
  });

  it('a bad config names its file, line, column and code, in the order of the file', async () => {
    const dir = project('budgets:\n  day: {usd: -1}\nbogus: 1\ncache:\n  enabled: maybe\nescalations: {approval_ttl_hours: 0}\n');
    const r = await cli(['eval', '--agent', 'a', '--action', 'read'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('govern.config.yaml:'))).toEqual([
      'govern.config.yaml:2:14 error config/minimum `budgets.day.usd` must be >= 0.',
      expect.stringMatching(/^govern\.config\.yaml:3:1 error config\/unknown-field unknown field `bogus`/),
      'govern.config.yaml:5:12 error config/wrong-type `cache.enabled` must be a boolean.',
      'govern.config.yaml:6:35 error config/minimum `escalations.approval_ttl_hours` must be > 0.',
    ]);
  });
});

describe('--batch', () => {
  it('one decision a line, in order; a bad line gets an error object and the rest go on', async () => {
    const dir = project();
    const lines = [
      JSON.stringify({ id: 'r1', agent: 'coder', action: 'write_file', resource: 'file:tmp/a', environment: 'dev' }),
      '{not json',
      JSON.stringify({ id: 'r3', agent: 'ops', command: 'rm -rf /', environment: 'dev' }),
      JSON.stringify({ id: 'r4', agent: 'a', action: 'x', nope: true }),
    ].join('\n') + '\n';
    const r = await cli(['eval', '--batch', '-'], { cwd: dir, input: lines });
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out).toHaveLength(4);
    expect(out[0].decision).toBe('allow');
    expect(out[1].error).toMatchObject({ line: 2, message: expect.stringContaining('not valid JSON') });
    expect(out[2].decision).toBe('deny');
    expect(out[3].error.message).toContain('nope: is not a request field');
    expect(r.code).toBe(1);
  });
});

const PROD_DEPLOY_FLAGS = ['--agent', 'deploy-agent', '--action', 'deploy', '--resource', 'k8s:deployment/web', '--env', 'production'];

describe('the ledger', () => {
  it('records every decision in a hash chain that verify checks', async () => {
    const dir = project();
    for (let i = 0; i < 3; i++) await cli(['eval', '--agent', 'a', '--action', 'read', '--env', 'dev'], { cwd: dir });
    const v = await cli(['ledger', 'verify', '--format', 'json'], { cwd: dir });
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, rows: 3 });
    const exported = (await cli(['ledger', 'export'], { cwd: dir })).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(exported).toHaveLength(3);
    expect(exported[0]).toMatchObject({ request: { agent: { id: 'a' } }, decision: { decision: 'escalate' }, model: null, usage: null, at: expect.any(String) });
  });

  it('verify finds an edited row, a deleted row and a truncated end', async () => {
    const dir = project();
    // Denied requests: an escalation would add its own entry to the chain between the decisions.
    for (let i = 0; i < 4; i++) await cli(['eval', ...PROD_DEPLOY_FLAGS], { cwd: dir });
    const d = db(dir);
    d.exec('DROP TRIGGER ledger_no_update; DROP TRIGGER ledger_no_delete');
    d.prepare("UPDATE ledger SET record = replace(record, '\"deny\"', '\"allow\"') WHERE seq = 2").run();
    d.close();
    let v = await cli(['ledger', 'verify'], { cwd: dir });
    expect(v.code).toBe(5);
    expect(v.stdout).toContain('row 2: its content does not match its hash (the row was edited)');
    const d2 = db(dir);
    d2.prepare('DELETE FROM ledger WHERE seq IN (3, 4)').run();
    d2.close();
    v = await cli(['ledger', 'verify'], { cwd: dir });
    expect(v.stdout).toMatch(/the chain ends at row 2 but the head says row 4/);
  });

  it('verify finds a column edited beside an intact record (agent, decision, route, category, model, time)', async () => {
    const dir = project();
    for (let i = 0; i < 3; i++) await cli(['eval', ...PROD_DEPLOY_FLAGS], { cwd: dir });
    expect((await cli(['ledger', 'verify'], { cwd: dir })).code).toBe(0);
    const edits: [string, string, RegExp][] = [
      ["agent = 'zz'", 'agent', /row 1: its agent column says "zz"/],
      ["decision = 'allow'", 'decision', /row 1: its decision column says "allow"/],
      ["route = 'model'", 'route', /row 1: its route column says "model"/],
      ["category = 'COMPLY'", 'category', /row 1: its category column says "COMPLY"/],
      ["model = 'openai/gpt'", 'model', /row 1: its model column says "openai\/gpt"/],
      ["at = '2000-01-01T00:00:00.000Z'", 'at', /row 1: its at column says "2000-01-01T00:00:00.000Z"/],
    ];
    const d = db(dir);
    d.exec('DROP TRIGGER ledger_no_update');
    const original = d.prepare('SELECT * FROM ledger WHERE seq = 1').get();
    d.close();
    for (const [set, column, message] of edits) {
      const e = db(dir);
      e.prepare(`UPDATE ledger SET ${set} WHERE seq = 1`).run();
      e.close();
      const v = await cli(['ledger', 'verify'], { cwd: dir });
      expect(v.code, column).toBe(5);
      expect(v.stdout).toMatch(message);
      expect(v.stdout).toContain('ledger TAMPERED: 1 problem in 3 rows');
      const r = db(dir);
      r.prepare(`UPDATE ledger SET ${column} = ? WHERE seq = 1`).run(original[column]);
      r.close();
    }
    expect((await cli(['ledger', 'verify'], { cwd: dir })).code).toBe(0);
  });

  it('verify and export read the state file alone: a policy that does not compile does not stop them', async () => {
    const dir = project();
    for (let i = 0; i < 2; i++) await cli(['eval', ...PROD_DEPLOY_FLAGS], { cwd: dir });
    writeFileSync(join(dir, 'policies', 'broken.yaml'), 'rules:\n  - id: a\n    effect: dney\n');
    expect((await cli(['eval', ...PROD_DEPLOY_FLAGS], { cwd: dir })).stderr).toContain('policies/broken.yaml:3:13');
    const v = await cli(['ledger', 'verify'], { cwd: dir });
    expect([v.code, v.stderr]).toEqual([0, '']);
    expect(v.stdout).toMatch(/^ledger intact: 2 decisions/);
    expect((await cli(['ledger', 'export'], { cwd: dir })).stdout.trim().split('\n')).toHaveLength(2);
  });

  it('export filters by agent, route and time, and names a bad --since', async () => {
    const dir = project();
    await cli(['eval', '--agent', 'a', '--action', 'read', '--env', 'dev'], { cwd: dir });
    await cli(['eval', '--agent', 'b', '--command', 'rm -rf /', '--env', 'dev'], { cwd: dir });
    const lines = async (args: string[]) => (await cli(['ledger', 'export', ...args], { cwd: dir })).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect((await lines(['--agent', 'b'])).map((r) => r.request.agent.id)).toEqual(['b']);
    expect((await lines(['--route', 'rules'])).map((r) => r.decision.decision)).toEqual(['deny']);
    expect(await lines(['--since', '2999-01-01'])).toEqual([]);
    expect(await lines(['--since', '2000-01-01'])).toHaveLength(2);
    const bad = await cli(['ledger', 'export', '--since', 'yesterday'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--since: "yesterday" is not a date');
  });

  it('a reader that stops early (`| head -n 1`) ends the command quietly with exit 0', async () => {
    const dir = project();
    const lines = Array.from({ length: 600 }, (_, i) => JSON.stringify({ agent: `a${i}`, action: 'read', resource: `file:docs/${i}.md`, environment: 'dev' })).join('\n') + '\n';
    /** Runs govern, reads its first line of output, then closes the pipe as `head -n 1` does. */
    const head1 = (args: string[], input = '') => new Promise<{ code: number | null; stderr: string; first: string }>((resolve, reject) => {
      const p = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      let stderr = '';
      let first = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.stdout.on('data', (d: Buffer) => {
        if (first) return;
        first = d.toString().split('\n')[0]!;
        p.stdout.destroy();
      });
      p.on('error', reject);
      p.on('close', (code) => resolve({ code, stderr, first }));
      p.stdin.end(input);
    });
    // Any command: a batch whose decisions are written into a closed pipe.
    const batch = await head1(['eval', '--batch', '-'], lines);
    expect(JSON.parse(batch.first)).toMatchObject({ decision: expect.any(String) });
    expect(batch.stderr).toBe('');
    expect(batch.code).toBe(0);
    // The export stops reading the ledger (it holds at least the batch's first chunk of 256).
    const exported = await head1(['ledger', 'export']);
    expect(JSON.parse(exported.first)).toMatchObject({ request: { agent: { id: 'a0' } } });
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
  });

  it('the ledger refuses updates and deletes', async () => {
    const dir = project();
    await cli(['eval', '--agent', 'a', '--action', 'read'], { cwd: dir });
    expect(() => db(dir).prepare('DELETE FROM ledger').run()).toThrow(/append-only/);
  });
});

describe('secrets never reach the ledger, logs or reports in clear', () => {
  it('a key in content is denied, and neither output nor the state file holds it', async () => {
    const dir = project();
    const req = { agent: 'coder', action: 'write_file', resource: 'file:src/a.ts', environment: 'dev', content: `const k = "${AWS_KEY}";`, justification: `uses ${AWS_KEY}` };
    const r = await cli(['explain', '--format', 'json'], { cwd: dir, input: JSON.stringify(req) });
    expect(r.code).toBe(2);
    const r2 = await cli(['explain'], { cwd: dir, input: JSON.stringify(req) });
    for (const out of [r.stdout, r.stderr, r2.stdout, r2.stderr]) expect(out).not.toContain(AWS_KEY);
    expect(JSON.parse(r.stdout).facts.detectors).toContain('aws-access-key');
    const exported = (await cli(['ledger', 'export'], { cwd: dir })).stdout;
    expect(exported).toContain('[REDACTED:aws-access-key]');
    expect(exported).not.toContain(AWS_KEY);
    for (const f of ['state.db', 'state.db-wal']) {
      const p = join(dir, '.govern', f);
      if (existsSync(p)) expect(readFileSync(p).includes(Buffer.from(AWS_KEY))).toBe(false);
    }
  });
});

describe('budgets', () => {
  beforeEach(() => clearOfTheHour(), 200_000);
  it('allowed costs add up; 80% warns; a request that would pass the budget is denied', async () => {
    const dir = project('budgets:\n  hour: {usd: 10, tokens: 1000000}\n  day: {usd: 100, tokens: 1000000}\n');
    const spend = (usd: number) => decide(dir, { agent: 'trainer', action: 'create', resource: 'k8s:deployment/x', environment: 'dev', cost: { usd } });
    expect((await spend(4)).decision).toBe('allow');
    const warned = await spend(4.5);
    expect(warned.decision).toBe('allow');
    expect(warned.warnings.map((w) => w.rule)).toContain('warn-budget-80');
    const over = await spend(2);
    expect(over.decision).toBe('deny');
    expect(over.reasons[0]!.rule).toBe('deny-over-budget');
    const u = JSON.parse((await cli(['usage', 'trainer', '--format', 'json'], { cwd: dir })).stdout);
    expect(u[0].hour.usd).toBeCloseTo(8.5);
  });
});

/** The OS user running the tests is the configured approver alice. */
const APPROVERS = `approvers:\n  - name: alice\n    os_users: [${JSON.stringify(userInfo().username)}]\n`;

describe('trust', () => {
  it('outcomes reported by an approver move the score and the score reaches the policies', async () => {
    const dir = project(`${APPROVERS}trust:\n  outcomes: {success: 10}\n`);
    const prodDeploy = { agent: 'deploy-agent', action: 'deploy', resource: 'k8s:deployment/web', environment: 'production' };
    const dev = { agent: 'deploy-agent', action: 'create', resource: 'k8s:deployment/web', environment: 'dev' };
    expect((await evalJson(dir, prodDeploy)).decision.reasons[0].rule).toBe('deny-production-write-low-trust');
    for (let i = 0; i < 2; i++) {
      const id = (await evalJson(dir, { ...dev, id: `run-${i}` })).decision.id;
      expect((await cli(['trust', 'record', id, 'success'], { cwd: dir })).code).toBe(0);
    }
    const shown = JSON.parse((await cli(['trust', 'show', 'deploy-agent', '-f', 'json'], { cwd: dir })).stdout);
    expect(shown).toMatchObject({ trust: 60, tier: 'trusted' });
    expect(shown.events[0]).toMatchObject({ event: 'success', by: 'alice', decision: expect.stringMatching(/^dec_/) });
    const deploy = (await evalJson(dir, prodDeploy)).decision;
    expect(deploy.reasons[0].rule).toBe('escalate-production-write');
    await cli(['trust', 'record', deploy.id, 'violation', '--note', 'touched prod db'], { cwd: dir });
    expect((await evalJson(dir, prodDeploy)).decision.decision).toBe('deny');
    expect((await cli(['trust', 'record', deploy.id, 'great'], { cwd: dir })).stderr).toContain('"great" is not one of success, failure, exception, violation');
    expect((await cli(['trust', 'record', deploy.id, 'success'], { cwd: dir })).stderr).toContain('already has an outcome');
  });

  it('the team comes from the agent registry, not the request', async () => {
    const dir = project('agents:\n  web-agent: {team: team-alpha}\n');
    const logs = async (team: string, ns: string) => (await decide(dir, { agent: { id: 'web-agent', team }, action: 'read', resource: 'logs/web', namespace: ns, environment: 'production' })).decision;
    expect(await logs('team-beta', 'team-alpha')).toBe('allow');
    expect(await logs('team-beta', 'team-beta')).toBe('escalate');
  });
});

describe('the decision cache', () => {
  it('the same facts are answered from the cache; a policy change invalidates it', async () => {
    const dir = project();
    const req = { agent: 'coder', action: 'write_file', resource: 'file:tmp/x', environment: 'dev' };
    expect((await decide(dir, req)).route).toBe('rules');
    const hit = await decide(dir, req);
    expect([hit.route, hit.decision]).toEqual(['cache', 'allow']);
    writeFileSync(join(dir, 'policies', 'extra.yaml'), 'rules:\n  - id: deny-tmp-writes\n    match: {resource: file}\n    when: {resource.path: {glob: "tmp/**"}}\n    effect: deny\n');
    const after = await decide(dir, req);
    expect([after.route, after.decision, after.reasons[0]!.rule]).toEqual(['rules', 'deny', 'deny-tmp-writes']);
  });
});

describe('the decision cache and the ledger', () => {
  it('a cached decision the router placed is recorded with the category it was decided on', async () => {
    const dir = project('cache:\n  ttl_seconds: {escalate: 3600}\n');
    const req = { agent: 'ops', request: 'please get rid of the crashing web pods in the payments namespace', environment: 'staging' };
    expect((await decide(dir, req)).route).toBe('router');
    expect(await decide(dir, req)).toMatchObject({ route: 'cache', facts: { category: 'DELETE' } });
    expect(db(dir).prepare('SELECT route, category FROM ledger ORDER BY seq').all()).toEqual([{ route: 'router', category: 'DELETE' }, { route: 'cache', category: 'DELETE' }]);
    expect((await cli(['ledger', 'verify'], { cwd: dir })).code).toBe(0);
  });
});

describe('escalations', () => {
  it('an approval allows that exact request once, and no other', async () => {
    const dir = project(APPROVERS);
    const req = { agent: 'ops', action: 'delete', resource: 'k8s:pod/web-1', environment: 'staging' };
    const first = await cli(['eval'], { cwd: dir, input: JSON.stringify(req) });
    expect(first.code).toBe(3);
    const id = /escalations approve (esc_\w+)/.exec(first.stdout)![1]!;
    const list = JSON.parse((await cli(['escalations', 'list', '-f', 'json'], { cwd: dir })).stdout);
    expect(list.map((e: { id: string }) => e.id)).toEqual([id]);
    expect((await cli(['escalations', 'approve', id], { cwd: dir })).code).toBe(0);
    expect((await cli(['escalations', 'approve', id], { cwd: dir })).stderr).toContain('already approved');
    expect((await evalJson(dir, { ...req, resource: 'k8s:pod/web-2' })).code).toBe(3);
    const approved = await evalJson(dir, req);
    expect(approved.code).toBe(0);
    expect(approved.decision.reasons[0].message).toContain(`approved by alice (escalation ${id})`);
    expect((await evalJson(dir, req)).code).toBe(3);
    expect((await cli(['escalations', 'list', '--status', 'all'], { cwd: dir })).stdout).toMatch(new RegExp(`${id}  used  ops: [^\n]*\n[^\n]*; approved by alice, used\n`));
    expect((await cli(['escalations', 'deny', 'esc_nope'], { cwd: dir })).stderr).toContain('no escalation esc_nope');
  });

  it('an approval never turns a deny into an allow', async () => {
    const dir = project(APPROVERS);
    const req = { agent: 'ops', action: 'delete', resource: 'k8s:pod/web-1', environment: 'staging' };
    const id = /escalations approve (esc_\w+)/.exec((await cli(['eval'], { cwd: dir, input: JSON.stringify(req) })).stdout)![1]!;
    await cli(['escalations', 'approve', id], { cwd: dir });
    writeFileSync(join(dir, 'policies', 'extra.yaml'), 'rules:\n  - id: deny-pod-deletes\n    match: {category: DELETE, resource: "k8s:pod"}\n    effect: deny\n');
    expect((await evalJson(dir, req)).decision.decision).toBe('deny');
  });
});

describe('--no-state', () => {
  it('reads and writes no state file', async () => {
    const dir = project();
    const r = await cli(['eval', '--no-state', '--agent', 'a', '--action', 'read'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^ESCALATE/);
    expect(r.stdout).not.toContain('recorded');
    expect(existsSync(join(dir, '.govern', 'state.db'))).toBe(false);
    expect((await cli(['eval', '--agent', 'a', '--action', 'read'], { cwd: dir })).stdout).toMatch(/\n  recorded as dec_\w+\n/);
    expect((await cli(['ledger', 'verify', '--no-state'], { cwd: dir })).stderr).toContain('needs the state file; drop --no-state');
  });
});

describe('concurrency', () => {
  it('parallel eval processes on one state file lose no ledger row and no usage increment', async () => {
    const dir = project('budgets:\n  hour: {usd: 1000, tokens: 100000000}\n  day: {usd: 1000, tokens: 100000000}\n');
    // Enough processes to overlap on the state file's lock on two cores; each must be counted.
    const n = 10;
    await Promise.all(Array.from({ length: n }, (_, i) => new Promise<void>((resolve, reject) => {
      const p = spawn(process.execPath, [BIN, 'eval', '--format', 'json'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      p.stdin.end(JSON.stringify({ id: `r${i}`, agent: 'trainer', action: 'create', resource: 'k8s:deployment/x', environment: 'dev', cost: { usd: 0.25, tokens: 10 } }));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
    })));
    const d = db(dir);
    expect(d.prepare('SELECT count(*) n FROM ledger').get().n).toBe(n);
    // Summed over the hours: a run that crosses the hour counts in two hourly rows.
    expect(d.prepare("SELECT sum(usd) usd, sum(tokens) tokens, sum(requests) requests FROM usage WHERE period LIKE 'h:%'").get()).toEqual({ usd: n * 0.25, tokens: n * 10, requests: n });
    d.close();
    expect((await cli(['ledger', 'verify'], { cwd: dir })).code).toBe(0);
  }, 300_000);
});

describe('the built-in router', () => {
  it('classifies free text the verb did not, and the rules decide again (route router)', async () => {
    const dir = project();
    const d = await decide(dir, { agent: 'ops', request: 'please get rid of the crashing web pods in the payments namespace', environment: 'staging' });
    expect(d).toMatchObject({ decision: 'escalate', route: 'router', reasons: [{ rule: 'escalate-delete-outside-dev' }], facts: { category: 'DELETE' } });
    expect(d.facts.risk).toBeDefined();
  });
  it('leaves what it cannot classify to a human when no model is configured', async () => {
    const d = await decide(project(), { agent: 'ops', request: 'hmm', environment: 'dev' });
    expect([d.decision, d.route]).toEqual(['escalate', 'default']);
  });
});
