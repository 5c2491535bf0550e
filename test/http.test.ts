// `govern serve --http`: a real HTTP server on 127.0.0.1 (port 0) in front of the same decision
// service as stdio, over a real state file, spoken to with node's fetch; one end-to-end run of
// bin/govern. Bad input gets a JSON error and changes nothing; a token guards a server when set.
import { spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../src/runtime/runtime.js';
import { checkSetup, HttpSetupError, isLoopback, parseAddress, startHttp, type HttpServer } from '../src/serve/http.js';
import { PLAIN_METHODS } from '../src/serve/server.js';
import { Governance } from '../src/serve/service.js';
import { BIN, govern, ROOT, tempTree } from './helpers.js';

const ALLOW = { agent: 'coder', action: 'write_file', resource: 'file:tmp/a.txt', environment: 'dev' };
const DENY = { agent: 'coder', action: 'read_file', resource: 'file:secrets/db.yaml', environment: 'dev' };
const ESCALATE = { agent: 'ops', action: 'delete', resource: 'k8s:pod/web-1', environment: 'staging' };
const TOKEN = 'a-token-of-thirty-two-characters';

function project(): string {
  const dir = tempTree({ 'govern.config.yaml': '' });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  return dir;
}

let rt: Runtime;
let open: HttpServer;
let guarded: HttpServer;

beforeAll(async () => {
  rt = await Runtime.open({ cwd: project() });
  const gov = new Governance(rt);
  open = await startHttp(gov, rt, { host: '127.0.0.1', port: 0 });
  guarded = await startHttp(gov, rt, { host: '127.0.0.1', port: 0, token: TOKEN });
});

afterAll(async () => {
  await open?.close();
  await guarded?.close();
  rt?.close();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}, server = open) =>
  fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const ledger = () => [...rt.state!.ledgerRows()].length;

describe('the stdio methods over HTTP', () => {
  it('decides with the same service: /v1/evaluate and /v1/decide answer the Decision, recorded in the ledger', async () => {
    const before = ledger();
    const r = await post('/v1/evaluate', DENY);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const d = await r.json();
    expect(d).toMatchObject({ decision: 'deny', tier: 3, route: 'rules', policy: { hash: rt.bundle.hash } });
    expect((await (await post('/v1/decide', ALLOW)).json()).decision).toBe('allow');
    expect((await (await post('/v1/decide', ESCALATE)).json()).decision).toBe('escalate');
    expect(ledger()).toBe(before + 3);
    expect([...rt.state!.ledgerRows()].map((row) => row.id)).toContain(d.id);
  });

  it('has an endpoint for every plain stdio method', async () => {
    // Outcomes and spend name a decision, escalation tools an escalation: made here first.
    const allowed = await (await post('/v1/evaluate', ALLOW)).json();
    const again = await (await post('/v1/evaluate', ALLOW)).json();
    const escalated = await (await post('/v1/evaluate', ESCALATE)).json();
    expect(escalated.escalation?.id).toMatch(/^esc_/);
    const params: Record<string, unknown> = {
      evaluate: ALLOW, explain: DENY, record_outcome: { decision: allowed.id, event: 'success' }, budget_status: { agent: 'coder' }, autonomy_rate: { hours: 1 }, status: undefined,
      escalation_status: { id: escalated.escalation.id }, wait_for_approval: { id: escalated.escalation.id, timeout_seconds: 0 }, record_spend: { decision: allowed.id, usd: 0.01 },
    };
    for (const m of Object.keys(PLAIN_METHODS)) {
      const name = m.slice('governance/'.length);
      expect(name in params, `no test params for ${name}`).toBe(true);
      const r = await fetch(`${open.url}/v1/${name}`, { method: 'POST', ...(params[name] !== undefined ? { body: JSON.stringify(params[name]) } : {}) });
      expect(r.status, `${name}: ${r.status === 200 ? '' : await r.text()}`).toBe(200);
    }
    expect(await (await fetch(`${open.url}/v1/status`)).json()).toMatchObject({ bundle: { hash: rt.bundle.hash } });
    expect(await (await post('/v1/record_outcome', { decision: again.id, event: 'failure' })).json()).toMatchObject({ event: 'failure' });
  });
});

describe('bad input gets a JSON error, changes nothing and never stops the server', () => {
  it.each([
    ['not JSON', '/v1/evaluate', '{"agent":', 400, 'parse_error', /not valid JSON/],
    ['an unknown field', '/v1/evaluate', { ...DENY, surprise: 1 }, 400, 'invalid_params', /surprise/],
    ['no request', '/v1/evaluate', '', 400, 'invalid_params', /params: a Request object is required/],
    ['a wrong type', '/v1/budget_status', { agent: 7 }, 400, 'invalid_params', /^agent: /],
    ['an unknown method', '/v1/approve_everything', DENY, 404, 'not_found', /no endpoint \/v1\/approve_everything; endpoints: POST \/v1\/evaluate/],
    ['an unknown path', '/', DENY, 404, 'not_found', /no endpoint/],
  ])('%s', async (_what, path, body, status, code, message) => {
    const before = ledger();
    const r = await post(path, body);
    expect(r.status).toBe(status);
    const j = await r.json();
    expect(j.error.code).toBe(code);
    expect(j.error.message).toMatch(message);
    expect(ledger()).toBe(before);
  });

  it('names the field that is wrong', async () => {
    const j = await (await post('/v1/evaluate', { agent: 'coder', action: 5 })).json();
    expect(j.error.data).toEqual({ field: 'action' });
  });

  it('refuses a body over 1 MB unread, and a GET where POST is needed', async () => {
    const big = JSON.stringify({ ...DENY, content: 'x'.repeat(1024 * 1024) });
    const r = await post('/v1/evaluate', big);
    expect(r.status).toBe(413);
    expect((await r.json()).error).toMatchObject({ code: 'too_large', data: { limit: 1048576 } });
    const g = await fetch(`${open.url}/v1/evaluate`);
    expect(g.status).toBe(405);
    expect(g.headers.get('allow')).toBe('POST');
    expect((await fetch(`${open.url}/healthz`)).status).toBe(200);
  });
});

describe('health and metrics', () => {
  it('GET /healthz says ok with the policy hash', async () => {
    expect(await (await fetch(`${open.url}/healthz`)).json()).toEqual({ status: 'ok', policy: { hash: rt.bundle.hash } });
  });

  it('GET /metrics counts decisions by verdict and route, with a latency histogram, in Prometheus text', async () => {
    const fresh = await startHttp(new Governance(rt), rt, { host: '127.0.0.1', port: 0 });
    try {
      for (const req of [DENY, DENY, ALLOW]) await post('/v1/evaluate', req, {}, fresh);
      await post('/v1/evaluate', '{', {}, fresh);
      await post('/wp-admin/setup.php', '', {}, fresh);
      const r = await fetch(`${fresh.url}/metrics`);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await r.text();
      expect(text).toMatch(/^govern_decisions_total\{decision="deny",route="(rules|cache)"\} \d$/m);
      const total = [...text.matchAll(/^govern_decisions_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      expect(total).toBe(3);
      expect(text).toContain('govern_decision_duration_seconds_count 3\n');
      expect(text).toContain('govern_decision_duration_seconds_bucket{le="+Inf"} 3\n');
      expect(text).toContain('govern_http_requests_total{path="/v1/evaluate",code="400"} 1\n');
      expect(text).toContain(`govern_policy_info{hash="${rt.bundle.hash}"} 1\n`);
      // Unknown paths share one label, so scanners cannot grow the metrics.
      expect(text).toContain('govern_http_requests_total{path="?",code="404"} 1\n');
      expect(text).not.toContain('wp-admin');
    } finally {
      await fresh.close();
    }
  });
});

describe('the token', () => {
  it('is required as a Bearer token on every path but /healthz when set', async () => {
    expect((await post('/v1/evaluate', ALLOW, {}, guarded)).status).toBe(401);
    expect((await post('/v1/evaluate', ALLOW, { authorization: `Bearer ${TOKEN}x` }, guarded)).status).toBe(401);
    expect((await post('/v1/evaluate', ALLOW, { authorization: TOKEN }, guarded)).status).toBe(401);
    expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
    const ok = await post('/v1/evaluate', ALLOW, { authorization: `Bearer ${TOKEN}` }, guarded);
    expect(ok.status).toBe(200);
    expect((await fetch(`${guarded.url}/healthz`)).status).toBe(200);
  });

  it('is needed to bind an address other machines can reach', () => {
    expect(() => checkSetup('0.0.0.0', undefined)).toThrow(/--http: 0\.0\.0\.0 is reachable from other machines; give a token/);
    expect(() => checkSetup('10.1.2.3', undefined)).toThrow(HttpSetupError);
    expect(() => checkSetup('0.0.0.0', 'short')).toThrow(/--token: the token must be at least 16 characters/);
    expect(() => checkSetup('0.0.0.0', TOKEN)).not.toThrow();
    expect(() => checkSetup('127.0.0.1', undefined)).not.toThrow();
    expect(['127.0.0.1', '127.9.9.9', '::1', 'localhost', 'LOCALHOST'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '192.168.1.1', 'example.com', '128.0.0.1'].some(isLoopback)).toBe(false);
  });

  it.each([
    ['127.0.0.1:8181', { host: '127.0.0.1', port: 8181 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    [':8181', { host: '0.0.0.0', port: 8181 }],
    ['8181', { host: '127.0.0.1', port: 8181 }],
  ])('parses the address %s', (addr, want) => {
    expect(parseAddress(addr)).toEqual(want);
  });

  it.each(['127.0.0.1', 'host:port', '127.0.0.1:70000', ''])('refuses the address "%s", naming --http', (addr) => {
    expect(() => parseAddress(addr)).toThrow(/^--http: ".*" is not an address; use HOST:PORT/);
  });
});

describe('govern serve --http (end to end)', () => {
  it('serves decisions on a free port and stops with exit 0 on SIGTERM', async () => {
    const dir = project();
    const p = spawn(process.execPath, [BIN, 'serve', '--http', '127.0.0.1:0', '--no-watch'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      p.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      p.on('exit', () => reject(new Error(`exited: ${stderr}`)));
    });
    const r = await fetch(`${url}/v1/decide`, { method: 'POST', body: JSON.stringify(DENY) });
    expect((await r.json()).decision).toBe('deny');
    const code = new Promise<number | null>((resolve) => p.on('exit', resolve));
    p.kill('SIGTERM');
    expect(await code).toBe(0);
    expect(stderr).toMatch(/stopped after 1 decision\n$/);
  });

  it('refuses a non-loopback address without a token, before opening anything', () => {
    const r = govern(['serve', '--http', '0.0.0.0:8181'], { cwd: project(), env: { GOVERN_HTTP_TOKEN: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('govern: --http: 0.0.0.0 is reachable from other machines; give a token (--token or GOVERN_HTTP_TOKEN), or bind a loopback address such as 127.0.0.1.\n');
  });
});
