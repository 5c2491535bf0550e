// One replay, apart from the command line: read the decision records (a file or the ledger),
// filter them, optionally distill the first part into rules (a held-out figure), decide the rest
// again with cache, rules and router (and the large model with `live`), and summarize. Errors a
// user can cause are ReplayError, naming the flag when one is at fault.
import { relative } from 'node:path';
import type { Bundle } from '../compile/bundle.js';
import { OfflinePipeline } from '../records/pipeline.js';
import { byTime, filterRecords, ledgerRecords, readRecords, RecordError, recordFacts, type Recorded, type RecordFilter } from '../records/records.js';
import type { Runtime } from '../runtime/runtime.js';
import { replayRecord, shadowFigures, summarize, type Report, type Row, type Thresholds } from './metrics.js';

/** A replay that cannot run as asked: no records, a bad split, a model that is not configured. */
export class ReplayError extends Error {}

export interface ReplayOptions {
  /** A file of decision records (`-` for stdin); else `ledger`. */
  file?: string;
  ledger: boolean;
  filter: RecordFilter;
  /** The filters as the user gave them, for the message when none match. */
  filterFlags: string[];
  /** Distill the first share of the records (by time) and replay the rest. */
  split?: number;
  splitFlag?: string;
  live: boolean;
  thresholds: Thresholds;
  progress?: (total: number) => { tick(done: number): void; clear(): void };
}

export async function replay(rt: Runtime, opts: ReplayOptions): Promise<Report> {
  const { filter } = opts;
  const large = rt.config.models.large;
  if (opts.live && (!large || !rt.advisor)) {
    throw new ReplayError('--live needs a large model: configure models.large in govern.config.yaml, e.g.\n  models:\n    large: {provider: openai, model: gpt-4o}\n(the API key comes from the environment: OPENAI_API_KEY or ANTHROPIC_API_KEY).');
  }
  let records: Recorded[];
  let name: string;
  try {
    if (opts.ledger) {
      if (!rt.state) throw new ReplayError('replay --ledger needs the state file; drop --no-state.');
      // A PostgreSQL state is named by its URL without the password.
      name = rt.state.db.dialect === 'postgres' ? rt.state.path : relative(process.cwd(), rt.config.state) || rt.config.state;
      const since = filter.since !== undefined ? new Date(filter.since).toISOString() : undefined;
      records = ledgerRecords(rt.state.ledgerRows({ ...(since ? { since } : {}), ...(filter.agent ? { agent: filter.agent } : {}) }), name);
    } else {
      name = opts.file === '-' ? 'stdin' : opts.file!;
      records = await readRecords(opts.file!);
    }
  } catch (e) {
    if (e instanceof RecordError) throw new ReplayError(e.message);
    throw e;
  }
  const total = records.length;
  records = byTime(filterRecords(records, filter));
  if (!records.length) {
    throw new ReplayError(total
      ? `no decision records to replay: none of the ${total} in ${name} match ${opts.filterFlags.join(' ')}.`
      : `no decision records to replay: ${opts.ledger ? 'the ledger is empty (decisions are recorded by `govern eval`, `route` and `serve`)' : `${name} holds none`}.`);
  }

  let bundle: Bundle = rt.bundle;
  let splitInfo: Report['split'] = null;
  if (opts.split !== undefined) {
    const train = Math.floor(records.length * opts.split + 1e-9);
    if (train < 1 || train >= records.length) {
      throw new ReplayError(`--split ${opts.splitFlag ?? opts.split}: ${records.length} record${records.length === 1 ? '' : 's'} cannot be split so that both parts hold at least one; use more records or another fraction.`);
    }
    const { bundleWith, distill } = await import('../distill/distill.js');
    // fresh: the rules now in policies/distilled/ were learned from these very records, so they stay out.
    const distilled = await distill(records.slice(0, train), { policies: rt.config.policies, fresh: true, ...(rt.router ? { router: rt.router } : {}) });
    try {
      bundle = await bundleWith(rt.config.policies, distilled.files);
    } catch (e) {
      const { PolicyError } = await import('../runtime/runtime.js');
      if (e instanceof PolicyError) throw new ReplayError(`--split: the policies with the distilled rules do not compile: ${e.message}`);
      throw e;
    }
    records = records.slice(train);
    splitInfo = { fraction: opts.split, train, test: records.length, files: [...distilled.files.keys()].filter((f) => /\.(ya?ml|cedar)$/i.test(f)).sort() };
  }

  const pipeline = new OfflinePipeline(bundle, { ...(rt.config.cache.enabled ? { cache: rt.config.cache.ttl } : {}), ...(rt.router ? { router: rt.router } : {}) });
  // The first decision pays for preparing Cedar; latency is measured as a running service sees it.
  pipeline.engine.decide(recordFacts(records[0]!));
  const askLive = opts.live ? (await import('./live.js')).askLive : undefined;
  const rows: Row[] = [];
  const progress = opts.progress?.(records.length);
  try {
    for (const [i, r] of records.entries()) {
      progress?.tick(i);
      const row = replayRecord(pipeline, r);
      if (askLive && row.judged) row.live = await askLive(rt.advisor!, rt.router, r);
      rows.push(row);
    }
  } finally {
    progress?.clear();
  }

  return summarize(rows, {
    input: { source: opts.ledger ? 'ledger' : 'file', name, from: records[0]!.at, to: records[records.length - 1]!.at },
    policies: { path: relative(process.cwd(), rt.config.policies) || '.', hash: bundle.hash },
    filters: { since: filter.since !== undefined ? new Date(filter.since).toISOString() : null, agent: filter.agent ?? null, category: filter.category ?? null },
    split: splitInfo,
    thresholds: opts.thresholds,
    ...(opts.live && large ? { liveModel: `${large.provider}/${large.model}` } : {}),
    // Shadow mode's answers live beside the ledger: reported with --ledger.
    ...(opts.ledger && rt.state ? { shadow: shadowFigures(rt.state.shadowRows(filter.since !== undefined ? { since: new Date(filter.since).toISOString() } : {})) } : {}),
  });
}
