// Runs a fixture file through the shared runtime, as `eval` decides one request: cache, rules,
// router and the models when configured, every decision recorded. Beside each decision the built-in
// intent router classifies the request (and, when asked, the small model too) so that labels can be
// scored. Tokens are counted honestly: a request saves tokens only when cache, rules or router
// decided it; a default escalation or a failed model call hands it to a human and saves nothing.
import { RequestError } from '../request/normalize.js';
import { classify } from '../router/intent.js';
import { readSentence } from '../router/intent.js';
import { estimateTokens } from '../runtime/baseline.js';
import type { Runtime } from '../runtime/runtime.js';
import { ROUTES, Scorer, type Difference, type Expected, type Item, type Observed, type Reading, type Score } from './fixtures.js';

export type NotSaved = 'default escalation' | 'failed model call';

export interface Row {
  line: number;
  id?: string;
  route?: string;
  decision?: string;
  category?: string;
  tokens: { input: number; output: number };
  baseline: { input: number; output: number; measured: boolean };
  /** Tokens this request did not cost against its baseline. */
  saved: number;
  /** Why a decided request saved nothing: a human decides it. */
  not_saved?: NotSaved;
  error?: string;
  expected?: Expected;
  got?: { category: string | null; risk: string | null; route: string; decision: string; rules: string[]; model?: { category: string | null; risk: string | null } };
  differences?: Difference[];
}

export interface Totals {
  requests: number;
  decided: number;
  failed: number;
  routes: Record<string, number>;
  decided_without_model: number;
  tokens: { input: number; output: number };
  baseline: { input: number; output: number };
  saved: number;
  saved_share: number;
  baseline_measured: number;
  /** Decided requests that saved nothing, by cause. */
  not_saved: { default_escalations: number; failed_model_calls: number };
  /** With --model: what classifying every line with the small model cost (not part of the pipeline's tokens). */
  model_classification?: { model: string | null; answered: number; tokens: { input: number; output: number } };
}

export interface RouteRun {
  rows: Row[];
  totals: Totals;
  score: Score;
}

const ZERO = { input: 0, output: 0 };

/**
 * A free-text question without an agent (`{"request": "Can cleanup-agent delete temp files?"}`)
 * takes the agent it names; every other field stays as given.
 */
export function withNamedAgent(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const r = raw as Record<string, unknown>;
  if (r.agent !== undefined || typeof r.request !== 'string') return raw;
  const agent = readSentence(r.request).agent;
  return agent ? { agent, ...r } : raw;
}

export async function runFixtures(rt: Runtime, items: Item[], opts: { model?: boolean; tick?: (i: number) => void } = {}): Promise<RouteRun> {
  const rows: Row[] = [];
  const scorer = new Scorer();
  let modelName: string | null = null;
  let modelAnswered = 0;
  const modelTokens = { input: 0, output: 0 };
  for (const [i, it] of items.entries()) {
    opts.tick?.(i);
    if (it.error) { rows.push({ line: it.line, tokens: ZERO, baseline: { ...ZERO, measured: false }, saved: 0, error: it.error }); continue; }
    let p;
    try {
      p = rt.prepare(withNamedAgent(it.raw));
    } catch (e) {
      if (!(e instanceof RequestError)) throw e;
      rows.push({ line: it.line, tokens: ZERO, baseline: { ...ZERO, measured: false }, saved: 0, error: e.message });
      continue;
    }
    const asked = await rt.consult(p);
    const ev = rt.transaction(() => rt.commit(p, asked));
    const d = ev.decision;
    const failed = asked?.failed === true;
    const measured = d.route === 'model' && !failed && (d.tokens.input > 0 || d.tokens.output > 0);
    const base = measured ? d.tokens : estimateTokens(ev.request);
    const used = d.tokens.input + d.tokens.output;
    const judgedWithoutModel = d.route === 'cache' || d.route === 'rules' || d.route === 'router';
    const notSaved: NotSaved | undefined = failed ? 'failed model call' : d.route === 'default' ? 'default escalation' : undefined;
    const saved = judgedWithoutModel ? Math.max(0, base.input + base.output - used) : 0;
    const row: Row = {
      line: it.line, ...(ev.request.id ? { id: ev.request.id } : {}), route: d.route, decision: d.decision, category: ev.facts.category,
      tokens: d.tokens, baseline: { ...base, measured }, saved, ...(notSaved ? { not_saved: notSaved } : {}),
    };
    const labeled = Object.keys(it.expected).length > 0;
    if (labeled || opts.model) {
      const intent = classify(ev.request, ev.findings);
      const readings: Observed['readings'] = { router: { category: intent.category, risk: intent.risk, why: intent.signals.join('; ') } };
      if (opts.model && rt.smallRouter) {
        const small = await rt.smallRouter(p);
        let reading: Reading;
        if (small) {
          modelName = small.model;
          modelAnswered++;
          modelTokens.input += small.usage.input_tokens;
          modelTokens.output += small.usage.output_tokens;
          reading = { category: small.intent.category, risk: small.intent.risk, why: `small model ${small.model}, confidence ${small.intent.confidence}` };
        } else {
          reading = { category: null, risk: null, why: 'the small model gave no valid answer' };
        }
        readings.model = reading;
      }
      const rules = d.reasons.flatMap((r) => (r.rule ? [r.rule] : []));
      const reasons = d.reasons.map((r) => (r.rule ? `${r.rule}: ${r.message}` : r.message)).join('; ');
      const obs: Observed = { route: d.route, decision: d.decision, rules, reasons, readings };
      const differences = scorer.add(it.line, it.expected, obs);
      // A label naming a rule the policies do not have is most likely a typo: say so.
      const unknown = (it.expected.rules ?? []).filter((id) => !rt.bundle.byId.has(id));
      for (const d of differences) if (d.expectation === 'rules' && unknown.length) d.why = `no rule ${unknown.join(', ')} in the policies; ${d.why}`;
      if (labeled) row.expected = it.expected;
      row.got = {
        category: intent.category, risk: intent.risk, route: d.route, decision: d.decision, rules,
        ...(readings.model ? { model: { category: readings.model.category, risk: readings.model.risk } } : {}),
      };
      if (differences.length) row.differences = differences;
    }
    rows.push(row);
  }
  const ok = rows.filter((r) => !r.error);
  const routes = Object.fromEntries(ROUTES.map((r) => [r, ok.filter((x) => x.route === r).length]));
  const tokens = ok.reduce((a, r) => ({ input: a.input + r.tokens.input, output: a.output + r.tokens.output }), { ...ZERO });
  const baseline = ok.reduce((a, r) => ({ input: a.input + r.baseline.input, output: a.output + r.baseline.output }), { ...ZERO });
  const saved = ok.reduce((a, r) => a + r.saved, 0);
  const baseAll = baseline.input + baseline.output;
  const totals: Totals = {
    requests: rows.length, decided: ok.length, failed: rows.length - ok.length,
    routes, decided_without_model: ok.length - (routes.model ?? 0),
    tokens, baseline, saved, saved_share: baseAll ? saved / baseAll : 0,
    baseline_measured: ok.filter((r) => r.baseline.measured).length,
    not_saved: { default_escalations: ok.filter((r) => r.not_saved === 'default escalation').length, failed_model_calls: ok.filter((r) => r.not_saved === 'failed model call').length },
    ...(opts.model ? { model_classification: { model: modelName, answered: modelAnswered, tokens: modelTokens } } : {}),
  };
  return { rows, totals, score: scorer.result() };
}
