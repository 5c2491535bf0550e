// The state file (.govern/state.db): the only importer of better-sqlite3. Holds the decision
// ledger (append-only, each row chaining the previous row's hash), the decision cache, trust
// events and scores, usage per agent per hour and day, and escalations awaiting a human.
// WAL mode and a busy timeout let several `govern eval` processes share one file; every
// decision is written in one IMMEDIATE transaction, so nothing acknowledged is lost or torn.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);

type DB = BetterSqlite3.Database;

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
];

export const GENESIS = '0'.repeat(64);

export type TrustEvent = 'success' | 'failure' | 'exception' | 'violation';
export const TRUST_DELTAS: Record<TrustEvent, number> = { success: 2, failure: -2, exception: -3, violation: -5 };
export const INITIAL_TRUST = 40;

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

export function chainHash(prev: string, record: string): string {
  return createHash('sha256').update(prev).update('\n').update(record).digest('hex');
}

export function hourPeriod(d: Date): string {
  return `h:${d.toISOString().slice(0, 13)}`;
}
export function dayPeriod(d: Date): string {
  return `d:${d.toISOString().slice(0, 10)}`;
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
  readonly db: DB;
  private statements = new Map<string, BetterSqlite3.Statement>();

  /** A prepared statement, prepared once per connection: preparing costs more than running. */
  private sql(text: string): BetterSqlite3.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  private constructor(db: DB, readonly path: string) {
    this.db = db;
  }

  static open(path: string, opts: { readonly?: boolean; synchronous?: 'normal' | 'full' } = {}): State {
    const Database = require('better-sqlite3') as typeof BetterSqlite3;
    if (path !== ':memory:' && !opts.readonly) mkdirSync(dirname(path), { recursive: true });
    let db: DB;
    try {
      db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false, timeout: 10_000 });
    } catch (e) {
      throw new StateError(`cannot open the state file ${path}: ${(e as Error).message}`);
    }
    try {
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      }
      db.pragma('foreign_keys = ON');
      const state = new State(db, path);
      if (!opts.readonly) state.migrate();
      return state;
    } catch (e) {
      db.close();
      if (e instanceof StateError) throw e;
      throw new StateError(`${path} is not a usable govern state file: ${(e as Error).message}. Move it aside; govern creates a new one.`);
    }
  }

  private migrate(): void {
    const current = () => this.db.pragma('user_version', { simple: true }) as number;
    const check = (v: number) => {
      if (v > MIGRATIONS.length) throw new StateError(`${this.path} was written by a newer govern (schema ${v}); upgrade govern.`);
    };
    check(current());
    if (current() === MIGRATIONS.length) return;
    // Read the version again under the write lock: another process may have migrated meanwhile.
    this.db.transaction(() => {
      const version = current();
      check(version);
      for (let v = version; v < MIGRATIONS.length; v++) this.db.exec(MIGRATIONS[v]!);
      this.db.pragma(`user_version = ${MIGRATIONS.length}`);
    }).immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs `fn` in one IMMEDIATE transaction: the decision, its usage and its ledger row commit together. */
  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // ---- ledger

  append(entry: { id: string; at: string; agent: string; decision: string; route: string; category?: string | null; model?: string | null; inputTokens?: number; outputTokens?: number; policyHash: string; record: string }): LedgerRow {
    const head = this.sql('SELECT seq, hash FROM ledger_head WHERE one = 1').get() as { seq: number; hash: string } | undefined;
    const prev = head?.hash ?? GENESIS;
    const seq = (head?.seq ?? 0) + 1;
    const hash = chainHash(prev, entry.record);
    const row: LedgerRow = {
      seq, id: entry.id, at: entry.at, agent: entry.agent, decision: entry.decision, route: entry.route,
      category: entry.category ?? null, model: entry.model ?? null, input_tokens: entry.inputTokens ?? 0,
      output_tokens: entry.outputTokens ?? 0, policy_hash: entry.policyHash, record: entry.record, prev_hash: prev, hash,
    };
    this.sql(`INSERT INTO ledger (seq, id, at, agent, decision, route, category, model, input_tokens, output_tokens, policy_hash, record, prev_hash, hash)
      VALUES (@seq, @id, @at, @agent, @decision, @route, @category, @model, @input_tokens, @output_tokens, @policy_hash, @record, @prev_hash, @hash)`).run(row);
    this.sql('INSERT INTO ledger_head (one, seq, hash) VALUES (1, ?, ?) ON CONFLICT(one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash').run(seq, hash);
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

  ledgerHead(): { seq: number; hash: string } {
    return (this.sql('SELECT seq, hash FROM ledger_head WHERE one = 1').get() as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: GENESIS };
  }

  /**
   * Walks the chain: every row's hash, its link to the previous row, no gap in seq, and the head.
   * The hash covers the record; the columns beside it (which export and stats filter on) must say
   * what the record says.
   */
  verifyLedger(): { ok: boolean; rows: number; head: string; problems: { seq: number; problem: string }[] } {
    const problems: { seq: number; problem: string }[] = [];
    let prev = GENESIS;
    let expectSeq = 1;
    let rows = 0;
    for (const r of this.sql('SELECT * FROM ledger ORDER BY seq').iterate() as IterableIterator<LedgerRow>) {
      rows++;
      if (r.seq !== expectSeq) problems.push({ seq: expectSeq, problem: `rows ${expectSeq}${r.seq - 1 > expectSeq ? `-${r.seq - 1}` : ''} are missing (deleted)` });
      if (r.prev_hash !== prev) problems.push({ seq: r.seq, problem: 'does not link to the row before it (a row before it was changed or deleted)' });
      if (chainHash(r.prev_hash, r.record) !== r.hash) problems.push({ seq: r.seq, problem: 'its content does not match its hash (the row was edited)' });
      else {
        const column = columnMismatch(r);
        if (column) problems.push({ seq: r.seq, problem: column === 'record' ? 'its record is not a decision record' : `its ${column} column says ${JSON.stringify(r[column])} but its record says otherwise (the row was edited)` });
      }
      prev = r.hash;
      expectSeq = r.seq + 1;
    }
    const head = this.ledgerHead();
    if (head.seq !== expectSeq - 1 || head.hash !== prev) {
      problems.push({ seq: head.seq, problem: `the chain ends at row ${expectSeq - 1} but the head says row ${head.seq}: rows at the end were deleted or the head was changed` });
    }
    return { ok: problems.length === 0, rows, head: prev, problems };
  }

  // ---- cache

  cacheGet(key: string, now: number): string | undefined {
    const row = this.sql('SELECT decision, expires_at FROM cache WHERE key = ?').get(key) as { decision: string; expires_at: number } | undefined;
    if (!row || row.expires_at <= now) return undefined;
    return row.decision;
  }

  cacheHit(key: string): void {
    this.sql('UPDATE cache SET hits = hits + 1 WHERE key = ?').run(key);
  }

  cachePut(key: string, policyHash: string, decision: string, now: number, ttlSeconds: number): void {
    if (ttlSeconds <= 0) return;
    this.sql(`INSERT INTO cache (key, policy_hash, decision, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(key) DO UPDATE SET decision = excluded.decision, policy_hash = excluded.policy_hash, created_at = excluded.created_at, expires_at = excluded.expires_at, hits = 0`)
      .run(key, policyHash, decision, now, now + ttlSeconds * 1000);
  }

  /** Drops entries of other policy bundles and expired ones. */
  cachePrune(currentPolicyHash: string, now: number): number {
    return this.sql('DELETE FROM cache WHERE policy_hash != ? OR expires_at <= ?').run(currentPolicyHash, now).changes;
  }

  // ---- trust

  trust(agent: string): number {
    const row = this.sql('SELECT trust FROM agents WHERE agent = ?').get(agent) as { trust: number } | undefined;
    return row?.trust ?? INITIAL_TRUST;
  }

  recordTrust(agent: string, event: TrustEvent, note: string | undefined, at: string): { before: number; after: number } {
    return this.atomically(() => {
      const before = this.trust(agent);
      const after = Math.max(0, Math.min(100, before + TRUST_DELTAS[event]));
      this.sql(`INSERT INTO agents (agent, trust, events, updated_at) VALUES (?, ?, 1, ?)
        ON CONFLICT(agent) DO UPDATE SET trust = excluded.trust, events = events + 1, updated_at = excluded.updated_at`).run(agent, after, at);
      this.sql('INSERT INTO trust_events (agent, event, delta, trust_after, note, at) VALUES (?, ?, ?, ?, ?, ?)').run(agent, event, after - before, after, note ?? null, at);
      return { before, after };
    });
  }

  trustEvents(agent: string, limit = 20): { event: string; delta: number; trust_after: number; note: string | null; at: string }[] {
    return this.sql('SELECT event, delta, trust_after, note, at FROM trust_events WHERE agent = ? ORDER BY id DESC LIMIT ?').all(agent, limit) as never;
  }

  // ---- usage

  usage(agent: string, period: string): Usage {
    return (this.sql('SELECT usd, tokens, requests FROM usage WHERE agent = ? AND period = ?').get(agent, period) as Usage | undefined) ?? { usd: 0, tokens: 0, requests: 0 };
  }

  addUsage(agent: string, periods: string[], usd: number, tokens: number): void {
    const stmt = this.sql(`INSERT INTO usage (agent, period, usd, tokens, requests) VALUES (?, ?, ?, ?, 1)
      ON CONFLICT(agent, period) DO UPDATE SET usd = usd + excluded.usd, tokens = tokens + excluded.tokens, requests = requests + 1`);
    for (const p of periods) stmt.run(agent, p, usd, tokens);
  }

  agentsWithUsage(period: string): string[] {
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

  addEscalation(e: Omit<Escalation, 'status' | 'resolved_at' | 'resolved_by' | 'note' | 'expires_at'>): void {
    this.sql(`INSERT INTO escalations (id, decision_id, request_key, agent, request, reasons, status, created_at)
      VALUES (@id, @decision_id, @request_key, @agent, @request, @reasons, 'pending', @created_at)`).run(e);
  }

  pendingEscalation(requestKey: string): Escalation | undefined {
    return this.sql("SELECT * FROM escalations WHERE request_key = ? AND status = 'pending' ORDER BY created_at DESC LIMIT 1").get(requestKey) as Escalation | undefined;
  }

  /** An approval of exactly this request that has not expired nor been used. */
  approvedEscalation(requestKey: string, nowIso: string): Escalation | undefined {
    return this.sql("SELECT * FROM escalations WHERE request_key = ? AND status = 'approved' AND (expires_at IS NULL OR expires_at > ?) ORDER BY resolved_at DESC LIMIT 1").get(requestKey, nowIso) as Escalation | undefined;
  }

  useEscalation(id: string): void {
    this.sql("UPDATE escalations SET status = 'used' WHERE id = ? AND status = 'approved'").run(id);
  }

  escalation(id: string): Escalation | undefined {
    return this.sql('SELECT * FROM escalations WHERE id = ?').get(id) as Escalation | undefined;
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
      this.sql('UPDATE escalations SET status = ?, resolved_at = ?, resolved_by = ?, note = ?, expires_at = ? WHERE id = ?').run(status, at, by, note ?? null, expiresAt, id);
      return this.escalation(id)!;
    });
  }
}
