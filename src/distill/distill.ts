// `govern distill`: the model's recurring decisions become rule files in policies/distilled/.
// Learn (learn.ts) proposes rules from the record; each is rendered as a policy file with its
// provenance and tests, compiled with the written policies, and verified on every recorded
// judgement by the real engine: a rule that does not reproduce its group, that allows what any
// recorded decision denied or escalated, or that decides a recorded request otherwise than it was
// decided, is not written. Rules already on disk keep their id; a change of logic raises the
// version and keeps the old file in history.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import type { TestResult } from '../check/check.js';
import type { Bundle } from '../compile/bundle.js';
import { attributeComparisons, attributeReads, decimalValue, likeMatches, policyLogicKey, type AttributeTest, type CedarRequest, type CedarValue } from '../cedar/cedar.js';
import { PolicyError } from '../runtime/runtime.js';
import { canonicalJson, sha256 } from '../runtime/canonical.js';
import { displayPath } from '../policy/files.js';
import { newSource, parseYaml, stringifyYaml } from '../policy/source.js';
import { decidedByDistilled, decidedCategory, isEvidence, isJudgement, isLowConfidence, recordFacts, type Recorded } from '../records/records.js';
import { OfflinePipeline, requestKeyOf, type Replayed } from '../records/pipeline.js';
import type { CompiledRule } from '../compile/rule.js';
import { categoriesFor, cedarRequest, hasUpperPath } from '../engine/facts.js';
import { UNCLASSIFIED } from '../policy/vocabulary.js';
import type { IntentRouter } from '../runtime/runtime.js';
import { ABSENT, contextFeatures, FEATURES, sayAll, UNSAYABLE, type Feature } from './features.js';
import { learn, pinnedFor, ruleKey, VERDICTS, type Learned, type Unlearned, type Verdict } from './learn.js';
import { DEFAULT_TOLERANCE, type Tolerance } from './tolerance.js';

export const DISTILLED_DIR = 'distilled';
export const LOCK_FILE = `${DISTILLED_DIR}/distill.lock.json`;
export const HISTORY_DIR = `${DISTILLED_DIR}/.history`;
const MAX_TESTS = 10;
const MAX_IDS = 100;
const HEADER = '# Distilled by `govern distill` from the model\'s recorded decisions; `govern distill --check`\n# reports edits by hand. See `govern rules show ID` for its evidence and `govern rules history ID`.\n';

export interface DistillOptions {
  /** The policy folder; distilled rules live in its distilled/ subfolder. */
  policies: string;
  minSupport?: number;
  /** The statistics of the tolerance (defaults: DEFAULT_TOLERANCE). */
  tolerance?: Partial<Tolerance>;
  router?: IntentRouter;
  /** Asks the large model to draft a rule for a group (the learned rule stands when the draft fails). */
  drafter?: Drafter;
  /** Leave the rules now in policies/distilled/ out, as if none had been distilled (for held-out replay). */
  fresh?: boolean;
  /** Decide every record in every verification pass, not only those a changed rule can reach. */
  full?: boolean;
  /** Told how far verification has come: records decided of the total, per round. */
  progress?: (done: number, total: number) => void;
}

export type Drafter = (group: { verdict: Verdict; id: string; records: Recorded[] }) => Promise<{ rule?: Record<string, unknown>; model: string; error?: string }>;

export interface Provenance {
  generator: string;
  rule: string;
  models: string[];
  first: string;
  last: string;
  support: number;
  decisions: number;
  judged: number;
  /** Weighted share of the evidence that agrees, and Wilson's lower bound of it at `confidence`. */
  agreement: number;
  bound: number;
  confidence: number;
  /** Human decisions among the evidence (each counting `human_weight` model decisions). */
  humans: number;
  /** The dissenting evidence set aside as noise: decision ids (or record lines). */
  outliers: string[];
  features: Record<string, string>;
  drafted_by: string;
  decision_ids: string[];
}

export type RuleStatus = 'new' | 'changed' | 'updated' | 'unchanged' | 'kept';

export interface DistilledRule {
  id: string;
  version: number;
  effect: Verdict;
  /** Relative to the policy folder. */
  file: string;
  text: string;
  status: RuleStatus;
  provenance: Provenance;
  previous?: { version: number; text: string };
}

export interface Existing {
  id: string;
  version: number;
  effect: string;
  file: string;
  text: string;
  provenance?: Partial<Provenance>;
  logic?: string;
}

export interface Rejected {
  id: string;
  effect: Verdict;
  reason: string;
  /** A model's draft that failed (the learned rule was tried instead). */
  draft?: boolean;
}

export interface DistillResult {
  rules: DistilledRule[];
  /** On disk, but the record now contradicts them: to be removed (kept in history). */
  retired: (Existing & { reason: string })[];
  rejected: Rejected[];
  unlearned: (Unlearned & { description: string })[];
  outliers: { rule: string; decision: string; recorded: string; line: number }[];
  /** Everything the folder should hold, relative to the policy folder: rule files and the lock. */
  files: Map<string, string>;
  /** Files of earlier versions to add to history. */
  history: Map<string, string>;
  stats: { records: number; judged: number; evidence: number; humans: number; low_confidence: number; learned: number; verified: number; iterations: number; ms: number };
}

/** Files of the policy folder that are not distilled (relative paths). */
function writtenPolicyFiles(policies: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = join(dir, e.name);
      const rel = relative(policies, p).split(sep).join('/');
      if (e.isDirectory()) {
        if (rel !== DISTILLED_DIR) walk(p);
      } else if (/\.(ya?ml|cedar)$/i.test(e.name)) out.push(rel);
    }
  };
  walk(policies);
  return out.sort();
}

/**
 * Compiles the written policies (everything but distilled/) together with the given distilled
 * files (relative paths to text). Throws PolicyError naming the problems.
 */
export async function bundleWith(policies: string, files: Map<string, string>): Promise<Bundle> {
  return (await compileWith(policies, files, false)).bundle;
}

/** A distilled rule another rule makes redundant: the lint's message, and the id of the rule that covers it. */
interface Shadowed { why: string; by?: string }

/** As bundleWith, and runs the policies' tests: the written ones must still pass with distilled rules beside them. */
async function compileWith(policies: string, files: Map<string, string>, tests: boolean): Promise<{ bundle: Bundle; tests: TestResult[]; shadowed: Map<string, Shadowed> }> {
  const { check } = await import('../check/check.js');
  const dir = mkdtempSync(join(tmpdir(), 'govern-distill-'));
  try {
    for (const rel of writtenPolicyFiles(policies)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      cpSync(join(policies, rel), join(dir, rel));
    }
    for (const [rel, text] of files) {
      if (!/\.(ya?ml|cedar)$/i.test(rel) || rel.includes('/.history/')) continue;
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
    const r = check([dir], { tests });
    if (!r.bundle) {
      const diagnostics = r.diagnostics.map((d) => ({ ...d, file: d.file.startsWith(dir) ? join(policies, relative(dir, d.file)) : d.file }));
      throw new PolicyError(diagnostics, r.sources);
    }
    // A distilled rule that another makes redundant adds nothing: why, and the rule that covers it.
    const shadowed = new Map<string, Shadowed>();
    for (const d of r.diagnostics) {
      const by = d.related?.[0]?.rule;
      if (d.code === 'lint/shadowed-rule' && d.rule && d.file.includes(`/${DISTILLED_DIR}/`)) shadowed.set(d.rule, { why: d.message.split(dir).join(displayPath(policies)), ...(by !== undefined ? { by } : {}) });
    }
    return { bundle: r.bundle, shadowed, tests: r.tests.map((t) => ({ ...t, file: t.file.startsWith(dir) ? join(policies, relative(dir, t.file)) : t.file })) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The distilled rules now in the folder. */
export function readExisting(policies: string): Existing[] {
  const dir = join(policies, DISTILLED_DIR);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const out: Existing[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!/\.ya?ml$/i.test(name)) continue;
    const rel = `${DISTILLED_DIR}/${name}`;
    const text = readFileSync(join(policies, rel), 'utf8');
    const { data } = parseYaml(newSource(rel, text), 'policy');
    const doc = (data ?? {}) as { version?: unknown; provenance?: Partial<Provenance>; rules?: Record<string, unknown>[] };
    const rule = Array.isArray(doc.rules) ? doc.rules[0] : undefined;
    if (!rule || typeof rule.id !== 'string') continue;
    out.push({ id: rule.id, version: Number(doc.version) || 1, effect: String(rule.effect), file: rel, text, ...(doc.provenance ? { provenance: doc.provenance } : {}), logic: logicOf(rule) });
  }
  return out;
}

/** What decides: the parts of a rule whose change makes a new version. */
function logicOf(rule: Record<string, unknown>): string {
  const { match, when, effect, audit } = rule;
  return canonicalJson({ match, when, effect, audit });
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 24);
}

function ruleIdFor(l: Learned, features: Feature[]): string {
  // The effect and scope, then what tells this rule from its neighbours: distilled-deny-access-dev-domain-pastebin-com.
  const scope = ['category', 'environment', 'resource'];
  const parts = ['distilled', l.verdict];
  for (const name of scope) {
    const i = l.features.indexOf(features.findIndex((f) => f.name === name));
    if (i >= 0) parts.push(slug(l.values[i]!));
  }
  const pinned = pinnedFor(l.verdict, features);
  l.features.forEach((f, i) => {
    const v = l.values[i]!;
    if (scope.includes(features[f]!.name) || pinned.has(f) || v === ABSENT || parts.length >= 7) return;
    parts.push(slug(`${features[f]!.name.replace(/^context\./, '')}-${v.replace(/^[sb]:/, '')}`));
  });
  return parts.filter(Boolean).join('-').slice(0, 120);
}

function describe(l: Learned, features: Feature[]): string {
  return l.features.map((f, i) => features[f]!.describe(l.values[i]!)).join(', ');
}

function learnedRule(id: string, l: Learned, features: Feature[]): Record<string, unknown> {
  const { match, when } = sayAll(l.features.map((f, i) => [features[f]!, l.values[i]!]));
  return {
    id,
    description: `${l.verdict} ${describe(l, features)}: what the evidence on record decided for such requests.`,
    match,
    ...(when.length ? { when: when.length === 1 ? when[0] : when } : {}),
    effect: l.verdict,
    ...(l.verdict === 'allow' ? { audit: true } : {}),
    message: `Distilled from the model's decisions: ${l.verdict} ${describe(l, features)}.`,
  };
}

interface Candidate {
  id: string;
  learned: Learned;
  records: Recorded[];
  /** Where each of `records` is in the records verified. */
  places: number[];
  outlierRecords: Recorded[];
  rule: Record<string, unknown>;
  /** The learned rule, which stands when a model's draft fails. */
  base: Record<string, unknown>;
  drafted?: string;
  existing?: Existing;
}

export async function distill(input: Recorded[], opts: DistillOptions): Promise<DistillResult> {
  const t0 = performance.now();
  const minSupport = opts.minSupport ?? 3;
  const tolerance: Tolerance = { ...DEFAULT_TOLERANCE, ...opts.tolerance };
  // A decision the model was not sure of is no judgement to learn from, nor one to hold a rule to.
  const lowConfidence = input.filter(isLowConfidence).length;
  // A decision of a distilled rule is that rule's echo: no judgement to learn from or to hold a rule to.
  const records = input.filter((r) => isJudgement(r) && !isLowConfidence(r) && !decidedByDistilled(r));
  const evidence = records.filter(isEvidence);
  const features = [...FEATURES, ...contextFeatures(evidence, minSupport)];
  // Records with the same values share one vector, and requests are told apart by number: a
  // hundred thousand records make far fewer vectors and keys than records.
  const vectors = new Map<string, string[]>();
  const requests = new Map<string, number>();
  const examples = records.map((r, index) => {
    const values = features.map((f) => f.value(r));
    const v = values.join('\u0001');
    const vec = vectors.get(v) ?? (vectors.set(v, values), values);
    const k = requestKeyOf(r);
    const requestKey = requests.get(k) ?? (requests.set(k, requests.size), requests.size - 1);
    return { vec, verdict: VERDICTS.indexOf(r.decision.decision), evidence: isEvidence(r), weight: r.human ? tolerance.humanWeight : 1, requestKey, index };
  });
  vectors.clear();
  requests.clear();
  // A state fact that some record does not know (one from elsewhere) is no feature any rule may use.
  const unknown = new Set(records.flatMap((r) => r.unknown ?? []));
  const unknownOf = (f: number) => unknown.has(features[f]!.name);
  const existing = opts.fresh ? [] : readExisting(opts.policies);
  // A rule refused for overruling the record or a written test gets a narrower successor: the
  // learner runs again with it forbidden (a few rounds at most).
  const forbidden = new Set<string>();
  const refusedBefore: Rejected[] = [];
  let learned: Learned[];
  let unlearned: Unlearned[];
  let live: Candidate[];
  let keptLive: Existing[];
  let retired: (Existing & { reason: string })[];
  let rejected: Rejected[];
  let verified = 0;
  let iterations = 0;
  /** Decisions kept from one verification pass to the next (with `full`, none are kept). */
  let memo: Memo | undefined;
  for (let round = 1; ; round++) {
  ({ rules: learned, unlearned } = learn(examples, features, { minSupport, tolerance, forbidden, unknownOf }));

  // Ids: an existing rule of the same effect whose evidence overlaps most keeps its id.
  const claimed = new Set<string>();
  const taken = new Set<string>();
  const candidates: Candidate[] = [];
  for (const l of learned) {
    const places = l.agreeing.filter((i) => isEvidence(records[i]!));
    const agreeing = places.map((i) => records[i]!);
    const ids = new Set(agreeing.map((r) => r.decision.id).filter((x): x is string => !!x));
    const featureMap = Object.fromEntries(l.features.map((f, i) => [features[f]!.name, l.values[i]!]));
    let heir: Existing | undefined;
    let bestOverlap = 0;
    for (const e of existing) {
      if (claimed.has(e.id) || e.effect !== l.verdict) continue;
      const same = e.provenance?.features && canonicalJson(e.provenance.features) === canonicalJson(featureMap);
      const overlap = same ? Infinity : (e.provenance?.decision_ids ?? []).filter((x) => ids.has(x)).length;
      if (overlap > bestOverlap) [heir, bestOverlap] = [e, overlap];
    }
    let id = heir?.id ?? ruleIdFor(l, features);
    if (!heir) {
      const base = id;
      for (let n = 2; taken.has(id) || existing.some((e) => e.id === id && !claimed.has(e.id)); n++) id = `${base}-${n}`;
    }
    if (heir) claimed.add(heir.id);
    taken.add(id);
    const rule = learnedRule(id, l, features);
    candidates.push({ id, learned: l, records: agreeing, places, outlierRecords: l.outliers.map((i) => records[i]!), rule, base: rule, ...(heir ? { existing: heir } : {}) });
  }
  const kept = existing.filter((e) => !claimed.has(e.id));

  // A model's draft, where asked: only for rules that are new or whose logic changes.
  rejected = [];
  if (opts.drafter) {
    for (const c of candidates) {
      if (c.existing && c.existing.logic === logicOf(c.rule)) continue;
      const d = await opts.drafter({ verdict: c.learned.verdict, id: c.id, records: c.records.slice(0, 20) });
      if (!d.rule) {
        rejected.push({ id: c.id, effect: c.learned.verdict, reason: `the model's draft was not usable: ${d.error ?? 'no rule'}`, draft: true });
        continue;
      }
      if (d.rule.effect !== c.learned.verdict) {
        rejected.push({ id: c.id, effect: c.learned.verdict, reason: `the model's draft has effect ${String(d.rule.effect)}, the group's decisions are ${c.learned.verdict}`, draft: true });
        continue;
      }
      c.rule = { ...d.rule, id: c.id, ...(c.learned.verdict === 'allow' ? { audit: true } : {}) };
      delete c.rule.tests;
      c.drafted = d.model;
    }
  }

  // Verify with the engine on every recorded judgement; drop what fails, and try again.
  retired = [];
  live = candidates;
  keptLive = kept;
  for (;;) {
    iterations++;
    const files = new Map<string, string>();
    for (const c of live) files.set(`${DISTILLED_DIR}/${c.id}.yaml`, stringifyYaml({ rules: [c.rule] }));
    for (const e of keptLive) files.set(e.file, e.text);
    let bundle: Bundle;
    let tests: TestResult[];
    let shadowed: Map<string, Shadowed>;
    try {
      ({ bundle, tests, shadowed } = await compileWith(opts.policies, files, true));
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      // Blame the distilled files the errors point at; if none, the written policies are broken.
      const bad = new Set(e.diagnostics.filter((d) => d.severity === 'error').map((d) => d.file.split(sep).join('/')).filter((f) => f.includes(`/${DISTILLED_DIR}/`)).map((f) => f.slice(f.lastIndexOf('/') + 1).replace(/\.ya?ml$/, '')));
      if (!bad.size) throw e;
      const why = (id: string) => e.diagnostics.find((d) => d.file.endsWith(`/${id}.yaml`))?.message ?? 'does not compile';
      live = live.filter((c) => {
        if (!bad.has(c.id)) return true;
        rejected.push({ id: c.id, effect: c.learned.verdict, reason: `${c.drafted ? 'the model\'s draft ' : ''}does not compile: ${why(c.id)}`, ...(c.drafted ? { draft: true } : {}) });
        // The rule it would have replaced is judged again on its own: kept if it holds, else retired.
        if (c.existing) keptLive.push(c.existing);
        return false;
      });
      keptLive = keptLive.filter((k) => !bad.has(k.id) || (retired.push({ ...k, reason: `does not compile with the written policies: ${why(k.id)}` }), false));
      continue;
    }
    if (!memo) memo = new Memo(records, opts.router !== undefined);
    else if (opts.full) memo.decisions.clear();
    const { problems } = verify(bundle, records, live, keptLive, memo, opts.router, opts.progress);
    // The written policies' own tests must still pass beside the distilled rules.
    const ids = new Set([...live.map((c) => c.id), ...keptLive.map((k) => k.id)]);
    for (const t of tests) {
      if (t.passed) continue;
      for (const id of (t.decidedBy ?? []).filter((x) => ids.has(x))) if (!problems.has(id)) problems.set(id, `breaks the written policies' test \`${t.name}\` (${t.file}:${t.line}): ${t.message ?? 'it fails'}`);
    }
    // A rule shadowed by another that is itself refused now is judged again without it.
    for (const [id, { why, by }] of shadowed) {
      if (ids.has(id) && !problems.has(id) && !(by !== undefined && problems.has(by))) problems.set(id, `adds nothing: ${why}`);
    }
    verified = records.length;
    if (!problems.size) break;
    const drop = (id: string) => problems.get(id);
    const again: Candidate[] = [];
    for (const c of live) {
      const why = drop(c.id);
      if (!why) again.push(c);
      else if (c.drafted) {
        // The model's draft failed; the learned rule gets its own chance.
        rejected.push({ id: c.id, effect: c.learned.verdict, reason: `the model's draft ${why}`, draft: true });
        const { drafted: _d, ...learnedOnly } = c;
        again.push({ ...learnedOnly, rule: c.base });
      } else rejected.push({ id: c.id, effect: c.learned.verdict, reason: why });
    }
    keptLive = keptLive.filter((k) => !drop(k.id) || (retired.push({ ...k, reason: drop(k.id)! }), false));
    // A rule on disk whose successor failed is judged again on its own: kept if it holds, else retired.
    for (const c of live) if (drop(c.id) && !c.drafted && c.existing) keptLive.push(c.existing);
    live = again;
    if (iterations > 20 * round) throw new Error('distill: verification did not settle');
  }
  const byId = new Map(candidates.map((c) => [c.id, c]));
  const narrower = rejected.filter((r) => !r.draft && /^(would |breaks the written)/.test(r.reason)).map((r) => byId.get(r.id)!.learned).map((l) => ruleKey(l.verdict, l.features.map((f, i) => [features[f]!.name, l.values[i]!]))).filter((k) => !forbidden.has(k));
  if (!narrower.length || round >= 3) break;
  for (const k of narrower) forbidden.add(k);
  refusedBefore.push(...rejected.filter((r) => !r.draft && /^(would |breaks the written)/.test(r.reason)));
  }
  rejected = [...new Map([...refusedBefore, ...rejected].map((r) => [`${r.id}\u0001${r.reason}`, r])).values()];
  retired = retired.sort((a, b) => (a.id < b.id ? -1 : 1));

  // Render what stays.
  const rules: DistilledRule[] = [];
  const files = new Map<string, string>();
  const history = new Map<string, string>();
  for (const c of live) {
    // What the last verification decided: the rules now live are the ones it verified.
    const mine = new Set(c.records.filter((_, j) => memo!.replayed[c.places[j]!]!.rules.includes(c.id)));
    const r = render(c, features, (x) => mine.has(x), tolerance);
    rules.push(r);
    files.set(r.file, r.text);
    if (r.previous) history.set(`${HISTORY_DIR}/${r.id}/v${r.previous.version}.yaml`, r.previous.text);
  }
  for (const k of keptLive) {
    rules.push({ id: k.id, version: k.version, effect: k.effect as Verdict, file: k.file, text: k.text, status: 'kept', provenance: k.provenance as Provenance });
    files.set(k.file, k.text);
  }
  for (const k of retired) history.set(`${HISTORY_DIR}/${k.id}/v${k.version}.yaml`, k.text);
  rules.sort((a, b) => (a.id < b.id ? -1 : 1));
  files.set(LOCK_FILE, lockText(rules));

  const outliers = live.flatMap((c) => c.outlierRecords.map((r) => ({ rule: c.id, decision: r.decision.id ?? `line ${r.line}`, recorded: r.decision.decision, line: r.line })));
  return {
    rules,
    retired,
    rejected,
    unlearned: unlearned.map((u) => ({ ...u, description: u.values.map((v, i) => (v === ABSENT || v === UNSAYABLE ? '' : features[i]!.describe(v))).filter(Boolean).join(', ') })),
    outliers,
    files,
    history,
    stats: { records: input.length, judged: records.length, evidence: evidence.length, humans: evidence.filter((r) => r.human).length, low_confidence: lowConfidence, learned: learned.length, verified, iterations, ms: performance.now() - t0 },
  };
}

/**
 * Every recorded judgement through the candidate bundle (rules and router, no cache): a distilled
 * rule fails when it allows what was denied or escalated, decides a request otherwise than it was
 * decided (its own outliers aside), or when its group is not decided by it.
 */
function verify(bundle: Bundle, records: Recorded[], live: Candidate[], kept: Existing[], memo: Memo, router?: IntentRouter, progress?: (done: number, total: number) => void): { problems: Map<string, string> } {
  const distilled = new Set([...live.map((c) => c.id), ...kept.map((k) => k.id)]);
  const outliersOf = new Map(live.map((c) => [c.id, new Set(c.outlierRecords)]));
  const pipeline = new OfflinePipeline(bundle, router ? { router } : {});
  const problems = new Map<string, string>();
  /** How many records each distilled rule decides. */
  const decided = new Map<string, number>();
  // What each index class of records sees of this bundle: the rules that can reach it, by the engine's own index.
  const signatures = new Map(bundle.rules.map((rule) => [rule, memo.ruleId(rule)]));
  const views = memo.classes.map((c) => memo.view(bundle.rules.filter((rule) => reachesClass(rule, c)), signatures));
  try {
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (progress && (i + 1) % 1000 === 0) progress(i + 1, records.length);
      const view = views[memo.cls[i]!]!;
      // Requests that the same rules see alike are decided alike: decide each once, in this pass
      // and in the passes after it.
      const facts = recordFacts(r);
      // Deny and escalate rules also see the path in lower case: what they read of that form too.
      const lower = hasUpperPath(facts) ? JSON.stringify(view.see(cedarRequest(facts, bundle, { lowerPath: true }))) : '';
      const key = `${view.id}\u0001${memo.routed[i]}\u0001${memo.engines[memo.engine[i]!]}\u0001${JSON.stringify(view.see(cedarRequest(facts, bundle)))}\u0001${lower}`;
      let rep = memo.decisions.get(key);
      if (!rep) memo.decisions.set(key, (rep = pipeline.decide(r)));
      memo.replayed[i] = rep;
      const by = rep.rules.filter((x) => distilled.has(x));
      for (const id of by) decided.set(id, (decided.get(id) ?? 0) + 1);
      if (!by.length || rep.decision === r.decision.decision) continue;
      for (const id of by) {
        if (problems.has(id) || outliersOf.get(id)?.has(r)) continue;
        const where = r.decision.id ? `decision ${r.decision.id}` : `record ${r.line}`;
        problems.set(id, rep.decision === 'allow'
          ? `would allow what was ${r.decision.decision === 'deny' ? 'denied' : 'escalated'} (${where}: ${r.request.agent.id} ${r.request.action} ${r.request.resource.type})`
          : `would ${rep.decision} what was decided ${r.decision.decision} (${where})`);
      }
    }
  } finally {
    pipeline.engine.dispose();
  }
  // A rule that decides wrongly can hide another's group: settle those first.
  if (problems.size) return { problems };
  for (const c of live) {
    if (!decided.get(c.id)) {
      problems.set(c.id, 'decides none of its group: the written rules decide every one of them already');
      continue;
    }
    const missed = c.records.filter((_, j) => {
      const rep = memo.replayed[c.places[j]!]!;
      // Decided by a written rule now: the rule is not needed there, but that is no fault of it.
      return !rep.rules.includes(c.id) && (rep.route === 'model' || rep.rules.every((x) => distilled.has(x)));
    });
    if (missed.length) problems.set(c.id, `does not reproduce its group: ${missed.length} of its ${c.records.length} decisions ${missed.length === 1 ? 'is' : 'are'} not decided by it${c.drafted ? '' : ' (a rule the language cannot say exactly)'}`);
  }
  return { problems };
}

/** Records alike for the engine's index: environment, resource type and the categories it can be asked with (null: any). */
interface IndexClass { environment: string; resource: string; categories: string[] | null }

/** What the rules that can reach one index class of records see of a request, and under which number. */
interface View {
  /** Names the set of rules (each by its id and logic): the same number in every pass for the same rules. */
  id: number;
  /** The parts of a Cedar request these rules read, trust and hour by their classes. */
  see: (req: CedarRequest) => unknown;
}

/**
 * Attribute paths as a tree: `whole` where everything below is read, `present` where only whether
 * it is there, `literals` where only which of these strings it equals, `tests` where only how
 * it fares in these tests (with the literals).
 */
interface Reads { whole: boolean; present: boolean; literals?: Set<string>; tests?: AttributeTest[]; below: Map<string, Reads> }

function readTree(values: string[][], presence: string[][], literals: [string[], string[]][], tests: [string[], AttributeTest][]): Reads {
  const node = (): Reads => ({ whole: false, present: false, below: new Map() });
  const root = node();
  const at = (p: string[]) => p.reduce((n, name) => n.below.get(name) ?? n.below.set(name, node()).get(name)!, root);
  for (const p of values) at(p).whole = true;
  for (const p of presence) at(p).present = true;
  for (const [p, strings] of literals) {
    const n = at(p);
    n.literals ??= new Set();
    for (const x of strings) n.literals.add(x);
  }
  for (const [p, t] of tests) (at(p).tests ??= []).push(t);
  return root;
}

/** The part of a value that `reads` covers; absent attributes stay absent. */
function project(value: CedarValue | undefined, reads: Reads): unknown {
  if (value === undefined || reads.whole || value === null) return value;
  if ((reads.literals || reads.tests) && !reads.below.size) {
    const tests = reads.tests ?? [];
    // Compared with string literals and `like` patterns only: which literal it equals and which
    // patterns it matches stand for a string.
    if (typeof value === 'string' && tests.every((t) => t.op === 'like')) {
      return { equals: reads.literals?.has(value) ? value : null, like: tests.map((t) => t.op === 'like' && likeMatches(value, t.pattern)) };
    }
    // Compared with decimal constants only: how it compares with each stands for a decimal.
    const arg = (value as { __extn?: { fn?: string; arg?: unknown } }).__extn;
    const d = arg?.fn === 'decimal' && typeof arg.arg === 'string' ? decimalValue(arg.arg) : undefined;
    if (d !== undefined && !reads.literals && tests.every((t) => t.op === 'decimal')) {
      return { decimal: tests.map((t) => { const c = decimalValue((t as { value: string }).value)!; return d < c ? '<' : d === c ? '=' : '>'; }).join('') };
    }
    return value;
  }
  if (reads.literals) return value;
  if (!reads.below.size) return true;
  if (typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [name, below] of reads.below) {
    const v = (value as Record<string, CedarValue>)[name];
    if (v !== undefined) out[name] = project(v, below);
  }
  return out;
}

/**
 * What a set of rules reads of a Cedar request, as a value: two requests with equal views are
 * decided alike by those rules (the engine's own reads of the facts aside), so verification
 * decides each view once.
 */
export function requestView(rules: CompiledRule[]): (req: CedarRequest) => unknown {
  const values: string[][] = [];
  const presence: string[][] = [];
  const literals: [string[], string[]][] = [];
  const tests: [string[], AttributeTest][] = [];
  for (const rule of rules) {
    // A rule Cedar's parser cannot read for us is taken to read everything.
    const reads = attributeReads(rule.matcher) ?? { values: [['principal'], ['resource'], ['context']], presence: [], literals: [], tests: [] };
    values.push(...reads.values);
    presence.push(...reads.presence);
    literals.push(...reads.literals);
    tests.push(...reads.tests);
  }
  const tree = readTree(values, presence, literals, tests);
  const none: Reads = { whole: false, present: false, below: new Map() };
  const principal = tree.below.get('principal') ?? none;
  const resource = tree.below.get('resource') ?? none;
  const context = tree.below.get('context') ?? none;
  const trust = valueClasses({ rules }, 'principal.trust');
  const hour = valueClasses({ rules }, 'context.hour');
  const see = (req: CedarRequest): unknown => {
    const agent = { ...(project(req.entities[0]!.attrs, principal) as Record<string, unknown>) };
    // Compared with constants only: the class stands for the value.
    if (typeof agent.trust === 'number') agent.trust = trust(agent.trust);
    const ctx = { ...(project(req.context, context) as Record<string, unknown>) };
    if (typeof ctx.hour === 'number') ctx.hour = hour(ctx.hour);
    return [principal.whole ? req.principal.id : 0, agent, resource.whole ? req.resource.id : 0, project(req.entities[1]!.attrs, resource), ctx];
  };
  return see;
}

/**
 * What verification keeps from one pass to the next. A request's decision depends only on the
 * rules that can reach it and on what of the request those rules read: each decision is kept
 * under those rules and that part of the request, and a later pass that offers the same rules the
 * same part takes it from here (with `full`, decisions are kept for one pass only).
 */
class Memo {
  readonly classes: IndexClass[] = [];
  /** Per record, the parts of its decision key that no bundle changes: its index class; what the engine reads of its facts besides the Cedar request (categories, findings, a command, a path with capitals), as an index into `engines`; and, where the router may be asked (no stated category), the whole request but its caller id, numbered (else -1). */
  readonly cls: Int32Array;
  readonly engine: Int32Array;
  readonly engines: string[] = [];
  readonly routed: Int32Array;
  readonly decisions = new Map<string, Replayed>();
  /** What the last pass decided for each record, by its place. */
  readonly replayed: Replayed[];
  private readonly rules = new Map<string, number>();
  private readonly views = new Map<string, View>();

  constructor(records: Recorded[], router: boolean) {
    const classes = new Map<string, number>();
    const routed = new Map<string, number>();
    const engines = new Map<string, number>();
    this.replayed = new Array<Replayed>(records.length);
    this.cls = new Int32Array(records.length);
    this.engine = new Int32Array(records.length);
    this.routed = new Int32Array(records.length);
    records.forEach((r, i) => {
      const q = r.request;
      const facts = recordFacts(r);
      const all = categoriesFor(facts);
      // An unclassified request may be asked again with the category the router gives it.
      const categories = all.includes(UNCLASSIFIED) ? null : all;
      const c = JSON.stringify([q.environment, q.resource.type, categories]);
      let cls = classes.get(c);
      if (cls === undefined) {
        classes.set(c, (cls = this.classes.length));
        this.classes.push({ environment: q.environment, resource: q.resource.type, categories });
      }
      const e = JSON.stringify([facts.category, all, facts.findings, q.command !== undefined, hasUpperPath(facts)]);
      let engine = engines.get(e);
      if (engine === undefined) {
        engines.set(e, (engine = this.engines.length));
        this.engines.push(e);
      }
      // The router reads the request itself, free text and all.
      let n = -1;
      if (router && !q.category) {
        const k = canonicalJson([r.decision.facts, { ...q, id: undefined }]);
        n = routed.get(k) ?? (routed.set(k, routed.size), routed.size - 1);
      }
      this.cls[i] = cls;
      this.engine[i] = engine;
      this.routed[i] = n;
    });
  }

  /** A number for a rule's id and logic, the same in every pass. */
  ruleId(rule: CompiledRule): number {
    const s = `${rule.id}\0${ruleSignature(rule)}`;
    return this.rules.get(s) ?? (this.rules.set(s, this.rules.size), this.rules.size - 1);
  }

  /** The view of these rules, computed once for every pass. */
  view(rules: CompiledRule[], signatures: Map<CompiledRule, number>): View {
    const key = rules.map((r) => signatures.get(r)!).sort((a, b) => a - b).join(',');
    let v = this.views.get(key);
    if (!v) {
      v = { id: this.views.size, see: requestView(rules) };
      this.views.set(key, v);
    }
    return v;
  }
}

/** What of a rule can change a decision: its Cedar (annotations aside), verdict, tier, set and index. */
const ruleSignature = (r: CompiledRule) => `${r.effect}\0${r.tier}\0${r.set}\0${policyLogicKey(r.matcher)}\0${JSON.stringify(r.index)}`;

/**
 * Whether the engine can ask a rule about records of an index class: the index test of Engine's
 * candidate sets, on the environment, resource type and every category they can be asked with.
 */
function reachesClass(rule: CompiledRule, c: IndexClass): boolean {
  if (rule.index.environment !== null && !rule.index.environment.includes(c.environment)) return false;
  if (rule.index.resource && !rule.index.resource.includes(c.resource)) return false;
  if (rule.index.category === null) return true;
  return c.categories === null || c.categories.some((x) => rule.index.category!.includes(x));
}

/**
 * Numbers the rules only compare with constants (trust, hour) fall into classes: two values in
 * one class compare alike with every constant, so the rules decide them alike. Where an attribute
 * is used any other way, every value is its own class.
 */
export function valueClasses(bundle: Pick<Bundle, 'rules'>, attr: string): (v: number) => string {
  const dot = attr.indexOf('.');
  const variable = attr.slice(0, dot);
  const name = attr.slice(dot + 1);
  const points = new Set<number>();
  for (const r of bundle.rules) {
    // Read by Cedar's parser: a use other than a comparison with a constant makes every value its own class.
    const use = attributeComparisons(r.matcher, variable, name);
    if (!use || use.other) return (v) => String(v);
    for (const p of use.points) points.add(p);
  }
  const sorted = [...points].sort((a, b) => a - b);
  return (v) => sorted.map((t) => (v < t ? '<' : v === t ? '=' : '>')).join('');
}

function render(c: Candidate, features: Feature[], decides: (r: Recorded) => boolean, tolerance: Tolerance): DistilledRule {
  const l = c.learned;
  const byTime = [...c.records].sort((a, b) => a.time - b.time || a.line - b.line);
  const ids = byTime.map((r) => r.decision.id).filter((x): x is string => !!x);
  const provenance: Provenance = {
    generator: 'govern distill',
    rule: c.id,
    models: [...new Set(byTime.flatMap((r) => (r.model ? [r.model] : [])))].sort(),
    first: byTime[0]!.at,
    last: byTime[byTime.length - 1]!.at,
    support: l.support,
    decisions: byTime.length,
    judged: l.judged,
    agreement: Math.round(l.agreement * 10000) / 10000,
    bound: Math.round(l.bound * 10000) / 10000,
    confidence: tolerance.confidence,
    humans: byTime.filter((r) => r.human).length,
    outliers: c.outlierRecords.map((r) => r.decision.id ?? `line ${r.line}`),
    features: Object.fromEntries(l.features.map((f, i) => [features[f]!.name, l.values[i]!])),
    drafted_by: c.drafted ?? 'learner',
    decision_ids: ids.slice(0, MAX_IDS),
  };
  const tests: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (const r of byTime) {
    const key = requestKeyOf(r);
    // Tests only from requests this rule decides: others are decided by written rules now.
    if (seen.has(key) || !decides(r)) continue;
    seen.add(key);
    const { id: _id, ...request } = r.request;
    const f = r.decision.facts;
    const category = decidedCategory(r);
    tests.push({
      name: `${r.decision.id ?? `record ${r.line}`}: ${r.request.agent.id} ${r.request.action} ${r.request.resource.type}${r.request.resource.id ? '/' + r.request.resource.id : ''} in ${r.request.environment}`,
      request: { ...request, category },
      facts: {
        ...(f.detectors.length ? { findings: f.detectors } : {}),
        ...(typeof f.trust === 'number' ? { trust: f.trust } : {}),
        ...(typeof f.team === 'string' ? { team: f.team } : {}),
        ...(typeof f.hour === 'number' ? { hour: f.hour } : {}),
        ...(f.budget ? { budget: f.budget } : {}),
      },
      expect: l.verdict,
      rules: [c.id],
    });
    if (tests.length >= MAX_TESTS) break;
  }
  const logic = logicOf(c.rule);
  const old = c.existing;
  const version = old ? (old.logic === logic ? old.version : old.version + 1) : 1;
  const doc = {
    name: c.id,
    version,
    description: `Distilled rule ${c.id}: ${String(c.rule.description ?? '')}`.trim(),
    provenance: { ...provenance, support: l.support },
    rules: [c.rule],
    tests,
  };
  const text = HEADER + stringifyYaml(doc);
  const status: RuleStatus = !old ? 'new' : old.logic !== logic ? 'changed' : old.text !== text ? 'updated' : 'unchanged';
  return {
    id: c.id,
    version,
    effect: l.verdict,
    file: `${DISTILLED_DIR}/${c.id}.yaml`,
    text,
    status,
    provenance,
    ...(old && old.logic !== logic ? { previous: { version: old.version, text: old.text } } : {}),
  };
}

export interface Lock {
  generator: string;
  format: number;
  rules: { id: string; version: number; effect: string; file: string; sha256: string; support: number; bound?: number; outliers?: string[] }[];
}

function lockText(rules: DistilledRule[]): string {
  const lock: Lock = {
    generator: 'govern distill',
    format: 1,
    rules: rules.map((r) => ({ id: r.id, version: r.version, effect: r.effect, file: r.file, sha256: sha256(r.text), support: r.provenance?.support ?? 0, ...(r.provenance?.bound !== undefined ? { bound: r.provenance.bound } : {}), outliers: r.provenance?.outliers ?? [] })),
  };
  return JSON.stringify(lock, null, 2) + '\n';
}

export function readLock(policies: string): Lock | undefined {
  const p = join(policies, LOCK_FILE);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Lock;
  } catch {
    return undefined;
  }
}
