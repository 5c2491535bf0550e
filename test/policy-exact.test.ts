// What `govern check` accepts means exactly what it says: `.cedar` files are read by Cedar's parser,
// a `cedar:` condition is one expression, ids are unique, symbolic links and hidden files are never
// skipped silently, caches cannot turn a deny into an allow, and input that would crash Cedar is a
// diagnostic. Each case here was once accepted and decided otherwise than its text says.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpSync, existsSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, testOutcomesPath, validationCachePath } from '../src/check/check.js';
import type { Diagnostic } from '../src/diagnostics/diagnostic.js';
import { policyLogicKey, READS_AFTER } from '../src/cedar/cedar.js';
import { Engine } from '../src/engine/engine.js';
import { factsOf } from '../src/engine/facts.js';
import { normalizeRequest } from '../src/request/normalize.js';
import { loadBundle, PolicyError, Runtime } from '../src/runtime/runtime.js';
import { bundleCachePath, policiesKey, readCachedBundle } from '../src/runtime/bundle-cache.js';
import { CACHE_LIMITS, cachePath, readSealed, writeSealed } from '../src/cache/sealed.js';
import { bundleHash } from '../src/compile/schema.js';
import { BUILD, VERSION } from '../src/version.js';
import { ROOT, tempTree } from './helpers.js';

const require = createRequire(import.meta.url);

const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');
const codes = (ds: Diagnostic[]) => ds.map((d) => `${d.code} ${d.file.split('/').pop()}:${d.line}:${d.column}`);

function decide(dir: string, req: Record<string, unknown>) {
  const r = check([dir], { tests: false });
  expect(errors(r.diagnostics)).toEqual([]);
  return new Engine(r.bundle!, { validate: true }).decide(factsOf(normalizeRequest(req), { hour: 12 }));
}

/** A project with a repository root (a config file), so that links inside it may be followed. */
function project(files: Record<string, string>): string {
  return tempTree({ 'govern.config.yaml': '', ...files });
}

const RM = { agent: 'a', command: 'rm -rf /', environment: 'dev' };

/** Cedar spellings of annotations that a regular expression once misread; each is valid Cedar. */
export const ANNOTATION_SPELLINGS = [
  '@id ("x") @message ("m") forbid (principal, action, resource);',
  '@id("x")\n@effect ("escalate")\nforbid (principal, action, resource);',
  '@id\n("x") @effect(\n"escalate"\n) forbid(principal, action, resource);',
  '@id("x") // a comment with permit (principal, action, resource);\n@message("(permit)") forbid (principal, action, resource);',
  '@id("x")\t@message ( "say \\"permit\\"" )\tforbid\n(principal, action, resource);',
  '@note @id("x") forbid (principal, action, resource);',
];

describe('.cedar files are read by Cedar\'s parser', () => {
  it.each(ANNOTATION_SPELLINGS)('a forbid stays a deny or escalate however its annotations are spaced: %j', (text) => {
    const dir = tempTree({ 'p.cedar': `${text}\n@id("allow-all") permit (principal, action, resource);\n` });
    const d = decide(dir, RM);
    expect(d.decision).not.toBe('allow');
    expect(d.reasons.map((r) => r.rule)).toEqual(['x']);
    expect(d.decision).toBe(text.includes('escalate') ? 'escalate' : 'deny');
  });

  it('annotations are read as Cedar reads them: the message and escalate effect of a spaced annotation apply', () => {
    const dir = tempTree({ 'p.cedar': '@id ("no-rm") @message ("never (really)")\n@effect ( "escalate" )\nforbid (principal, action, resource);\n' });
    const d = decide(dir, RM);
    expect([d.decision, d.tier, d.reasons]).toEqual(['escalate', 2, [{ rule: 'no-rm', effect: 'escalate', message: 'never (really)', source: expect.stringMatching(/p\.cedar:1:1$/) }]]);
  });

  it('hot reload reads a spaced forbid the same way as check', async () => {
    const dir = project({ 'policies/p.cedar': '@id ("no-rm") forbid (principal, action, resource);\n' });
    const bundle = await loadBundle(join(dir, 'policies'));
    expect(bundle.byId.get('no-rm')!.effect).toBe('deny');
  });

  it('a policy template is reported, not skipped', () => {
    const dir = tempTree({ 'p.cedar': '@id("t") forbid (principal == ?principal, action, resource);\n@id("a") permit (principal, action, resource);\n' });
    const r = check([dir], { tests: false });
    expect(r.bundle).toBeUndefined();
    expect(codes(errors(r.diagnostics))).toEqual(['cedar/parse p.cedar:1:1']);
  });
});

describe('the engine hands Cedar each rule\'s logic without its annotations', () => {
  // A rule whose message or annotation spells out Cedar: were either part of the text Cedar
  // evaluates, it could add or cut a policy. The matcher must carry no annotation at all, and
  // read, as Cedar parses it, exactly as the written rule does.
  const TRICKY = '"); permit (principal, action, resource); //';
  const cases: [string, Record<string, string>][] = [
    ['.cedar', { 'p.cedar': `@id("no-rm") @message(${JSON.stringify(TRICKY)}) @note\nforbid (principal, action, resource) when { context.environment == "dev" && context has command };\n@id("allow-all") permit (principal, action, resource);\n` }],
    ['YAML', { 'p.yaml': `rules:\n  - id: no-rm\n    match: {environment: dev, category: DELETE}\n    effect: deny\n    message: ${JSON.stringify(TRICKY)}\n  - id: allow-all\n    effect: allow\n` }],
    ...ANNOTATION_SPELLINGS.map((text): [string, Record<string, string>] => [`.cedar ${JSON.stringify(text)}`, { 'p.cedar': `${text}\n@id("allow-all") permit (principal, action, resource);\n` }]),
  ];
  it.each(cases)('%s', (_, files) => {
    const dir = tempTree(files);
    const r = check([dir], { tests: false });
    expect(errors(r.diagnostics)).toEqual([]);
    for (const rule of r.bundle!.rules) {
      expect(rule.matcher, rule.id).not.toMatch(/@/);
      if (rule.effect !== 'allow') expect(policyLogicKey(rule.matcher), rule.id).toBe(policyLogicKey(rule.text));
    }
    const d = new Engine(r.bundle!, { validate: true }).decide(factsOf(normalizeRequest(RM), { hour: 12 }));
    expect(d.decision).not.toBe('allow');
    expect(d.reasons.map((x) => x.rule)).toEqual([r.bundle!.rules.find((x) => x.effect !== 'allow')!.id]);
  });
});

describe('ids are unique across .cedar and YAML', () => {
  it('twice in one .cedar file: forbid then permit', () => {
    const dir = tempTree({ 'p.cedar': '@id("x") forbid (principal, action, resource);\n@id("x") permit (principal, action, resource);\n' });
    const r = check([dir], { tests: false });
    expect(r.bundle).toBeUndefined();
    expect(codes(errors(r.diagnostics))).toEqual(['policy/duplicate-id p.cedar:2:1']);
  });

  it('across .cedar files', () => {
    const dir = tempTree({ 'a.cedar': '@id("x") forbid (principal, action, resource);\n', 'b.cedar': '\n@id("x") permit (principal, action, resource);\n' });
    const r = check([dir], { tests: false });
    expect(r.bundle).toBeUndefined();
    expect(codes(errors(r.diagnostics))).toEqual(['policy/duplicate-id b.cedar:2:1']);
    expect(errors(r.diagnostics)[0]!.related).toEqual([{ message: 'first defined here', file: expect.stringMatching(/a\.cedar$/), line: 1, column: 1 }]);
  });

  it('across YAML and .cedar, with the id spelled with a space', () => {
    const dir = tempTree({ 'a.yaml': 'rules:\n  - id: x\n    effect: deny\n', 'b.cedar': '@id ("x") permit (principal, action, resource);\n' });
    const r = check([dir], { tests: false });
    expect(codes(errors(r.diagnostics))).toEqual(['policy/duplicate-id b.cedar:1:1']);
  });
});

describe('a cedar: condition is exactly one expression', () => {
  const rule = (effect: string, cedar: string) => `rules:\n  - id: r\n    effect: ${effect}\n    when:\n      cedar: ${JSON.stringify(cedar)}\n`;

  it.each([
    ['deny', 'true) } unless { (true'],
    ['allow', 'false) || (true'],
    ['deny', 'true } unless { true'],
    ['allow', 'true } when { true'],
  ])('%s rule with `%s` is refused at the YAML', (effect, cedar) => {
    const dir = tempTree({ 'p.yaml': rule(effect, cedar) });
    const r = check([dir], { tests: false });
    expect(r.bundle).toBeUndefined();
    expect(codes(errors(r.diagnostics))).toEqual(['cedar/not-an-expression p.yaml:5:14']);
  });

  it('one expression, with its own brackets, is taken', () => {
    const dir = tempTree({ 'p.yaml': rule('deny', '(context.environment == "dev") || (context.environment == "test")') });
    expect(decide(dir, RM).decision).toBe('deny');
  });
});

describe('symbolic links and hidden files under policies/', () => {
  const DENY = 'rules:\n  - id: deny-rm\n    match: {category: DELETE}\n    effect: deny\n';
  const ALLOW = 'rules:\n  - id: allow-all\n    effect: allow\n    match: {environment: dev}\n';

  it('a linked file and a linked folder inside the repository are read', () => {
    const dir = project({ 'policies/allow.yaml': ALLOW, 'shared/deny.yaml': DENY, 'shared/more/x.cedar': '@id("no-x") forbid (principal, action, resource) when { context has command && context.command like "x*" };\n' });
    symlinkSync('../shared/deny.yaml', join(dir, 'policies', 'deny.yaml'));
    symlinkSync('../shared/more', join(dir, 'policies', 'more'));
    const r = check([join(dir, 'policies')], { tests: false });
    expect(r.diagnostics).toEqual([]);
    expect(r.bundle!.rules.map((x) => x.id).sort()).toEqual(['allow-all', 'deny-rm', 'no-x']);
    const d = new Engine(r.bundle!).decide(factsOf(normalizeRequest(RM), { hour: 12 }));
    expect([d.decision, d.reasons.map((x) => x.rule)]).toEqual(['deny', ['deny-rm']]);
  });

  it('links that leave the repository, dangle or loop are errors; hidden files are warned about', () => {
    const outside = tempTree({ 'deny.yaml': DENY });
    const dir = project({ 'policies/allow.yaml': ALLOW, 'policies/.hidden.yaml': DENY, 'policies/.old/x.yaml': DENY, 'policies/distilled/.history/r/v1.yaml': DENY, 'policies/distilled/d.yaml': ALLOW.replace('allow-all', 'allow-d').replace('dev', 'test') });
    const p = join(dir, 'policies');
    symlinkSync(join(outside, 'deny.yaml'), join(p, 'outside.yaml'));
    symlinkSync('missing.yaml', join(p, 'dangling.yaml'));
    symlinkSync('loop.yaml', join(p, 'loop.yaml'));
    symlinkSync('.', join(p, 'again'));
    const r = check([p], { tests: false });
    expect(r.bundle).toBeUndefined();
    expect(r.diagnostics.map((d) => `${d.severity} ${d.code} ${d.file.split('/').slice(-1)[0]}`)).toEqual([
      'warning file/skipped .hidden.yaml',
      'warning file/skipped .old',
      'error file/symlink-loop again',
      'error file/symlink-broken dangling.yaml',
      'error file/symlink-loop loop.yaml',
      'error file/symlink-outside outside.yaml',
    ]);
  });

  it('a file reached twice through a link is read once', () => {
    const dir = project({ 'policies/deny.yaml': DENY });
    symlinkSync('deny.yaml', join(dir, 'policies', 'same.yaml'));
    const r = check([join(dir, 'policies')], { tests: false });
    expect(r.diagnostics.map((d) => `${d.severity} ${d.code}`)).toEqual(['warning file/duplicate']);
    expect(r.bundle!.rules.map((x) => x.id)).toEqual(['deny-rm']);
  });
});

describe('caches are verified', () => {
  const POLICY = { 'policies/deny.yaml': 'rules:\n  - id: deny-rm-root\n    when: {command: {glob: "rm -rf /*"}}\n    effect: deny\n  - id: allow-dev\n    match: {environment: dev}\n    when: {trust: {gte: 0}, command: ls}\n    effect: allow\n' };

  /** A cache file's seal line and its JSON. */
  const unseal = (path: string) => {
    const data = readFileSync(path, 'utf8');
    const nl = data.indexOf('\n');
    return { seal: data.slice(0, nl + 1), json: JSON.parse(data.slice(nl + 1)) };
  };

  it('a bundle cache file is sealed and used; an edited one is rebuilt, never used, even with its hash made right', async () => {
    const dir = project(POLICY);
    const genuine = await loadBundle(join(dir, 'policies'));
    const key = policiesKey([join(dir, 'policies')], BUILD);
    const path = bundleCachePath(key)!;
    const { seal, json: stored } = unseal(path);
    expect(seal).toMatch(/^[0-9a-f]{64}\n$/);
    // As written, the cache is what the next process reads.
    expect(readCachedBundle(key, BUILD)?.hash).toBe(genuine.hash);
    const rule = stored.rules.find((r: { id: string }) => r.id === 'deny-rm-root');
    // A deny whose Cedar never matches, the bundle hash computed again for it: the file is
    // consistent, only the seal (which needs the user's key) gives it away.
    rule.matcher = 'forbid (principal, action, resource) when { false };';
    stored.hash = bundleHash(stored.schema, stored.rules);
    for (const text of [seal + JSON.stringify(stored), JSON.stringify(stored)]) {
      writeFileSync(path, text);
      const again = await loadBundle(join(dir, 'policies'));
      expect(again.hash).toBe(genuine.hash);
      expect(again.byId.get('deny-rm-root')!.matcher).toBe(genuine.byId.get('deny-rm-root')!.matcher);
      const d = new Engine(again).decide(factsOf(normalizeRequest({ ...RM, command: 'rm -rf /' }), { hour: 12 }));
      expect(d.decision).toBe('deny');
    }
  });

  it('an edited config cache file is not used: it cannot point govern at other policies', async () => {
    const dir = project({ ...POLICY, 'govern.config.yaml': 'policies: policies\n', 'elsewhere/allow.yaml': 'rules:\n  - id: allow-all\n    effect: allow\n' });
    const deny = async () => {
      const rt = await Runtime.open({ cwd: dir, noState: true });
      try {
        return (await rt.evaluate({ ...RM, command: 'rm -rf /' })).decision;
      } finally {
        rt.close();
      }
    };
    expect((await deny()).decision).toBe('deny');
    const path = cachePath('config', `${createHash('sha256').update(BUILD).update('\0').update('policies: policies\n').digest('hex').slice(0, 32)}.json`)!;
    const { seal, json } = unseal(path);
    expect(json).toEqual({ policies: 'policies' });
    for (const text of [seal + JSON.stringify({ policies: 'elsewhere' }), JSON.stringify({ policies: 'elsewhere' })]) {
      writeFileSync(path, text);
      const d = await deny();
      expect([d.decision, d.reasons.map((r) => r.rule)]).toEqual(['deny', ['deny-rm-root']]);
    }
  });

  it('a copy of the same policies in another folder uses the bundle compiled for the first; a changed byte or file name does not', async () => {
    const a = project(POLICY);
    const b = project(POLICY);
    process.chdir(a);
    const genuine = await loadBundle('policies');
    const key = policiesKey(['policies'], BUILD);
    expect(genuine.byId.get('deny-rm-root')!.source).toBe('policies/deny.yaml:2:5');
    process.chdir(b);
    expect(policiesKey(['policies'], BUILD)).toBe(key);
    expect(readCachedBundle(key, BUILD)?.hash).toBe(genuine.hash);
    writeFileSync(join(b, 'policies', 'deny.yaml'), POLICY['policies/deny.yaml'].replace('rm -rf /*', 'rm -rf /**'));
    expect(policiesKey(['policies'], BUILD)).not.toBe(key);
    const c = project({ 'policies/deny-rules.yaml': POLICY['policies/deny.yaml'] });
    process.chdir(c);
    expect(policiesKey(['policies'], BUILD)).not.toBe(key);
    expect((await loadBundle('policies')).byId.get('deny-rm-root')!.source).toBe('policies/deny-rules.yaml:2:5');
  });

  it('one file that spells out a second file after a NUL does not take the cached bundle of the two', async () => {
    const two = project({ 'policies/a.yaml': POLICY['policies/deny.yaml'], 'policies/b.yaml': 'rules:\n  - id: allow-all\n    effect: allow\n' });
    process.chdir(two);
    await loadBundle('policies');
    const key = policiesKey(['policies'], BUILD);
    const one = project({ 'policies/a.yaml': `${POLICY['policies/deny.yaml']}\0policies/b.yaml\0rules:\n  - id: allow-all\n    effect: allow\n` });
    process.chdir(one);
    expect(policiesKey(['policies'], BUILD)).not.toBe(key);
    // Compiled as it is, the file is refused: it does not decide with the rules of the other folder.
    await expect(loadBundle('policies')).rejects.toBeInstanceOf(PolicyError);
  });

  it('a policy file that cannot be read (a link out of the repository) stops the command, even when the others are cached', async () => {
    const dir = project(POLICY);
    await loadBundle(join(dir, 'policies'));
    const outside = project({ 'allow.yaml': 'rules:\n  - id: allow-all\n    effect: allow\n' });
    symlinkSync(join(outside, 'allow.yaml'), join(dir, 'policies', 'more.yaml'));
    const err = await loadBundle(join(dir, 'policies')).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).diagnostics.map((d) => d.code)).toContain('file/symlink-outside');
  });

  it('a cache folder keeps its most recently used files, within its limits', () => {
    const saved = { ...CACHE_LIMITS };
    const name = (i: number) => cachePath(`test-trim-${process.pid}`, `${i}.json`)!;
    try {
      for (let i = 0; i < 4; i++) {
        writeSealed(name(i), `entry ${i}`);
        // Written a minute apart, the first the oldest.
        utimesSync(name(i), new Date(Date.now() - (10 - i) * 60_000), new Date(Date.now() - (10 - i) * 60_000));
      }
      CACHE_LIMITS.files = 3;
      // Reading the oldest makes it the most recently used.
      expect(readSealed(name(0))).toBe('entry 0');
      writeSealed(name(4), 'entry 4');
      expect([0, 1, 2, 3, 4].filter((i) => existsSync(name(i)))).toEqual([0, 3, 4]);
      CACHE_LIMITS.files = 10;
      CACHE_LIMITS.bytes = 2 * (64 + 1 + 'entry 5'.length);
      [0, 3, 4].forEach((i, n) => utimesSync(name(i), new Date(Date.now() - (3 - n) * 60_000), new Date(Date.now() - (3 - n) * 60_000)));
      writeSealed(name(5), 'entry 5');
      expect([0, 3, 4, 5].filter((i) => existsSync(name(i)))).toEqual([4, 5]);
    } finally {
      Object.assign(CACHE_LIMITS, saved);
      rmSync(dirname(name(0)), { recursive: true, force: true });
    }
  });

  it("check's kept test outcomes and validation results are used only as sealed, and a changed test is decided again", () => {
    const tests = (cmd: string) => `tests:\n  - name: rm is denied\n    request: {agent: a, command: "${cmd}", environment: dev}\n    expect: deny\n  - name: ls is allowed\n    request: {agent: a, command: ls, environment: dev}\n    expect: allow\n`;
    const dir = tempTree({ 'deny.yaml': POLICY['policies/deny.yaml'] + tests('rm -rf /') });
    const first = check([dir]);
    expect(first.tests.map((t) => [t.passed, t.actual])).toEqual([[true, 'deny'], [true, 'allow']]);
    const path = testOutcomesPath(first.bundle!, first.model)!;
    const { seal, json } = unseal(path);
    expect(json.map((o: { decision: string }) => o.decision)).toEqual(['deny', 'allow']);
    // The deny's outcome edited into an allow: without the seal of this user's key it is not read,
    // the tests are decided again, and the file is written anew.
    const forged = JSON.stringify([{ ...json[0], decision: 'allow', reasons: [] }, json[1]]);
    for (const text of [seal + forged, forged]) {
      writeFileSync(path, text);
      expect(check([dir]).tests[0]).toMatchObject({ passed: true, actual: 'deny' });
      expect(unseal(path).json[0].decision).toBe('deny');
    }
    // Sealed under this user's key, as govern writes it, it is the outcome the next check reads.
    writeSealed(path, forged);
    expect(check([dir]).tests[0]).toMatchObject({ passed: false, actual: 'allow' });
    // A test whose request changes is decided again, under another key.
    writeFileSync(join(dir, 'deny.yaml'), POLICY['policies/deny.yaml'] + tests('ls'));
    expect(check([dir]).tests[0]).toMatchObject({ passed: false, actual: 'allow', message: expect.stringMatching(/expected deny, got allow/) });

    // Sealed outcomes of other tests, copied to this test set's place: not read there. The tests
    // of `ls` fail (the first expects a deny); those of `rm -rf /` passed, and their file says so.
    writeFileSync(join(dir, 'deny.yaml'), POLICY['policies/deny.yaml'] + tests('rm -rf /'));
    rmSync(path);
    const passing = check([dir]);
    expect(passing.tests.map((t) => t.passed)).toEqual([true, true]);
    const passed = readFileSync(path);
    writeFileSync(join(dir, 'deny.yaml'), POLICY['policies/deny.yaml'] + tests('ls'));
    const failing = check([dir]);
    const other = testOutcomesPath(failing.bundle!, failing.model)!;
    expect(other).not.toBe(path);
    writeFileSync(other, passed);
    expect(check([dir]).tests[0]).toMatchObject({ passed: false, actual: 'allow' });
    rmSync(other);

    // Cedar's validation of the bundle: kept the same way, and used only as sealed.
    rmSync(path);
    writeFileSync(join(dir, 'deny.yaml'), POLICY['policies/deny.yaml'] + tests('rm -rf /'));
    const again = check([dir]);
    const vpath = validationCachePath(again.bundle!.schema, Object.fromEntries(again.bundle!.rules.map((r) => [r.id, r.text])))!;
    expect(unseal(vpath).json).toEqual([]);
    const problem = JSON.stringify([{ policyId: 'deny-rm-root', message: 'a problem only the cache knows' }]);
    writeFileSync(vpath, problem);
    expect(check([dir]).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    writeSealed(vpath, problem);
    expect(check([dir]).diagnostics.map((d) => d.message)).toContain('rule `deny-rm-root` compiles to Cedar that does not validate: a problem only the cache knows');
    rmSync(vpath);
  });

  it('every cache is keyed by the build: a change to the compiled code changes the build id', () => {
    const dist = tempTree({ 'a.js': 'export const a = 1;\n', 'sub/b.js': 'export const b = 2;\n', 'notes.txt': 'x' });
    const id = () => {
      const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-id.mjs'), dist], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(join(dist, 'build-id.txt'), 'utf8').trim();
    };
    const first = id();
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(id()).toBe(first);
    writeFileSync(join(dist, 'notes.txt'), 'not code');
    expect(id()).toBe(first);
    writeFileSync(join(dist, 'sub', 'b.js'), 'export const b = 3;\n');
    expect(id()).not.toBe(first);
    // The build under test carries its own id in every key.
    expect(BUILD).toBe(`${VERSION}+${readFileSync(join(ROOT, 'dist', 'build-id.txt'), 'utf8').trim()}`);
  });

  it('an edited decision cache row never turns a deny into an allow', async () => {
    // Trust is part of the cache key; denials for findings keep it still here, so that the next
    // process reads back the very rows this one wrote.
    const dir = tempTree({ 'govern.config.yaml': 'trust:\n  findings: {default: 0}\n', ...POLICY });
    const ok = { agent: 'a', command: 'ls', environment: 'dev' };
    const first = await Runtime.open({ cwd: dir });
    try {
      expect((await first.evaluate(RM)).decision.decision).toBe('deny');
      expect((await first.evaluate(ok)).decision.decision).toBe('allow');
      // The process that made a decision answers it again from its own memory.
      expect((await first.evaluate(RM)).decision.route).toBe('cache');
    } finally {
      first.close();
    }
    const Database = require('better-sqlite3');
    const db = new Database(join(dir, '.govern', 'state.db'));
    const rows = db.prepare('SELECT key, decision FROM cache').all() as { key: string; decision: string }[];
    expect(rows.length).toBe(2);
    for (const row of rows) {
      const d = JSON.parse(row.decision);
      db.prepare('UPDATE cache SET decision = ? WHERE key = ?').run(JSON.stringify({ ...d, decision: 'allow', tier: 0, reasons: [] }), row.key);
    }
    db.close();
    // Another process reads the edited rows back: the deny rule has its say first.
    const second = await Runtime.open({ cwd: dir });
    try {
      // A cached allow the rules agree with is still served from the cache.
      expect((await second.evaluate(ok)).decision.route).toBe('cache');
      const again = await second.evaluate(RM);
      expect([again.decision.decision, again.decision.route]).toEqual(['deny', 'rules']);
    } finally {
      second.close();
    }
  });
});

describe('what would crash Cedar is a diagnostic', () => {
  it('131 nested `not:` is policy/too-deep at the YAML, and Cedar keeps working', () => {
    let cond = '{trust: 1}';
    for (let i = 0; i < 131; i++) cond = `{not: ${cond}}`;
    const dir = tempTree({ 'p.yaml': `rules:\n  - id: deep\n    effect: deny\n    when: ${cond}\n` });
    const r = check([dir], { tests: false });
    expect(r.bundle).toBeUndefined();
    expect(codes(errors(r.diagnostics))).toEqual(['policy/too-deep p.yaml:4:108']);
    expect(decide(tempTree({ 'p.cedar': '@id("x") forbid (principal, action, resource);\n' }), RM).decision).toBe('deny');
  });

  it('deep brackets in a .cedar file or a cedar: condition are cedar/parse, with a place', () => {
    const deep = `${'('.repeat(200)}true${')'.repeat(200)}`;
    const dir = tempTree({ 'p.cedar': `@id("x")\nforbid (principal, action, resource) when { ${deep} };\n`, 'q.yaml': `rules:\n  - id: q\n    effect: deny\n    when:\n      cedar: "${deep}"\n` });
    const r = check([dir], { tests: false });
    expect(r.bundle).toBeUndefined();
    expect(codes(errors(r.diagnostics))).toEqual(['cedar/parse p.cedar:2:92', 'cedar/parse q.yaml:5:14']);
  });

  it('a Cedar crash that no limit foresaw is a diagnostic, and the next check works', () => {
    const long = Array(20000).fill('true').join(' && ');
    const dir = tempTree({ 'p.cedar': `@id("x")\nforbid (principal, action, resource) when { ${long} };\n` });
    const r = check([dir], { tests: false });
    expect(r.bundle).toBeUndefined();
    expect(errors(r.diagnostics).map((d) => d.code)).toEqual(['cedar/parse']);
    expect(errors(r.diagnostics)[0]!.message).toMatch(/Cedar could not process this policy/);
    expect(decide(tempTree({ 'p.cedar': '@id("x") forbid (principal, action, resource);\n' }), RM).decision).toBe('deny');
  });

  it('the same crash met on a deep call stack (a RangeError, not a trap) is the same diagnostic, every time', () => {
    // Which limit a deep input reaches first, Cedar's own stack in its memory or the engine's
    // call stack, depends on how much stack the caller already used (a server reloading, a
    // library call) and on how far Cedar's code is optimized. Either is a report, never a throw.
    const long = Array(20000).fill('true').join(' && ');
    const dir = tempTree({ 'p.cedar': `@id("x")\nforbid (principal, action, resource) when { ${long} };\n` });
    const nest = <T>(depth: number, f: () => T): T => {
      if (depth === 0) return f();
      const r = nest(depth - 1, f);
      return r;
    };
    // How deep this process's stack lets `nest` go, so that the depths below leave the check
    // itself room to run whatever the frames' size in this runtime.
    let deepest = 0;
    const dive = (depth: number, f: () => void): number => {
      deepest = depth;
      const r = dive(depth + 1, f);
      return r;
    };
    try {
      dive(0, () => undefined);
    } catch {
      // deepest is as far as a frame of nest's shape got.
    }
    for (const depth of [0, 0.25, 0.5, 0.7].map((share) => Math.floor(deepest * share))) {
      const r = nest(depth, () => check([dir], { tests: false }));
      expect(r.bundle, `at depth ${depth}`).toBeUndefined();
      expect(errors(r.diagnostics).map((d) => d.code), `at depth ${depth}`).toEqual(['cedar/parse']);
    }
    expect(decide(tempTree({ 'p.cedar': '@id("x") forbid (principal, action, resource);\n' }), RM).decision).toBe('deny');
  });

  it('a lone surrogate in a policy string is policy/invalid-unicode at its place', () => {
    const dir = tempTree({ 'p.yaml': 'rules:\n  - id: r\n    effect: deny\n    message: "\\ud800"\n' });
    const r = check([dir], { tests: false });
    expect(r.bundle).toBeUndefined();
    expect(codes(errors(r.diagnostics))).toEqual(['policy/invalid-unicode p.yaml:4:14']);
  });

  it('a lone surrogate in a key or a test request too', () => {
    const dir = tempTree({ 'p.yaml': 'rules:\n  - id: r\n    effect: deny\n    when: {"context.\\udc00": x}\ntests:\n  - name: t\n    request: {agent: "\\ud83d", action: read}\n    expect: deny\n' });
    const r = check([dir]);
    expect(codes(errors(r.diagnostics))).toEqual(['policy/invalid-unicode p.yaml:4:12', 'policy/invalid-unicode p.yaml:7:22']);
  });
});

describe('a diagnostic about two rules names both as data', () => {
  it('a shadowed rule names the rule that covers it in related[].rule, identical or broader', () => {
    const dir = tempTree({
      'p.yaml': 'rules:\n  - id: escalate-all-deletes\n    match: {category: DELETE}\n    effect: escalate\n  - id: escalate-prod-deletes\n    match: {category: DELETE, environment: production}\n    effect: escalate\n  - id: escalate-all-deletes-again\n    match: {category: DELETE}\n    effect: escalate\n',
    });
    const shadowed = check([dir], { tests: false }).diagnostics.filter((d) => d.code === 'lint/shadowed-rule');
    expect(shadowed.map((d) => [d.rule, d.related?.map((r) => r.rule)])).toEqual([
      ['escalate-prod-deletes', ['escalate-all-deletes']],
      ['escalate-all-deletes-again', ['escalate-all-deletes']],
    ]);
  });
});

describe('a request narrowed to what a rule set reads', () => {
  // Once a Cedar set has been asked READS_AFTER times it is handed only the attributes its
  // policies read. Variants of denied requests, asked well past that point, must be decided as a
  // fresh engine (which hands Cedar the whole request) decides them, and the denies stay denies.
  const DENIED = [
    { agent: 'coder', action: 'read_file', resource: 'file:SECRETS/db.yaml', environment: 'dev' },
    { agent: 'coder', action: 'read_file', resource: 'file:config/Secrets/./db.yaml', environment: 'dev' },
    { agent: 'coder', action: 'write_file', resource: 'file:app/.ENV.local', environment: 'dev' },
    { agent: 'coder', action: 'write_file', resource: 'file:tmp//../../../etc/shadow', environment: 'dev' },
    { agent: 'coder', action: 'read_file', resource: 'file:tmp/notes.txt', environment: 'dev', command: 'sudo rm -rf /' },
    { agent: 'ops', action: 'read', environment: 'dev', command: 'rm -rf / --no-preserve-root', category: 'ACCESS' },
    { agent: 'infra', action: 'shell_exec', environment: 'PROD', command: 'terraform destroy -auto-approve' },
    { agent: 'deploy-agent', action: 'shell_exec', environment: 'production', command: 'kubectl   delete ns payments' },
    { agent: 'coder', action: 'write_file', resource: 'file:src/config.ts', environment: 'dev', content: 'const token = "ghp_Zx8Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0Xc2V";' },
    { agent: 'coder', action: 'write_file', resource: 'file:tmp/x', environment: 'dev', context: { nested: { deeper: { command: 'rm -rf /' } } }, command: 'x=rm; $x -rf /' },
  ];
  const ALLOWED = [
    { agent: 'coder', action: 'write_file', resource: 'file:tmp/scratch.txt', environment: 'dev' },
    { agent: { id: 'web-agent', team: 'team-alpha' }, action: 'read', resource: 'logs/web', namespace: 'team-alpha', environment: 'production' },
    { agent: 'auditor', action: 'audit', resource: 'iam:policy/all', environment: 'production' },
  ];

  it('decides variants of denied requests as the whole request does, and they stay denied', async () => {
    const dir = project({});
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    const requests = [...DENIED, ...ALLOWED];
    const verdict = (rt: Runtime, q: unknown) => {
      const p = rt.prepare(q);
      const d = (p.decision ?? p.undecided)!;
      return `${d.decision} ${d.reasons.map((r) => r.rule).join(',')}`;
    };
    // Each request on a runtime of its own: its Cedar sets are asked once, with the whole request.
    const whole: string[] = [];
    for (const q of requests) {
      const rt = await Runtime.open({ cwd: dir, noState: true });
      try { whole.push(verdict(rt, q)); } finally { rt.close(); }
    }
    expect(whole.slice(0, DENIED.length).map((v) => v.split(' ')[0])).toEqual(DENIED.map(() => 'deny'));
    expect(whole.slice(DENIED.length).map((v) => v.split(' ')[0])).toEqual(ALLOWED.map(() => 'allow'));
    const warm = await Runtime.open({ cwd: dir, noState: true });
    try {
      for (let round = 0; round < READS_AFTER + 2; round++) {
        expect(requests.map((q) => verdict(warm, q)), `round ${round}`).toEqual(whole);
      }
    } finally {
      warm.close();
    }
  });
});
