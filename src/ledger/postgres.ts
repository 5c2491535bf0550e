// State in PostgreSQL, for several hosts sharing trust, budgets, approvals and one ledger. The `pg`
// client runs in a worker thread (pg-worker.ts) and synckit makes each query a synchronous call, so
// State keeps one shape over both databases. Every write transaction takes one advisory lock: like
// SQLite's IMMEDIATE transactions, writers queue, so the hash chain has one head and a budget is
// re-checked and reserved under the lock on every host. Nothing here loads `pg` until a
// postgres:// state is opened.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Driver, Statement } from './driver.js';
import type { PgCall, PgQuery, PgResult } from './pg-worker.js';

const require = createRequire(import.meta.url);

/** The advisory locks: one for every write transaction, one for migrations. */
const WRITE_LOCK = 7_467_731_001;
const MIGRATE_LOCK = 7_467_731_002;

export function isPostgresUrl(state: string): boolean {
  return /^postgres(ql)?:\/\//i.test(state);
}

/** The URL with its password replaced, for messages and output. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@?#]*):[^@/?#]*@/i, '$1:***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** The worker, compiled beside this file; from the sources (tests), the build's copy. */
function workerPath(): string {
  const here = new URL('./pg-worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return fileURLToPath(here);
  const built = fileURLToPath(new URL('../../dist/ledger/pg-worker.js', import.meta.url));
  if (!existsSync(built)) throw new Error(`${built} is missing; run \`npm run build\` first`);
  return built;
}

type Call = (call: PgCall) => PgResult | number | null;
let call: Call | undefined;

function worker(): Call {
  if (!call) {
    const { createSyncFn } = require('synckit') as typeof import('synckit');
    call = createSyncFn(workerPath()) as Call;
  }
  return call;
}

/** SQLite-style parameters (`?` in order, `@name` from one object) as PostgreSQL's `$n`. */
export function translate(sql: string): { text: string; names: string[] | undefined; count: number } {
  let text = '';
  let n = 0;
  const names: string[] = [];
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'") {
      const end = sql.indexOf("'", i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      text += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      text += `$${++n}`;
    } else if (c === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      const name = /^[A-Za-z_]\w*/.exec(sql.slice(i + 1))![0];
      let at = names.indexOf(name);
      if (at < 0) at = names.push(name) - 1;
      text += `$${at + 1}`;
      i += name.length;
    } else {
      text += c;
    }
  }
  return { text, names: names.length ? names : undefined, count: names.length || n };
}

let statementNames = 0;

class PgStatement implements Statement {
  private readonly text: string;
  private readonly names: string[] | undefined;
  private readonly count: number;
  private readonly name = `govern_${++statementNames}`;

  constructor(private readonly driver: PgDriver, sql: string) {
    ({ text: this.text, names: this.names, count: this.count } = translate(sql));
  }

  private values(params: unknown[]): unknown[] {
    if (this.names) {
      const obj = (params[0] ?? {}) as Record<string, unknown>;
      return this.names.map((k) => obj[k] ?? null);
    }
    // Like better-sqlite3, a statement without parameters ignores an empty parameter object.
    return params.slice(0, this.count).map((v) => v ?? null);
  }

  private exec(params: unknown[]): PgResult {
    return this.driver.query(this.text, this.values(params), this.name);
  }

  run(...params: unknown[]): { changes: number } {
    return { changes: this.exec(params).rowCount };
  }

  write(...params: unknown[]): void {
    this.driver.write({ sql: this.text, params: this.values(params), name: this.name });
  }

  get(...params: unknown[]): unknown {
    return this.exec(params).rows[0];
  }

  all(...params: unknown[]): unknown[] {
    return this.exec(params).rows;
  }

  iterate(...params: unknown[]): IterableIterator<unknown> {
    return this.exec(params).rows[Symbol.iterator]();
  }
}

export class PgDriver implements Driver {
  readonly dialect = 'postgres' as const;
  private conn: number | undefined;
  private depth = 0;
  /** Writes of the open transaction not sent yet: they go with the next query, at the latest COMMIT. */
  private pending: PgQuery[] = [];

  /** `lost` makes the error a dropped connection is reported as (the URL shown without its password). */
  private constructor(readonly url: string, private readonly lockTimeoutMs: number, private readonly lost: (message: string) => Error) {}
  private closed = false;

  static connect(url: string, lockTimeoutMs: number, lost: (message: string) => Error = (m) => new Error(m)): PgDriver {
    const d = new PgDriver(url, lockTimeoutMs, lost);
    d.conn = worker()({ op: 'connect', url, lockTimeoutMs }) as number;
    return d;
  }

  get open(): boolean {
    return !this.closed;
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  query(sql: string, params?: unknown[], name?: string): PgResult {
    if (this.conn === undefined) {
      if (this.closed) throw new Error('the PostgreSQL state is closed');
      // The connection was lost: a transaction on it is over; a new one starts on a new connection.
      if (this.depth > 0) throw this.lost(`lost the connection to the PostgreSQL state ${redactUrl(this.url)}; nothing of the open transaction was recorded. Try again.`);
      try {
        this.conn = worker()({ op: 'connect', url: this.url, lockTimeoutMs: this.lockTimeoutMs }) as number;
      } catch (e) {
        throw this.lost(`cannot connect to the PostgreSQL state ${redactUrl(this.url)} again: ${(e as Error).message}. Check the server and try again.`);
      }
    }
    const queries = this.pending;
    this.pending = [];
    queries.push({ sql, ...(params ? { params } : {}), ...(name ? { name } : {}) });
    try {
      return worker()({ op: 'query', conn: this.conn, queries }) as PgResult;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      // SQLSTATE classes 08 (connection) and 57P (the server shut down or ended the session), and
      // errors without a SQLSTATE (the socket closed): the connection is gone.
      if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^08|^57P/.test(code)) throw e;
      const conn = this.conn;
      this.conn = undefined;
      try { worker()({ op: 'close', conn }); } catch { /* gone */ }
      // Lost while committing, the server may have committed before the answer was lost.
      const outcome = sql === 'COMMIT' ? 'whether the last transaction was recorded is unknown (`govern ledger export` shows it)' : 'nothing of the open transaction was recorded';
      throw this.lost(`lost the connection to the PostgreSQL state ${redactUrl(this.url)} (${(e as Error).message}); ${outcome}. Check the server and try again.`);
    }
  }

  /** A write whose result nobody reads: inside a transaction it waits for the next round trip. */
  write(q: PgQuery): void {
    if (this.depth > 0) this.pending.push(q);
    else this.query(q.sql, q.params, q.name);
  }

  prepare(sql: string): Statement {
    return new PgStatement(this, sql);
  }

  exec(sql: string): void {
    this.query(sql);
  }

  transaction<T>(fn: () => T): T {
    const outer = this.depth === 0;
    const savepoint = `govern_sp${this.depth}`;
    try {
      this.query(outer ? `BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK})` : `SAVEPOINT ${savepoint}`);
    } catch (e) {
      // Waiting for the lock timed out: the transaction is aborted and must be ended.
      if (outer) try { this.query('ROLLBACK'); } catch { /* gone */ }
      throw e;
    }
    this.depth++;
    try {
      const out = fn();
      this.query(outer ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`);
      return out;
    } catch (e) {
      // Writes not yet sent were made after the last savepoint: they are rolled back unsent.
      this.pending = [];
      try {
        this.query(outer ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}`);
      } catch {
        // The connection is gone: PostgreSQL rolls the transaction back itself.
      }
      throw e;
    } finally {
      this.depth--;
    }
  }

  /** Brings the schema to `migrations.length`, one host at a time; returns the version found. */
  migrate(migrations: string[], check: (version: number) => void): void {
    this.query(`BEGIN; SELECT pg_advisory_xact_lock(${MIGRATE_LOCK}); CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`);
    try {
      const row = this.query('SELECT version FROM schema_version').rows[0] as { version: number } | undefined;
      const version = row?.version ?? 0;
      check(version);
      for (let v = version; v < migrations.length; v++) this.query(migrations[v]!);
      if (!row) this.query('INSERT INTO schema_version (version) VALUES ($1)', [migrations.length]);
      else if (version !== migrations.length) this.query('UPDATE schema_version SET version = $1', [migrations.length]);
      this.query('COMMIT');
    } catch (e) {
      try { this.query('ROLLBACK'); } catch { /* gone */ }
      throw e;
    }
  }

  close(): void {
    this.closed = true;
    if (this.conn === undefined) return;
    const conn = this.conn;
    this.conn = undefined;
    worker()({ op: 'close', conn });
  }
}

const APPEND_ONLY = (table: string) => `
   CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION govern_append_only();
   CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION govern_append_only();`;

/**
 * The same three schema versions as SQLite's, in PostgreSQL's words: BIGINT for seq, milliseconds and
 * tokens, identity columns, DOUBLE PRECISION for dollars, and text compared byte by byte ("C") so
 * ISO times and names sort as they do in SQLite.
 */
export const PG_MIGRATIONS: string[] = [
  `CREATE TABLE ledger (
     seq BIGINT PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     at TEXT NOT NULL,
     agent TEXT NOT NULL,
     decision TEXT NOT NULL,
     route TEXT NOT NULL,
     category TEXT,
     model TEXT,
     input_tokens BIGINT NOT NULL DEFAULT 0,
     output_tokens BIGINT NOT NULL DEFAULT 0,
     policy_hash TEXT NOT NULL,
     record TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   );
   CREATE INDEX ledger_agent_at ON ledger(agent, at);
   CREATE INDEX ledger_route ON ledger(route);
   CREATE TABLE ledger_head (one INTEGER PRIMARY KEY CHECK (one = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL);
   CREATE FUNCTION govern_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
     BEGIN RAISE EXCEPTION 'the ledger is append-only'; END $body$;
   ${APPEND_ONLY('ledger')}
   CREATE TABLE cache (
     key TEXT PRIMARY KEY,
     policy_hash TEXT NOT NULL,
     decision TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     hits BIGINT NOT NULL DEFAULT 0
   );
   CREATE TABLE agents (agent TEXT PRIMARY KEY, trust INTEGER NOT NULL, events BIGINT NOT NULL DEFAULT 0, updated_at TEXT NOT NULL);
   CREATE TABLE trust_events (
     id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, agent TEXT NOT NULL, event TEXT NOT NULL, delta INTEGER NOT NULL,
     trust_after INTEGER NOT NULL, note TEXT, at TEXT NOT NULL
   );
   CREATE TABLE usage (agent TEXT NOT NULL, period TEXT NOT NULL, usd DOUBLE PRECISION NOT NULL DEFAULT 0, tokens BIGINT NOT NULL DEFAULT 0, requests BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (agent, period));
   CREATE TABLE escalations (
     id TEXT PRIMARY KEY,
     decision_id TEXT NOT NULL,
     request_key TEXT NOT NULL,
     agent TEXT NOT NULL,
     request TEXT NOT NULL,
     reasons TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'used')),
     created_at TEXT NOT NULL,
     resolved_at TEXT,
     resolved_by TEXT,
     note TEXT,
     expires_at TEXT
   );
   CREATE INDEX escalations_key ON escalations(request_key, status);`,
  `CREATE TABLE chain_events (
     seq BIGINT PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     at TEXT NOT NULL,
     kind TEXT NOT NULL,
     agent TEXT NOT NULL,
     ref TEXT,
     record TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   );
   CREATE INDEX chain_events_ref ON chain_events(kind, ref);
   CREATE INDEX chain_events_agent ON chain_events(agent, kind);
   ${APPEND_ONLY('chain_events')}`,
  `CREATE TABLE shadow (
     id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
     decision_id TEXT NOT NULL,
     at TEXT NOT NULL,
     agent TEXT NOT NULL,
     route TEXT NOT NULL,
     rules TEXT NOT NULL,
     decided TEXT NOT NULL,
     model_decision TEXT NOT NULL,
     model TEXT NOT NULL,
     confidence DOUBLE PRECISION,
     agree INTEGER NOT NULL,
     input_tokens BIGINT NOT NULL DEFAULT 0,
     output_tokens BIGINT NOT NULL DEFAULT 0,
     reason TEXT NOT NULL
   );
   CREATE INDEX shadow_at ON shadow(at);`,
  'ALTER TABLE cache ADD COLUMN seal TEXT;',
  `CREATE TABLE scans (key TEXT PRIMARY KEY, findings TEXT NOT NULL, expires_at BIGINT NOT NULL, seal TEXT);
   CREATE INDEX scans_expires ON scans(expires_at);
   CREATE INDEX cache_expires ON cache(expires_at);`,
].map((sql) => sql.replace(/\bTEXT\b/g, 'TEXT COLLATE "C"'));
