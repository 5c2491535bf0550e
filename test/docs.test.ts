// The examples in docs/*.md (and the marked ones in README.md) are executed, so that the pages stay
// true. The convention, in the fenced code blocks' info strings:
//
//   ```yaml file=policies/team.yaml     writes the block to that path (relative to the page's folder)
//                                        when the page reaches it; later commands use it
//   ```sh test                          a shell session: `$ ` starts a command (a trailing `\` or a
//                                        heredoc continues it), the lines up to the next `$ ` are its
//                                        expected output (stdout and stderr). A line `...` stands for
//                                        any number of lines, `...` inside a line for any text.
//                                        A command that exits non-zero must be followed by
//                                        `$ echo $?`, which shows (and so asserts) the code.
//   ```json expect=deny [rule=ID]       a request: `govern eval` must decide it so (and name the rule)
//   ```json schema=request              a JSON or YAML block that must be valid against
//                                        schemas/<name>.schema.json
//   requires=python3                    skip the block when that program is not installed
//
// Each page runs in a fresh temporary folder, with `govern` on PATH (this repository's bin/govern),
// NO_COLOR=1 and no model API keys. `<!-- docs-test: copy=policies -->` in a page starts its folder
// with a copy of the default pack; `package` links node_modules/govern-cli to this repository, so
// that a page's `.mjs` files can `import ... from 'govern-cli'`. The blocks run in page order, one shell per session; every
// code block in docs/ in a language that can run must carry one of the marks above.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from './helpers.js';

const require = createRequire(import.meta.url);
const YAML = require('yaml') as typeof import('yaml');
const Ajv = require('ajv');

const DOCS = join(ROOT, 'docs');
/** Languages whose blocks are examples someone could run, and so must be marked in docs/. */
const RUNNABLE = new Set(['sh', 'bash', 'shell', 'console', 'yaml', 'yml', 'json', 'jsonl', 'js', 'mjs', 'javascript', 'ts', 'python', 'py', 'cedar']);
const MARKS = ['file', 'test', 'expect', 'schema'];

interface Block {
  page: string;
  /** Line of the opening fence (1-based). */
  line: number;
  lang: string;
  attrs: Map<string, string | true>;
  body: string;
}

interface Step {
  command: string;
  line: number;
  expected: string[];
}

export function parseBlocks(text: string, page: string): Block[] {
  const lines = text.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    const info = open[3]!.trim().split(/\s+/).filter(Boolean);
    const body: string[] = [];
    let j = i + 1;
    const close = new RegExp(`^\\s*\\${fence[0]}{${fence.length},}\\s*$`);
    while (j < lines.length && !close.test(lines[j]!)) body.push(lines[j++]!);
    const attrs = new Map<string, string | true>();
    for (const a of info.slice(1)) {
      const eq = a.indexOf('=');
      attrs.set(eq < 0 ? a : a.slice(0, eq), eq < 0 ? true : a.slice(eq + 1));
    }
    out.push({ page, line: i + 1, lang: (info[0] ?? '').toLowerCase(), attrs, body: body.length ? body.join('\n') + '\n' : '' });
    i = j;
  }
  return out;
}

/** The commands of a session and the output each one must print. */
export function parseSession(b: Block): Step[] {
  const lines = b.body.replace(/\n$/, '').split('\n');
  const steps: Step[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!l.startsWith('$ ')) {
      if (!steps.length) throw new Error(`${b.page}:${b.line + 1 + i}: a session starts with a command (\`$ \`), not with: ${l}`);
      steps[steps.length - 1]!.expected.push(l);
      continue;
    }
    const line = b.line + 1 + i;
    let command = l.slice(2);
    while (command.endsWith('\\') && i + 1 < lines.length) command += '\n' + lines[++i]!;
    for (const m of command.matchAll(/<<(-?)\s*(['"]?)([A-Za-z_]\w*)\2/g)) {
      const end = m[3]!;
      while (i + 1 < lines.length) {
        const next = lines[++i]!;
        command += '\n' + next;
        if ((m[1] ? next.trim() : next) === end) break;
      }
    }
    steps.push({ command, line, expected: [] });
  }
  return steps;
}

function clean(lines: string[]): string[] {
  const out = lines.map((l) => l.replace(/\s+$/, ''));
  while (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

function linePattern(expected: string): RegExp {
  return new RegExp(`^${expected.split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** Whether the output matches: `...` alone is any number of lines, inside a line any text. */
export function matches(expected: string[], actual: string[]): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * 100_003 + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === expected.length) r = j === actual.length;
    else if (expected[i] === '...') r = go(i + 1, j) || (j < actual.length && go(i, j + 1));
    else r = j < actual.length && linePattern(expected[i]!).test(actual[j]!) && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

/** The first expected line that does not match, for the failure message. */
function firstDifference(expected: string[], actual: string[]): string {
  let j = 0;
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] === '...') return 'after a `...` line';
    if (j >= actual.length) return `expected line ${i + 1} (${expected[i]}) is missing`;
    if (!linePattern(expected[i]!).test(actual[j]!)) return `expected line ${i + 1}:\n    ${expected[i]}\n  got:\n    ${actual[j]}`;
    j++;
  }
  return `unexpected output from line ${j + 1}: ${actual[j]}`;
}

const indent = (lines: string[]) => (lines.length ? lines.map((l) => `    ${l}`).join('\n') : '    (nothing)');

interface Env {
  vars: NodeJS.ProcessEnv;
  bin: string;
}

function environment(): Env {
  const bin = mkdtempSync(join(tmpdir(), 'govern-docs-bin-'));
  symlinkSync(BIN, join(bin, 'govern'));
  const vars: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  for (const k of ['FORCE_COLOR', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OLLAMA_HOST', 'OPENAI_ORG_ID', 'OPENAI_PROJECT_ID']) delete vars[k];
  return { vars, bin };
}

function run(cmd: string, args: string[], cwd: string, env: Env, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, env: env.vars, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => p.kill("SIGKILL"), 180_000);
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    // A command that does not read its input may close it first.
    p.stdin.on('error', () => {});
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    p.stdin.end(input ?? '');
  });
}

const MARK = '\u001eEND';

async function runSession(b: Block, steps: Step[], dir: string, env: Env): Promise<string[]> {
  const script = ['exec 2>&1', `exec </dev/null`];
  steps.forEach((s, i) => script.push(s.command, `__rc=$?; printf '\\n${MARK} ${i} %d\\036\\n' "$__rc"; (exit $__rc)`));
  // Beside the govern link, not in the page's folder, where commands would see it.
  const file = join(env.bin, `${basename(dir)}-${b.line}.sh`);
  writeFileSync(file, script.join('\n') + '\n');
  const r = await run('bash', [file], dir, env);
  rmSync(file);
  const failures: string[] = [];
  const re = new RegExp(`\\n${MARK} (\\d+) (-?\\d+)\\u001e\\n`, 'g');
  const outputs: { text: string; code: number }[] = [];
  let at = 0;
  for (const m of r.stdout.matchAll(re)) {
    outputs[Number(m[1])] = { text: r.stdout.slice(at, m.index), code: Number(m[2]) };
    at = m.index! + m[0].length;
  }
  steps.forEach((s, i) => {
    const where = `${b.page}:${s.line}: $ ${s.command.split('\n')[0]}`;
    const o = outputs[i];
    if (!o) {
      failures.push(`${where}\n  the session stopped before this command (exit ${r.code}); output after the last command:\n${indent(clean(r.stdout.slice(at).split('\n')))}`);
      return;
    }
    const actual = o.text === '' ? [] : clean(o.text.replace(/\n$/, '').split('\n'));
    const expected = clean(s.expected);
    if (!matches(expected, actual)) {
      failures.push(`${where}\n  expected:\n${indent(expected)}\n  actual:\n${indent(actual)}\n  ${firstDifference(expected, actual)}`);
    }
    if (o.code !== 0 && steps[i + 1]?.command.trim() !== 'echo $?') {
      failures.push(`${where}\n  exited ${o.code}; a command that exits non-zero is followed by \`$ echo $?\` showing the code.`);
    }
  });
  return failures;
}

function schemaValidator(): (name: string, data: unknown) => string | undefined {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const load = (name: string) => JSON.parse(readFileSync(join(ROOT, 'schemas', `${name}.schema.json`), 'utf8'));
  ajv.addSchema(load('decision'));
  const compiled = new Map<string, { (d: unknown): boolean; errors?: unknown }>();
  return (name, data) => {
    let v = compiled.get(name);
    if (!v) {
      v = name === 'decision' ? ajv.getSchema('https://govern.dev/schemas/decision.schema.json') : ajv.compile(load(name));
      compiled.set(name, v!);
    }
    return v!(data) ? undefined : ajv.errorsText(v!.errors);
  };
}

function onPath(program: string, env: Env): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { env: env.vars }).status === 0;
}

interface PageResult {
  failures: string[];
  blocks: number;
  commands: number;
  skipped: number;
}

/** Runs one page's examples in a fresh folder; returns the failures, each with its page and line. */
async function runPage(page: string, text: string, env: Env, opts: { all: boolean }): Promise<PageResult> {
  const blocks = parseBlocks(text, page);
  const dir = mkdtempSync(join(tmpdir(), 'govern-docs-'));
  const res: PageResult = { failures: [], blocks: 0, commands: 0, skipped: 0 };
  const validate = schemaValidator();
  for (const m of text.matchAll(/^<!--\s*docs-test:\s*(.*?)\s*-->\s*$/gm)) {
    for (const d of m[1]!.split(/\s+/)) {
      const copy = /^copy=(.+)$/.exec(d);
      if (copy) for (const p of copy[1]!.split(',')) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
      else if (d === 'package') {
        // `import ... from 'govern-cli'` resolves to this repository, as after `npm install govern-cli`.
        mkdirSync(join(dir, 'node_modules'), { recursive: true });
        symlinkSync(ROOT, join(dir, 'node_modules', 'govern-cli'), 'dir');
      } else res.failures.push(`${page}: unknown docs-test directive \`${d}\``);
    }
  }
  const requests: { block: Block; request: unknown }[] = [];
  try {
    for (const b of blocks) {
      const marked = MARKS.some((k) => b.attrs.has(k));
      if (!marked) {
        if (opts.all && RUNNABLE.has(b.lang)) res.failures.push(`${page}:${b.line}: a \`${b.lang}\` example with no test mark (${MARKS.join(', ')}); see test/docs.test.ts`);
        continue;
      }
      const need = b.attrs.get('requires');
      if (typeof need === 'string' && !onPath(need, env)) {
        res.skipped++;
        continue;
      }
      res.blocks++;
      const where = `${page}:${b.line}`;
      let data: unknown;
      if (['json', 'jsonl', 'yaml', 'yml'].includes(b.lang)) {
        try {
          if (b.lang === 'jsonl') b.body.split('\n').filter((l) => l.trim()).forEach((l) => JSON.parse(l));
          else data = b.lang === 'json' ? JSON.parse(b.body) : YAML.parse(b.body);
        } catch (e) {
          res.failures.push(`${where}: not valid ${b.lang}: ${(e as Error).message}`);
          continue;
        }
      }
      const file = b.attrs.get('file');
      if (typeof file === 'string') {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), b.body);
      }
      const schema = b.attrs.get('schema');
      if (typeof schema === 'string') {
        const problem = validate(schema, data);
        if (problem) res.failures.push(`${where}: not a valid ${schema} (schemas/${schema}.schema.json): ${problem}`);
      }
      if (b.attrs.has('expect')) requests.push({ block: b, request: data });
      if (b.attrs.get('test') === true) {
        let steps: Step[];
        try {
          steps = parseSession(b);
        } catch (e) {
          res.failures.push((e as Error).message);
          continue;
        }
        res.commands += steps.length;
        res.failures.push(...(await runSession(b, steps, dir, env)));
      }
    }
    if (requests.length) {
      // Decided in one process, against the page's files as they are at its end.
      const input = requests.map((r) => JSON.stringify(r.request)).join('\n') + '\n';
      const r = await run(process.execPath, [BIN, 'eval', '--no-state', '--batch', '-'], dir, env, input);
      const lines = r.stdout.split('\n').filter(Boolean);
      requests.forEach(({ block, request }, i) => {
        const where = `${page}:${block.line}`;
        let d: { decision?: string; reasons?: { rule: string | null }[]; error?: { message: string } };
        try {
          d = JSON.parse(lines[i] ?? 'null') ?? { error: { message: `no answer (${r.stderr.trim()})` } };
        } catch {
          d = { error: { message: `not JSON: ${lines[i]}` } };
        }
        if (d.error) {
          res.failures.push(`${where}: the request could not be decided: ${d.error.message}\n${indent([JSON.stringify(request)])}`);
          return;
        }
        const want = block.attrs.get('expect');
        if (d.decision !== want) res.failures.push(`${where}: the text says ${String(want)}, govern eval decides ${d.decision} (${(d.reasons ?? []).map((x) => x.rule ?? '(no rule)').join(', ')})`);
        const rule = block.attrs.get('rule');
        if (typeof rule === 'string' && !(d.reasons ?? []).some((x) => x.rule === rule)) {
          res.failures.push(`${where}: the text names rule ${rule}; the reasons are ${(d.reasons ?? []).map((x) => x.rule ?? '(no rule)').join(', ')}`);
        }
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return res;
}

function pages(): string[] {
  return existsSync(DOCS) ? readdirSync(DOCS).filter((f) => f.endsWith('.md')).sort() : [];
}

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function anchors(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const l of text.split('\n')) {
    if (/^\s*(`{3,}|~{3,})/.test(l)) fenced = !fenced;
    const h = !fenced && /^#{1,6}\s+(.*)$/.exec(l);
    if (!h) continue;
    const s = slug(h[1]!);
    const n = seen.get(s) ?? 0;
    seen.set(s, n + 1);
    out.add(n ? `${s}-${n}` : s);
  }
  return out;
}

describe('docs', () => {
  const env = environment();
  const totals = { blocks: 0, commands: 0, skipped: 0 };
  afterAll(() => {
    rmSync(env.bin, { recursive: true, force: true });
    if (process.env.DOCS_TEST_SUMMARY) process.stdout.write(`docs examples: ${totals.blocks} blocks, ${totals.commands} commands, ${totals.skipped} skipped\n`);
  });

  it('the index lists every page, and every relative link points at a file and heading that exist', () => {
    const index = readFileSync(join(DOCS, 'README.md'), 'utf8');
    for (const p of pages().filter((f) => f !== 'README.md')) expect(index, `docs/README.md does not list ${p}`).toContain(`(${p})`);
    const problems: string[] = [];
    for (const file of [...pages().map((p) => join(DOCS, p)), join(ROOT, 'README.md')]) {
      const text = readFileSync(file, 'utf8');
      const prose = text.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, '');
      for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const resolved = path ? join(dirname(file), path) : file;
        if (!existsSync(resolved)) { problems.push(`${relative(ROOT, file)}: link to ${target}: no such file`); continue; }
        if (anchor && resolved.endsWith('.md') && !anchors(readFileSync(resolved, 'utf8')).has(anchor)) problems.push(`${relative(ROOT, file)}: link to ${target}: no such heading`);
      }
    }
    expect(problems).toEqual([]);
  });

  const all = [...pages().map((p) => ({ page: `docs/${p}`, path: join(DOCS, p), all: true })), { page: 'README.md', path: join(ROOT, 'README.md'), all: false }];
  for (const p of all) {
    it.concurrent(`${p.page}: every example runs and prints what the page says`, async () => {
      const r = await runPage(p.page, readFileSync(p.path, 'utf8'), env, { all: p.all });
      totals.blocks += r.blocks;
      totals.commands += r.commands;
      totals.skipped += r.skipped;
      if (r.failures.length) throw new Error(`${r.failures.length} example${r.failures.length === 1 ? '' : 's'} no longer true:\n\n${r.failures.join('\n\n')}`);
    }, 300_000);
  }
});
