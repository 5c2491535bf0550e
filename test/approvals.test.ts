// Who may answer an escalation, what a human's deny does to the same request later, how people
// hear of a new escalation (a command, a webhook on 127.0.0.1), `eval --wait`, and the figures of
// `govern stats`. In process against a real state file, except a few runs of bin/govern.
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/config.js';
import { resolveApprover } from '../src/escalation/escalation.js';
import { Runtime } from '../src/runtime/runtime.js';
import { prometheus, stats } from '../src/stats/stats.js';
import { governAsync, ROOT, tempTree } from './helpers.js';

const ESCALATE = { agent: 'ops', action: 'delete', resource: 'k8s:pod/web-1', environment: 'staging' };

describe('who may approve', () => {
  const config = resolveConfig({
    approvers: [{ name: 'alice', os_users: ['alice', 'al'] }, { name: 'ci-bot', os_users: [] }, { name: 'carol' }],
    agents: { 'deploy-agent': { team: 'web' } },
    trust: { reporters: ['nightly-ci'] },
  }, undefined);
  const cases: [string, { as?: string; user: string; reporters?: boolean }, string | RegExp][] = [
    ['the approver whose os_users hold the OS user', { user: 'al' }, 'alice'],
    ['an approver without os_users, by name', { user: 'carol' }, 'carol'],
    ['an OS user nobody configured', { user: 'mallory' }, /OS user "mallory" is not a configured approver/],
    ['--as an approver the OS user runs as', { as: 'alice', user: 'alice' }, 'alice'],
    ['--as an approver the OS user does not run as', { as: 'alice', user: 'mallory' }, /approver alice does not run as OS user "mallory"/],
    ['--as a CI approver (os_users: [])', { as: 'ci-bot', user: 'runner' }, 'ci-bot'],
    ['--as an agent', { as: 'deploy-agent', user: 'alice' }, /deploy-agent is an agent; an agent never approves/],
    ['--as a name nobody configured', { as: 'mallory', user: 'alice' }, /mallory is not a configured approver/],
    ['--as a reporter, for an outcome', { as: 'nightly-ci', user: 'runner', reporters: true }, 'nightly-ci'],
    ['--as a reporter, for an approval', { as: 'nightly-ci', user: 'runner' }, /nightly-ci is not a configured approver/],
  ];
  it.each(cases)('%s', (_name, opts, want) => {
    const run = () => resolveApprover(config, opts);
    if (typeof want === 'string') expect(run()).toBe(want);
    else expect(run).toThrow(want);
  });

  it('nobody, without approvers in the config', () => {
    expect(() => resolveApprover(resolveConfig({}, undefined), { user: 'root' })).toThrow(/no approvers are configured, so nobody can approve or deny/);
  });
});

describe('escalations in the runtime', () => {
  let dir: string;
  let rt: Runtime;
  let posts: { body: any; type: string | undefined }[];
  let server: ReturnType<typeof createServer>;

  beforeAll(async () => {
    posts = [];
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        posts.push({ body: JSON.parse(body), type: req.headers['content-type'] });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    dir = tempTree({ 'govern.config.yaml': `notify:\n  webhook: ${url}\n  command: 'cat > notice.json; echo "$GOVERN_APPROVE_COMMAND" > approve.txt'\nescalations:\n  deny_ttl_hours: 1\n` });
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    rt = await Runtime.open({ cwd: dir });
  });

  afterAll(async () => {
    await rt.settled();
    rt.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a new escalation is announced once, redacted, with the command that approves it', async () => {
    const req = { ...ESCALATE, content: 'ask bob@example.com first' };
    const first = await rt.evaluate(req);
    await rt.settled();
    expect(first.decision.escalation).toEqual({ id: first.escalation, expires_at: expect.any(String) });
    expect(posts).toHaveLength(1);
    expect(posts[0]!.type).toBe('application/json');
    expect(posts[0]!.body).toMatchObject({ escalation: { id: first.escalation }, agent: 'ops', approve: `govern escalations approve ${first.escalation}`, reasons: [{ rule: 'escalate-delete-outside-dev' }] });
    expect(JSON.stringify(posts[0]!.body)).not.toContain('bob@example.com');
    expect(JSON.parse(readFileSync(join(dir, 'notice.json'), 'utf8'))).toEqual(posts[0]!.body);
    expect(readFileSync(join(dir, 'approve.txt'), 'utf8')).toBe(`govern escalations approve ${first.escalation}\n`);
    // Asking again waits on the same escalation: nobody is told twice.
    const again = await rt.evaluate(req);
    await rt.settled();
    expect(again.escalation).toBe(first.escalation);
    expect(posts).toHaveLength(1);
  });

  it('a human deny is remembered for that exact request and answered without asking again', async () => {
    const req = { ...ESCALATE, resource: 'k8s:pod/web-9' };
    const id = (await rt.evaluate(req)).escalation!;
    const now = new Date();
    rt.state!.resolveEscalation(id, 'denied', 'alice', 'not in freeze week', now.toISOString(), new Date(now.getTime() + rt.config.denyTtlHours * 3_600_000).toISOString());
    const denied = await rt.evaluate(req);
    expect(denied.decision).toMatchObject({ decision: 'deny', tier: 3 });
    expect(denied.decision.reasons[0]).toMatchObject({ rule: null, effect: 'deny', message: expect.stringContaining(`denied by alice (escalation ${id}); the same request is denied until`) });
    expect(denied.decision.escalation).toBeUndefined();
    // Another request still asks.
    expect((await rt.evaluate({ ...req, resource: 'k8s:pod/web-10' })).decision.decision).toBe('escalate');
    // Once the deny is forgotten, the request asks a human again, as a new escalation.
    const later = await rt.evaluate(req, { now: new Date(now.getTime() + 2 * 3_600_000) });
    expect(later.decision.decision).toBe('escalate');
    expect(later.escalation).not.toBe(id);
    expect(rt.state!.verifyLedger().ok).toBe(true);
  });

  it('an unanswered escalation expires: it cannot be approved afterwards, and the request asks anew', async () => {
    const req = { ...ESCALATE, resource: 'k8s:pod/web-11' };
    const id = (await rt.evaluate(req)).escalation!;
    const after = new Date(Date.now() + (rt.config.pendingTtlHours + 1) * 3_600_000);
    expect(() => rt.state!.resolveEscalation(id, 'approved', 'alice', undefined, after.toISOString(), null)).toThrow(/expired at .* and was answered as a deny/);
    expect((await rt.evaluate(req, { now: after })).escalation).not.toBe(id);
  });

  it('stats: autonomy, routes, hit rates, tokens saved and open escalations, per agent and overall', () => {
    const s = stats(rt.state!, { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 3 * 3_600_000) });
    expect(s.overall.decisions).toBeGreaterThanOrEqual(6);
    expect(s.agents.ops).toMatchObject({ autonomous: 0, autonomy_rate: 0, routes: { rules: expect.any(Number) }, rule_hit_rate: 1 });
    expect(s.overall.by_decision.deny).toBe(1);
    expect(s.overall.tokens.saved).toBeGreaterThan(0);
    expect(s.overall.escalations.open).toBeGreaterThanOrEqual(2);
    expect(s.overall.escalations.oldest_age_s).toBeGreaterThanOrEqual(3 * 3600 - 60);
    const text = prometheus(s);
    expect(text).toContain('# TYPE govern_autonomy_rate gauge\ngovern_autonomy_rate 0\ngovern_autonomy_rate{agent="ops"} 0\n');
    expect(text).toMatch(/^govern_escalations_open{agent="ops"} \d+$/m);
    expect(text).toMatch(/^govern_tokens{kind="saved"} \d+$/m);
  });
});

describe('govern eval --wait', () => {
  it('waits for a human; a timeout is a deny (exit 2); an approval while it waits allows (exit 0)', async () => {
    const { userInfo } = await import('node:os');
    const dir = tempTree({ 'govern.config.yaml': `approvers:\n  - name: alice\n    os_users: [${JSON.stringify(userInfo().username)}]\n` });
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    try {
      const timedOut = await governAsync(['eval', '--wait', '0', '-f', 'json'], { cwd: dir, input: JSON.stringify(ESCALATE) });
      expect([timedOut.code, timedOut.stderr]).toEqual([2, expect.stringMatching(/no human answered escalation esc_\w+ within 0 s \(--wait\): do not proceed/)]);
      const id = JSON.parse(timedOut.stdout).escalation.id as string;
      const waiting = governAsync(['eval', '--wait', '600', '-f', 'json'], { cwd: dir, input: JSON.stringify(ESCALATE) });
      // The waiting eval asked the same request: it waits on the same escalation.
      const approve = await governAsync(['escalations', 'approve', id], { cwd: dir });
      expect(approve.code).toBe(0);
      const r = await waiting;
      expect([r.code, JSON.parse(r.stdout).decision]).toEqual([0, 'allow']);
      expect(existsSync(join(dir, '.govern', 'state.db'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
