// Which decision records a replay reads, from its flags: since a date, one agent, one category.
import { UsageError } from '../diagnostics/usage.js';
import { CATEGORIES } from '../policy/vocabulary.js';
import type { RecordFilter } from './records.js';

export function recordFilter(opts: { since?: string; agent?: string; category?: string }): RecordFilter {
  const f: RecordFilter = {};
  if (opts.since !== undefined) {
    const t = Date.parse(opts.since);
    if (Number.isNaN(t)) throw new UsageError(`--since: "${opts.since}" is not a date (use ISO 8601, e.g. 2026-11-01 or 2026-11-01T12:00:00Z).`);
    f.since = t;
  }
  if (opts.agent !== undefined) f.agent = opts.agent;
  if (opts.category !== undefined) {
    const c = opts.category.toUpperCase();
    if (!(CATEGORIES as readonly string[]).includes(c)) throw new UsageError(`--category: "${opts.category}" is not one of ${CATEGORIES.join(', ')}.`);
    f.category = c;
  }
  return f;
}

/** The filter flags as given, for the report to say which records it read. */
export function filterFlags(opts: { since?: string; agent?: string; category?: string }): string[] {
  return [opts.since && `--since ${opts.since}`, opts.agent && `--agent ${opts.agent}`, opts.category && `--category ${opts.category}`].filter((x): x is string => !!x);
}
