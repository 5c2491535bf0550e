// Bounded input and lossless output. `eval FILE` reads a regular file only, and never past the
// 1 MB limit; stdin and batch lines are bounded too; every refusal is one line and exit 1. Output
// into a pipe that a slow reader keeps full is written whole before the process exits.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, cpSync, mkdirSync, openSync, truncateSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES, readRequestFile } from '../src/request/input.js';
import { State } from '../src/ledger/state.js';
import { UsageError } from '../src/cli/output.js';
import { BIN, govern, ROOT, tempTree } from './helpers.js';

function project(): string {
  const dir = tempTree({ 'govern.config.yaml': '' });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  return dir;
}

const REQUEST = { agent: 'coder', action: 'write_file', resource: 'file:tmp/a.txt', environment: 'dev' };

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

/** One line on stderr, no stack trace, exit 1. */
function expectOneLineFailure(r: { code: number; stderr: string; stdout: string }, message: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toContain('    at ');
}

describe('eval FILE reads a regular file, never past the limit', () => {
  const dir = tempTree({ 'ok.json': JSON.stringify(REQUEST), 'exact.json': ' '.repeat(MAX_REQUEST_BYTES - 2) + '{}', 'over.json': ' '.repeat(MAX_REQUEST_BYTES + 1), 'huge.json': '' });
  // A 600 MB file that takes no disk: refused by its size before a byte of it is read.
  truncateSync(join(dir, 'huge.json'), 600 * 1024 * 1024);
  mkdirSync(join(dir, 'folder'));
  const fifo = join(dir, 'fifo');
  const made = spawnSync('mkfifo', [fifo]).status === 0;

  it('reads a request file up to exactly 1 MB', () => {
    expect(JSON.parse(readRequestFile(join(dir, 'ok.json')).toString())).toEqual(REQUEST);
    expect(readRequestFile(join(dir, 'exact.json'))).toHaveLength(MAX_REQUEST_BYTES);
  });

  it('refuses a larger file by its size', () => {
    expect(refusal(() => readRequestFile(join(dir, 'over.json')))).toMatch(/over\.json: the request is 1\.1 MB; the limit is 1 MB\./);
    expect(refusal(() => readRequestFile(join(dir, 'huge.json')))).toMatch(/huge\.json: the request is 600\.0 MB; the limit is 1 MB\./);
  });

  it('refuses devices, FIFOs and folders without reading them, and names a missing file', () => {
    expect(refusal(() => readRequestFile('/dev/zero'))).toBe('/dev/zero is a character device, not a file; give a file that holds one request as JSON, or pipe the request on stdin.');
    if (made) expect(refusal(() => readRequestFile(fifo))).toMatch(/fifo is a named pipe \(FIFO\), not a file/);
    expect(refusal(() => readRequestFile(join(dir, 'folder')))).toMatch(/folder is a directory, not a file/);
    expect(refusal(() => readRequestFile(join(dir, 'missing.json')))).toMatch(/cannot read .*missing\.json: no such file\./);
  });

  it('the command says so in one line and exits 1: a 600 MB file, /dev/zero, a FIFO', () => {
    expectOneLineFailure(govern(['eval', 'huge.json'], { cwd: dir }), /^govern: huge\.json: the request is 600\.0 MB; the limit is 1 MB\.$/m);
    expectOneLineFailure(govern(['eval', '/dev/zero'], { cwd: dir }), /^govern: \/dev\/zero is a character device, not a file/);
    if (made) expectOneLineFailure(govern(['eval', 'fifo'], { cwd: dir }), /^govern: fifo is a named pipe \(FIFO\), not a file/);
  });

  it('stdin is bounded too: an endless stdin is refused after 2 MB', () => {
    const zero = openSync('/dev/zero', 'r');
    try {
      const r = spawnSync(process.execPath, [BIN, 'eval'], { cwd: dir, stdio: [zero, 'pipe', 'pipe'], encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
      expectOneLineFailure({ code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }, /^govern: stdin: the request is over 2\.0 MB; the limit is 1 MB\.$/m);
    } finally {
      closeSync(zero);
    }
  });
});

describe('eval --batch input', () => {
  it('answers a line over 1 MB with an error object in its place and goes on; blank lines keep the numbering', () => {
    const dir = project();
    const input = [JSON.stringify(REQUEST), '', `{"agent": "a", "content": "${'x'.repeat(MAX_REQUEST_BYTES)}"}`, JSON.stringify(REQUEST)].join('\n') + '\n';
    const r = govern(['eval', '--batch', '-'], { cwd: dir, input });
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out.map((o) => o.decision ?? 'error')).toEqual(['allow', 'error', 'allow']);
    expect(out[1].error).toEqual({ line: 3, message: 'line 3: the request is 1.1 MB; the limit is 1 MB.' });
    expect(r.stderr).toBe('govern: 1 of 4 lines could not be decided (see their error objects).\n');
    expect(r.code).toBe(1);
  });

  it('refuses a device or a folder as its input in one line; /dev/null is an empty batch', () => {
    const dir = project();
    expectOneLineFailure(govern(['eval', '--batch', '/dev/zero'], { cwd: dir }), /^govern: --batch: \/dev\/zero is a character device; give a file of JSON Lines, a pipe, or "-" for stdin\.$/m);
    expectOneLineFailure(govern(['eval', '--batch', 'policies'], { cwd: dir }), /^govern: --batch: policies is a directory/);
    expect(govern(['eval', '--batch', '/dev/null'], { cwd: dir })).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

/** Decisions recorded in a project's state file so far (0 before it exists). */
function recorded(dir: string): number {
  try {
    const state = State.open(join(dir, '.govern', 'state.db'), { readonly: true });
    try {
      return state.ledgerHead().seq;
    } finally {
      state.close();
    }
  } catch {
    return 0;
  }
}

/**
 * Runs bin/govern with its stdout on a real pipe (a FIFO: 64 KiB, where the socket pair Node
 * gives a child holds far more) that is read slowly (a pause after each chunk), and not at all
 * from the moment all `n` decisions are recorded until a second later: whatever govern writes
 * last goes into a full pipe. A govern that exits without waiting for the pipe loses it; one that
 * waits is read in full once the reader comes back. Nothing is asserted about time.
 */
function slowlyRead(args: string[], cwd: string, input: string, n: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const fifo = join(cwd, 'out.fifo');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  // The read end first (non-blocking, so opening does not wait), then the end govern writes to.
  const readEnd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeEnd = openSync(fifo, constants.O_WRONLY);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', writeEnd, 'pipe'] });
    closeSync(writeEnd);
    const out = new Socket({ fd: readEnd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    let stderr = '';
    let held = false;
    let code: number | null | undefined;
    let ended = false;
    const finish = () => {
      if (code !== undefined && ended) resolve({ code, stdout: Buffer.concat(chunks).toString('utf8'), stderr });
    };
    const poll = setInterval(() => {
      if (held || recorded(cwd) < n) return;
      held = true;
      clearInterval(poll);
      out.pause();
      setTimeout(() => out.resume(), 1000);
    }, 20);
    out.on('data', (d: Buffer) => {
      chunks.push(d);
      if (held) return;
      out.pause();
      setTimeout(() => held || out.resume(), 10);
    });
    out.on('end', () => {
      ended = true;
      finish();
    });
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('exit', (c) => {
      clearInterval(poll);
      code = c;
      finish();
    });
    p.stdin!.end(input);
  });
}

describe('output into a slow pipe is never lost', () => {
  it('eval --batch writes every decision, in order, and exits 0', async () => {
    const dir = project();
    // Two chunks of 256 decisions, then a last one of 188 (about 90 KB, more than a pipe holds)
    // written just before the process ends.
    const n = 700;
    const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ ...REQUEST, id: `r${i}` })).join('\n') + '\n';
    const r = await slowlyRead(['eval', '--batch', '-'], dir, lines, n);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Far more than a pipe holds (64 KiB): the last chunks had to wait for the reader.
    expect(r.stdout.length).toBeGreaterThan(256 * 1024);
    const out = r.stdout.trimEnd().split('\n');
    expect(out).toHaveLength(n);
    expect(out.every((l) => JSON.parse(l).decision === 'allow')).toBe(true);
  }, 120_000);

  it('check --format json writes the whole report when the reader starts late, and keeps its exit code', async () => {
    // 800 rules with a misspelt effect: about 250 KB of diagnostics, written at once as the command ends.
    const rules = Array.from({ length: 800 }, (_, i) => `  - id: rule-${i}\n    effect: dney\n`).join('');
    const dir = tempTree({ 'policies/bad.yaml': `rules:\n${rules}` });
    // A shell pipe (a child's stdio from Node is a socket, which holds far more) whose reader
    // starts a second late; the exit code comes back on stderr.
    const r = spawnSync('sh', ['-c', '{ "$0" "$1" check policies --format json; echo "exit $?" >&2; } | { sleep 1; cat; }', process.execPath, BIN], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.stdout.length).toBeGreaterThan(128 * 1024);
    const report = JSON.parse(r.stdout) as { diagnostics: { code: string }[] };
    expect(report.diagnostics.filter((d) => d.code === 'schema/invalid-value')).toHaveLength(800);
    expect(r.stderr).toBe('exit 3\n');
  }, 120_000);

  it('route --format json writes the whole report and exits 0', async () => {
    const dir = project();
    const n = 600;
    writeFileSync(join(dir, 'requests.jsonl'), Array.from({ length: n }, (_, i) => JSON.stringify({ ...REQUEST, id: `request-${i}-${'x'.repeat(200)}` })).join('\n') + '\n');
    const r = await slowlyRead(['route', 'requests.jsonl', '--format', 'json'], dir, '', n);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(256 * 1024);
    const report = JSON.parse(r.stdout) as { requests: unknown[]; totals: { requests: number } };
    expect(report.requests).toHaveLength(n);
    expect(report.totals.requests).toBe(n);
  }, 120_000);
});
