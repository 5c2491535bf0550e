// A throwaway PostgreSQL server for the tests (test/pg.ts) and the load bench: `initdb` into a temp folder, `pg_ctl start` on
// 127.0.0.1 at a free port, one database per caller, stopped and removed afterwards. PostgreSQL
// refuses to run as root, so as root it runs as the `postgres` user that Debian's package creates.
// Where no server can be started, `skip` says why.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

function binDir() {
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, 'initdb'))) return process.env.PG_BIN;
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch { /* not on PATH */ }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

function uidOf(user) {
  try {
    const id = (flag) => Number(execFileSync('id', [flag, user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts a server, or says why none can be started here.
 * @returns {Promise<{ createDatabase(name: string): Promise<string>, stop(): void } | { skip: string }>}
 */
export async function startPostgres() {
  const bin = binDir();
  if (!bin) return { skip: 'PostgreSQL is not installed (no initdb; Debian: apt-get install postgresql, or set PG_BIN)' };
  const dir = mkdtempSync(join(tmpdir(), 'govern-pg-'));
  let run = (cmd, args) => execFileSync(join(bin, cmd), args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (process.getuid?.() === 0) {
    const user = uidOf('postgres');
    if (!user) return { skip: 'running as root and there is no postgres user to run PostgreSQL as' };
    chownSync(dir, user.uid, user.gid);
    chmodSync(dir, 0o700);
    run = (cmd, args) => execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  }
  const data = join(dir, 'data');
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '--auth=trust', '-U', 'postgres', '--locale=C', '-E', 'UTF8', '--no-sync']);
    run('pg_ctl', ['start', '-w', '-t', '30', '-D', data, '-l', join(dir, 'log'),
      '-o', `-k ${dir} -p ${port} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`]);
  } catch (e) {
    const err = e;
    rmSync(dir, { recursive: true, force: true });
    return { skip: `PostgreSQL could not be started: ${(err.stderr || err.message).trim().split('\n').slice(-2).join(' ')}` };
  }
  const base = `postgres://postgres@127.0.0.1:${port}`;
  return {
    /** A new empty database; its URL. */
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: `${base}/postgres` });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return `${base}/${name}`;
    },
    stop() {
      try { run('pg_ctl', ['stop', '-m', 'immediate', '-w', '-D', data]); } catch { /* already gone */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
