// What the ledger says about how governance is going, per agent and overall: the autonomy rate
// (decisions taken without a human, against the 80% goal), routes, cache and rule hit rates,
// tokens used against the all-to-the-model baseline, and escalations still open and their age.
import type { State } from '../ledger/state.js';
import type { Request } from '../request/normalize.js';
import { estimateTokens } from '../runtime/baseline.js';

/** The share of decisions that should be taken without a human. */
export const AUTONOMY_GOAL = 0.8;

export interface Figures {
  decisions: number;
  /** Tier 0 or 1: taken without a human. */
  autonomous: number;
  autonomy_rate: number | null;
  by_decision: { allow: number; deny: number; escalate: number };
  routes: Record<string, number>;
  /** Decisions answered from the cache. */
  cache_hit_rate: number | null;
  /** Decisions the rules made (route rules or router), cached ones included where the rules made them first. */
  rule_hit_rate: number | null;
  tokens: { used: number; baseline: number; saved: number };
  escalations: { open: number; oldest_age_s: number | null };
}

export interface Stats {
  since: string;
  until: string;
  goal: number;
  overall: Figures;
  agents: Record<string, Figures>;
}

function empty(): Figures {
  return { decisions: 0, autonomous: 0, autonomy_rate: null, by_decision: { allow: 0, deny: 0, escalate: 0 }, routes: {}, cache_hit_rate: null, rule_hit_rate: null, tokens: { used: 0, baseline: 0, saved: 0 }, escalations: { open: 0, oldest_age_s: null } };
}

export function stats(state: State, opts: { since: Date; until?: Date; agent?: string }): Stats {
  const until = opts.until ?? new Date();
  const overall = empty();
  const agents = new Map<string, Figures>();
  const of = (agent: string) => {
    let f = agents.get(agent);
    if (!f) agents.set(agent, (f = empty()));
    return f;
  };
  for (const row of state.ledgerRows({ since: opts.since.toISOString(), ...(opts.agent ? { agent: opts.agent } : {}) })) {
    if (row.at > until.toISOString()) continue;
    const r = JSON.parse(row.record) as { request: Request; decision: { tier: number; decision: 'allow' | 'deny' | 'escalate'; route: string } };
    const used = row.input_tokens + row.output_tokens;
    // Where the model was asked its real usage is the baseline; elsewhere, what asking it would have cost.
    const est = estimateTokens(r.request);
    const baseline = row.route === 'model' ? used : est.input + est.output;
    for (const f of [overall, of(row.agent)]) {
      f.decisions++;
      if (r.decision.tier <= 1) f.autonomous++;
      f.by_decision[r.decision.decision]++;
      f.routes[row.route] = (f.routes[row.route] ?? 0) + 1;
      f.tokens.used += used;
      f.tokens.baseline += baseline;
    }
  }
  const now = until.toISOString();
  for (const e of state.escalations('pending')) {
    if (opts.agent && e.agent !== opts.agent) continue;
    if (state.escalationState(e, now) !== 'pending') continue;
    const age = Math.max(0, Math.round((until.getTime() - Date.parse(e.created_at)) / 1000));
    for (const f of [overall, of(e.agent)]) {
      f.escalations.open++;
      f.escalations.oldest_age_s = Math.max(f.escalations.oldest_age_s ?? 0, age);
    }
  }
  const share = (n: number, d: number) => (d ? Math.round((n / d) * 10_000) / 10_000 : null);
  for (const f of [overall, ...agents.values()]) {
    f.autonomy_rate = share(f.autonomous, f.decisions);
    f.cache_hit_rate = share(f.routes.cache ?? 0, f.decisions);
    f.rule_hit_rate = share((f.routes.rules ?? 0) + (f.routes.router ?? 0), f.decisions);
    f.tokens.saved = f.tokens.baseline - f.tokens.used;
  }
  return { since: opts.since.toISOString(), until: now, goal: AUTONOMY_GOAL, overall, agents: Object.fromEntries([...agents].sort(([a], [b]) => (a < b ? -1 : 1))) };
}

const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The Prometheus text exposition format: one gauge family per figure, overall without an agent label. */
export function prometheus(s: Stats): string {
  const families: [string, string, (f: Figures) => [Record<string, string>, number | null][]][] = [
    ['govern_decisions', 'Decisions recorded in the window, by decision.', (f) => Object.entries(f.by_decision).map(([d, n]): [Record<string, string>, number] => [{ decision: d }, n])],
    ['govern_route_decisions', 'Decisions recorded in the window, by the route that made them.', (f) => Object.entries(f.routes).map(([r, n]): [Record<string, string>, number] => [{ route: r }, n])],
    ['govern_autonomy_rate', `Share of decisions taken without a human (tier 0-1); the goal is ${AUTONOMY_GOAL}.`, (f) => [[{}, f.autonomy_rate]]],
    ['govern_cache_hit_rate', 'Share of decisions answered from the decision cache.', (f) => [[{}, f.cache_hit_rate]]],
    ['govern_rule_hit_rate', 'Share of decisions made by the rules (route rules or router).', (f) => [[{}, f.rule_hit_rate]]],
    ['govern_tokens', 'Model tokens used, the all-to-the-model baseline, and saved.', (f) => [[{ kind: 'used' }, f.tokens.used], [{ kind: 'baseline' }, f.tokens.baseline], [{ kind: 'saved' }, f.tokens.saved]]],
    ['govern_escalations_open', 'Escalations waiting for a human.', (f) => [[{}, f.escalations.open]]],
    ['govern_escalation_oldest_age_seconds', 'Age of the oldest escalation waiting for a human.', (f) => [[{}, f.escalations.oldest_age_s]]],
  ];
  const out: string[] = [];
  for (const [name, help, values] of families) {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    const rows: [Record<string, string>, Figures][] = [[{}, s.overall], ...Object.entries(s.agents).map(([a, f]): [Record<string, string>, Figures] => [{ agent: a }, f])];
    for (const [base, f] of rows) {
      for (const [labels, v] of values(f)) {
        if (v === null) continue;
        const all = { ...base, ...labels };
        const l = Object.entries(all).map(([k, x]) => `${k}="${label(x)}"`).join(',');
        out.push(`${name}${l ? `{${l}}` : ''} ${v}`);
      }
    }
  }
  return out.join('\n') + '\n';
}
