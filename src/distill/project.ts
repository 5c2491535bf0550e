// Distilling a project: the records (a file, or the ledger with the humans' answers and the
// model's shadow answers), the run over the policy folder, what it changes, and writing it; and
// the distilled rules on disk with their version history, for `govern distill` and `govern rules`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseShare, UsageError } from '../diagnostics/usage.js';
import type { State } from '../ledger/state.js';
import { displayPath } from '../policy/files.js';
import { humanRecords, ledgerRecords, readRecords, RecordError, shadowRecords, type Recorded } from '../records/records.js';
import type { Runtime } from '../runtime/runtime.js';
import { apply, changesOf, lineDiff, makeDrafter, type Change } from './changes.js';
import { distill, HISTORY_DIR, LOCK_FILE, readExisting, type DistillResult, type Existing } from './distill.js';
import type { Tolerance } from './tolerance.js';

export type DistillMode = 'write' | 'dry-run' | 'check';

/** The records to distill: JSON Lines from `from` ("-" for stdin), else the ledger of `state`. */
export async function distillRecords(from: string | undefined, state: () => State): Promise<Recorded[]> {
  try {
    if (from !== undefined) return await readRecords(from);
    const st = state();
    const ledger = ledgerRecords(st.ledgerRows(), 'ledger');
    // The humans' answers to escalations are evidence too, and weigh more than the model's.
    // So are the model's shadow answers (shadow.sample): a rule they contradict is narrowed or retired.
    return [...ledger, ...humanRecords(st.escalations(), ledger), ...shadowRecords(st.shadowRows(), ledger)];
  } catch (e) {
    if (e instanceof RecordError) throw new UsageError(`${e.message}`);
    throw e;
  }
}

/** The run's settings from distill's flags; a value out of range is a usage error naming its flag. */
export function distillSettings(o: { minSupport: string; minAgreement: string; minAllowAgreement: string; confidence: string; humanWeight: string; check?: boolean; dryRun?: boolean }): { minSupport: number; tolerance: Tolerance; mode: DistillMode } {
  const minSupport = Number(o.minSupport);
  if (!Number.isInteger(minSupport) || minSupport < 1) throw new UsageError(`--min-support: "${o.minSupport}" is not a whole number of at least 1.`);
  const minBound = parseShare('--min-agreement', o.minAgreement);
  const minAllowBound = parseShare('--min-allow-agreement', o.minAllowAgreement);
  const confidence = parseShare('--confidence', o.confidence, { open: true });
  const humanWeight = Number(o.humanWeight);
  if (!Number.isFinite(humanWeight) || humanWeight <= 0) throw new UsageError(`--human-weight: "${o.humanWeight}" is not a number above 0.`);
  if (o.check && o.dryRun) throw new UsageError('--check and --dry-run: give one of them (--check also writes nothing, and sets the exit code).');
  return { minSupport, tolerance: { minBound, minAllowBound, confidence, humanWeight }, mode: o.check ? 'check' : o.dryRun ? 'dry-run' : 'write' };
}

export interface DistillRun { result: DistillResult; changes: Change[]; policies: string }

/** Distills `records` into the runtime's policy folder; writes the rule files unless `mode` says not to. */
export async function distillProject(rt: Runtime, records: Recorded[], o: { mode: DistillMode; minSupport: number; tolerance: Tolerance; model: boolean; progress: (done: number) => void }): Promise<DistillRun> {
  if (o.model && !rt.config.models.large) throw new UsageError('--model: no large model is configured; add models.large to govern.config.yaml (see `govern providers check`).');
  const policies = rt.config.policies;
  const result = await distill(records, {
    policies, minSupport: o.minSupport, tolerance: o.tolerance, progress: o.progress,
    ...(rt.router ? { router: rt.router } : {}),
    ...(o.model && rt.config.models.large ? { drafter: makeDrafter(rt.config.models.large) } : {}),
  });
  const changes = changesOf(policies, result);
  if (o.mode === 'write') apply(policies, result);
  return { result, changes, policies };
}

/** What a write would change, as line diffs: rule files by name, then the lock file, then retired files. */
export function dryRunDiff(policies: string, result: DistillResult): string {
  let out = '';
  const order = (rel: string) => `${rel === LOCK_FILE ? 1 : 0}${rel}`;
  for (const [rel, text] of [...result.files].sort((a, b) => (order(a[0]) < order(b[0]) ? -1 : 1))) {
    const p = join(policies, rel);
    const old = existsSync(p) ? readFileSync(p, 'utf8') : '';
    if (old !== text) out += lineDiff(old, text, rel);
  }
  for (const k of result.retired) out += lineDiff(k.text, '', k.file);
  return out;
}

/** The distilled rule `id`, or a usage error naming the nearest ids. */
export function findRule(existing: Existing[], id: string): Existing {
  const e = existing.find((x) => x.id === id);
  if (!e) {
    const near = existing.filter((x) => x.id.includes(id) || id.includes(x.id)).map((x) => x.id).slice(0, 3);
    throw new UsageError(`no distilled rule "${id}"${near.length ? `; did you mean ${near.join(', ')}?` : ''} (\`govern rules list\` shows them).`);
  }
  return e;
}

export interface RuleVersion { version: number; file: string; text: string; current: boolean }

/** The versions of distilled rule `id`, oldest first: those in the history folder, then the current one. */
export function ruleVersions(policies: string, id: string): { versions: RuleVersion[]; current: boolean } {
  const current = readExisting(policies).find((e) => e.id === id);
  const hdir = join(policies, HISTORY_DIR, id);
  const old = existsSync(hdir) ? readdirSync(hdir).filter((n) => /^v\d+\.ya?ml$/.test(n)).sort((a, b) => Number(a.slice(1).split('.')[0]) - Number(b.slice(1).split('.')[0])) : [];
  if (!current && !old.length) throw new UsageError(`rules history: no distilled rule "${id}" (now or in history); \`govern rules list\` shows the rules.`);
  const versions = old.map((n) => ({ version: Number(n.slice(1).split('.')[0]), file: displayPath(join(hdir, n)), text: readFileSync(join(hdir, n), 'utf8'), current: false }));
  if (current) versions.push({ version: current.version, file: displayPath(join(policies, current.file)), text: current.text, current: true });
  return { versions, current: current !== undefined };
}
