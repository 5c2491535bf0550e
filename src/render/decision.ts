// Output of a decision and of its explanation: the verdict first, then the rules that decided
// with their YAML source, warnings, findings (redacted) and what happens next; or the decision as
// JSON. `govern eval` prints it, and the daemon answers a client's eval with the same text.
import type { Style } from '../diagnostics/render.js';
import { explanationData } from '../runtime/explain.js';
import type { Evaluation, Runtime } from '../runtime/runtime.js';
import { styleFor } from './terminal.js';

export interface EvalFormat { format: 'human' | 'json'; explain: boolean; quiet: boolean; color: boolean }

/** What `govern eval` prints for a decision: JSON, nothing when quiet, else the human text. */
export async function evalOutput(ev: Evaluation, rt: Runtime, f: EvalFormat): Promise<string> {
  if (f.format === 'json') return JSON.stringify(f.explain ? { ...ev.decision, explanation: explanationData(ev, rt) } : ev.decision, null, 2) + '\n';
  if (f.quiet) return '';
  const style = await styleFor(f.color);
  return renderDecision(ev, style) + (f.explain ? renderExplanation(ev, rt, style) : '');
}

export function renderDecision(ev: Evaluation, s: Style): string {
  const d = ev.decision;
  const verdict = d.decision === 'allow' ? s.bold('ALLOW') : d.decision === 'deny' ? s.red(s.bold('DENY')) : s.yellow(s.bold('ESCALATE'));
  const lines = [`${verdict}  tier ${d.tier}  ${s.dim(`via ${d.route}, ${d.elapsed_ms} ms`)}`];
  for (const r of d.reasons) lines.push(`  ${r.rule ?? s.dim('(no rule)')}  ${r.message}${r.source ? `  ${s.dim(r.source)}` : ''}`);
  for (const w of d.warnings) lines.push(`  ${s.yellow('warning')} ${w.rule}: ${w.message}`);
  if (ev.findings.length) lines.push(`  ${s.dim('found:')} ${ev.findings.map((f) => `${f.kind} in ${f.field} (${f.preview})`).join(', ')}`);
  if (d.id && ev.recorded) lines.push(s.dim(`  recorded as ${d.id}`));
  if (ev.escalation) lines.push(`  a human decides: govern escalations approve ${ev.escalation}  (or deny)`);
  return lines.join('\n') + '\n';
}

export function renderExplanation(ev: Evaluation, rt: Runtime, s: Style): string {
  const f = ev.facts;
  const r = ev.request;
  const money = (n: number) => `$${n.toFixed(2)}`;
  const lines = [
    '',
    s.bold('facts'),
    `  agent        ${r.agent.id} (trust ${f.trust}${f.team ? `, team ${f.team}` : ''})`,
    `  request      ${r.action} ${r.resource.type}${r.resource.id ? `/${r.resource.id}` : ''} in ${r.environment}${r.namespace ? `, namespace ${r.namespace}` : ''}`,
    `  category     ${f.category}${f.risk ? `, risk ${f.risk}` : ''}`,
    `  cost         ${money(r.cost.usd)}, ${r.cost.tokens} tokens; ${f.budget.used_pct}% of the tightest budget${f.budget.exceeded ? ' (over budget)' : ''}`,
    `  hour         ${f.hour} UTC`,
    `  findings     ${ev.findings.length ? ev.findings.map((x) => `${x.kind} in ${x.field} at ${x.span.start}-${x.span.end} (${x.preview})`).join('; ') : 'none'}`,
    '',
    s.bold('rules'),
  ];
  const traces = rt.engine.explain(f);
  const order = { matched: 0, error: 1, unmet: 2, skipped: 3 } as const;
  for (const t of [...traces].sort((a, b) => order[a.status] - order[b.status])) {
    const mark = t.status === 'matched' ? s.bold('matched') : t.status === 'error' ? s.red('error  ') : s.dim(t.status === 'unmet' ? 'unmet  ' : 'skipped');
    lines.push(`  ${mark} ${t.effect.padEnd(8)} ${t.id}  ${s.dim(t.source)}`);
    if (t.error) lines.push(`            ${s.red(t.error)}`);
    // An unmet rule names the conditions that do not hold; a skipped one says how the request differs.
    const because = t.status === 'skipped' ? 'because' : 'because not';
    for (const b of t.because ?? []) lines.push(`            ${s.dim(because)} ${b.label}${b.source !== t.source ? `  ${s.dim(b.source)}` : ''}`);
  }
  lines.push('', s.dim(`policy bundle ${rt.bundle.hash.slice(0, 12)}`));
  return lines.join('\n') + '\n';
}
