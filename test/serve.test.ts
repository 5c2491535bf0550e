// `govern serve --stdio` as agents use it: a real child process in a temp project, spoken to by the
// MCP SDK's own client and by raw JSON-RPC lines, with the ledger checked afterwards.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiWire } from './fake-servers.js';
import { BIN, govern, ROOT, tempTree } from './helpers.js';

/** A project folder with the default pack and the given config. */
function project(config = ''): string {
  const dir = tempTree({ 'govern.config.yaml': config });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  return dir;
}

const ALLOW = { agent: 'coder', action: 'write_file', resource: 'file:tmp/a.txt', environment: 'dev' };
const DENY = { agent: 'coder', action: 'read_file', resource: 'file:secrets/db.yaml', environment: 'dev' };
const ESCALATE = { agent: 'ops', action: 'delete', resource: 'k8s:pod/web-1', environment: 'staging' };
const PROD_DEPLOY = { agent: 'deploy-agent', action: 'deploy', resource: 'k8s:deployment/web', environment: 'production' };

interface Message { jsonrpc: '2.0'; id: string | number | null; result?: any; error?: { code: number; message: string; data?: any } }

/** bin/govern serve --stdio, spoken to line by line. */
class Served {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly messages: Message[] = [];
  stderr = '';
  private rest = '';
  private waiters: { want: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  readonly exited: Promise<number | null>;
  private next = 1;

  constructor(readonly dir: string, args: string[] = [], env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, [BIN, 'serve', '--stdio', ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1', ...env } });
    this.proc.stdout.on('data', (d: Buffer) => {
      const lines = (this.rest + d.toString()).split('\n');
      this.rest = lines.pop()!;
      for (const l of lines) {
        const m = JSON.parse(l) as Message;
        this.messages.push(m);
        const i = this.waiters.findIndex((w) => w.want(m));
        if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
      }
    });
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
  }

  write(text: string): void {
    this.proc.stdin.write(text);
  }

  /** The first message (already received or still to come) that `want` accepts. */
  waitFor(want: (m: Message) => boolean): Promise<Message> {
    const seen = this.messages.find(want);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ want, resolve }));
  }

  call(method: string, params?: unknown, id: string | number = this.next++): Promise<Message> {
    this.write(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params !== undefined ? { params } : {}) }) + '\n');
    return this.waitFor((m) => m.id === id);
  }

  async end(): Promise<number | null> {
    this.proc.stdin.end();
    return this.exited;
  }
}

/** Asks `status` until `want` holds. */
/** Polls the status until `want` holds; a status that never changes is caught by the test's timeout. */
async function statusWhen(s: Served, want: (st: any) => boolean): Promise<any> {
  for (;;) {
    const st = (await s.call('governance/status')).result;
    if (want(st)) return st;
    await new Promise((r) => setTimeout(r, 25));
  }
}

function ledger(dir: string): { ok: boolean; rows: number } {
  const v = govern(['ledger', 'verify', '--format', 'json'], { cwd: dir });
  return JSON.parse(v.stdout);
}

describe('MCP, with the SDK client', () => {
  let dir: string;
  let client: Client;
  let transport: StdioClientTransport;
  const call = async (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args }) as Promise<{ isError?: boolean; structuredContent?: any; content: { type: string; text: string }[] }>;

  beforeAll(async () => {
    dir = project();
    transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'serve', '--stdio'], cwd: dir, env: { ...process.env, NO_COLOR: '1' } as Record<string, string>, stderr: 'pipe' });
    client = new Client({ name: 'govern-test', version: '1.0.0' });
    await client.connect(transport);
  });

  afterAll(async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists its tools, each with an input schema', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['evaluate', 'explain', 'record_outcome', 'escalation_status', 'wait_for_approval', 'record_spend', 'budget_status', 'autonomy_rate', 'status']);
    for (const t of tools) expect(t.inputSchema.type).toBe('object');
    expect(tools[0]!.inputSchema.required).toEqual(['agent']);
    expect(client.getServerVersion()?.name).toBe('govern');
  });

  it('evaluate answers allow, deny and escalate from the default pack', async () => {
    const allow = await call('evaluate', ALLOW);
    expect(allow.isError).toBeFalsy();
    expect(allow.structuredContent).toMatchObject({ decision: 'allow', tier: 0, route: 'rules', id: expect.stringMatching(/^dec_/) });
    expect(JSON.parse(allow.content[0]!.text)).toEqual(allow.structuredContent);
    expect((await call('evaluate', DENY)).structuredContent).toMatchObject({ decision: 'deny', tier: 3, reasons: [{ rule: 'deny-secret-files' }] });
    expect((await call('evaluate', ESCALATE)).structuredContent).toMatchObject({ decision: 'escalate', tier: 2, reasons: [{ rule: 'escalate-delete-outside-dev', source: 'policies/approvals.yaml:7:5' }] });
  });

  it('a bad request is a tool error naming the field', async () => {
    const r = await call('evaluate', { ...ALLOW, bogus: 1 });
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toMatch(/^bogus: is not a request field/);
    const t = await call('evaluate', { ...ALLOW, cost: { usd: 'lots' } });
    expect([t.isError, t.content[0]!.text]).toEqual([true, expect.stringMatching(/^cost\.usd: must be a number/)]);
    await expect(client.callTool({ name: 'nope', arguments: {} })).rejects.toThrow(/unknown tool "nope"/);
  });

  it('explain gives the decision, the facts and every rule', async () => {
    const r = (await call('explain', PROD_DEPLOY)).structuredContent;
    expect(r.decision).toMatchObject({ decision: 'deny', reasons: [{ rule: 'deny-production-write-low-trust' }] });
    expect(r.facts).toMatchObject({ category: 'CREATE', trust: 40 });
    const byId = Object.fromEntries(r.rules.map((t: { id: string }) => [t.id, t]));
    expect(byId['deny-production-write-low-trust'].status).toBe('matched');
    expect(byId['allow-temp-files-dev']).toMatchObject({ status: 'skipped', because: expect.arrayContaining([expect.objectContaining({ label: "the request's environment production is not dev or test" })]) });
    expect(byId['escalate-cost-over-50'].status).toBe('unmet');
  });

  it('record_outcome: the agent\'s own success raises nothing, its violation lowers trust', async () => {
    const deployed = (await call('evaluate', PROD_DEPLOY)).structuredContent;
    expect(deployed.reasons[0].rule).toBe('deny-production-write-low-trust');
    expect((await call('record_outcome', { decision: deployed.id, event: 'success', note: 'deployed' })).structuredContent)
      .toMatchObject({ agent: 'deploy-agent', decision: deployed.id, event: 'success', before: 40, after: 40, counted: false, tier: 'verified' });
    const other = (await call('evaluate', { ...PROD_DEPLOY, id: 'second' })).structuredContent;
    expect((await call('record_outcome', { decision: other.id, event: 'violation' })).structuredContent).toMatchObject({ before: 40, after: 35, counted: true });
    const bad = await call('record_outcome', { decision: other.id, event: 'great' });
    expect([bad.isError, bad.content[0]!.text]).toEqual([true, 'event: must be one of success, failure, exception, violation.']);
  });

  it('budget_status shows what allowed requests spent against the limits', async () => {
    const spend = { agent: 'trainer', action: 'create', resource: 'k8s:deployment/x', environment: 'dev', cost: { usd: 0.25, tokens: 100 } };
    expect((await call('evaluate', spend)).structuredContent.decision).toBe('allow');
    const b = (await call('budget_status', { agent: 'trainer' })).structuredContent;
    expect(b).toMatchObject({ agent: 'trainer', hour: { usd: 0.25, tokens: 100, limit: { usd: 1, tokens: 20000 } }, day: { usd: 0.25, limit: { usd: 5, tokens: 100000 } }, used_pct: 25 });
    expect((await call('budget_status', {})).content[0]!.text).toMatch(/^agent: is required/);
  });

  it('autonomy_rate is the share of tier 0-1 decisions in the ledger', async () => {
    const one = (await call('autonomy_rate', { agent: 'coder' })).structuredContent;
    // coder: one allow (tier 0) and one deny (tier 3); the rejected requests were not recorded.
    expect(one).toMatchObject({ agent: 'coder', hours: 24, decisions: 2, autonomous: 1, rate: 0.5, by_tier: { 0: 1, 1: 0, 2: 0, 3: 1 } });
    const all = (await call('autonomy_rate', { hours: 1 })).structuredContent;
    expect(all.agent).toBeNull();
    expect(all.decisions).toBeGreaterThanOrEqual(7);
    expect((await call('autonomy_rate', { hours: -1 })).content[0]!.text).toMatch(/^hours: must be a number/);
  });
});

describe('plain JSON-RPC lines', () => {
  it('echoes ids; answers 100 requests in flight with matching ids; bad lines get errors and it goes on; EOF commits all', async () => {
    const s = new Served(project());
    const a = await s.call('governance/evaluate', ALLOW, 'req-a');
    expect(a).toMatchObject({ jsonrpc: '2.0', id: 'req-a', result: { decision: 'allow' } });
    expect((await s.call('governance/evaluate', ESCALATE, 7)).result).toMatchObject({ decision: 'escalate', escalation: { id: expect.stringMatching(/^esc_/), expires_at: expect.any(String) } });

    // 100 at once, in one write: each answer must belong to its own request.
    const kinds = [ALLOW, DENY, ESCALATE, { agent: 'ops', command: 'rm -rf /', environment: 'dev' }];
    const expected = ['allow', 'deny', 'escalate', 'deny'];
    s.write(Array.from({ length: 100 }, (_, i) => JSON.stringify({ jsonrpc: '2.0', id: 1000 + i, method: 'governance/evaluate', params: { ...kinds[i % 4], id: `mine-${i}` } })).join('\n') + '\n');
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => s.waitFor((m) => m.id === 1000 + i)));
    answers.forEach((m, i) => expect(m.result.decision, `id ${1000 + i}`).toBe(expected[i % 4]));

    // Malformed input: each gets its error, and the next request is answered.
    s.write('{"jsonrpc": "2.0", "id": 1, "method": \n');
    const parse = await s.waitFor((m) => m.error?.code === -32700);
    expect(parse).toMatchObject({ id: null, error: { message: expect.stringMatching(/^not valid JSON/) } });
    expect((await s.call('governance/nope', {}, 'u1')).error).toMatchObject({ code: -32601, message: expect.stringContaining('governance/evaluate') });
    expect((await s.call('tools/nope', {}, 'u2')).error?.code).toBe(-32601);
    expect((await s.call('governance/evaluate', { ...ALLOW, bogus: true }, 'p1')).error).toMatchObject({ code: -32602, data: { field: 'bogus' } });
    expect((await s.call('governance/evaluate', { ...ALLOW, cost: { usd: 'lots' } }, 'p2')).error).toMatchObject({ code: -32602, data: { field: 'cost.usd' } });
    expect((await s.call('governance/evaluate', { action: 'read' }, 'p3')).error).toMatchObject({ code: -32602, data: { field: 'agent' } });
    expect((await s.call('governance/evaluate', undefined, 'p4')).error).toMatchObject({ code: -32602, data: { field: 'params' } });
    expect((await s.call('governance/record_outcome', { decision: 'dec_x', event: 'great' }, 'p5')).error).toMatchObject({ code: -32602, data: { field: 'event' } });
    expect((await s.call('tools/call', { name: 'evaluate', arguments: 5 }, 'p6')).error).toMatchObject({ code: -32602, data: { field: 'arguments' } });
    s.write('[1, 2]\n{"id": 5, "method": "governance/status"}\n');
    const invalid = await s.waitFor((m) => m.error?.code === -32600 && m.id === 5);
    expect(invalid.error!.message).toContain('jsonrpc');
    s.write(JSON.stringify({ jsonrpc: '2.0', id: 'big', method: 'governance/evaluate', params: { ...ALLOW, content: 'y'.repeat(1_100_000) } }) + '\n');
    const big = await s.waitFor((m) => m.error?.data?.limit !== undefined);
    expect(big).toMatchObject({ id: null, error: { code: -32600, message: expect.stringMatching(/the message is 1\.\d MB; the limit is 1 MB/) } });
    expect((await s.call('governance/evaluate', DENY, 'after')).result.decision).toBe('deny');
    const status = (await s.call('governance/status')).result;
    expect(status).toMatchObject({ decisions: 103, reload_error: null, bundle: { hash: expect.stringMatching(/^[0-9a-f]{64}$/) } });

    expect(await s.end()).toBe(0);
    expect(s.stderr).not.toContain('internal error');
    expect(ledger(s.dir)).toMatchObject({ ok: true, rows: 103 });
  });

  it('secrets in a request reach neither the answer nor the log; --no-state refuses what needs state', async () => {
    const key = ['AKIA', 'QYLPMN5HFIQR7XYZ'].join('');
    const s = new Served(project(), ['--no-state']);
    const r = await s.call('governance/explain', { agent: 'coder', action: 'write_file', resource: 'file:src/a.ts', environment: 'dev', content: `const k = "${key}";` });
    expect(r.result.decision).toMatchObject({ decision: 'deny', facts: { detectors: ['aws-access-key'] } });
    expect(r.result.findings[0]).toMatchObject({ kind: 'aws-access-key', field: 'content' });
    expect((await s.call('governance/record_outcome', { decision: 'dec_x', event: 'success' })).error).toMatchObject({ code: -32002, message: expect.stringContaining('--no-state') });
    expect(await s.end()).toBe(0);
    expect(JSON.stringify(s.messages) + s.stderr).not.toContain(key);
  });

  it('SIGTERM: what is in flight is finished and recorded, then exit 0', async () => {
    const s = new Served(project());
    await s.call('governance/evaluate', ALLOW, 'first');
    s.write(Array.from({ length: 200 }, (_, i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'governance/evaluate', params: { ...kinds(i), id: `t${i}` } })).join('\n') + '\n');
    await s.waitFor((m) => m.id === 0);
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const answered = s.messages.filter((m) => m.result?.decision).length;
    expect(answered).toBeGreaterThan(1);
    expect(s.stderr).toMatch(/SIGTERM/);
    expect(ledger(s.dir)).toEqual(expect.objectContaining({ ok: true, rows: answered }));
  });
});

function kinds(i: number) {
  return [ALLOW, DENY, ESCALATE][i % 3]!;
}

describe('policy hot reload', () => {
  it('a new rule is used from the next decision; a broken file keeps the old bundle serving and shows the error', async () => {
    const s = new Served(project(), ['--reload-delay', '50']);
    const before = (await s.call('governance/status')).result;
    expect((await s.call('governance/evaluate', ALLOW)).result.decision).toBe('allow');
    const waitStatus = (want: (st: any) => boolean) => statusWhen(s, want);

    writeFileSync(join(s.dir, 'policies', 'extra.yaml'), 'rules:\n  - id: deny-tmp-writes\n    match: {resource: file}\n    when: {resource.path: {glob: "tmp/**"}}\n    effect: deny\n');
    const reloaded = await waitStatus((st) => st.reloads === 1);
    expect(reloaded.bundle.hash).not.toBe(before.bundle.hash);
    expect(reloaded.bundle.rules).toBe(before.bundle.rules + 1);
    const denied = (await s.call('governance/evaluate', ALLOW)).result;
    expect([denied.decision, denied.route, denied.reasons[0].rule]).toEqual(['deny', 'rules', 'deny-tmp-writes']);
    expect(s.stderr).toMatch(/policies reloaded: \d+ rules/);

    writeFileSync(join(s.dir, 'policies', 'broken.yaml'), 'rules:\n  - id: x\n    effect: alow\n');
    const failed = await waitStatus((st) => st.reload_error !== null);
    expect(failed.bundle.hash).toBe(reloaded.bundle.hash);
    expect(failed.reload_error.diagnostics).toContainEqual(expect.objectContaining({ file: 'policies/broken.yaml', line: 3, column: 13 }));
    expect(s.stderr).toContain('policies/broken.yaml:3:13');
    expect((await s.call('governance/evaluate', ALLOW)).result.reasons[0].rule).toBe('deny-tmp-writes');

    rmSync(join(s.dir, 'policies', 'broken.yaml'));
    const fixed = await waitStatus((st) => st.reload_error === null);
    expect(fixed.bundle.hash).toBe(reloaded.bundle.hash);
    expect(await s.end()).toBe(0);
  });
});

describe('the model path', () => {
  it('the model is asked outside the transaction; an answer given under policies reloaded meanwhile is not used', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let asked = 0;
    const model = createServer((req, res) => {
      asked++;
      req.resume();
      void gate.then(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(openaiWire.completion(JSON.stringify({ decision: 'allow', confidence: 0.9, reason: 'looks fine' }), { input: 300, output: 20 })));
      });
    });
    await new Promise<void>((r) => model.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(model.address() as AddressInfo).port}`;
    const dir = project(`models:\n  large: {provider: openai, model: gpt-test, base_url: "${url}/v1", timeout_ms: 120000}\n`);
    const s = new Served(dir, ['--reload-delay', '50'], { OPENAI_API_KEY: 'test-key' });
    try {
      const undecided = { agent: 'analyst', action: 'query', resource: 'warehouse:table/orders', environment: 'dev' };
      const pending = s.call('governance/evaluate', undecided, 'slow');
      // However long the server takes to start and decide on a busy machine.
      while (asked === 0) await new Promise((r) => setTimeout(r, 25));
      expect(asked).toBe(1);
      // Other requests are answered while the model thinks.
      expect((await s.call('governance/evaluate', DENY, 'meanwhile')).result.decision).toBe('deny');
      writeFileSync(join(dir, 'policies', 'warehouse.yaml'), 'rules:\n  - id: deny-warehouse\n    match: {resource: "warehouse:table"}\n    effect: deny\n');
      await statusWhen(s, (st) => st.reloads === 1);
      release();
      const d = (await pending).result;
      expect([d.decision, d.route, d.reasons[0].rule]).toEqual(['deny', 'rules', 'deny-warehouse']);
      const other = (await s.call('governance/evaluate', { ...undecided, resource: 'lake:dataset/x' }, 'model')).result;
      expect(other).toMatchObject({ decision: 'allow', tier: 1, route: 'model', tokens: { input: 300, output: 20 } });
      expect(await s.end()).toBe(0);
      expect(ledger(dir)).toMatchObject({ ok: true, rows: 3 });
    } finally {
      s.proc.kill();
      model.closeAllConnections();
      model.close();
    }
  });
});

describe('the command line', () => {
  it('--help documents the protocols; a missing --stdio is a usage error', () => {
    const help = govern(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('governance/evaluate');
    expect(help.stdout).toContain('--no-watch');
    const r = govern(['serve']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('serve needs a transport: --stdio');
  });
});

describe('variants of denied requests, asked beside the allowed request they resemble', () => {
  it('are decided in serve as a fresh runtime decides them, every time, and in a second server reading the first one’s cache', async () => {
    // No trust penalty for findings: each request keeps its facts, and so its cache key, across the asks.
    const dir = project('trust:\n  findings: {default: 0}\n');
    const AWS_KEY = ['AKIA', 'QYLPMN5HFIQR7XYZ'].join('');
    const variants: Record<string, Record<string, unknown>> = {
      'secrets in capitals': { ...DENY, resource: 'file:SECRETS/db.yaml' },
      'a dot segment': { ...DENY, resource: 'file:Secrets/./db.yaml' },
      'climbing out of tmp': { ...ALLOW, resource: 'file:tmp/../secrets/db.yaml' },
      'a stated category': { ...ESCALATE, category: 'ACCESS' },
      'production spelled PROD': { ...PROD_DEPLOY, environment: 'PROD' },
      'a command beside an allowed action': { ...ALLOW, command: 'rm -rf /' },
      'a key nested deep in the context': { ...ALLOW, context: { a: { b: { c: [{ note: `use ${AWS_KEY}` }] } } } },
      'a key in the id': { ...ALLOW, id: `req-${AWS_KEY}` },
      'a command in the id': { ...ALLOW, id: 'rm -rf / --no-preserve-root' },
    };
    const { Runtime } = await import('../src/runtime/runtime.js');
    const want: Record<string, string> = {};
    for (const [name, req] of Object.entries(variants)) {
      const fresh = await Runtime.open({ cwd: dir, noState: true });
      try {
        want[name] = (await fresh.evaluate(req)).decision.decision;
      } finally {
        fresh.close();
      }
    }
    expect(Object.entries(want).filter(([, d]) => d === 'allow')).toEqual([]);
    for (const server of [1, 2]) {
      const s = new Served(dir, ['--no-watch']);
      const got: Record<string, string[]> = {};
      for (let round = 0; round < 3; round++) {
        expect((await s.call('governance/evaluate', { ...ALLOW, id: `allowed-${server}-${round}` })).result.decision).toBe('allow');
        for (const [name, req] of Object.entries(variants)) {
          const m = await s.call('governance/evaluate', { id: `${name}-${round}`, ...req });
          (got[name] ??= []).push(m.result?.decision ?? `error: ${m.error?.message}`);
        }
      }
      expect({ server, got }).toEqual({ server, got: Object.fromEntries(Object.entries(want).map(([k, d]) => [k, [d, d, d]])) });
      // The second server answers the allowed request from the first one's sealed row.
      if (server === 2) expect((await s.call('governance/evaluate', ALLOW)).result.route).toBe('cache');
      expect(await s.end()).toBe(0);
    }
    expect(ledger(dir)).toMatchObject({ ok: true });
    // The key was found wherever it was, the id included: it is in no row in clear.
    for (const f of readdirSync(join(dir, '.govern')).filter((f) => f.startsWith('state.db'))) expect({ f, clear: readFileSync(join(dir, '.govern', f)).includes(AWS_KEY) }).toEqual({ f, clear: false });
  });

  it('a cost too large to parse is refused, after the same request with no cost was allowed', async () => {
    const dir = project();
    const s = new Served(dir, ['--no-watch']);
    // 1e400 parses as Infinity, which JSON writes back as null: the two must not share a decision.
    const line = (id: string, usd: string) => `{"jsonrpc":"2.0","id":"${id}","method":"governance/evaluate","params":{"agent":"coder","action":"write_file","resource":"file:tmp/a.txt","environment":"dev","cost":{"usd":${usd}}}}\n`;
    const got: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (const [name, usd] of [['none', 'null'], ['huge', '1e400']] as const) {
        const id = `${name}-${round}`;
        s.write(line(id, usd));
        const m = await s.waitFor((x) => x.id === id);
        got.push(`${name}: ${m.result?.decision ?? `error ${m.error?.message}`}`);
      }
    }
    const refused = 'huge: error cost.usd: must be a number of dollars from 0 to 1e+12.';
    expect(got).toEqual(['none: allow', refused, 'none: allow', refused]);
    expect(await s.end()).toBe(0);
  });
});
