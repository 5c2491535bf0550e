// What `govern stats` prints for a person: each window's figures, overall and per agent.
import { AUTONOMY_GOAL, type Figures, type Stats } from '../stats/stats.js';

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

function age(s: number | null): string {
  if (s === null) return '-';
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

function figures(name: string, f: Figures): string {
  const routes = Object.entries(f.routes).map(([r, n]) => `${r} ${n}`).join(', ') || 'none';
  return `${name}\n`
    + `  decisions      ${f.decisions} (allow ${f.by_decision.allow}, deny ${f.by_decision.deny}, escalate ${f.by_decision.escalate})\n`
    + `  autonomy       ${pct(f.autonomy_rate)} without a human${f.autonomy_rate === null ? '' : f.autonomy_rate >= AUTONOMY_GOAL ? ' (goal met)' : ` (goal ${AUTONOMY_GOAL * 100}%)`}\n`
    + `  routes         ${routes}\n`
    + `  cache hits     ${pct(f.cache_hit_rate)}, rule hits ${pct(f.rule_hit_rate)}\n`
    + `  tokens         ${f.tokens.used} used, ${f.tokens.saved} saved of ${f.tokens.baseline} (all to the model)\n`
    + `  escalations    ${f.escalations.open} open${f.escalations.open ? `, oldest ${age(f.escalations.oldest_age_s)}` : ''}\n`;
}

/** The window, then the figures overall and per agent. */
export function statsText(s: Stats): string {
  return `since ${s.since}\n` + figures('overall', s.overall) + Object.entries(s.agents).map(([a, f]) => figures(a, f)).join('');
}
