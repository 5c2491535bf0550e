// The throwaway PostgreSQL server of the state tests: bench/lib/postgres.mjs, shared with the load bench.
export interface PgServer {
  /** A new empty database; its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): void;
}

// @ts-expect-error plain JavaScript, shared with bench/
import { startPostgres as start } from '../bench/lib/postgres.mjs';

/** Starts a server (initdb into a temp folder, 127.0.0.1, a free port), or says why none can be started here. */
export const startPostgres = start as () => Promise<PgServer | { skip: string }>;
