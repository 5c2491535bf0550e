// The govern daemon, end to end with real processes: `daemon start` detaches `serve --socket`,
// `govern eval` answers through it exactly as in process (same output, same exit code, the same
// ledger), a policy edit is served from the next eval, and the client never uses a socket it
// must not trust (another user's, or a daemon for other policies): it decides in process instead.
import { spawnSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { govern, ROOT, tempTree, type Run } from './helpers.js';

const REQUEST = JSON.stringify({ agent: 'coder', action: 'write_file', resource: 'file:tmp/scratch.txt', environment: 'dev' });
const DELETE = ['--agent', 'coder', '--action', 'delete', '--resource', 'k8s:pod/web-1', '--env', 'production'];

describe('govern daemon', () => {
  const dir = tempTree({ 'request.json': REQUEST });
  // The user's daemon folder, private to this test.
  const runtime = mkdtempSync(join(tmpdir(), 'govern-run-'));
  const env = { XDG_RUNTIME_DIR: runtime };
  const run = (args: string[], input?: string): Run => govern(args, { cwd: dir, env, ...(input !== undefined ? { input } : {}) });
  const status = () => JSON.parse(run(['daemon', 'status', '--format', 'json']).stdout) as { state: string; pid: number; socket: string; status: { decisions: number; bundle: { hash: string } } };
  /** The decision without what differs between any two runs. */
  const stable = (out: string) => {
    const d = JSON.parse(out) as Record<string, unknown>;
    delete d.id;
    delete d.elapsed_ms;
    return d;
  };
  let socket = '';

  beforeAll(() => {
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    // A socket file left by a daemon that died (killed before it could remove it) at the default path.
    const stopped = JSON.parse(run(['daemon', 'status', '--format', 'json']).stdout) as { socket: string };
    socket = stopped.socket;
    spawnSync('mkdir', ['-p', '-m', '700', join(socket, '..')]);
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(lstatSync(socket).isSocket()).toBe(true);
  });

  afterAll(() => {
    run(['daemon', 'stop']);
    rmSync(runtime, { recursive: true, force: true });
  });

  it('starts over a stale socket, private to the user, and says what it serves', () => {
    const started = run(['daemon', 'start']);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/^started; running: pid \d+, socket .*\.sock\n/);
    const s = status();
    expect(s.state).toBe('running');
    expect(s.socket).toBe(socket);
    expect(s.status.decisions).toBe(0);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(join(socket, '..')).mode & 0o777).toBe(0o700);
    expect(run(['daemon', 'status']).stdout).toContain(`bundle ${s.status.bundle.hash.slice(0, 12)}`);
    // A second daemon never takes over a live one's socket.
    const second = run(['serve', '--socket', socket]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^govern: --socket: a daemon already answers on .*; stop it first/);
  });

  it('answers eval and explain exactly as in process: output, exit code and the ledger row', () => {
    // Decided once in process, so that both answers below come from the decision cache.
    expect(run(['eval', '--no-daemon', ...DELETE]).code).toBe(2);
    const through = run(['eval', '--format', 'json', ...DELETE]);
    expect(status().status.decisions).toBe(1);
    const local = run(['eval', '--no-daemon', '--format', 'json', ...DELETE]);
    expect(status().status.decisions).toBe(1);
    expect(through.code).toBe(2);
    expect(local.code).toBe(2);
    expect(stable(through.stdout)).toEqual(stable(local.stdout));
    const id = (JSON.parse(through.stdout) as { id: string }).id;
    expect(run(['ledger', 'export']).stdout).toContain(`"id":"${id}"`);

    const human = (r: Run) => r.stdout.replace(/, [\d.]+ ms\)?/, ', N ms').replace(/dec_\w+/, 'dec_N');
    expect(run(['eval', '--no-daemon', 'request.json']).code).toBe(0);
    const a = run(['explain', 'request.json']);
    const b = run(['explain', '--no-daemon', 'request.json']);
    expect(a.code).toBe(0);
    expect(human(a)).toBe(human(b));
    expect(a.stdout).toContain('matched allow    allow-temp-files-dev');
    expect(status().status.decisions).toBe(2);
    // A bad request is the same error, naming where it came from.
    const bad = run(['eval'], '{"agent": 1}');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(run(['eval', '--no-daemon'], '{"agent": 1}').stderr);
    expect(bad.stderr).toMatch(/^govern: stdin: agent: /);
  });

  it('answers without loading the command line: only what asking the daemon needs', () => {
    // The command line's bundle leaves its code cache in the user's cache folder when it runs.
    const cache = mkdtempSync(join(tmpdir(), 'govern-code-'));
    const codeCaches = () => (existsSync(join(cache, 'govern', 'code')) ? readdirSync(join(cache, 'govern', 'code')) : []);
    const asked = govern(['eval', 'request.json'], { cwd: dir, env: { ...env, XDG_CACHE_HOME: cache } });
    expect(asked.code).toBe(0);
    expect(asked.stdout).toContain('ALLOW');
    expect(codeCaches()).toEqual([]);
    const local = govern(['eval', '--no-daemon', 'request.json'], { cwd: dir, env: { ...env, XDG_CACHE_HOME: cache } });
    expect(local.code).toBe(0);
    expect(codeCaches()).toHaveLength(1);
  });

  it('serves a policy edit from the very next eval', () => {
    writeFileSync(join(dir, 'policies', 'zz-block.yaml'), `name: block-scratch
version: 1
rules:
  - id: deny-scratch-today
    match:
      resource: file
    when:
      resource.path: {glob: ["tmp/**"]}
    effect: deny
    message: No scratch files today.
`);
    const before = status().status.decisions;
    const r = run(['eval', 'request.json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('deny-scratch-today');
    expect(status().status.decisions).toBe(before + 1);
    // Policies that do not compile are not served: eval reports them, as in process.
    writeFileSync(join(dir, 'policies', 'zz-block.yaml'), 'rules: [\n');
    const broken = run(['eval', 'request.json']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('policies/zz-block.yaml:2:1');
    rmSync(join(dir, 'policies', 'zz-block.yaml'));
    expect(run(['eval', 'request.json']).code).toBe(0);
  });

  it('is not used for other policies, nor through a socket another user owns', () => {
    const before = status().status.decisions;
    cpSync(join(ROOT, 'policies'), join(dir, 'other'), { recursive: true });
    expect(run(['--policies', 'other', 'eval', 'request.json']).code).toBe(0);
    // On stdin too: the request read for the daemon is decided in process once it declines.
    const declined = run(['eval', '--policies', 'other', '--format', 'json'], REQUEST);
    expect(declined.code).toBe(0);
    expect(JSON.parse(declined.stdout)).toMatchObject({ decision: 'allow' });
    expect(status().status.decisions).toBe(before);
    if (process.getuid?.() !== 0) return; // only root can hand the socket to someone else
    chownSync(socket, 65534, 65534);
    try {
      const r = run(['eval', '--format', 'json', ...DELETE]);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout)).toMatchObject({ decision: 'deny' });
    } finally {
      chownSync(socket, 0, 0);
    }
    expect(status().status.decisions).toBe(before);
  });

  it('stops cleanly: the socket is removed and status says none runs', () => {
    const { pid } = status();
    const r = run(['daemon', 'stop']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^stopped: pid ${pid} \\(\\d+ decisions\\)\\n$`));
    expect(existsSync(socket)).toBe(false);
    const s = run(['daemon', 'status']);
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/^govern: no daemon runs for this configuration .*govern daemon start\.\n$/);
  });
});
