// The pre-commit hook as a team meets it: a git repository whose .pre-commit-config.yaml names
// govern's hook (the definition in this repository's .pre-commit-hooks.yaml, fetched by the real
// pre-commit from a local git repository, so no network is needed); a commit with a broken policy
// is refused with govern's file:line:col, and goes through once the policy is fixed.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { compilerCache, localPrebuilds, ROOT } from './helpers.js';

const preCommit = spawnSync('pre-commit', ['--version'], { encoding: 'utf8' });
const missing = preCommit.error || preCommit.status !== 0
  ? 'pre-commit is not installed (apt-get install pre-commit, or pip install pre-commit); .ci/run installs it'
  : undefined;

const BAD = 'rules:\n  - id: a\n    effect: dney\n';
const GOOD = `rules:
  - id: deny-prod-delete
    match: {category: DELETE, environment: production}
    effect: deny
tests:
  - name: a production delete is denied
    request: {agent: a, action: delete, environment: production}
    expect: deny
`;

describe.skipIf(missing !== undefined)(`pre-commit hook govern-check${missing ? ` (skipped: ${missing})` : ''}`, () => {
  // git and pre-commit see only this environment: govern from bin/ (and the node running the
  // tests) first on PATH, pre-commit's cache in a temporary folder, no git settings of the machine.
  const home = mkdtempSync(join(tmpdir(), 'govern-precommit-'));
  const env: Record<string, string> = {
    PATH: [join(ROOT, 'bin'), dirname(process.execPath), process.env.PATH ?? ''].join(delimiter),
    HOME: home,
    PRE_COMMIT_HOME: join(home, 'cache'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com',
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
  };
  const run = (cwd: string, cmd: string, args: string[]): SpawnSyncReturns<string> => {
    const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
    if (r.error) throw r.error;
    return r;
  };
  const git = (cwd: string, ...args: string[]) => {
    const r = run(cwd, 'git', args);
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };

  it('declares a valid hook that runs govern check once on the policy folder', () => {
    const r = run(ROOT, 'pre-commit', ['validate-manifest', '.pre-commit-hooks.yaml']);
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
    const hooks = parse(readFileSync(join(ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as Record<string, unknown>[];
    expect(hooks).toEqual([
      expect.objectContaining({ id: 'govern-check', entry: 'govern check', language: 'node', pass_filenames: false }),
      expect.objectContaining({ id: 'govern-check-system', entry: 'govern check', language: 'system', pass_filenames: false }),
    ]);
    for (const hook of hooks) {
      const files = new RegExp(String(hook.files));
      for (const p of ['policies/a.yaml', 'policies/team/b.yml', 'policies/raw.cedar', 'govern.config.yaml']) expect(files.test(p), p).toBe(true);
      for (const p of ['src/policies.ts', 'README.md', 'examples/requests/a.json']) expect(files.test(p), p).toBe(false);
    }
  });

  it('refuses a commit with a broken policy, showing file:line:col, and accepts it once fixed', () => {
    // The hook's repository: this repository's hook definition, committed in a local git
    // repository that pre-commit clones as it would clone govern's.
    const hookRepo = mkdtempSync(join(tmpdir(), 'govern-hooks-'));
    git(hookRepo, 'init', '-q');
    copyFileSync(join(ROOT, '.pre-commit-hooks.yaml'), join(hookRepo, '.pre-commit-hooks.yaml'));
    git(hookRepo, 'add', '.pre-commit-hooks.yaml');
    git(hookRepo, 'commit', '-q', '-m', 'hooks');
    const rev = git(hookRepo, 'rev-parse', 'HEAD');

    const project = mkdtempSync(join(tmpdir(), 'govern-project-'));
    git(project, 'init', '-q');
    writeFileSync(join(project, '.pre-commit-config.yaml'), `repos:\n  - repo: ${hookRepo}\n    rev: ${rev}\n    hooks:\n      - id: govern-check-system\n`);
    const install = run(project, 'pre-commit', ['install']);
    expect(install.status, install.stderr).toBe(0);

    mkdirSync(join(project, 'policies'));
    writeFileSync(join(project, 'policies', 'delete.yaml'), BAD);
    git(project, 'add', '.pre-commit-config.yaml', 'policies/delete.yaml');
    const refused = run(project, 'git', ['commit', '-m', 'a broken policy']);
    const out = refused.stdout + refused.stderr;
    expect(refused.status, out).not.toBe(0);
    expect(out).toMatch(/govern check\.+Failed/);
    expect(out).toContain('policies/delete.yaml:3:13 error schema/invalid-value');
    expect(out).toContain('Did you mean `deny`?');
    expect(run(project, 'git', ['rev-parse', '--verify', '-q', 'HEAD']).status).not.toBe(0);

    writeFileSync(join(project, 'policies', 'delete.yaml'), GOOD);
    git(project, 'add', 'policies/delete.yaml');
    const accepted = run(project, 'git', ['commit', '-m', 'a working policy']);
    expect(accepted.status, accepted.stdout + accepted.stderr).toBe(0);
    expect(accepted.stdout + accepted.stderr).toMatch(/govern check\.+Passed/);
    expect(git(project, 'log', '--format=%s')).toBe('a working policy');

    // A commit that touches no policy file does not run govern at all.
    writeFileSync(join(project, 'README.md'), 'notes\n');
    git(project, 'add', 'README.md');
    const other = run(project, 'git', ['commit', '-m', 'notes']);
    expect(other.status).toBe(0);
    expect(other.stdout + other.stderr).toMatch(/govern check\.+\(no files to check\)Skipped/);
  });

  // The hook a team adds without installing anything: pre-commit clones this repository at the
  // commit under test, installs it as a node package (npm install, npm pack, which builds dist/)
  // and runs the govern it built. Needs the npm registry, as any npm install does.
  const head = spawnSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  const clean = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', '.pre-commit-hooks.yaml', '.npmrc', 'package.json'], { encoding: 'utf8' });
  const why = head.status !== 0 ? 'not a git checkout' : clean.stdout.trim() ? 'the hook files have uncommitted changes; the hook installs the committed ones' : undefined;
  it.skipIf(why !== undefined)(`installs govern from the repository (language: node) and refuses a broken policy${why ? ` (skipped: ${why})` : ''}`, () => {
    const project = mkdtempSync(join(tmpdir(), 'govern-project-node-'));
    git(project, 'init', '-q');
    writeFileSync(join(project, '.pre-commit-config.yaml'), `repos:\n  - repo: ${ROOT}\n    rev: ${head.stdout.trim()}\n    hooks:\n      - id: govern-check\n`);
    mkdirSync(join(project, 'policies'));
    writeFileSync(join(project, 'policies', 'delete.yaml'), BAD);
    git(project, 'add', '.pre-commit-config.yaml', 'policies/delete.yaml');
    // Not the govern of bin/ on PATH: the one pre-commit installed.
    const path = [dirname(process.execPath), ...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== join(ROOT, 'bin'))].join(delimiter);
    // npm with the machine's settings, as it would run for the user: their HOME (user config) and
    // npm's global config, which pre-commit's own npm prefix would otherwise hide (a registry's
    // certificate authority is often set there).
    const globalconfig = spawnSync('npm', ['config', 'get', 'globalconfig'], { encoding: 'utf8' }).stdout.trim();
    const nodeEnv = {
      ...env, PATH: path, ...(process.env.HOME ? { HOME: process.env.HOME } : {}), ...(globalconfig ? { NPM_CONFIG_GLOBALCONFIG: globalconfig } : {}),
      // Packages from npm's cache when it holds them, and better-sqlite3's native module as the
      // prebuilt archive its installer looks for (as a user downloads it), instead of compiling
      // SQLite from source twice (npm install in the clone, then npm install -g of the packed
      // govern), which takes minutes on a small machine and proves nothing about the hook.
      npm_config_prefer_offline: 'true',
      // No security audit or funding notes: requests and work that no step of the hook uses.
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      ...localPrebuilds(),
      // tree-sitter's native module, compiled in the clone and again in the global install,
      // through ccache when the machine has it.
      ...compilerCache(),
    };
    const r = spawnSync('pre-commit', ['run', '--all-files'], { cwd: project, env: nodeEnv, encoding: 'utf8', timeout: 1_500_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = r.stdout + r.stderr;
    expect(r.status, out).not.toBe(0);
    expect(out).toMatch(/govern check\.+Failed/);
    expect(out).toContain('policies/delete.yaml:3:13 error schema/invalid-value');
    writeFileSync(join(project, 'policies', 'delete.yaml'), GOOD);
    const ok = spawnSync('pre-commit', ['run', '--all-files'], { cwd: project, env: nodeEnv, encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/govern check\.+Passed/);
  }, 1_800_000);
});
