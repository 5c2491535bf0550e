// The window `govern stats` counts over: since a date (--since), else the last hours (--hours).
import { UsageError } from '../diagnostics/usage.js';

export function statsWindow(opts: { hours: string; since?: string }, now = Date.now()): Date {
  if (opts.since !== undefined) {
    if (Number.isNaN(Date.parse(opts.since))) throw new UsageError(`--since: "${opts.since}" is not a date (use ISO 8601, e.g. 2026-11-01 or 2026-11-01T12:00:00Z).`);
    return new Date(opts.since);
  }
  const h = Number(opts.hours);
  if (!opts.hours.trim() || !Number.isFinite(h) || h <= 0) throw new UsageError(`--hours: "${opts.hours}" is not a number of hours above 0.`);
  return new Date(now - h * 3_600_000);
}
