// The agent cannot write its own record: driven through the real MCP client over a real
// `bin/govern serve --stdio`, an agent's own successes raise nothing, only a configured approver
// answers its escalation (while it waits), and its own approval attempt is refused. Then every
// kind of row the chain vouches for (trust, escalations, usage, the chained entries) is edited in
// the real state.db, and `ledger verify` finds each edit.
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { State } from '../src/ledger/state.js';
import { Runtime } from '../src/runtime/runtime.js';
import { cli } from './core.js';
import { BIN, govern, governAsync, ROOT, tempTree } from './helpers.js';

const require = createRequire(import.meta.url);

const APPROVERS = `approvers:\n  - name: alice\n    os_users: [${JSON.stringify(userInfo().username)}]\n  - name: bob\n    os_users: [someone-else]\n`;

function project(config: string): string {
  const dir = tempTree({ 'govern.config.yaml': config });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  return dir;
}

const DEV_CREATE = { agent: 'deploy-agent', action: 'create', resource: 'k8s:deployment/web', environment: 'dev' };
const PROD_DEPLOY = { agent: 'deploy-agent', action: 'deploy', resource: 'k8s:deployment/web', environment: 'production' };
const STAGING_DELETE = { agent: 'deploy-agent', action: 'delete', resource: 'k8s:pod/web-1', environment: 'staging' };

describe('an agent over MCP', () => {
  let dir: string;
  let client: Client;
  type Result = { isError?: boolean; structuredContent?: any; content: { type: string; text: string }[] };
  const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 }) as Promise<Result>;

  beforeAll(async () => {
    dir = project(APPROVERS);
    const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'serve', '--stdio'], cwd: dir, env: { ...process.env, NO_COLOR: '1' } as Record<string, string>, stderr: 'pipe' });
    client = new Client({ name: 'govern-test', version: '1.0.0' });
    await client.connect(transport);
  });

  afterAll(async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('20 self-reported successes leave trust where it was; its own failure lowers it; each decision once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await call('evaluate', { ...DEV_CREATE, id: `run-${i}` })).structuredContent.id);
    for (const id of ids) {
      const r = (await call('record_outcome', { decision: id, event: 'success' })).structuredContent;
      expect(r).toMatchObject({ agent: 'deploy-agent', before: 40, after: 40, counted: false });
    }
    expect((await call('explain', PROD_DEPLOY)).structuredContent.facts.trust).toBe(40);
    const again = await call('record_outcome', { decision: ids[0], event: 'success' });
    expect([again.isError, again.content[0]!.text]).toEqual([true, expect.stringContaining('already has an outcome reported by the agent')]);
    const unbound = await call('record_outcome', { agent: 'deploy-agent', event: 'success' });
    expect([unbound.isError, unbound.content[0]!.text]).toEqual([true, expect.stringMatching(/^decision: is required/)]);
    const other = await call('record_outcome', { decision: ids[1], agent: 'someone-else', event: 'failure' });
    expect(other.content[0]!.text).toContain('was made for agent deploy-agent');
    const failed = (await call('evaluate', { ...DEV_CREATE, id: 'run-20' })).structuredContent.id;
    expect((await call('record_outcome', { decision: failed, event: 'failure' })).structuredContent).toMatchObject({ before: 40, after: 38, counted: true });
  });

  it('an escalation carries its id; a configured approver answers it while the agent waits; the agent cannot approve', async () => {
    const d = (await call('evaluate', STAGING_DELETE)).structuredContent;
    expect(d).toMatchObject({ decision: 'escalate', escalation: { id: expect.stringMatching(/^esc_/), expires_at: expect.any(String) } });
    const id = d.escalation.id as string;
    expect(Date.parse(d.escalation.expires_at)).toBeGreaterThan(Date.now());
    // Nobody answers in time: the wait ends as a deny.
    expect((await call('wait_for_approval', { id, timeout_seconds: 0 })).structuredContent).toMatchObject({ id, status: 'pending', decision: 'deny', timed_out: true });

    const waiting = call('wait_for_approval', { id, timeout_seconds: 600 });
    // The agent's own attempts: there is no approve tool, and the CLI refuses an agent id and a non-approver.
    await expect(client.callTool({ name: 'approve', arguments: { id } })).rejects.toThrow(/unknown tool "approve"/);
    const asAgent = await governAsync(['escalations', 'approve', id, '--as', 'deploy-agent'], { cwd: dir });
    expect([asAgent.code, asAgent.stderr]).toEqual([1, expect.stringContaining('deploy-agent has asked for decisions as an agent; an agent never approves')]);
    const asBob = await governAsync(['escalations', 'approve', id, '--as', 'bob'], { cwd: dir });
    expect([asBob.code, asBob.stderr]).toEqual([1, expect.stringContaining('approver bob does not run as OS user')]);
    expect((await call('escalation_status', { id })).structuredContent).toMatchObject({ status: 'pending', decision: 'wait' });

    const approved = await cli(['escalations', 'approve', id, '--note', 'planned maintenance'], { cwd: dir });
    expect([approved.code, approved.stdout]).toEqual([0, expect.stringContaining(`${id} approved by alice`)]);
    expect((await waiting).structuredContent).toMatchObject({ id, status: 'approved', decision: 'allow', resolved_by: 'alice', timed_out: false });
    const proceed = (await call('evaluate', STAGING_DELETE)).structuredContent;
    expect(proceed).toMatchObject({ decision: 'allow', tier: 2 });
    expect(proceed.reasons[0]).toMatchObject({ rule: null, message: `approved by alice (escalation ${id})` });
    expect(proceed.escalation).toBeUndefined();
    expect((await call('escalation_status', { id })).structuredContent.status).toBe('used');
  });

  it('record_spend adds the real cost of an allowed decision; budgets count the larger', async () => {
    const d = (await call('evaluate', { ...DEV_CREATE, agent: 'trainer', cost: { usd: 0.2, tokens: 100 } })).structuredContent;
    expect((await call('record_spend', { decision: d.id, usd: 0.1 })).structuredContent).toMatchObject({ recorded: { usd: 0.1, tokens: 0 }, counted: { usd: 0.2, tokens: 100 } });
    expect((await call('record_spend', { decision: d.id, usd: 0.3, tokens: 50 })).structuredContent).toMatchObject({ counted: { usd: 0.4, tokens: 100 } });
    expect((await call('budget_status', { agent: 'trainer' })).structuredContent.hour).toMatchObject({ usd: 0.4, tokens: 100 });
    expect((await call('record_spend', { decision: d.id, usd: -1 })).content[0]!.text).toMatch(/^usd: must be a number of dollars, 0 or more/);
    const denied = (await call('evaluate', { agent: 'trainer', action: 'read_file', resource: 'file:secrets/db.yaml', environment: 'dev' })).structuredContent;
    expect((await call('record_spend', { decision: denied.id, usd: 1 })).content[0]!.text).toContain('was deny, not allow');
  });

  it('the ledger holds it all, intact', () => {
    const v = JSON.parse(govern(['ledger', 'verify', '--format', 'json'], { cwd: dir }).stdout);
    expect(v).toMatchObject({ ok: true, problems: [] });
    expect(v.events).toBeGreaterThan(20);
  });
});

describe('ledger verify finds an edit to any row the chain vouches for', () => {
  let dir: string;
  let pristine: string;

  beforeAll(async () => {
    dir = project(APPROVERS);
    const rt = await Runtime.open({ cwd: dir });
    const st = rt.state!;
    const allow = (await rt.evaluate({ ...DEV_CREATE, cost: { usd: 0.5, tokens: 10 } })).decision;
    st.recordSpend(allow.id!, 0.75, 0, new Date().toISOString());
    st.recordOutcome({ decision: allow.id!, event: 'success', by: { party: 'human', name: 'alice' }, deltas: rt.config.trust.outcomes }, new Date().toISOString());
    const esc = (await rt.evaluate(STAGING_DELETE)).escalation!;
    st.resolveEscalation(esc, 'approved', 'alice', undefined, new Date().toISOString(), new Date(Date.now() + 3_600_000).toISOString());
    const esc2 = (await rt.evaluate({ ...STAGING_DELETE, resource: 'k8s:pod/web-2' })).escalation!;
    st.resolveEscalation(esc2, 'denied', 'alice', 'not today', new Date().toISOString(), new Date(Date.now() + 3_600_000).toISOString());
    // A denial for a leaked key costs trust.
    const leak = (await rt.evaluate({ agent: 'coder', action: 'write_file', resource: 'file:src/a.ts', environment: 'dev', content: `k = "${['AKIA', 'QYLPMN5HFIQR7XYZ'].join('')}"` })).decision;
    expect(leak.decision).toBe('deny');
    expect(st.trust('coder')).toBe(37);
    expect(st.verifyLedger()).toMatchObject({ ok: true });
    rt.close();
    pristine = join(dir, 'pristine.db');
    cpSync(join(dir, '.govern', 'state.db'), pristine);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const edits: [string, string][] = [
    ['a trust score', "UPDATE agents SET trust = 95 WHERE agent = 'deploy-agent'"],
    ['a trust score of an agent with none', "INSERT INTO agents (agent, trust, events, updated_at) VALUES ('mallory', 95, 1, '2026-01-01')"],
    ['a trust score deleted', "DELETE FROM agents WHERE agent = 'coder'"],
    ['who approved', "UPDATE escalations SET resolved_by = 'mallory' WHERE status = 'approved'"],
    ['what was approved', "UPDATE escalations SET request_key = 'other' WHERE status = 'approved'"],
    ['a pending escalation approved', "UPDATE escalations SET status = 'approved', resolved_by = 'alice' WHERE status = 'denied'"],
    ['a human deny erased', "UPDATE escalations SET expires_at = '2000-01-01T00:00:00.000Z' WHERE status = 'denied'"],
    ['spend', "UPDATE usage SET usd = 0"],
    ['a usage row deleted', "DELETE FROM usage WHERE period LIKE 'd:%'"],
    ['a chained trust change', "DROP TRIGGER chain_events_no_update; UPDATE chain_events SET record = replace(record, '\"trust_after\":42', '\"trust_after\":95') WHERE kind = 'outcome'"],
    ['a chained approval', "DROP TRIGGER chain_events_no_update; UPDATE chain_events SET record = replace(record, '\"by\":\"alice\"', '\"by\":\"mallory\"') WHERE kind = 'approval'"],
    ['a chained spend', "DROP TRIGGER chain_events_no_delete; DELETE FROM chain_events WHERE kind = 'spend'"],
  ];

  it.each(edits)('%s', (_what, sql) => {
    const file = join(dir, `edited-${Math.random().toString(36).slice(2)}.db`);
    cpSync(pristine, file);
    const Database = require('better-sqlite3');
    const db = new Database(file);
    const changed = db.exec(sql);
    expect(changed).toBeTruthy();
    db.close();
    const st = State.open(file);
    const v = st.verifyLedger();
    st.close();
    expect(v.ok).toBe(false);
    expect(v.problems.length).toBeGreaterThan(0);
  });

  it('govern ledger verify exits 5 and names the edit', () => {
    const edited = join(dir, 'cli', '.govern');
    mkdirSync(edited, { recursive: true });
    cpSync(pristine, join(edited, 'state.db'));
    const Database = require('better-sqlite3');
    const db = new Database(join(edited, 'state.db'));
    db.exec("UPDATE agents SET trust = 95 WHERE agent = 'deploy-agent'");
    db.close();
    const v = govern(['ledger', 'verify', '--state', join(edited, 'state.db')], { cwd: dir });
    expect(v.code).toBe(5);
    expect(v.stdout).toContain('agent deploy-agent has trust 95 but the ledger says 42 (the trust table was edited)');
  });
});
