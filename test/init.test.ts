// `govern init` as a new user meets it: --yes in an empty folder gives a project that checks clean
// and whose example requests decide as their names say; files that exist are kept unless --force;
// without a terminal it asks for --yes; on a terminal its questions are answered with keystrokes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { init, type InitSettings, type Terminal } from '../src/init/init.js';
import { loadConfig } from '../src/config/config.js';
import { parseConfig } from '../src/config/parse.js';
import { cli } from './core.js';
import { BIN, govern, ROOT, tempTree } from './helpers.js';

/** Every file under `dir`, relative, with its text. */
function snapshot(dir: string): Map<string, { text: string; mtime: number }> {
  const out = new Map<string, { text: string; mtime: number }>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), { text: readFileSync(p, 'utf8'), mtime: statSync(p).mtimeMs });
    }
  };
  walk(dir);
  return out;
}

/** Each example request decides as its name says (allow-, deny-, escalate-). */
async function expectExamplesDecideAsNamed(dir: string): Promise<string[]> {
  const names = readdirSync(join(dir, 'examples', 'requests')).filter((f) => f.endsWith('.json')).sort();
  for (const name of names) {
    const want = name.split('-')[0]!;
    const r = await cli(['eval', '--format', 'json', `examples/requests/${name}`], { cwd: dir });
    expect(r.stderr, name).toBe('');
    expect(JSON.parse(r.stdout).decision, name).toBe(want);
    expect(r.code, name).toBe({ allow: 0, deny: 2, escalate: 3 }[want]);
  }
  return names;
}

describe('govern init --yes', () => {
  it('writes a project that govern check passes and whose examples decide as named', async () => {
    const dir = tempTree({});
    const r = govern(['init', '--yes'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Wrote \d+ files:\n/);
    expect(r.stdout).toContain('  govern.config.yaml\n');
    expect(r.stdout).toContain('Next steps:\n  govern check ');
    expect(r.stdout).toMatch(/govern eval examples\/requests\/escalate-[a-z-]+\.json/);
    expect(r.stdout).not.toMatch(/\x1b\[/);

    // The default pack is the project's own, byte for byte.
    for (const f of readdirSync(join(ROOT, 'policies')).filter((x) => x.endsWith('.yaml'))) {
      expect(readFileSync(join(dir, 'policies', f), 'utf8')).toBe(readFileSync(join(ROOT, 'policies', f), 'utf8'));
    }
    for (const f of ['.pre-commit-config.yaml', '.github/workflows/govern.yml', '.govern/.gitignore']) expect(existsSync(join(dir, f)), f).toBe(true);

    // The config is valid under the schema, commented, and loads with the defaults it states.
    const text = readFileSync(join(dir, 'govern.config.yaml'), 'utf8');
    expect(() => parseConfig(join(dir, 'govern.config.yaml'), text)).not.toThrow();
    expect(text).toContain('# Environments your agents act in: production, staging, dev, test.');
    expect(text).toContain('# Language models: none.');
    const config = await loadConfig(undefined, dir);
    expect(config.policies).toBe(join(dir, 'policies'));
    expect(config.budgets).toEqual({ day: { usd: 5, tokens: 100_000 }, hour: { usd: 1, tokens: 20_000 } });
    expect(config.models).toEqual({});

    const check = await cli(['check'], { cwd: dir });
    expect(check.stdout).toMatch(/tests passed; no problems\n$/);
    expect(check.code).toBe(0);

    const names = await expectExamplesDecideAsNamed(dir);
    for (const kind of ['allow', 'deny', 'escalate']) expect(names.filter((n) => n.startsWith(`${kind}-`)).length, kind).toBeGreaterThanOrEqual(2);
  });

  it('run again without --force, changes nothing and lists what it skipped (exit 0)', async () => {
    const dir = tempTree({});
    expect((await cli(['init', '--yes'], { cwd: dir })).code).toBe(0);
    writeFileSync(join(dir, 'govern.config.yaml'), 'policies: policies   # mine\n');
    const before = snapshot(dir);
    const r = await cli(['init', '--yes'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(snapshot(dir)).toEqual(before);
    expect(r.stdout).toContain(`Skipped ${before.size} files that already exist (--force overwrites them):`);
    for (const path of before.keys()) expect(r.stdout).toContain(`  ${path.split('\\').join('/')} `);
    expect(r.stdout).toMatch(/ {2}govern\.config\.yaml +differs from the default: yours is kept\n/);
    expect(r.stdout).toMatch(/ {2}policies\/access\.yaml +unchanged\n/);
    expect(r.stdout).toContain('Nothing was written.');

    // --quiet keeps only the news: the file whose content was kept instead of the default.
    const quiet = await cli(['init', '--yes', '--quiet'], { cwd: dir });
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toMatch(/^Skipped 1 file that already exists \(--force overwrites it\):\n {2}govern\.config\.yaml +differs from the default: yours is kept\n$/);
  });

  it('--force overwrites files that exist', async () => {
    const dir = tempTree({ 'govern.config.yaml': 'policies: policies   # mine\n', 'policies/access.yaml': 'rules: []\n', 'notes.txt': 'untouched\n' });
    const r = await cli(['init', '--yes', '--force'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Overwrote 2 files:\n {2}govern\.config\.yaml\n {2}policies\/access\.yaml\n/);
    expect(readFileSync(join(dir, 'govern.config.yaml'), 'utf8')).toContain('written by `govern init`');
    expect(readFileSync(join(dir, 'policies/access.yaml'), 'utf8')).toBe(readFileSync(join(ROOT, 'policies/access.yaml'), 'utf8'));
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('untouched\n');
  });

  it('--dir writes into another folder, creating it, and the next steps start with cd', async () => {
    const parent = tempTree({});
    const r = await cli(['init', '--yes', '--dir', 'new-project', '--policies', './governance/'], { cwd: parent });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Wrote ');
    expect(r.stdout).toContain(' files in new-project:');
    expect(r.stdout).toContain('\n  cd new-project\n  govern check governance ');
    const dir = join(parent, 'new-project');
    expect(readFileSync(join(dir, 'govern.config.yaml'), 'utf8')).toContain('\npolicies: governance\n');
    expect(readFileSync(join(dir, '.github/workflows/govern.yml'), 'utf8')).toContain('run: govern check governance --format github');
    expect(readFileSync(join(dir, '.pre-commit-config.yaml'), 'utf8')).toContain('files: ^(governance/.*\\.(ya?ml|cedar)|govern\\.config\\.yaml)$');
    expect((await cli(['check', 'governance'], { cwd: dir })).code).toBe(0);
    await expectExamplesDecideAsNamed(dir);
  });

  it('--quiet prints nothing when everything was written', async () => {
    const dir = tempTree({});
    const r = await cli(['init', '--yes', '-q'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(existsSync(join(dir, 'govern.config.yaml'))).toBe(true);
  });

  it('output is plain when piped, even where colour is possible', () => {
    const dir = tempTree({});
    const r = govern(['init', '--yes'], { cwd: dir, env: { NO_COLOR: '' } });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('without a terminal and without --yes it asks for --yes, exit 1, and writes nothing', () => {
    const dir = tempTree({});
    const r = govern(['init'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^govern: init asks questions, but stdin is not a terminal\. Pass --yes/);
    expect(r.stdout).toBe('');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a policy folder outside the project is a usage error', async () => {
    const dir = tempTree({});
    const r = await cli(['init', '--yes', '--policies', '../elsewhere'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--policies: ../elsewhere: The folder must be inside the project folder.');
  });
});

/** A terminal made of streams: the test reads what init shows and types when a question appears. */
function fakeTerminal() {
  const input = new PassThrough();
  // A wide terminal, so that no question is wrapped across lines.
  const output = Object.assign(new PassThrough(), { columns: 200, rows: 50 });
  let screen = '';
  let seen = 0;
  output.on('data', (d: Buffer) => (screen += d.toString()));
  return {
    terminal: { input, output, interactive: true } satisfies Terminal,
    screen: () => screen,
    /** Waits until `question` is on the screen (after the last answer), then types `keys`. */
    async answer(question: RegExp, keys: string): Promise<void> {
      const until = Date.now() + 100_000;
      while (!question.test(screen.slice(seen))) {
        if (Date.now() > until) throw new Error(`no question ${question} on the screen:\n${screen.slice(seen)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      seen = screen.length;
      input.write(keys);
    },
  };
}

const ENTER = '\r';
const DOWN = '\x1b[B';

function settings(dir: string): InitSettings {
  return { dir, yes: false, force: false, quiet: false, color: false };
}

describe('govern init on a terminal', () => {
  it('asks each question and writes what was answered', async () => {
    const dir = tempTree({});
    const t = fakeTerminal();
    let printed = '';
    const done = init(settings(dir), t.terminal, (s) => (printed += s));
    // Environments: all four are checked; uncheck staging and test, then name another one.
    await t.answer(/Which environments do your agents act in\?/, `${DOWN} ${DOWN}${DOWN} ${ENTER}`);
    await t.answer(/Other environments/, `sandbox${ENTER}`);
    await t.answer(/Which model decides/, `${DOWN}${ENTER}`);
    await t.answer(/Which anthropic model\?/, `claude-haiku-4-5${ENTER}`);
    await t.answer(/Which folder holds the policies\?/, `governance${ENTER}`);
    await t.answer(/Add a pre-commit hook/, `n${ENTER}`);
    await t.answer(/Add a GitHub Actions workflow/, `y${ENTER}`);
    expect(await done).toBe(0);

    expect(t.screen()).toContain('The API key comes from ANTHROPIC_API_KEY in the environment, never from a file.');
    expect(t.screen()).toContain('no rules of its own for sandbox');
    const text = readFileSync(join(dir, 'govern.config.yaml'), 'utf8');
    expect(text).toContain('# Environments your agents act in: production, dev, sandbox.');
    const config = await loadConfig(undefined, dir);
    expect(config.policies).toBe(join(dir, 'governance'));
    expect(config.models.large).toMatchObject({ provider: 'anthropic', model: 'claude-haiku-4-5' });
    expect(existsSync(join(dir, '.pre-commit-config.yaml'))).toBe(false);
    expect(readFileSync(join(dir, '.github/workflows/govern.yml'), 'utf8')).toContain('govern check governance --format github');
    expect(printed).toContain('export ANTHROPIC_API_KEY=...');

    // The examples use the environments named: a scratch file in dev, a delete in sandbox.
    const example = (name: string) => JSON.parse(readFileSync(join(dir, 'examples/requests', `${name}.json`), 'utf8'));
    expect(example('allow-scratch-file').environment).toBe('dev');
    expect(example('escalate-delete-pod').environment).toBe('sandbox');
    expect((await cli(['check', 'governance'], { cwd: dir })).code).toBe(0);
    await expectExamplesDecideAsNamed(dir);
  });

  it('asks before overwriting each file that differs, and keeps what it is told to keep', async () => {
    const dir = tempTree({ 'govern.config.yaml': '# mine\n', 'examples/requests/deny-drop-table.json': '{}\n' });
    const t = fakeTerminal();
    let printed = '';
    const done = init(settings(dir), t.terminal, (s) => (printed += s));
    await t.answer(/Which environments/, ENTER);
    await t.answer(/Other environments/, ENTER);
    await t.answer(/Which model decides/, ENTER);
    await t.answer(/Which folder holds the policies\?/, ENTER);
    await t.answer(/Add a pre-commit hook/, ENTER);
    await t.answer(/Add a GitHub Actions workflow/, ENTER);
    await t.answer(/govern\.config\.yaml exists and differs from the default\. Overwrite it\?/, `n${ENTER}`);
    await t.answer(/deny-drop-table\.json exists and differs from the default\. Overwrite it\?/, `y${ENTER}`);
    expect(await done).toBe(0);
    expect(readFileSync(join(dir, 'govern.config.yaml'), 'utf8')).toBe('# mine\n');
    expect(JSON.parse(readFileSync(join(dir, 'examples/requests/deny-drop-table.json'), 'utf8')).agent).toBe('db-agent');
    expect(printed).toMatch(/Overwrote 1 file in [^\n]+:\n {2}examples\/requests\/deny-drop-table\.json\n/);
    expect(printed).toMatch(/Skipped 1 file that already exists \(--force overwrites it\):\n {2}govern\.config\.yaml +differs from the default: yours is kept\n/);
    expect(existsSync(join(dir, 'policies/access.yaml'))).toBe(true);
  });

  it('Ctrl+C cancels, and nothing is written', async () => {
    const dir = tempTree({});
    const t = fakeTerminal();
    const done = init(settings(dir), t.terminal, () => undefined);
    await t.answer(/Which environments/, ENTER);
    await t.answer(/Other environments/, '\x03');
    await expect(done).rejects.toThrow('cancelled; nothing was written.');
    expect(readdirSync(dir)).toEqual([]);
  });

  // The real process on a pseudo-terminal, as a person runs it: `script` gives it a TTY.
  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasScript)('runs its questions on a real terminal (script(1) provides one)', async () => {
    const dir = tempTree({});
    const command = [process.execPath, BIN, 'init', '--dir', dir].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['-qefc', command, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', TERM: 'xterm' } });
    let screen = '';
    let seen = 0;
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    const answer = async (question: RegExp, keys: string) => {
      const until = Date.now() + 100_000;
      while (!question.test(screen.slice(seen))) {
        if (Date.now() > until) throw new Error(`no question ${question} on the screen:\n${screen}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      seen = screen.length;
      child.stdin.write(keys);
    };
    await answer(/Which environments/, ENTER);
    await answer(/Other environments/, ENTER);
    await answer(/Which model decides/, `${DOWN}${DOWN}${DOWN}${ENTER}`);
    await answer(/Which ollama model\?/, ENTER);
    await answer(/Which folder holds the policies\?/, ENTER);
    await answer(/Add a pre-commit hook/, ENTER);
    await answer(/Add a GitHub Actions workflow/, `n${ENTER}`);
    const code = await exited;
    expect(code, screen).toBe(0);
    expect(screen).toContain('Ollama needs no API key');
    expect(screen).toContain('Next steps:');
    expect(screen).not.toMatch(/\x1b\[3\dm/);
    const config = await loadConfig(undefined, dir);
    expect(config.models.large).toMatchObject({ provider: 'ollama', model: 'llama3.1' });
    expect(existsSync(join(dir, '.pre-commit-config.yaml'))).toBe(true);
    expect(existsSync(join(dir, '.github'))).toBe(false);
  });
});
