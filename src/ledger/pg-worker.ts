// The worker thread behind postgres.ts: it owns the `pg` connections (one per State, so that a
// transaction spans calls) and answers one query at a time while the main thread waits on it.
import { runAsWorker } from 'synckit';
import pg from 'pg';

// BIGINT columns (seq, milliseconds, tokens, counts) come back as numbers: every value govern
// stores stays far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

export type PgCall =
  | { op: 'connect'; url: string; lockTimeoutMs: number }
  | { op: 'query'; conn: number; queries: PgQuery[] }
  | { op: 'close'; conn: number };

/** Queries sent together run in order; the answer is the last one's. */
export interface PgQuery { sql: string; params?: unknown[]; name?: string }

export interface PgResult { rows: Record<string, unknown>[]; rowCount: number }

const clients = new Map<number, pg.Client>();
let next = 1;

runAsWorker(async (call: PgCall): Promise<PgResult | number | null> => {
  switch (call.op) {
    case 'connect': {
      // A server that does not answer is given up after 10 s rather than waited for forever.
      const client = new pg.Client({ connectionString: call.url, application_name: 'govern', connectionTimeoutMillis: 10_000, keepAlive: true });
      // A dropped connection surfaces on the next query; without a listener it would end the worker.
      client.on('error', () => {});
      await client.connect();
      await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(call.lockTimeoutMs))}`);
      const id = next++;
      clients.set(id, client);
      return id;
    }
    case 'query': {
      const client = clients.get(call.conn);
      if (!client) throw new Error('the PostgreSQL connection is closed');
      let out: PgResult = { rows: [], rowCount: 0 };
      for (const q of call.queries) {
        const r = q.params
          ? await client.query({ text: q.sql, values: q.params, ...(q.name ? { name: q.name } : {}) })
          : await client.query(q.sql);
        const last = Array.isArray(r) ? r[r.length - 1] : r;
        out = { rows: last?.rows ?? [], rowCount: last?.rowCount ?? 0 };
      }
      return out;
    }
    case 'close': {
      const client = clients.get(call.conn);
      clients.delete(call.conn);
      await client?.end().catch(() => {});
      return null;
    }
  }
});
