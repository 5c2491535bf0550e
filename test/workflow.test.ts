// The CI workflow that `govern init` writes, as a new project's CI would run it: its install step
// (`npm pack` from govern's git repository at the version's tag, then npm install --global of that
// tarball) against a local clone of this repository standing in for the real URL, then its govern
// steps with the govern that step installed, not the one in bin/. `npm pack` builds govern from
// source as npm does for any git dependency (npm install, prepare), so it needs the npm registry
// or its cache.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_ANSWERS, plan } from '../src/init/scaffold.js';
import { VERSION } from '../src/version.js';
import { compilerCache, localPrebuilds, ROOT } from './helpers.js';

const PLACEHOLDER = 'https://github.com/your-org/govern.git';
const head = spawnSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
const why = head.status !== 0 ? 'not a git checkout' : undefined;

describe.skipIf(why !== undefined)(`the workflow govern init writes${why ? ` (skipped: ${why})` : ''}`, () => {
  it('installs govern from the repository at its tag and runs the policy check and the labeled requests with it', () => {
    // The "remote": a bare clone of this repository with the version's tag on the commit under test.
    const remote = join(mkdtempSync(join(tmpdir(), 'govern-remote-')), 'govern.git');
    const git = (...args: string[]) => {
      const r = spawnSync('git', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    };
    git('clone', '-q', '--bare', ROOT, remote);
    git('-C', remote, 'tag', '-f', `v${VERSION}`, head.stdout.trim());

    // A new project as `govern init` lays it out, with the workflow and without the pre-commit hook.
    const project = mkdtempSync(join(tmpdir(), 'govern-ci-project-'));
    for (const file of plan({ ...DEFAULT_ANSWERS, precommit: false, workflow: true }, VERSION)) {
      mkdirSync(dirname(join(project, file.path)), { recursive: true });
      writeFileSync(join(project, file.path), file.content);
    }
    const workflow = parse(readFileSync(join(project, '.github', 'workflows', 'govern.yml'), 'utf8')) as { jobs: Record<string, { steps: { run?: string }[] }> };
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps).flatMap((s) => (s.run ? [s.run] : []));
    const install = steps.find((s) => s.startsWith('npm pack '));
    expect(install).toBe(`npm pack git+${PLACEHOLDER}#v${VERSION} && npm install --global ./govern-cli-${VERSION}.tgz`);
    const governSteps = steps.filter((s) => s.startsWith('govern '));
    expect(governSteps.map((s) => s.split(' ')[1])).toEqual(['check', 'route']);

    // npm's global prefix in a temporary folder; PATH without this repository's bin/, so the govern
    // that runs is the one the install step put there. The machine's npm settings (HOME, global
    // config: registry, certificate authority, cache) are the user's.
    const prefix = mkdtempSync(join(tmpdir(), 'govern-prefix-'));
    const globalconfig = spawnSync('npm', ['config', 'get', 'globalconfig'], { encoding: 'utf8' }).stdout.trim();
    // Only the settings a user's shell would have: none of the npm_* variables of the npm that runs
    // these tests, which would change what the nested npm installs.
    const env: Record<string, string> = {
      HOME: process.env.HOME ?? prefix,
      TMPDIR: tmpdir(),
      LANG: 'C.UTF-8',
      npm_config_prefix: prefix,
      npm_config_prefer_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      ...(globalconfig ? { NPM_CONFIG_GLOBALCONFIG: globalconfig } : {}),
      PATH: [join(prefix, 'bin'), dirname(process.execPath), ...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== join(ROOT, 'bin'))].join(delimiter),
      NO_COLOR: '1',
      // better-sqlite3's own prebuilt binary for this Node, as its installer would download it
      // (there is no network here), instead of compiling SQLite twice.
      ...localPrebuilds(),
      // tree-sitter's native module, compiled in npm pack's clone and again in the global install,
      // through ccache when the machine has it.
      ...compilerCache(),
    };
    const sh = (cmd: string, timeout = 120_000): SpawnSyncReturns<string> => spawnSync('sh', ['-c', cmd], { cwd: project, env, encoding: 'utf8', timeout });

    const installed = sh(install!.replace(PLACEHOLDER, `file://${remote}`), 1_200_000);
    expect(installed.status, installed.stdout + installed.stderr).toBe(0);
    const which = sh('command -v govern');
    expect(realpathSync(which.stdout.trim())).toBe(realpathSync(join(prefix, 'lib', 'node_modules', 'govern-cli', 'bin', 'govern')));
    expect(sh('govern --version').stdout.trim()).toBe(VERSION);

    for (const cmd of governSteps) {
      const r = sh(cmd);
      expect({ cmd, status: r.status, stderr: r.stderr }).toEqual({ cmd, status: 0, stderr: '' });
    }

    // The check step fails the job on a broken policy, with an annotation on its line.
    writeFileSync(join(project, 'policies', 'broken.yaml'), 'rules:\n  - id: a\n    effect: dney\n');
    const broken = sh(governSteps[0]!);
    expect(broken.status).toBe(3);
    expect(broken.stdout).toMatch(/^::error file=policies\/broken\.yaml,line=3,col=13/m);
  }, 1_800_000);
});
