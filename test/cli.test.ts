// The check and compile commands as hooks and CI run them: a real child process, exit codes,
// machine formats, and bad input that must end in a diagnostic, never a stack trace.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './core.js';
import { govern, tempTree } from './helpers.js';

const GOOD = `rules:
  - id: deny-prod-delete
    match: {category: DELETE, environment: production}
    effect: deny
tests:
  - name: prod delete is denied
    request: {agent: a, action: delete, environment: production}
    expect: deny
`;

describe('govern check', () => {
  it('passes the default pack with exit 0', () => {
    const r = govern(['check']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^\d+ files, \d+ rules, (\d+)\/\1 tests passed; no problems\n$/);
    expect(r.code).toBe(0);
  });

  it('exits 3 on a policy error and prints file:line:col with a code frame', async () => {
    const dir = tempTree({ 'p.yaml': 'rules:\n  - id: a\n    effect: dney\n' });
    const r = await cli(['check', dir]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('p.yaml:3:13 error schema/invalid-value');
    expect(r.stdout).toContain('3 |     effect: dney\n  |             ^^^^');
    expect(r.stdout).toContain('Did you mean `deny`?');
  });

  it('exits 4 when only tests fail', async () => {
    const dir = tempTree({ 'p.yaml': GOOD.replace('expect: deny', 'expect: allow') });
    const r = await cli(['check', dir]);
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('test/failed');
    expect(r.stdout).toContain('expected allow, got deny (by deny-prod-delete)');
  });

  it('--strict makes warnings fail; without it they pass', async () => {
    const dir = tempTree({ 'p.yaml': 'rules:\n  - id: a\n    match: {category: ACCESS}\n    effect: allow\n' });
    expect((await cli(['check', dir])).code).toBe(0);
    const r = await cli(['check', '--strict', dir]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('lint/unconditional-allow');
  });

  it('--no-tests skips the tests', async () => {
    const dir = tempTree({ 'p.yaml': GOOD.replace('expect: deny', 'expect: allow') });
    expect((await cli(['check', '--no-tests', dir])).code).toBe(0);
  });

  it('json output is the diagnostics and a summary', async () => {
    const dir = tempTree({ 'p.yaml': 'rules:\n  - id: a\n    effect: deny\n    when: {trust: {gt: x}}\n' });
    const r = await cli(['check', '--format', 'json', dir]);
    const out = JSON.parse(r.stdout);
    expect(out.summary.errors).toBe(1);
    expect(out.diagnostics[0]).toMatchObject({ code: 'schema/wrong-type', severity: 'error', file: expect.stringContaining('p.yaml'), line: 4, column: 24 });
  });

  it('sarif output is SARIF 2.1.0 with regions', async () => {
    const dir = tempTree({ 'p.yaml': 'rules:\n  - id: a\n    effect: deny\n    bogus: 1\n' });
    const out = JSON.parse((await cli(['check', '-f', 'sarif', dir])).stdout);
    expect(out.version).toBe('2.1.0');
    const res = out.runs[0].results[0];
    expect(res.ruleId).toBe('schema/unknown-field');
    expect(res.level).toBe('error');
    expect(res.locations[0].physicalLocation.region).toMatchObject({ startLine: 4, startColumn: 5 });
    expect(out.runs[0].tool.driver.rules.map((x: { id: string }) => x.id)).toContain('schema/unknown-field');
  });

  it('github output is one workflow annotation per diagnostic', async () => {
    const dir = tempTree({ 'p.yaml': 'rules:\n  - id: a\n    effect: deny\n    bogus: 1\n' });
    const r = await cli(['check', '--format=github', dir]);
    expect(r.stdout).toMatch(/^::error file=[^,]*p\.yaml,line=4,col=5,endLine=4,endColumn=10,title=schema\/unknown-field::unknown field `bogus`/);
    expect(r.code).toBe(3);
  });

  it('a usage error names the flag and shows the usage line', () => {
    const r = govern(['check', '--formt', 'json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown option '--formt'");
    expect(r.stderr).toContain('--format');
    expect(r.stderr).toContain('usage: govern check [options] [paths...]');
    const bad = govern(['check', '--format', 'xml']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("option '-f, --format <format>' argument 'xml' is invalid");
  });

  it('a mistyped command gets a suggestion', () => {
    const r = govern(['chekc']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Did you mean check?');
  });

  it('piped output has no colour codes even when a colour is possible', () => {
    const dir = tempTree({ 'p.yaml': 'rules:\n  - id: a\n    effect: dney\n' });
    const r = govern(['check', dir], { env: { NO_COLOR: '' } });
    expect(r.stdout).not.toMatch(/\x1b\[/);
    const forced = govern(['check', dir], { env: { NO_COLOR: '', FORCE_COLOR: '1' } });
    expect(forced.stdout).toMatch(/\x1b\[/);
    expect(govern(['check', '--no-color', dir], { env: { NO_COLOR: '', FORCE_COLOR: '1' } }).stdout).not.toMatch(/\x1b\[/);
  });

  it('a .cedar policy\'s @effect("warn") only warns, and an @effect that contradicts its keyword is an error', async () => {
    const dir = tempTree({ 'policies/w.cedar': '@id("w") @effect("warn") @message("watched") permit (principal, action, resource);\n' });
    const ev = await cli(['eval', '--no-state', '--agent', 'a', '--action', 'delete', '--env', 'production'], { cwd: dir });
    expect(ev.stdout).toMatch(/^ESCALATE/);
    expect(ev.stdout).toContain('warning w: watched');
    expect(ev.code).toBe(3);
    const bad = tempTree({ 'p.cedar': '@id("f")\n@effect("allow")\nforbid (principal, action, resource);\n' });
    const r = govern(['check', bad]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/p\.cedar:2:1 error cedar\/effect-mismatch `@effect\("allow"\)` contradicts `forbid`/);
  });

  describe('the policy folder comes from the config, relative to the config\'s folder (as eval takes it)', () => {
    const BROKEN = 'rules:\n  - id: a\n    effect: dney\n';
    const repo = () => tempTree({
      'govern.config.yaml': 'policies: governance   # relative to this file\n',
      'governance/p.yaml': GOOD,
      'policies/broken.yaml': BROKEN,
      'sub/deeper/policies/broken.yaml': BROKEN,
    });

    it('with the config found by walking up, from a subfolder', async () => {
      const dir = repo();
      const r = await cli(['check'], { cwd: join(dir, 'sub', 'deeper') });
      expect(r.stdout).toMatch(/^1 file, 1 rule, 1\/1 tests passed; no problems\n$/);
      expect(r.code).toBe(0);
      const out = tempTree({});
      const c = await cli(['compile', '--out', out], { cwd: join(dir, 'sub', 'deeper') });
      expect(c.code).toBe(0);
      expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).rules.map((x: { id: string }) => x.id)).toEqual(['deny-prod-delete']);
    });

    it('with --config naming a config in another folder', async () => {
      const dir = repo();
      const r = await cli(['--config', '../../govern.config.yaml', 'check'], { cwd: join(dir, 'sub', 'deeper') });
      expect(r.stdout).toMatch(/^1 file, 1 rule, 1\/1 tests passed; no problems\n$/);
      expect(r.code).toBe(0);
      const ev = await cli(['--config', '../../govern.config.yaml', 'eval', '--no-state', '--agent', 'a', '--action', 'delete', '--env', 'production'], { cwd: join(dir, 'sub', 'deeper') });
      expect(ev.stdout).toContain('deny-prod-delete');
    });

    it('without a policies: key, the folder beside the config; a bad config is an error with its place', async () => {
      const dir = tempTree({ 'govern.config.yaml': 'budgets: {day: {usd: 5}}\n', 'policies/p.yaml': GOOD, 'sub/x.txt': '' });
      expect((await cli(['check'], { cwd: join(dir, 'sub') })).stdout).toMatch(/^1 file, 1 rule, 1\/1 tests passed; no problems\n$/);
      const bad = tempTree({ 'govern.config.yaml': 'policies: 7\n', 'policies/p.yaml': GOOD });
      const r = await cli(['check'], { cwd: bad });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('govern.config.yaml:1:11 error config/wrong-type `policies` must be a string.');
    });
  });

  describe('bad input ends in a diagnostic, not a stack trace', () => {
    const cases: [string, Record<string, string | Buffer>, string, RegExp][] = [
      ['broken YAML', { 'p.yaml': 'rules:\n  - id: [a\n' }, 'yaml/syntax', /p\.yaml:\d+:\d+ error yaml\/syntax/],
      ['a wrong type', { 'p.yaml': 'rules: {id: a}\n' }, 'schema/wrong-type', /`rules` must be a list/],
      ['a file that is not a mapping', { 'p.yaml': '- 1\n- 2\n' }, 'schema/wrong-type', /the file must be a mapping/],
      ['a file that is not UTF-8', { 'p.yaml': Buffer.from([0x72, 0x75, 0x6c, 0x65, 0x73, 0x3a, 0x20, 0xff, 0xfe, 0x0a]) }, 'file/encoding', /p\.yaml:1:8 error file\/encoding .*not UTF-8/],
      ['a 10 MB file', { 'p.yaml': 'rules:\n' + '  # padding\n'.repeat(1_000_000) }, 'file/too-large', /p\.yaml is \d+\.\d MB; policy files may be at most 4 MB/],
      ['duplicate keys', { 'p.yaml': 'rules: []\nrules: []\n' }, 'yaml/syntax', /Map keys must be unique/],
    ];
    for (const [name, files, code, pattern] of cases) {
      it(name, async () => {
        const dir = tempTree(files);
        const r = await cli(['check', dir]);
        expect(r.code).toBe(3);
        expect(r.stdout).toContain(code);
        expect(r.stdout).toMatch(pattern);
        expect(r.stderr).toBe('');
      });
    }

    it('an empty file is a warning, not an error', async () => {
      const dir = tempTree({ 'p.yaml': '', 'q.yaml': GOOD });
      const r = await cli(['check', dir]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('warning policy/empty-file');
    });

    it('a folder without policies', async () => {
      const dir = tempTree({ 'README.md': '# nothing here\n' });
      const r = await cli(['check', dir]);
      expect(r.code).toBe(3);
      expect(r.stdout).toContain('error policy/no-policies');
      expect(r.stdout).toContain('holds no policy files');
    });

    it('a path that does not exist', () => {
      const r = govern(['check', '/nonexistent/policies']);
      expect(r.code).toBe(3);
      expect(r.stdout).toContain('error file/not-found /nonexistent/policies does not exist.');
    });
  });
});

describe('govern compile', () => {
  it('writes Cedar, schema and manifest, byte-identical on a second run', async () => {
    const out1 = tempTree({});
    const out2 = tempTree({});
    expect((await cli(['compile', '--out', out1])).code).toBe(0);
    expect((await cli(['compile', '--out', out2, '--quiet'])).code).toBe(0);
    const files = readdirSync(out1).sort();
    expect(files).toEqual(['manifest.json', 'policies.cedar', 'schema.cedarschema', 'warnings.cedar']);
    for (const f of files) expect(readFileSync(join(out2, f), 'utf8')).toBe(readFileSync(join(out1, f), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(out1, 'manifest.json'), 'utf8'));
    expect(manifest.hash).toMatch(/^[0-9a-f]{64}$/);
    const rule = manifest.rules.find((r: { id: string }) => r.id === 'deny-secret-in-content');
    expect(rule).toMatchObject({ effect: 'deny', tier: 3, set: 'decide', source: 'policies/secrets.yaml:7:5' });
    expect(rule.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(join(out1, 'policies.cedar'), 'utf8')).toContain('@id("deny-secret-in-content")');
  });

  it('says how many rules it compiled, in the singular for one', async () => {
    const one = tempTree({ 'p.yaml': GOOD });
    const out = tempTree({});
    const r = await cli(['compile', one, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^compiled 1 rule to \S+ \(bundle [0-9a-f]{12}\)\n$/);
    expect((await cli(['compile', '--out', out])).stdout).toMatch(/^compiled \d+ rules to /);
  });

  it('refuses to write anything when the policies have errors', async () => {
    const dir = tempTree({ 'p.yaml': 'rules:\n  - id: a\n    effect: dney\n' });
    const out = tempTree({});
    const r = await cli(['compile', dir, '--out', out]);
    expect(r.code).toBe(3);
    expect(readdirSync(out)).toEqual([]);
  });

  it('--help lists every flag with its help text', () => {
    const r = govern(['compile', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('-o, --out <dir>');
    expect(r.stdout).toContain('Exit codes:');
  });
});
