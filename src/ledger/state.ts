// The state (.govern/state.db, or a PostgreSQL database): the only importer of better-sqlite3. Holds the decision
// ledger (append-only, each row chaining the previous row's hash), the decision cache, trust
// events and scores, usage per agent per hour and day, and escalations awaiting a human.
// WAL mode and a busy timeout let several `govern eval` processes share one file; every
// decision is written in one IMMEDIATE transaction, so nothing acknowledged is lost or torn.
// A postgres:// URL keeps the same tables and semantics in PostgreSQL (postgres.ts), for many hosts.
import * as crypto from 'node:crypto';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteDriver, isLockTimeout, type Driver, type Statement } from './driver.js';
import { PG_MIGRATIONS, PgDriver, isPostgresUrl, redactUrl } from './postgres.js';
import { rowSealed, sealRow } from '../cache/sealed.js';
import { BUILD } from '../version.js';

const require = createRequire(import.meta.url);

let addon: string | object | undefined;

/**
 * better-sqlite3's compiled addon, for its `nativeBinding` option: the file where its build puts
 * it, else what its own finder (the `bindings` package) finds in its folder. Named, because in
 * dist/govern.cjs, where its JavaScript is bundled, that finder would look beside the bundle.
 */
function sqliteAddon(): string | object {
  if (addon === undefined) {
    const root = dirname(require.resolve('better-sqlite3/package.json'));
    const usual = join(root, 'build', 'Release', 'better_sqlite3.node');
    addon = existsSync(usual) ? usual : (createRequire(join(root, 'package.json'))('bindings') as (o: object) => object)({ bindings: 'better_sqlite3.node', module_root: root });
  }
  return addon;
}

const MIGRATIONS: string[] = [
  `CREATE TABLE ledger (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     at TEXT NOT NULL,
     agent TEXT NOT NULL,
     decision TEXT NOT NULL,
     route TEXT NOT NULL,
     category TEXT,
     model TEXT,
     input_tokens INTEGER NOT NULL DEFAULT 0,
     output_tokens INTEGER NOT NULL DEFAULT 0,
     policy_hash TEXT NOT NULL,
     record TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   );
   CREATE INDEX ledger_agent_at ON ledger(agent, at);
   CREATE INDEX ledger_route ON ledger(route);
   CREATE TABLE ledger_head (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
   CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
   CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
   CREATE TABLE cache (
     key TEXT PRIMARY KEY,
     policy_hash TEXT NOT NULL,
     decision TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     hits INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE agents (agent TEXT PRIMARY KEY, trust INTEGER NOT NULL, events INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL);
   CREATE TABLE trust_events (
     id INTEGER PRIMARY KEY, agent TEXT NOT NULL, event TEXT NOT NULL, delta INTEGER NOT NULL,
     trust_after INTEGER NOT NULL, note TEXT, at TEXT NOT NULL
   );
   CREATE TABLE usage (agent TEXT NOT NULL, period TEXT NOT NULL, usd REAL NOT NULL DEFAULT 0, tokens INTEGER NOT NULL DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (agent, period));
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
  // Trust changes, escalations, approvals, denials and recorded spend: entries in the ledger's hash
  // chain (they share its seq and head), so that editing the tables derived from them is found.
  `CREATE TABLE chain_events (
     seq INTEGER PRIMARY KEY,
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
   CREATE TRIGGER chain_events_no_update BEFORE UPDATE ON chain_events BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
   CREATE TRIGGER chain_events_no_delete BEFORE DELETE ON chain_events BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;`,
  // Shadow answers: the model asked about a request the cache or a distilled rule decided.
  `CREATE TABLE shadow (
     id INTEGER PRIMARY KEY,
     decision_id TEXT NOT NULL,
     at TEXT NOT NULL,
     agent TEXT NOT NULL,
     route TEXT NOT NULL,
     rules TEXT NOT NULL,
     decided TEXT NOT NULL,
     model_decision TEXT NOT NULL,
     model TEXT NOT NULL,
     confidence REAL,
     agree INTEGER NOT NULL,
     input_tokens INTEGER NOT NULL DEFAULT 0,
     output_tokens INTEGER NOT NULL DEFAULT 0,
     reason TEXT NOT NULL
   );
   CREATE INDEX shadow_at ON shadow(at);`,
  // Each decision cache row sealed under the user's key (cachePut), so that a row read back is
  // known to be govern's own.
  'ALTER TABLE cache ADD COLUMN seal TEXT;',
  // The detectors' findings in requests scanned before, sealed like the cache's rows (Runtime.scanOf);
  // expired rows of both are deleted as new ones are written (dropExpired).
  `CREATE TABLE scans (key TEXT PRIMARY KEY, findings TEXT NOT NULL, expires_at INTEGER NOT NULL, seal TEXT);
   CREATE INDEX scans_expires ON scans(expires_at);
   CREATE INDEX cache_expires ON cache(expires_at);`,
];

/** A process deletes the expired rows of the cache and the kept findings at most this often, as it writes new ones. */
export const DROP_EXPIRED_EVERY_MS = 60_000;

export const GENESIS = '0'.repeat(64);

/** How long a writer waits for another process's transaction: SQLite's busy timeout queues them. */
export const BUSY_TIMEOUT_MS = 10_000;

export type TrustEvent = 'success' | 'failure' | 'exception' | 'violation';
export const TRUST_DELTAS: Record<TrustEvent, number> = { success: 2, failure: -2, exception: -3, violation: -5 };
export const INITIAL_TRUST = 40;

/** The kinds of chained entries beside decisions. */
export type EventKind = 'outcome' | 'finding' | 'carried' | 'escalation' | 'approval' | 'denial' | 'use' | 'spend';
const TRUST_KINDS: readonly string[] = ['outcome', 'finding', 'carried'];

export interface ChainEvent {
  seq: number;
  id: string;
  at: string;
  kind: EventKind;
  agent: string;
  ref: string | null;
  record: string;
  prev_hash: string;
  hash: string;
}

/** Who reports an outcome: the agent itself (over `serve`) can only lower its trust. */
export type Reporter = { party: 'agent' } | { party: 'human' | 'reporter'; name: string };

export interface OutcomeResult {
  agent: string;
  decision: string;
  event: TrustEvent;
  before: number;
  after: number;
  /** False when the report could not move trust (an agent's own success). */
  counted: boolean;
}

export interface TrustChange { event: string; delta: number; trust_after: number; note: string | null; at: string; decision: string | null; by: string | null }

export type EscalationState = Escalation['status'] | 'expired';

export interface LedgerRow {
  seq: number;
  id: string;
  at: string;
  agent: string;
  decision: string;
  route: string;
  category: string | null;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  policy_hash: string;
  record: string;
  prev_hash: string;
  hash: string;
}

export interface Usage { usd: number; tokens: number; requests: number }

/** Usage added to one row inside a transaction and not yet written: each request's dollars, in order. */
interface PendingUsage { agent: string; period: string; usd: number[]; tokens: number; requests: number }

function copyPending(m: Map<string, PendingUsage>): Map<string, PendingUsage> {
  const out = new Map<string, PendingUsage>();
  for (const [k, p] of m) out.set(k, { ...p, usd: [...p.usd] });
  return out;
}

export interface Escalation {
  id: string;
  decision_id: string;
  request_key: string;
  agent: string;
  request: string;
  reasons: string;
  status: 'pending' | 'approved' | 'denied' | 'used';
  created_at: string;
  resolved_at: string | null;
  resolved_by: string | null;
  note: string | null;
  expires_at: string | null;
}

/** A shadow answer: what the model said about a request the cache or a distilled rule decided. */
export interface ShadowRow {
  decision_id: string;
  at: string;
  agent: string;
  route: string;
  /** The deciding rules, comma-separated. */
  rules: string;
  decided: string;
  model_decision: string;
  model: string;
  confidence: number | null;
  agree: number;
  input_tokens: number;
  output_tokens: number;
  reason: string;
}

/**
 * What a decision cache row's seal covers: the govern version that wrote it (a later one may decide
 * the same facts differently), its key (which names the bundle and the facts), bundle, expiry and decision.
 */
function cacheRowText(key: string, policyHash: string, expires: number, decision: string): string {
  return `decision cache\0${BUILD}\0${key}\0${policyHash}\0${expires}\0${decision}`;
}

function scanRowText(key: string, expires: number, findings: string): string {
  return `request scan\0${BUILD}\0${key}\0${expires}\0${findings}`;
}

export class StateError extends Error {}

let pool = Buffer.alloc(0);
let poolAt = 0;

/** A sortable, unique id: time in base 36, then randomness (drawn from a pool: one syscall per 680 ids). */
export function newId(prefix: string, now = Date.now()): string {
  if (poolAt + 6 > pool.length) { pool = randomBytes(4096); poolAt = 0; }
  const rand = pool.toString('hex', poolAt, poolAt + 6);
  poolAt += 6;
  return `${prefix}_${now.toString(36).padStart(9, '0')}${rand}`;
}

/** crypto.hash (Node 20.12 and later): one call, no Hash object; about half the time of createHash for a record. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export function chainHash(prev: string, record: string): string {
  if (oneShot) return oneShot('sha256', `${prev}\n${record}`, 'hex');
  return createHash('sha256').update(prev).update('\n').update(record).digest('hex');
}

/** The last period named, by its number (UTC hours or days since the epoch): every decision names two. */
const lastHour = { n: NaN, name: '' };
const lastDay = { n: NaN, name: '' };

export function hourPeriod(d: Date): string {
  const n = Math.floor(d.getTime() / 3_600_000);
  if (n !== lastHour.n) {
    lastHour.name = `h:${d.toISOString().slice(0, 13)}`;
    lastHour.n = n;
  }
  return lastHour.name;
}
export function dayPeriod(d: Date): string {
  const n = Math.floor(d.getTime() / 86_400_000);
  if (n !== lastDay.n) {
    lastDay.name = `d:${d.toISOString().slice(0, 10)}`;
    lastDay.n = n;
  }
  return lastDay.name;
}

/** The columns of a ledger row as State.append was given them, from its record (see Runtime.commit). */
function columnsOf(record: string): Omit<LedgerRow, 'seq' | 'record' | 'prev_hash' | 'hash'> | undefined {
  try {
    const r = JSON.parse(record) as {
      request: { agent: { id: string } };
      decision: { id: string; decision: string; route: string; facts: { category: string }; policy: { hash: string } };
      model: string | null; usage: { input_tokens: number; output_tokens: number } | null; at: string;
    };
    return {
      id: r.decision.id, at: r.at, agent: r.request.agent.id, decision: r.decision.decision, route: r.decision.route,
      category: r.decision.facts.category ?? null, model: r.model ?? null, input_tokens: r.usage?.input_tokens ?? 0,
      output_tokens: r.usage?.output_tokens ?? 0, policy_hash: r.decision.policy.hash,
    };
  } catch {
    return undefined;
  }
}

/** The first column of `row` that differs from its record ("record" when the record cannot be read). */
function columnMismatch(row: LedgerRow): keyof LedgerRow | undefined {
  const want = columnsOf(row.record);
  if (!want) return 'record';
  return (Object.keys(want) as (keyof typeof want)[]).find((k) => row[k] !== want[k]);
}

export class State {
  readonly db: Driver;
  private statements = new Map<string, Statement>();

  /** A prepared statement, prepared once per connection: preparing costs more than running. */
  private sql(text: string): Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  /** `path` is the state file, or the PostgreSQL URL without its password. */
  /** A write whose result is not read: on PostgreSQL it travels with the transaction's next statement. */
  private write(text: string, ...params: unknown[]): void {
    const st = this.sql(text);
    if (st.write) st.write(...params);
    else st.run(...params);
  }

  private constructor(db: Driver, readonly path: string, private readonly busyTimeoutMs = BUSY_TIMEOUT_MS) {
    this.db = db;
  }

  /** A state file, or a postgres:// URL (a password may also come from PGPASSWORD or ~/.pgpass). */
  static open(path: string, opts: { readonly?: boolean; synchronous?: 'normal' | 'full'; busyTimeoutMs?: number } = {}): State {
    if (isPostgresUrl(path)) return State.openPostgres(path, opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS);
    if (path !== ':memory:' && !opts.readonly) mkdirSync(dirname(path), { recursive: true });
    let db: BetterSqlite3.Database;
    try {
      // The type says a path, but better-sqlite3 takes the loaded addon too.
      db = new BetterSqlite3(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false, timeout: opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS, nativeBinding: sqliteAddon() as string });
    } catch (e) {
      throw new StateError(`cannot open the state file ${path}: ${(e as Error).message}`);
    }
    try {
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      }
      db.pragma('foreign_keys = ON');
      const state = new State(new SqliteDriver(db), path, opts.busyTimeoutMs);
      if (!opts.readonly) state.migrate(db);
      return state;
    } catch (e) {
      db.close();
      if (e instanceof StateError) throw e;
      throw new StateError(`${path} is not a usable govern state file: ${(e as Error).message}. Move it aside; govern creates a new one.`);
    }
  }

  private static openPostgres(url: string, busyTimeoutMs: number): State {
    const shown = redactUrl(url);
    const password = /^postgres(?:ql)?:\/\/[^:/@?#]*:([^@/?#]*)@/i.exec(url)?.[1];
    const clean = (m: string) => (password ? m.split(password).join('***') : m);
    let db: PgDriver;
    try {
      db = PgDriver.connect(url, busyTimeoutMs, (m) => new StateError(clean(m)));
    } catch (e) {
      throw new StateError(`cannot connect to the PostgreSQL state ${shown}: ${clean((e as Error).message)}. Check that the server runs and the URL, user and password (PGPASSWORD) are right.`);
    }
    const state = new State(db, shown, busyTimeoutMs);
    try {
      db.migrate(PG_MIGRATIONS, (v) => state.checkVersion(v));
      return state;
    } catch (e) {
      db.close();
      if (e instanceof StateError) throw e;
      throw new StateError(`${shown} is not a usable govern state: ${clean((e as Error).message)}. Point state: at an empty database or one govern created.`);
    }
  }

  private checkVersion(v: number): void {
    if (v > MIGRATIONS.length) throw new StateError(`${this.path} was written by a newer govern (schema ${v}); upgrade govern.`);
  }

  private migrate(db: BetterSqlite3.Database): void {
    const current = () => db.pragma('user_version', { simple: true }) as number;
    const check = (v: number) => this.checkVersion(v);
    check(current());
    if (current() === MIGRATIONS.length) return;
    // Read the version again under the write lock: another process may have migrated meanwhile.
    db.transaction(() => {
      const version = current();
      check(version);
      for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
      if (version === 1) this.carryIntoChain(new Date().toISOString());
      db.pragma(`user_version = ${MIGRATIONS.length}`);
    }).immediate();
  }

  /**
   * A state file from before trust and escalations were chained: their current rows enter the
   * chain as they are, so that later edits are found (what happened before cannot be checked).
   */
  private carryIntoChain(at: string): void {
    for (const a of this.sql('SELECT agent, trust FROM agents ORDER BY agent').all() as { agent: string; trust: number }[]) {
      this.appendEvent('carried', a.agent, null, { event: 'carried', delta: 0, before: a.trust, trust_after: a.trust, note: 'carried over from an older state file' }, at);
    }
    for (const e of this.escalations()) {
      this.appendEvent('escalation', e.agent, e.id, { decision_id: e.decision_id, request_key: e.request_key, request: e.request, reasons: e.reasons, created_at: e.created_at, expires_at: e.status === 'pending' ? e.expires_at : null }, at);
      if (e.status !== 'pending') {
        this.appendEvent(e.status === 'denied' ? 'denial' : 'approval', e.agent, e.id, { request_key: e.request_key, by: e.resolved_by, note: e.note, expires_at: e.expires_at }, e.resolved_at ?? at);
        if (e.status === 'used') this.appendEvent('use', e.agent, e.id, { decision_id: null }, at);
      }
    }
  }

  close(): void {
    this.db.close();
  }

  /**
   * Inside `atomically`, the chain's head as this transaction has moved it, read once when the
   * transaction first needs it (the write lock keeps every other writer out until the commit) and
   * written once, just before the commit, when it moved. Undefined outside `atomically` and until
   * the transaction's first read.
   */
  private head?: { seq: number; hash: string; moved: boolean };
  /** Inside `atomically`, cache hits counted per key, added to their rows just before the commit. */
  private hits = new Map<string, number>();
  /** True while an outermost `atomically` holds the write lock: head moves and hit counts wait for its commit. */
  private deferring = false;
  /**
   * Inside `atomically`, trust and usage rows read so far, kept as the transaction writes them
   * (every write still goes to the database at once): nobody else writes until the commit. Cleared
   * at its end and when a savepoint rolls back (the database then says again what is true).
   */
  private seen = { trust: new Map<string, number>(), usage: new Map<string, Usage>() };
  /**
   * Inside `atomically`, usage added per agent and period and not yet written: one upsert a row at
   * the commit instead of one a decision. Every read of a row writes its pending adds first, so
   * the database and `seen` always say what the adds made of it.
   */
  private pendingUsage = new Map<string, PendingUsage>();

  private forgetSeen(): void {
    this.seen.trust.clear();
    this.seen.usage.clear();
  }

  /** Runs `fn` in one IMMEDIATE transaction: the decision, its usage and its ledger row commit together. */
  atomically<T>(fn: () => T): T {
    const outer = !this.db.inTransaction;
    if (outer) this.transactions++;
    // A nested call is a savepoint: rolled back, it takes its head moves and hit counts with it.
    const saved = outer ? undefined : { head: this.head && { ...this.head }, hits: new Map(this.hits), usage: copyPending(this.pendingUsage) };
    if (outer) this.deferring = true;
    try {
      return this.db.transaction(outer ? () => {
        const out = fn();
        this.flushDeferred();
        return out;
      } : fn);
    } catch (e) {
      if (saved) {
        this.head = saved.head;
        this.hits = saved.hits;
        this.pendingUsage = saved.usage;
        this.forgetSeen();
      }
      // Writers queue on the lock for the busy timeout; past that, say so rather than crash.
      if (isLockTimeout(e)) throw new StateError(`${this.path} stayed locked by another process for ${this.busyTimeoutMs / 1000} s; nothing was recorded. Try again.`);
      throw e;
    } finally {
      if (outer) {
        this.deferring = false;
        // Committed or rolled back: the lock is gone, and another writer may move the head next.
        this.head = undefined;
        this.hits.clear();
        this.pendingUsage.clear();
        this.forgetSeen();
      }
    }
  }

  /** Writes what the transaction deferred: the chain's head, the cache hits per key, and usage per row. */
  private flushDeferred(): void {
    this.flushUsage();
    if (this.head?.moved) {
      this.write('INSERT INTO ledger_head (one, seq, hash) VALUES (1, ?, ?) ON CONFLICT(one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash', this.head.seq, this.head.hash);
      this.head.moved = false;
    }
    for (const [key, n] of this.hits) this.write('UPDATE cache SET hits = hits + ? WHERE key = ?', n, key);
    this.hits.clear();
  }

  /** The chain's head as stored (not as an open transaction may have moved it). */
  private storedHead(): { seq: number; hash: string } {
    return (this.sql('SELECT seq, hash FROM ledger_head WHERE one = 1').get() as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: GENESIS };
  }

  /** Moves the chain's head to a row just written: at once outside `atomically`, else at its commit. */
  private moveHead(seq: number, hash: string): void {
    if (this.deferring) {
      this.head = { seq, hash, moved: true };
      return;
    }
    this.write('INSERT INTO ledger_head (one, seq, hash) VALUES (1, ?, ?) ON CONFLICT(one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash', seq, hash);
  }

  /** True inside `atomically`: a budget is checked and reserved only under the write lock. */
  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  // ---- ledger

  append(entry: { id: string; at: string; agent: string; decision: string; route: string; category?: string | null; model?: string | null; inputTokens?: number; outputTokens?: number; policyHash: string; record: string }): LedgerRow {
    const head = this.ledgerHead();
    const prev = head.hash;
    const seq = head.seq + 1;
    const hash = chainHash(prev, entry.record);
    const row: LedgerRow = {
      seq, id: entry.id, at: entry.at, agent: entry.agent, decision: entry.decision, route: entry.route,
      category: entry.category ?? null, model: entry.model ?? null, input_tokens: entry.inputTokens ?? 0,
      output_tokens: entry.outputTokens ?? 0, policy_hash: entry.policyHash, record: entry.record, prev_hash: prev, hash,
    };
    this.write(`INSERT INTO ledger (seq, id, at, agent, decision, route, category, model, input_tokens, output_tokens, policy_hash, record, prev_hash, hash)
      VALUES (@seq, @id, @at, @agent, @decision, @route, @category, @model, @input_tokens, @output_tokens, @policy_hash, @record, @prev_hash, @hash)`, row);
    this.moveHead(seq, hash);
    return row;
  }

  ledgerRows(filter: { since?: string; agent?: string; route?: string; limit?: number } = {}): IterableIterator<LedgerRow> {
    const where: string[] = [];
    const args: Record<string, unknown> = {};
    if (filter.since) { where.push('at >= @since'); args.since = filter.since; }
    if (filter.agent) { where.push('agent = @agent'); args.agent = filter.agent; }
    if (filter.route) { where.push('route = @route'); args.route = filter.route; }
    const sql = `SELECT * FROM ledger ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq${filter.limit ? ' LIMIT @limit' : ''}`;
    if (filter.limit) args.limit = filter.limit;
    return this.sql(sql).iterate(args) as IterableIterator<LedgerRow>;
  }

  /** The chain's head: the last row's seq and hash (inside `atomically`, as the transaction has moved it). */
  ledgerHead(): { seq: number; hash: string } {
    if (!this.deferring) return this.storedHead();
    this.head ??= { ...this.storedHead(), moved: false };
    return { seq: this.head.seq, hash: this.head.hash };
  }

  /**
   * Walks the chain (decisions and the entries beside them, in seq order): every row's hash, its
   * link to the previous row, no gap in seq, and the head. The hash covers the record; the columns
   * beside it must say what the record says. Then the tables derived from the chain (trust scores,
   * escalations, usage) must say what the chain says: an edit to any of them is found.
   */
  verifyLedger(): { ok: boolean; rows: number; events: number; head: string; problems: { seq: number; problem: string }[] } {
    const problems: { seq: number; problem: string }[] = [];
    let prev = GENESIS;
    let expectSeq = 1;
    let rows = 0;
    let events = 0;
    const derived = new Derived();
    const decisions = this.sql('SELECT * FROM ledger ORDER BY seq').iterate() as IterableIterator<LedgerRow>;
    const others = this.sql('SELECT * FROM chain_events ORDER BY seq').iterate() as IterableIterator<ChainEvent>;
    let d = decisions.next();
    let e = others.next();
    while (!d.done || !e.done) {
      const isDecision = !d.done && (e.done || d.value.seq < e.value.seq);
      const r: LedgerRow | ChainEvent = isDecision ? d.value : e.value!;
      if (isDecision) { rows++; d = decisions.next(); } else { events++; e = others.next(); }
      if (r.seq !== expectSeq && r.seq > expectSeq) problems.push({ seq: expectSeq, problem: `rows ${expectSeq}${r.seq - 1 > expectSeq ? `-${r.seq - 1}` : ''} are missing (deleted)` });
      if (r.prev_hash !== prev) problems.push({ seq: r.seq, problem: 'does not link to the row before it (a row before it was changed or deleted)' });
      if (chainHash(r.prev_hash, r.record) !== r.hash) problems.push({ seq: r.seq, problem: 'its content does not match its hash (the row was edited)' });
      else if (isDecision) {
        const row = r as LedgerRow;
        const column = columnMismatch(row);
        if (column) problems.push({ seq: r.seq, problem: column === 'record' ? 'its record is not a decision record' : `its ${column} column says ${JSON.stringify(row[column])} but its record says otherwise (the row was edited)` });
        else derived.decision(row);
      } else {
        const ev = r as ChainEvent;
        const column = eventMismatch(ev);
        if (column) problems.push({ seq: r.seq, problem: column === 'record' ? 'its record is not a ledger entry' : `its ${column} column says ${JSON.stringify(ev[column])} but its record says otherwise (the row was edited)` });
        else derived.event(ev);
      }
      prev = r.hash;
      expectSeq = r.seq + 1;
    }
    const head = this.ledgerHead();
    if (head.seq !== expectSeq - 1 || head.hash !== prev) {
      problems.push({ seq: head.seq, problem: `the chain ends at row ${expectSeq - 1} but the head says row ${head.seq}: rows at the end were deleted or the head was changed` });
    }
    for (const problem of derived.compare(this)) problems.push({ seq: problem.seq, problem: problem.problem });
    return { ok: problems.length === 0, rows, events, head: prev, problems };
  }

  /** Appends an entry beside the decisions to the chain (trust, escalation, approval, spend). */
  appendEvent(kind: EventKind, agent: string, ref: string | null, body: Record<string, unknown>, at: string): ChainEvent {
    const head = this.ledgerHead();
    const id = newId('evt', Date.parse(at) || Date.now());
    const record = JSON.stringify({ kind, id, agent, ref, at, ...body });
    const row: ChainEvent = { seq: head.seq + 1, id, at, kind, agent, ref, record, prev_hash: head.hash, hash: chainHash(head.hash, record) };
    this.write('INSERT INTO chain_events (seq, id, at, kind, agent, ref, record, prev_hash, hash) VALUES (@seq, @id, @at, @kind, @agent, @ref, @record, @prev_hash, @hash)', row);
    this.moveHead(row.seq, row.hash);
    return row;
  }

  /** The chained entries of one kind about `ref` (a decision or escalation id), oldest first. */
  eventsAbout(kind: EventKind, ref: string): ChainEvent[] {
    return this.sql('SELECT * FROM chain_events WHERE kind = ? AND ref = ? ORDER BY seq').all(kind, ref) as ChainEvent[];
  }

  /** Whether `name` has ever asked for a decision: such a name is an agent and never approves. */
  isAgent(name: string): boolean {
    return this.sql('SELECT 1 FROM ledger WHERE agent = ? LIMIT 1').get(name) !== undefined;
  }

  /** The ledger row of one decision. */
  decisionRow(id: string): LedgerRow | undefined {
    return this.sql('SELECT * FROM ledger WHERE id = ?').get(id) as LedgerRow | undefined;
  }

  // ---- cache

  /**
   * A live cache row: its decision, and whether it carries this user's seal over its key, bundle,
   * expiry and decision (written by govern under this user's key, as it was; see cachePut).
   */
  cacheGet(key: string, now: number): { decision: string; sealed: boolean } | undefined {
    const row = this.sql('SELECT decision, policy_hash, expires_at, seal FROM cache WHERE key = ?').get(key) as { decision: string; policy_hash: string; expires_at: number; seal: string | null } | undefined;
    if (!row || row.expires_at <= now) return undefined;
    return { decision: row.decision, sealed: rowSealed(cacheRowText(key, row.policy_hash, Number(row.expires_at), row.decision), row.seal) };
  }

  /** Counts a hit on a cache row: inside `atomically` the hits of each key are added at the commit, in one statement a key. */
  cacheHit(key: string): void {
    if (this.deferring) this.hits.set(key, (this.hits.get(key) ?? 0) + 1);
    else this.write('UPDATE cache SET hits = hits + 1 WHERE key = ?', key);
  }

  cachePut(key: string, policyHash: string, decision: string, now: number, ttlSeconds: number): void {
    if (ttlSeconds <= 0) return;
    this.dropExpired(now);
    // The row starts again at 0 hits: hits counted on the old one are not added to it.
    this.hits.delete(key);
    const expires = now + ttlSeconds * 1000;
    this.write(`INSERT INTO cache (key, policy_hash, decision, created_at, expires_at, seal) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(key) DO UPDATE SET decision = excluded.decision, policy_hash = excluded.policy_hash, created_at = excluded.created_at, expires_at = excluded.expires_at, seal = excluded.seal, hits = 0`,
      key, policyHash, decision, now, expires, sealRow(cacheRowText(key, policyHash, expires, decision)) ?? null);
  }

  // ---- the findings of requests scanned before (Runtime.scanOf)

  /**
   * The findings kept for a request (scanPut) while they are live, when their row carries this
   * user's seal over its key, expiry and findings: a row edited, or written by someone else, gives nothing.
   */
  scanGet(key: string, now: number): string | undefined {
    const row = this.sql('SELECT findings, expires_at, seal FROM scans WHERE key = ?').get(key) as { findings: string; expires_at: number; seal: string | null } | undefined;
    if (!row || Number(row.expires_at) <= now) return undefined;
    return rowSealed(scanRowText(key, Number(row.expires_at), row.findings), row.seal) ? row.findings : undefined;
  }

  scanPut(key: string, findings: string, now: number, ttlSeconds: number): void {
    if (ttlSeconds <= 0) return;
    this.dropExpired(now);
    const expires = now + ttlSeconds * 1000;
    this.write(`INSERT INTO scans (key, findings, expires_at, seal) VALUES (?, ?, ?, ?)
      ON CONFLICT(key) DO UPDATE SET findings = excluded.findings, expires_at = excluded.expires_at, seal = excluded.seal`,
      key, findings, expires, sealRow(scanRowText(key, expires, findings)) ?? null);
  }

  private droppedAt = -Infinity;

  /**
   * Deletes the expired rows of the cache and of the kept findings, at most once a
   * DROP_EXPIRED_EVERY_MS in a process: without it, every request ever cached would stay in the
   * state file. By their index on the expiry, what is not expired is not read.
   */
  private dropExpired(now: number): void {
    if (now - this.droppedAt < DROP_EXPIRED_EVERY_MS) return;
    this.droppedAt = now;
    this.write('DELETE FROM cache WHERE expires_at <= ?', now);
    this.write('DELETE FROM scans WHERE expires_at <= ?', now);
  }

  /** Drops entries of other policy bundles and expired ones. */
  cachePrune(currentPolicyHash: string, now: number): number {
    return this.sql('DELETE FROM cache WHERE policy_hash != ? OR expires_at <= ?').run(currentPolicyHash, now).changes;
  }

  // ---- trust

  trust(agent: string): number {
    const known = this.deferring ? this.seen.trust.get(agent) : undefined;
    if (known !== undefined) return known;
    const row = this.sql('SELECT trust FROM agents WHERE agent = ?').get(agent) as { trust: number } | undefined;
    const trust = row?.trust ?? INITIAL_TRUST;
    if (this.deferring) this.seen.trust.set(agent, trust);
    return trust;
  }

  /** Moves an agent's trust by `delta` (clamped to 0-100) and chains the change. Call inside a transaction. */
  changeTrust(agent: string, kind: 'outcome' | 'finding' | 'carried', ref: string | null, delta: number, fields: Record<string, unknown>, at: string): { before: number; after: number } {
    const before = this.trust(agent);
    const after = kind === 'carried' ? delta : Math.max(0, Math.min(100, before + delta));
    this.sql(`INSERT INTO agents (agent, trust, events, updated_at) VALUES (?, ?, 1, ?)
      ON CONFLICT(agent) DO UPDATE SET trust = excluded.trust, events = agents.events + 1, updated_at = excluded.updated_at`).run(agent, after, at);
    this.seen.trust.delete(agent);
    this.appendEvent(kind, agent, ref, { ...fields, delta: after - before, before, trust_after: after }, at);
    return { before, after };
  }

  /**
   * Records the outcome of a decided request, once per decision for the agent and once for anyone
   * else. The agent's own report can only lower its trust: a success it reports is recorded and
   * moves nothing. `deltas` are the configured moves per outcome.
   */
  recordOutcome(o: { decision: string; event: TrustEvent; by: Reporter; note?: string; agent?: string; deltas: Record<TrustEvent, number> }, at: string): OutcomeResult {
    return this.atomically(() => {
      const row = this.decisionRow(o.decision);
      if (!row) throw new StateError(`no decision ${o.decision} in the ledger; an outcome names the id of a recorded decision (the "id" of its answer).`);
      if (o.agent !== undefined && o.agent !== row.agent) throw new StateError(`decision ${o.decision} was made for agent ${row.agent}, not ${o.agent}; an outcome is reported for the agent that asked.`);
      const self = o.by.party === 'agent';
      const earlier = this.eventsAbout('outcome', o.decision).some((e) => ((JSON.parse(e.record) as { by: string | null }).by === null) === self);
      if (earlier) throw new StateError(`decision ${o.decision} already has an outcome reported by ${self ? 'the agent' : 'someone other than the agent'}; each decision's outcome is recorded once.`);
      const wanted = o.deltas[o.event];
      const delta = self ? Math.min(0, wanted) : wanted;
      const by = o.by.party === 'agent' ? null : o.by.name;
      const r = this.changeTrust(row.agent, 'outcome', o.decision, delta, { event: o.event, by, party: o.by.party, note: o.note ?? null, counted: delta === wanted }, at);
      return { agent: row.agent, decision: o.decision, event: o.event, before: r.before, after: r.after, counted: delta === wanted };
    });
  }

  trustEvents(agent: string, limit = 20): TrustChange[] {
    const rows = this.sql("SELECT record FROM chain_events WHERE agent = ? AND kind IN ('outcome', 'finding', 'carried') ORDER BY seq DESC LIMIT ?").all(agent, limit) as { record: string }[];
    return rows.map(({ record }) => {
      const r = JSON.parse(record) as { kind: string; event?: string; kinds?: string[]; delta: number; trust_after: number; note?: string | null; at: string; ref: string | null; by?: string | null };
      return { event: r.kind === 'finding' ? 'finding' : r.kind === 'carried' ? 'carried' : r.event!, delta: r.delta, trust_after: r.trust_after, note: r.note ?? (r.kinds ? r.kinds.join(', ') : null), at: r.at, decision: r.ref, by: r.by ?? null };
    });
  }

  // ---- usage

  /** Outermost transactions begun, and usage writes made, on this connection (see usageStamp). */
  private transactions = 0;
  private usageWrites = 0;

  /**
   * Inside a transaction, a stamp of the usage this connection sees: the write lock keeps every
   * other process out until the commit, so two equal stamps mean the same usage and a budget read
   * under the first need not be read again. Undefined outside a transaction (anyone may spend).
   */
  usageStamp(): string | undefined {
    return this.db.inTransaction ? `${this.transactions}:${this.usageWrites}` : undefined;
  }

  usage(agent: string, period: string): Usage {
    this.flushUsage([`${agent}\0${period}`]);
    return (this.sql('SELECT usd, tokens, requests FROM usage WHERE agent = ? AND period = ?').get(agent, period) as Usage | undefined) ?? { usd: 0, tokens: 0, requests: 0 };
  }

  /** An agent's usage in two periods (its hour and its day), in one statement (none when this transaction has read them). */
  usagePair(agent: string, first: string, second: string): [Usage, Usage] {
    if (this.deferring) {
      const a = this.seen.usage.get(`${agent}\0${first}`);
      const b = this.seen.usage.get(`${agent}\0${second}`);
      if (a && b) return [{ ...a }, { ...b }];
    }
    const pair = this.readUsagePair(agent, first, second);
    if (this.deferring) {
      this.seen.usage.set(`${agent}\0${first}`, { ...pair[0] });
      this.seen.usage.set(`${agent}\0${second}`, { ...pair[1] });
    }
    return pair;
  }

  private readUsagePair(agent: string, first: string, second: string): [Usage, Usage] {
    if (this.pendingUsage.size) this.flushUsage([`${agent}\0${first}`, `${agent}\0${second}`]);
    const rows = this.sql('SELECT period, usd, tokens, requests FROM usage WHERE agent = ? AND period IN (?, ?)').all(agent, first, second) as (Usage & { period: string })[];
    const of = (period: string): Usage => {
      const r = rows.find((x) => x.period === period);
      return r ? { usd: r.usd, tokens: r.tokens, requests: r.requests } : { usd: 0, tokens: 0, requests: 0 };
    };
    return [of(first), of(second)];
  }

  /**
   * Adds an allowed request's cost to its periods. Inside `atomically` the adds wait for the
   * commit (or a read of the row), each row then written once; outside, at once.
   */
  addUsage(agent: string, periods: string[], usd: number, tokens: number): void {
    this.usageWrites++;
    if (periods.length === 0) return;
    if (this.deferring) {
      for (const period of periods) {
        const key = `${agent}\0${period}`;
        // The rows as the upsert would leave them: the same sums, in the same order, as the database makes.
        const u = this.seen.usage.get(key);
        if (u) {
          u.usd = u.usd + usd;
          u.tokens = u.tokens + tokens;
          u.requests = u.requests + 1;
        }
        const p = this.pendingUsage.get(key);
        if (p) {
          p.usd.push(usd);
          p.tokens += tokens;
          p.requests++;
        } else this.pendingUsage.set(key, { agent, period, usd: [usd], tokens, requests: 1 });
      }
      return;
    }
    // One statement for every period (a row may not be named twice in one upsert).
    const each = new Set(periods).size === periods.length ? [periods] : periods.map((p) => [p]);
    for (const ps of each) {
      this.write(`INSERT INTO usage (agent, period, usd, tokens, requests) VALUES ${ps.map(() => '(?, ?, ?, ?, 1)').join(', ')}
      ON CONFLICT(agent, period) DO UPDATE SET usd = usage.usd + excluded.usd, tokens = usage.tokens + excluded.tokens, requests = usage.requests + 1`, ...ps.flatMap((p) => [agent, p, usd, tokens]));
    }
  }

  /**
   * Writes the pending adds of the rows `keys` (all rows without it), each row in one upsert of
   * its new value: the value this transaction has seen, or else the stored one with the adds made
   * one by one, as one upsert a decision would have summed them. The write lock keeps every other
   * writer out meanwhile, so the row cannot have moved.
   */
  private flushUsage(keys?: string[]): void {
    if (this.pendingUsage.size === 0) return;
    for (const key of keys ?? [...this.pendingUsage.keys()]) {
      const p = this.pendingUsage.get(key);
      if (!p) continue;
      this.pendingUsage.delete(key);
      let u = this.seen.usage.get(key);
      if (!u) {
        const stored = (this.sql('SELECT usd, tokens, requests FROM usage WHERE agent = ? AND period = ?').get(p.agent, p.period) as Usage | undefined) ?? { usd: 0, tokens: 0, requests: 0 };
        u = { usd: stored.usd, tokens: stored.tokens + p.tokens, requests: stored.requests + p.requests };
        for (const usd of p.usd) u.usd = u.usd + usd;
      }
      this.write(`INSERT INTO usage (agent, period, usd, tokens, requests) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(agent, period) DO UPDATE SET usd = excluded.usd, tokens = excluded.tokens, requests = excluded.requests`, p.agent, p.period, u.usd, u.tokens, u.requests);
    }
  }

  agentsWithUsage(period: string): string[] {
    this.flushUsage();
    return (this.sql('SELECT agent FROM usage WHERE period = ? ORDER BY agent').all(period) as { agent: string }[]).map((r) => r.agent);
  }

  // ---- shadow answers

  addShadow(row: ShadowRow): void {
    this.sql(`INSERT INTO shadow (decision_id, at, agent, route, rules, decided, model_decision, model, confidence, agree, input_tokens, output_tokens, reason)
      VALUES (@decision_id, @at, @agent, @route, @rules, @decided, @model_decision, @model, @confidence, @agree, @input_tokens, @output_tokens, @reason)`).run(row);
  }

  shadowRows(filter: { since?: string } = {}): ShadowRow[] {
    return (filter.since
      ? this.sql('SELECT * FROM shadow WHERE at >= ? ORDER BY id').all(filter.since)
      : this.sql('SELECT * FROM shadow ORDER BY id').all()) as ShadowRow[];
  }

  // ---- escalations

  /** A new escalation, pending until `expires_at`; chained so that its request key cannot be edited. */
  addEscalation(e: Omit<Escalation, 'status' | 'resolved_at' | 'resolved_by' | 'note'>): void {
    this.sql(`INSERT INTO escalations (id, decision_id, request_key, agent, request, reasons, status, created_at, expires_at)
      VALUES (@id, @decision_id, @request_key, @agent, @request, @reasons, 'pending', @created_at, @expires_at)`).run(e);
    this.appendEvent('escalation', e.agent, e.id, { decision_id: e.decision_id, request_key: e.request_key, request: e.request, reasons: e.reasons, created_at: e.created_at, expires_at: e.expires_at }, e.created_at);
  }

  /** The escalation of exactly this request still waiting for a human (not expired). */
  pendingEscalation(requestKey: string, nowIso = new Date().toISOString()): Escalation | undefined {
    return this.sql("SELECT * FROM escalations WHERE request_key = ? AND status = 'pending' AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at DESC LIMIT 1").get(requestKey, nowIso) as Escalation | undefined;
  }

  /** An approval of exactly this request that has not expired nor been used. */
  approvedEscalation(requestKey: string, nowIso: string): Escalation | undefined {
    return this.sql("SELECT * FROM escalations WHERE request_key = ? AND status = 'approved' AND (expires_at IS NULL OR expires_at > ?) ORDER BY resolved_at DESC LIMIT 1").get(requestKey, nowIso) as Escalation | undefined;
  }

  /** A human's deny of exactly this request that is still remembered. */
  deniedEscalation(requestKey: string, nowIso: string): Escalation | undefined {
    return this.sql("SELECT * FROM escalations WHERE request_key = ? AND status = 'denied' AND expires_at > ? ORDER BY resolved_at DESC LIMIT 1").get(requestKey, nowIso) as Escalation | undefined;
  }

  /** An approval was spent on decision `decisionId`. */
  useEscalation(id: string, decisionId?: string, at = new Date().toISOString()): void {
    const e = this.escalation(id);
    if (!e || e.status !== 'approved') return;
    this.sql("UPDATE escalations SET status = 'used' WHERE id = ? AND status = 'approved'").run(id);
    this.appendEvent('use', e.agent, id, { decision_id: decisionId ?? null }, at);
  }

  escalation(id: string): Escalation | undefined {
    return this.sql('SELECT * FROM escalations WHERE id = ?').get(id) as Escalation | undefined;
  }

  /** Where an escalation stands: a pending one past its time is expired (the agent was told no). */
  escalationState(e: Escalation, nowIso: string): EscalationState {
    return e.status === 'pending' && e.expires_at !== null && e.expires_at <= nowIso ? 'expired' : e.status;
  }

  escalations(status?: Escalation['status']): Escalation[] {
    return (status
      ? this.sql('SELECT * FROM escalations WHERE status = ? ORDER BY created_at').all(status)
      : this.sql('SELECT * FROM escalations ORDER BY created_at').all()) as Escalation[];
  }

  resolveEscalation(id: string, status: 'approved' | 'denied', by: string, note: string | undefined, at: string, expiresAt: string | null): Escalation {
    return this.atomically(() => {
      const e = this.escalation(id);
      if (!e) throw new StateError(`no escalation ${id}; \`govern escalations list\` shows the pending ones.`);
      if (e.status !== 'pending') throw new StateError(`escalation ${id} is already ${e.status}.`);
      if (this.escalationState(e, at) === 'expired') throw new StateError(`escalation ${id} expired at ${e.expires_at} and was answered as a deny; the agent asks again if it still needs to.`);
      this.sql('UPDATE escalations SET status = ?, resolved_at = ?, resolved_by = ?, note = ?, expires_at = ? WHERE id = ?').run(status, at, by, note ?? null, expiresAt, id);
      this.appendEvent(status === 'approved' ? 'approval' : 'denial', e.agent, id, { request_key: e.request_key, by, note: note ?? null, expires_at: expiresAt }, at);
      return this.escalation(id)!;
    });
  }

  // ---- recorded spend

  /**
   * Adds the real cost of an allowed decision. Recorded amounts only add up; the decision's budget
   * periods count the larger of what was declared and what was recorded in all.
   */
  recordSpend(decisionId: string, usd: number, tokens: number, at: string): { decision: string; agent: string; declared: { usd: number; tokens: number }; recorded: { usd: number; tokens: number }; counted: { usd: number; tokens: number } } {
    return this.atomically(() => {
      const row = this.decisionRow(decisionId);
      if (!row) throw new StateError(`no decision ${decisionId} in the ledger; record spend against the id of an allowed decision.`);
      if (row.decision !== 'allow') throw new StateError(`decision ${decisionId} was ${row.decision}, not allow: only an allowed request can have spent anything.`);
      const declared = declaredCost(row.record);
      const before = this.recordedSpend(decisionId);
      const after = { usd: before.usd + usd, tokens: before.tokens + tokens };
      const dUsd = Math.max(declared.usd, after.usd) - Math.max(declared.usd, before.usd);
      const dTokens = Math.max(declared.tokens, after.tokens) - Math.max(declared.tokens, before.tokens);
      const when = new Date(row.at);
      if (dUsd > 0 || dTokens > 0) {
        this.flushUsage();
        this.seen.usage.clear();
        const st = this.sql(`INSERT INTO usage (agent, period, usd, tokens, requests) VALUES (?, ?, ?, ?, 0)
          ON CONFLICT(agent, period) DO UPDATE SET usd = usage.usd + excluded.usd, tokens = usage.tokens + excluded.tokens`);
        for (const p of [hourPeriod(when), dayPeriod(when)]) st.run(row.agent, p, dUsd, dTokens);
      }
      this.appendEvent('spend', row.agent, decisionId, { usd, tokens }, at);
      return { decision: decisionId, agent: row.agent, declared, recorded: after, counted: { usd: Math.max(declared.usd, after.usd), tokens: Math.max(declared.tokens, after.tokens) } };
    });
  }

  /** What has been recorded as spent for one decision, in all. */
  recordedSpend(decisionId: string): { usd: number; tokens: number } {
    let usd = 0;
    let tokens = 0;
    for (const e of this.eventsAbout('spend', decisionId)) {
      const r = JSON.parse(e.record) as { usd: number; tokens: number };
      usd += r.usd;
      tokens += r.tokens;
    }
    return { usd, tokens };
  }

  /** Rows of the tables that verify compares with the chain. */
  derivedRows(): { agents: { agent: string; trust: number }[]; escalations: Escalation[]; usage: (Usage & { agent: string; period: string })[] } {
    this.flushUsage();
    return {
      agents: this.sql('SELECT agent, trust FROM agents').all() as never,
      escalations: this.escalations(),
      usage: this.sql('SELECT agent, period, usd, tokens, requests FROM usage').all() as never,
    };
  }
}

function declaredCost(record: string): { usd: number; tokens: number } {
  const c = (JSON.parse(record) as { request: { cost?: { usd?: number; tokens?: number } } }).request.cost;
  return { usd: c?.usd ?? 0, tokens: c?.tokens ?? 0 };
}

/** The first column of a chained entry that differs from its record. */
function eventMismatch(e: ChainEvent): keyof ChainEvent | undefined {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(e.record) as Record<string, unknown>;
  } catch {
    return 'record';
  }
  return (['id', 'at', 'kind', 'agent', 'ref'] as const).find((k) => r[k] !== e[k]);
}

/**
 * What the trust, escalation and usage tables must hold, rebuilt from the chain as verify walks it.
 */
class Derived {
  private trust = new Map<string, { trust: number; seq: number }>();
  private esc = new Map<string, { row: Partial<Escalation>; seq: number }>();
  private spend = new Map<string, { usd: number; tokens: number }>();
  private allowed: { id: string; agent: string; at: string; usd: number; tokens: number; seq: number }[] = [];

  decision(row: LedgerRow): void {
    if (row.decision !== 'allow') return;
    const c = declaredCost(row.record);
    this.allowed.push({ id: row.id, agent: row.agent, at: row.at, ...c, seq: row.seq });
  }

  event(e: ChainEvent): void {
    const r = JSON.parse(e.record) as Record<string, unknown>;
    if (TRUST_KINDS.includes(e.kind)) this.trust.set(e.agent, { trust: r.trust_after as number, seq: e.seq });
    else if (e.kind === 'escalation') {
      this.esc.set(e.ref!, { seq: e.seq, row: { id: e.ref!, decision_id: r.decision_id as string, request_key: r.request_key as string, agent: e.agent, request: r.request as string, reasons: r.reasons as string, status: 'pending', created_at: r.created_at as string, resolved_at: null, resolved_by: null, note: null, expires_at: (r.expires_at as string | null) ?? null } });
    } else if (e.kind === 'approval' || e.kind === 'denial') {
      const x = this.esc.get(e.ref!);
      if (x) {
        Object.assign(x.row, { status: e.kind === 'approval' ? 'approved' : 'denied', resolved_at: e.at, resolved_by: r.by as string, note: (r.note as string | null) ?? null, expires_at: (r.expires_at as string | null) ?? null });
        x.seq = e.seq;
      }
    } else if (e.kind === 'use') {
      const x = this.esc.get(e.ref!);
      if (x) { x.row.status = 'used'; x.seq = e.seq; }
    } else if (e.kind === 'spend') {
      const s = this.spend.get(e.ref!) ?? { usd: 0, tokens: 0 };
      s.usd += r.usd as number;
      s.tokens += r.tokens as number;
      this.spend.set(e.ref!, s);
    }
  }

  compare(state: State): { seq: number; problem: string }[] {
    const out: { seq: number; problem: string }[] = [];
    const rows = state.derivedRows();
    const seen = new Set<string>();
    for (const a of rows.agents) {
      seen.add(a.agent);
      const want = this.trust.get(a.agent);
      if (!want) out.push({ seq: 0, problem: `agent ${a.agent} has trust ${a.trust} but the ledger holds no trust change for it (the trust table was edited)` });
      else if (want.trust !== a.trust) out.push({ seq: want.seq, problem: `agent ${a.agent} has trust ${a.trust} but the ledger says ${want.trust} (the trust table was edited)` });
    }
    for (const [agent, want] of this.trust) if (!seen.has(agent)) out.push({ seq: want.seq, problem: `agent ${agent}'s trust (${want.trust} in the ledger) was deleted from the trust table` });
    const escSeen = new Set<string>();
    const fields = ['decision_id', 'request_key', 'agent', 'request', 'reasons', 'status', 'created_at', 'resolved_at', 'resolved_by', 'note', 'expires_at'] as const;
    for (const e of rows.escalations) {
      escSeen.add(e.id);
      const want = this.esc.get(e.id);
      if (!want) { out.push({ seq: 0, problem: `escalation ${e.id} is not in the ledger (the escalations table was edited)` }); continue; }
      const f = fields.find((k) => (want.row[k] ?? null) !== (e[k] ?? null));
      if (f) out.push({ seq: want.seq, problem: `escalation ${e.id}'s ${f} says ${JSON.stringify(e[f])} but the ledger says ${JSON.stringify(want.row[f] ?? null)} (the escalations table was edited)` });
    }
    for (const [id, want] of this.esc) if (!escSeen.has(id)) out.push({ seq: want.seq, problem: `escalation ${id} was deleted from the escalations table` });
    const usage = new Map<string, { usd: number; tokens: number; requests: number; seq: number }>();
    for (const a of this.allowed) {
      const s = this.spend.get(a.id);
      const usd = Math.max(a.usd, s?.usd ?? 0);
      const tokens = Math.max(a.tokens, s?.tokens ?? 0);
      const when = new Date(a.at);
      for (const p of [hourPeriod(when), dayPeriod(when)]) {
        const k = `${a.agent}\u0000${p}`;
        const u = usage.get(k) ?? { usd: 0, tokens: 0, requests: 0, seq: a.seq };
        u.usd += usd;
        u.tokens += tokens;
        u.requests++;
        u.seq = a.seq;
        usage.set(k, u);
      }
    }
    const useSeen = new Set<string>();
    for (const u of rows.usage) {
      const k = `${u.agent}\u0000${u.period}`;
      useSeen.add(k);
      const want = usage.get(k) ?? { usd: 0, tokens: 0, requests: 0, seq: 0 };
      if (Math.abs(want.usd - u.usd) > 1e-6 || want.tokens !== u.tokens || want.requests !== u.requests) {
        out.push({ seq: want.seq, problem: `usage of ${u.agent} in ${u.period} says $${u.usd}, ${u.tokens} tokens, ${u.requests} requests but the ledger says $${Math.round(want.usd * 1e6) / 1e6}, ${want.tokens} tokens, ${want.requests} requests (the usage table was edited)` });
      }
    }
    for (const [k, want] of usage) if (!useSeen.has(k)) out.push({ seq: want.seq, problem: `usage of ${k.replace('\u0000', ' in ')} was deleted from the usage table` });
    return out;
  }
}
