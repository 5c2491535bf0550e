// Replay's figures: each recorded request decided again by the pipeline without a model, and the
// comparison with the decision that was recorded. The recorded decision is the reference; the
// figures that gate CI (false allows, agreement, coverage) are those of the offline pipeline.
import type { OfflinePipeline, Replayed, Verdict } from '../records/pipeline.js';
import { isJudgement, isModelJudgement, type Recorded } from '../records/records.js';
import { estimateTokens } from '../runtime/baseline.js';

export const VERDICTS = ['allow', 'deny', 'escalate'] as const;
export const ROUTES = ['cache', 'rules', 'router', 'model'] as const;
export type Route = (typeof ROUTES)[number];

/** What the large model answered when asked again (`--live`); a failed call counts as escalate. */
export interface LiveAnswer {
  decision: Verdict;
  failed: boolean;
  usage: { input_tokens: number; output_tokens: number } | null;
}

/** One record and what became of it. */
export interface Row {
  record: Recorded;
  /** The recorded decision was a judgement (rules, cache, router or an answering model), so it is a reference. */
  judged: boolean;
  replayed: Replayed;
  /** Tokens the request costs when sent to the large model: the recorded usage where it was, else an estimate. */
  baseline: { input: number; output: number; measured: boolean };
  live?: LiveAnswer;
}

/** Decides one record offline and notes what comparing it needs. */
export function replayRecord(pipeline: OfflinePipeline, record: Recorded): Row {
  const replayed = pipeline.decide(record);
  const measured = isModelJudgement(record) && record.usage !== null;
  const base = measured ? { input: record.usage!.input_tokens, output: record.usage!.output_tokens } : estimateTokens(record.request);
  return { record, judged: isJudgement(record), replayed, baseline: { ...base, measured } };
}

export interface Thresholds {
  minAgreement?: number;
  minCoverage?: number;
}

export interface Latency { p50_ms: number | null; p99_ms: number | null }

/** The figures of a group of judged requests (a route, a rule). */
export interface Figures extends Latency {
  requests: number;
  agreeing: number;
  agreement: number | null;
  false_allows: number;
  false_denies: number;
}

export interface FalseAllow {
  /** Line in the file, or sequence number in the ledger. */
  line: number;
  at: string;
  agent: string;
  action: string;
  resource: string;
  recorded: Verdict;
  route: Route;
  /** The rules that allowed it; for a cache hit, those of the cached decision (none for a cached model answer). */
  rules: string[];
}

export type Confusion<C extends string> = Record<Verdict, Record<C, number>>;

export interface LiveFigures {
  model: string;
  asked: number;
  /** Calls that failed (error, timeout, invalid output); counted as escalate. */
  errors: number;
  /** Live answer equals the recorded decision, over every request asked. */
  agreeing: number;
  agreement: number | null;
  /** Recorded (rows) against live (columns). */
  confusion: Confusion<Verdict>;
  /** The covered requests, replayed decision against the live answer. */
  replayed: { compared: number; agreeing: number; agreement: number | null; false_allows: number };
  tokens: { input: number; output: number };
}

/** Shadow mode's answers (replay --ledger): the model asked about requests the cache or a distilled rule decided. */
export interface ShadowFigures {
  asked: number;
  agreeing: number;
  agreement: number | null;
  /** The decision allowed what the model denied or escalated. */
  false_allows: number;
  tokens: { input: number; output: number };
  by_rule: { rule: string; asked: number; disagreeing: number }[];
  disagreements: { decision: string; at: string; agent: string; rules: string[]; decided: string; model: string }[];
}

export function shadowFigures(rows: { decision_id: string; at: string; agent: string; rules: string; decided: string; model_decision: string; agree: number; input_tokens: number; output_tokens: number }[]): ShadowFigures {
  const agreeing = rows.filter((r) => r.agree).length;
  const rules = new Map<string, { asked: number; disagreeing: number }>();
  for (const r of rows) {
    for (const id of r.rules ? r.rules.split(',') : ['(cached model answer)']) {
      const e = rules.get(id) ?? rules.set(id, { asked: 0, disagreeing: 0 }).get(id)!;
      e.asked++;
      if (!r.agree) e.disagreeing++;
    }
  }
  return {
    asked: rows.length,
    agreeing,
    agreement: ratio(agreeing, rows.length),
    false_allows: rows.filter((r) => r.decided === 'allow' && r.model_decision !== 'allow').length,
    tokens: rows.reduce((a, r) => ({ input: a.input + r.input_tokens, output: a.output + r.output_tokens }), { input: 0, output: 0 }),
    by_rule: [...rules].map(([rule, e]) => ({ rule, ...e })).sort((a, b) => b.disagreeing - a.disagreeing || a.rule.localeCompare(b.rule)),
    disagreements: rows.filter((r) => !r.agree).map((r) => ({ decision: r.decision_id, at: r.at, agent: r.agent, rules: r.rules ? r.rules.split(',') : [], decided: r.decided, model: r.model_decision })),
  };
}

export interface Gate {
  gate: 'false-allows' | 'min-agreement' | 'min-coverage';
  message: string;
}

/** `govern replay --format json`: documented in the README; keys are only ever added. */
export interface Report {
  input: { source: 'file' | 'ledger'; name: string; from: string | null; to: string | null };
  policies: { path: string; hash: string };
  filters: { since: string | null; agent: string | null; category: string | null };
  split: { fraction: number; train: number; test: number; files: string[] } | null;
  totals: { records: number; judged: number; skipped: number; covered: number; uncovered: number; agreeing: number };
  skipped: { count: number; reason: 'no judgement recorded'; default: number; model_failed: number };
  coverage: number | null;
  agreement: number | null;
  overall_agreement: number | null;
  confusion: Confusion<Verdict | 'model'>;
  false_allows: FalseAllow[];
  false_denies: number;
  tokens: {
    baseline: { input: number; output: number; total: number; measured: number; estimated: number };
    replayed: { input: number; output: number; total: number };
    saved: number;
    saved_share: number | null;
    /** Recorded requests with no judgement (failed model calls, default escalations) that the pipeline would still send to the model: in the baseline and in the tokens used, never saved. */
    not_saved: { model_failed: number; default: number; tokens: number };
  };
  latency: Latency & { requests: number };
  by_route: Record<Route, Figures>;
  by_rule: (Figures & { rule: string })[];
  live: LiveFigures | null;
  gates: { passed: boolean; exit_code: number; min_agreement: number | null; min_coverage: number | null; failed: Gate[] };
  /** Shadow mode's answers in the state file (with --ledger; null otherwise). Reported, never a gate. */
  shadow: ShadowFigures | null;
}

export function ratio(n: number, d: number): number | null {
  return d ? n / d : null;
}

/** Nearest-rank percentile, in milliseconds rounded to the microsecond. */
export function percentile(values: number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const v = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return Math.round(v * 1000) / 1000;
}

function latencyOf(rows: Row[]): Latency {
  const ms = rows.map((r) => r.replayed.elapsedMs);
  return { p50_ms: percentile(ms, 0.5), p99_ms: percentile(ms, 0.99) };
}

const covered = (r: Row) => r.replayed.route !== 'model';
const recordedOf = (r: Row): Verdict => r.record.decision.decision;
const agrees = (r: Row) => covered(r) && r.replayed.decision === recordedOf(r);
const falseAllow = (r: Row) => r.replayed.decision === 'allow' && recordedOf(r) !== 'allow';
const falseDeny = (r: Row) => r.replayed.decision === 'deny' && recordedOf(r) !== 'deny';

function figures(rows: Row[]): Figures {
  const cov = rows.filter(covered);
  const agreeing = cov.filter(agrees).length;
  return { requests: rows.length, agreeing, agreement: ratio(agreeing, cov.length), false_allows: rows.filter(falseAllow).length, false_denies: rows.filter(falseDeny).length, ...latencyOf(rows) };
}

export function resourceText(r: Recorded['request']['resource']): string {
  return r.type === 'file' ? `file:${r.id}` : `${r.type}${r.id ? `/${r.id}` : ''}`;
}

function emptyConfusion<C extends string>(cols: readonly C[]): Confusion<C> {
  const row = () => Object.fromEntries(cols.map((c) => [c, 0])) as Record<C, number>;
  return { allow: row(), deny: row(), escalate: row() };
}

export interface ReportContext {
  input: Report['input'];
  policies: Report['policies'];
  filters: Report['filters'];
  split: Report['split'];
  thresholds: Thresholds;
  liveModel?: string;
  shadow?: ShadowFigures;
}

/** Every figure of a replay, and which gates fail (exit_code is the caller's to set). */
export function summarize(rows: Row[], ctx: ReportContext): Report {
  const judged = rows.filter((r) => r.judged);
  const skippedRows = rows.filter((r) => !r.judged);
  const cov = judged.filter(covered);
  const uncovered = judged.filter((r) => !covered(r));
  const agreeing = cov.filter(agrees).length;

  const confusion = emptyConfusion(['allow', 'deny', 'escalate', 'model'] as const);
  for (const r of judged) confusion[recordedOf(r)][r.replayed.decision ?? 'model']++;

  const falseAllows: FalseAllow[] = judged.filter(falseAllow).map((r) => ({
    line: r.record.line, at: r.record.at, agent: r.record.request.agent.id, action: r.record.request.action,
    resource: resourceText(r.record.request.resource), recorded: recordedOf(r), route: r.replayed.route, rules: r.replayed.rules,
  }));

  const sum = (xs: Row[]) => xs.reduce((a, r) => ({ input: a.input + r.baseline.input, output: a.output + r.baseline.output }), { input: 0, output: 0 });
  // Honest accounting: a failed model call or a default escalation saved nothing. Every request
  // is in the baseline; those the pipeline still cannot decide cost the model's tokens again.
  const unsaved = skippedRows.filter((r) => !covered(r));
  const base = sum(rows);
  const used = sum([...uncovered, ...unsaved]);
  const unsavedTokens = sum(unsaved);
  const baseTotal = base.input + base.output;
  const usedTotal = used.input + used.output;

  const byRoute = Object.fromEntries(ROUTES.map((route) => [route, figures(judged.filter((r) => r.replayed.route === route))])) as Record<Route, Figures>;
  const ruleRows = new Map<string, Row[]>();
  for (const r of cov) for (const id of new Set(r.replayed.rules)) ruleRows.set(id, [...(ruleRows.get(id) ?? []), r]);
  const byRule = [...ruleRows.entries()].map(([rule, rs]) => ({ rule, ...figures(rs) }))
    .sort((a, b) => b.false_allows - a.false_allows || b.requests - a.requests || a.rule.localeCompare(b.rule));

  const report: Report = {
    input: ctx.input,
    policies: ctx.policies,
    filters: ctx.filters,
    split: ctx.split,
    totals: { records: rows.length, judged: judged.length, skipped: skippedRows.length, covered: cov.length, uncovered: uncovered.length, agreeing },
    skipped: {
      count: skippedRows.length,
      reason: 'no judgement recorded',
      default: skippedRows.filter((r) => r.record.decision.route === 'default').length,
      model_failed: skippedRows.filter((r) => r.record.decision.route !== 'default').length,
    },
    coverage: ratio(cov.length, judged.length),
    agreement: ratio(agreeing, cov.length),
    overall_agreement: ratio(agreeing + uncovered.length, judged.length),
    confusion,
    false_allows: falseAllows,
    false_denies: judged.filter(falseDeny).length,
    tokens: {
      baseline: { ...base, total: baseTotal, measured: rows.filter((r) => r.baseline.measured).length, estimated: rows.filter((r) => !r.baseline.measured).length },
      replayed: { ...used, total: usedTotal },
      saved: baseTotal - usedTotal,
      saved_share: ratio(baseTotal - usedTotal, baseTotal),
      not_saved: {
        model_failed: unsaved.filter((r) => r.record.decision.route !== 'default').length,
        default: unsaved.filter((r) => r.record.decision.route === 'default').length,
        tokens: unsavedTokens.input + unsavedTokens.output,
      },
    },
    latency: { ...latencyOf(rows), requests: rows.length },
    by_route: byRoute,
    by_rule: byRule,
    live: ctx.liveModel !== undefined ? liveFigures(judged, ctx.liveModel) : null,
    gates: { passed: true, exit_code: 0, min_agreement: ctx.thresholds.minAgreement ?? null, min_coverage: ctx.thresholds.minCoverage ?? null, failed: [] },
    shadow: ctx.shadow ?? null,
  };
  report.gates.failed = gates(report, ctx.thresholds);
  report.gates.passed = report.gates.failed.length === 0;
  return report;
}

function liveFigures(judged: Row[], model: string): LiveFigures {
  const asked = judged.filter((r) => r.live);
  const confusion = emptyConfusion(VERDICTS);
  for (const r of asked) confusion[recordedOf(r)][r.live!.decision]++;
  const agreeing = asked.filter((r) => r.live!.decision === recordedOf(r)).length;
  const compared = asked.filter(covered);
  const sameAsReplayed = compared.filter((r) => r.replayed.decision === r.live!.decision).length;
  return {
    model,
    asked: asked.length,
    errors: asked.filter((r) => r.live!.failed).length,
    agreeing,
    agreement: ratio(agreeing, asked.length),
    confusion,
    replayed: {
      compared: compared.length,
      agreeing: sameAsReplayed,
      agreement: ratio(sameAsReplayed, compared.length),
      false_allows: compared.filter((r) => r.replayed.decision === 'allow' && r.live!.decision !== 'allow').length,
    },
    tokens: asked.reduce((a, r) => ({ input: a.input + (r.live!.usage?.input_tokens ?? 0), output: a.output + (r.live!.usage?.output_tokens ?? 0) }), { input: 0, output: 0 }),
  };
}

// A share equal to its threshold passes, whatever the rounding of the division.
const EPSILON = 1e-9;
const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The gates a replay fails, in order of severity: false allows first. */
export function gates(r: Report, t: Thresholds): Gate[] {
  const failed: Gate[] = [];
  const n = r.false_allows.length;
  if (n) failed.push({ gate: 'false-allows', message: `${n} false allow${n === 1 ? '' : 's'}: the pipeline allows what the recorded decision denied or escalated` });
  if (t.minAgreement !== undefined) {
    if (r.agreement === null) failed.push({ gate: 'min-agreement', message: `agreement cannot be measured: no request was decided without the model (--min-agreement ${percent(t.minAgreement)})` });
    else if (r.agreement < t.minAgreement - EPSILON) failed.push({ gate: 'min-agreement', message: `agreement ${percent(r.agreement)} is under --min-agreement ${percent(t.minAgreement)}` });
  }
  if (t.minCoverage !== undefined) {
    const c = r.coverage ?? 0;
    if (c < t.minCoverage - EPSILON) failed.push({ gate: 'min-coverage', message: `coverage ${percent(c)} is under --min-coverage ${percent(t.minCoverage)}` });
  }
  return failed;
}
