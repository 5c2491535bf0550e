// Shared test helpers: temporary policy folders and running the real bin/govern.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..');
export const BIN = join(ROOT, 'bin', 'govern');

/** A temporary folder holding the given files (paths may contain folders). */
export function tempTree(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'govern-test-'));
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  return dir;
}

export interface Run { code: number; stdout: string; stderr: string }

/** Runs bin/govern as a user would: a child process, no TTY, NO_COLOR set. */
export function govern(args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', ...opts.env },
    timeout: 180_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** As `govern`, without blocking this process (for tests that serve HTTP to the child). */
export function governAsync(args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', ...opts.env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    p.stdin.end(opts.input ?? '');
  });
}

/**
 * A folder holding better-sqlite3's native module, built or downloaded when this checkout was
 * installed, packed as prebuild-install names and unpacks a release download; the variable that
 * points better-sqlite3's install at it. Nothing when the module or tar is missing: npm compiles.
 */
export function localPrebuilds(): Record<string, string> {
  const pkg = join(ROOT, 'node_modules', 'better-sqlite3');
  const built = join(pkg, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(built)) return {};
  const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string };
  const stage = mkdtempSync(join(tmpdir(), 'govern-prebuild-'));
  mkdirSync(join(stage, 'build', 'Release'), { recursive: true });
  copyFileSync(built, join(stage, 'build', 'Release', 'better_sqlite3.node'));
  const dir = mkdtempSync(join(tmpdir(), 'govern-prebuilds-'));
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const tar = spawnSync('tar', ['-czf', join(dir, name), '-C', stage, 'build'], { encoding: 'utf8' });
  return tar.status === 0 ? { npm_config_better_sqlite3_local_prebuilds: dir } : {};
}

/**
 * The variables that send native builds through ccache, when it is installed: every install of
 * govern compiles tree-sitter's native module (the binary it publishes for linux-x64 needs a newer
 * libstdc++ than Debian 12's, so node-gyp-build falls back to node-gyp), twice in each install
 * test, and a cached compile gives the same objects in a tenth of the time. The cache is the one
 * ccache uses in this environment (the CI script fills it when it installs this checkout).
 * Nothing without ccache: the compiler runs each time, as for a user.
 */
export function compilerCache(): Record<string, string> {
  const dir = spawnSync('ccache', ['--get-config', 'cache_dir'], { encoding: 'utf8' });
  if (dir.error || dir.status !== 0 || !dir.stdout.trim()) return {};
  const wrap = (cmd: string | undefined, fallback: string) => (cmd && /\bccache\b/.test(cmd) ? cmd : `ccache ${cmd || fallback}`);
  return { CC: wrap(process.env.CC, 'cc'), CXX: wrap(process.env.CXX, 'g++'), CCACHE_DIR: dir.stdout.trim() };
}

/**
 * Budgets count per UTC hour and day. A test that spends and then reads the hour's total, or
 * counts how many requests one hour's budget lets through, would see two periods if the hour
 * turned while it ran: when less than `margin` ms of the hour is left, this waits for the next one.
 */
export async function clearOfTheHour(margin = 90_000): Promise<void> {
  const left = 3_600_000 - (Date.now() % 3_600_000);
  if (left < margin) await new Promise((resolve) => setTimeout(resolve, left + 1_000));
}
