// What State needs from a database: prepared statements, plain SQL, and one write transaction at a
// time across every process sharing the state. SQLite (a file, better-sqlite3) is one; PostgreSQL
// (postgres.ts) is the other. Both are synchronous, so a decision is checked and recorded under one
// lock without yielding to the event loop.
import type BetterSqlite3 from 'better-sqlite3';

export interface Statement {
  /** `?` parameters positionally, or one object for `@name` parameters. */
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  /**
   * `run` without its result. Inside a transaction a server may send it with the next statement
   * (PostgreSQL: one round trip fewer); an error then surfaces there or at the commit, which rolls
   * the whole transaction back.
   */
  write?(...params: unknown[]): void;
}

export interface Driver {
  readonly dialect: 'sqlite' | 'postgres';
  readonly open: boolean;
  readonly inTransaction: boolean;
  prepare(sql: string): Statement;
  exec(sql: string): void;
  /**
   * Runs `fn` holding the state's write lock (SQLite: an IMMEDIATE transaction; PostgreSQL: a
   * transaction-scoped advisory lock), committing when it returns and rolling back when it throws.
   * Nested calls become savepoints.
   */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** True when an error means another process held the write lock past the timeout. */
export function isLockTimeout(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === '55P03';
}

export class SqliteDriver implements Driver {
  readonly dialect = 'sqlite' as const;
  constructor(readonly raw: BetterSqlite3.Database) {}

  get open(): boolean {
    return this.raw.open;
  }

  get inTransaction(): boolean {
    return this.raw.inTransaction;
  }

  prepare(sql: string): Statement {
    return this.raw.prepare(sql) as unknown as Statement;
  }

  exec(sql: string): void {
    this.raw.exec(sql);
  }

  transaction<T>(fn: () => T): T {
    return this.raw.transaction(fn).immediate();
  }

  close(): void {
    if (this.raw.open) this.raw.close();
  }
}
