// Replay's report for people: a terminal table, and a single self-contained HTML file with inline
// CSS and SVG charts (no script, font, image or style sheet fetched from anywhere). Recorded
// requests are agent-controlled text: escaped for HTML, stripped of control characters for a
// terminal, and only their agent, action and resource are ever shown.
import { writeFileSync } from 'node:fs';
import { UsageError } from '../diagnostics/usage.js';
import type { Style } from '../diagnostics/render.js';
import { ROUTES, VERDICTS, type Confusion, type Figures, type Report } from './metrics.js';

const share = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
const ms = (x: number | null) => (x === null ? '-' : x.toFixed(3));
const int = (n: number) => n.toLocaleString('en-US');
const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Agent-controlled text for a terminal: control characters (escape sequences) shown, not obeyed. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Where a record came from: file:line, or the ledger's sequence number. */
export function placeOf(r: Report, line: number): string {
  return r.input.source === 'ledger' ? `ledger seq ${line}` : `${r.input.name}:${line}`;
}

function allowedBy(f: Report['false_allows'][number]): string {
  if (f.route === 'cache') return f.rules.length ? `cache (a decision of ${f.rules.join(', ')})` : 'cache (a recorded model answer)';
  return f.rules.join(', ') || f.route;
}

function table(head: string[], rows: string[][], align: ('l' | 'r')[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (align[i] === 'l' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

function confusionLines<C extends string>(c: Confusion<C>, cols: readonly C[]): string[] {
  return table(['', ...cols], VERDICTS.map((v) => [v, ...cols.map((col) => String(c[v][col]))]), ['l', ...cols.map(() => 'r' as const)]);
}

function figureRow(name: string, f: Figures): string[] {
  return [name, String(f.requests), share(f.agreement), String(f.false_allows), String(f.false_denies), ms(f.p50_ms), ms(f.p99_ms)];
}

const FIGURE_HEAD = ['requests', 'agreement', 'false allows', 'false denies', 'p50 ms', 'p99 ms'];

/** The terminal table: totals, the confusion matrix, breakdowns by route and rule, and each false allow. */
export function renderText(r: Report, s: Style): string {
  const out: string[] = [];
  const t = r.totals;
  const span = r.input.from ? `, ${r.input.from} to ${r.input.to}` : '';
  out.push(s.bold(`replay of ${count(t.records, 'record')} from ${r.input.source === 'ledger' ? `the ledger (${printable(r.input.name)})` : printable(r.input.name)}${span}`));
  out.push(`policies ${printable(r.policies.path)} (bundle ${r.policies.hash.slice(0, 12)})`);
  if (r.split) out.push(`split: the first ${r.split.train} records (${share(r.split.fraction)}) distilled into ${count(r.split.files.length, 'rule file')}, the last ${r.split.test} replayed; policies/distilled/ left out`);
  out.push(`${t.judged} judged, ${t.skipped} skipped: no judgement recorded${t.skipped ? ` (${count(r.skipped.default, 'default escalation')}, ${count(r.skipped.model_failed, 'failed model call')})` : ''}`);
  out.push('');
  out.push(s.dim('confusion: rows recorded, columns replayed (model: the pipeline would ask the model)'));
  out.push(...confusionLines(r.confusion, ['allow', 'deny', 'escalate', 'model'] as const));
  out.push('');
  const fa = r.false_allows.length;
  const tk = r.tokens;
  const rows: [string, string, string][] = [
    ['coverage', share(r.coverage), `${t.covered} of ${t.judged} judged requests decided without the model`],
    ['agreement', share(r.agreement), `${t.agreeing} of ${t.covered} covered requests decided as recorded`],
    ['overall agreement', share(r.overall_agreement), `the ${t.uncovered} the model would still decide counted as agreeing`],
    ['false allows', String(fa), 'allowed where the recorded decision denied or escalated'],
    ['false denies', String(r.false_denies), 'denied where the recorded decision allowed or escalated'],
    ['tokens', int(tk.replayed.total), `against a baseline of ${int(tk.baseline.total)} (every request to the model: ${tk.baseline.measured} measured, ${tk.baseline.estimated} estimated); saved ${int(tk.saved)} (${share(tk.saved_share)})`],
    ...(tk.not_saved.model_failed + tk.not_saved.default ? [['not saved', int(tk.not_saved.tokens), `${count(tk.not_saved.model_failed, 'failed model call')} and ${count(tk.not_saved.default, 'default escalation')} the model would still decide count as spent`] as [string, string, string]] : []),
    ['latency', `p50 ${ms(r.latency.p50_ms)} ms`, `p99 ${ms(r.latency.p99_ms)} ms (policy work per decision, in-process)`],
  ];
  const w = Math.max(...rows.map((x) => x[0].length));
  // The latency row's value is measured, not counted: its width must not move the other rows.
  const v = Math.max(...rows.filter((x) => x[0] !== 'latency').map((x) => x[1].length));
  for (const [name, value, what] of rows) {
    // Padded before it is coloured: escape codes have no width on screen.
    const cell = value.padStart(v);
    out.push(`${name.padEnd(w)}  ${name === 'false allows' && fa ? s.red(cell) : cell}  ${s.dim(what)}`);
  }
  out.push('');
  out.push(...table(['by route', ...FIGURE_HEAD], ROUTES.map((route) => figureRow(route, r.by_route[route])), ['l', 'r', 'r', 'r', 'r', 'r', 'r']));
  if (r.by_rule.length) {
    out.push('');
    out.push(...table(['by rule', ...FIGURE_HEAD], r.by_rule.map((x) => figureRow(x.rule, x)), ['l', 'r', 'r', 'r', 'r', 'r', 'r']));
  }
  const sh = r.shadow;
  if (sh && sh.asked) {
    out.push('');
    out.push(`shadow: the model asked about ${count(sh.asked, 'request')} the cache or a distilled rule decided: ${share(sh.agreement)} agree, ${count(sh.asked - sh.agreeing, 'disagreement')} (${sh.false_allows} where the decision allowed and the model did not); ${int(sh.tokens.input + sh.tokens.output)} tokens`);
    for (const x of sh.by_rule.filter((b) => b.disagreeing)) out.push(`  ${printable(x.rule)}: ${x.disagreeing} of ${x.asked} disagree`);
    if (sh.asked - sh.agreeing) out.push(s.dim('  `govern distill` takes these answers as evidence: a rule they contradict is narrowed or retired'));
  }

  if (r.live) {
    const l = r.live;
    out.push('');
    out.push(s.bold(`live: ${printable(l.model)} asked about ${count(l.asked, 'judged request')}${l.errors ? `, ${l.errors} failed (counted as escalate)` : ''}`));
    out.push(`  agreement with the recorded decision  ${share(l.agreement)} (${l.agreeing} of ${l.asked})`);
    out.push(`  agreement with the replay             ${share(l.replayed.agreement)} (${l.replayed.agreeing} of ${l.replayed.compared} covered); ${count(l.replayed.false_allows, 'replayed allow')} the live model denied or escalated`);
    out.push(`  tokens                                ${int(l.tokens.input + l.tokens.output)} (in ${int(l.tokens.input)}, out ${int(l.tokens.output)})`);
    out.push(s.dim('  confusion: rows recorded, columns live'));
    out.push(...confusionLines(l.confusion, VERDICTS).map((x) => `  ${x}`));
  }
  if (fa) out.push('', renderFalseAllows(r, s).trimEnd());
  out.push('');
  out.push(r.gates.passed ? `gates: passed${gateList(r)}` : s.red(`gates: ${r.gates.failed.length} failed (exit ${r.gates.exit_code})`));
  return out.join('\n') + '\n';
}

/** Each false allow with where it was recorded and the rule (or cache) that allowed it; empty when there is none. */
export function renderFalseAllows(r: Report, s: Style): string {
  const fa = r.false_allows;
  if (!fa.length) return '';
  const rows = fa.map((f) => [placeOf(r, f.line), printable(f.agent), printable(f.action), printable(f.resource), f.recorded, printable(allowedBy(f))]);
  return [s.red(`false allows (${fa.length}):`), ...table(['where', 'agent', 'action', 'resource', 'recorded', 'allowed by'], rows, ['l', 'l', 'l', 'l', 'l', 'l'])].join('\n') + '\n';
}

function gateList(r: Report): string {
  const g = [
    'no false allows',
    ...(r.gates.min_agreement !== null ? [`agreement at least ${share(r.gates.min_agreement)}`] : []),
    ...(r.gates.min_coverage !== null ? [`coverage at least ${share(r.gates.min_coverage)}`] : []),
  ];
  return ` (${g.join(', ')})`;
}

// ---- HTML ----

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const e = escapeHtml;
const COLORS: Record<(typeof ROUTES)[number], string> = { cache: '#4c78a8', rules: '#59a14f', router: '#f28e2b', model: '#a0a0a0' };

function svg(width: number, height: number, label: string, body: string): string {
  return `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${e(label)}"><title>${e(label)}</title>${body}</svg>`;
}

function routeChart(r: Report): string {
  const total = r.totals.judged;
  const W = 640;
  let x = 0;
  let bars = '';
  let legend = '';
  ROUTES.forEach((route, i) => {
    const n = r.by_route[route].requests;
    const w = total ? (n / total) * W : 0;
    if (w > 0) bars += `<rect x="${x.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="36" fill="${COLORS[route]}"><title>${route}: ${n}</title></rect>`;
    x += w;
    legend += `<rect x="${i * 160}" y="50" width="12" height="12" fill="${COLORS[route]}"/><text x="${i * 160 + 18}" y="61">${route} ${n} (${share(total ? n / total : null)})</text>`;
  });
  return svg(W, 70, 'share of judged requests by route', bars + legend);
}

function tokenChart(r: Report): string {
  const W = 460;
  const base = r.tokens.baseline.total;
  const bar = (y: number, n: number, fill: string, label: string) =>
    `<text x="0" y="${y + 17}">${label}</text><rect x="150" y="${y}" width="${(base ? (n / base) * W : 0).toFixed(2)}" height="24" fill="${fill}"/><text x="${(150 + (base ? (n / base) * W : 0) + 6).toFixed(2)}" y="${y + 17}">${int(n)}</text>`;
  return svg(W + 240, 70, 'tokens: replayed pipeline against the all-to-the-model baseline',
    bar(4, base, '#a0a0a0', 'baseline (all to model)') + bar(38, r.tokens.replayed.total, '#59a14f', 'with the pipeline'));
}

function confusionTable<C extends string>(c: Confusion<C>, cols: readonly C[], colLabel: string): string {
  const max = Math.max(1, ...VERDICTS.flatMap((v) => cols.map((col) => c[v][col])));
  const cell = (v: (typeof VERDICTS)[number], col: C) => {
    const n = c[v][col];
    const bad = col === 'allow' && v !== 'allow';
    const ok = (col as string) === v;
    const rgb = bad ? '214,39,40' : ok ? '89,161,79' : (col as string) === 'model' ? '160,160,160' : '242,142,43';
    const alpha = n ? 0.15 + 0.75 * (n / max) : 0;
    return `<td class="num" style="background:rgba(${rgb},${alpha.toFixed(3)})">${n}</td>`;
  };
  return `<table class="heat"><thead><tr><th>recorded \\ ${e(colLabel)}</th>${cols.map((col) => `<th>${e(col)}</th>`).join('')}</tr></thead><tbody>${VERDICTS.map((v) => `<tr><th>${v}</th>${cols.map((col) => cell(v, col)).join('')}</tr>`).join('')}</tbody></table>`;
}

function ruleChart(r: Report): string {
  if (!r.by_rule.length) return '<p>No rule decided a replayed request.</p>';
  const W = 360;
  const labelW = Math.min(360, 8 + 7 * Math.max(...r.by_rule.map((x) => x.rule.length)));
  const rowH = 24;
  const body = r.by_rule.map((x, i) => {
    const y = i * rowH;
    const a = x.agreement ?? 0;
    const fill = x.false_allows ? '#d62728' : a >= 1 ? '#59a14f' : '#f28e2b';
    return `<text x="0" y="${y + 16}">${e(x.rule)}</text><rect x="${labelW}" y="${y + 3}" width="${W}" height="16" fill="#eee"/><rect x="${labelW}" y="${y + 3}" width="${(a * W).toFixed(2)}" height="16" fill="${fill}"><title>${e(x.rule)}: ${x.agreeing} of ${x.requests}</title></rect><text x="${labelW + W + 6}" y="${y + 16}">${share(x.agreement)} of ${x.requests}${x.false_allows ? `, ${count(x.false_allows, 'false allow')}` : ''}</text>`;
  }).join('');
  return svg(labelW + W + 200, r.by_rule.length * rowH + 4, 'agreement per rule', body);
}

function figureTable(head: string, rows: [string, Figures][]): string {
  return `<table><thead><tr><th>${e(head)}</th>${FIGURE_HEAD.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.map(([name, f]) => `<tr><td>${e(name)}</td>${figureRow(name, f).slice(1).map((c) => `<td class="num">${e(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:1040px;margin:2em auto;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:140px}
.card b{display:block;font-size:1.6em}.bad{color:#b00020}.good{color:#2e7d32}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}.num{text-align:right}
.heat td{min-width:60px}svg text{font:12px system-ui,sans-serif;fill:#222}figure{margin:1em 0}figcaption{color:#555;margin-bottom:.4em}
.gates{padding:10px 14px;border-radius:6px}.gates.pass{background:#e8f5e9}.gates.fail{background:#fdecea}`;

/** A single HTML file, readable without JavaScript and without any network. */
export function renderHtml(r: Report): string {
  const t = r.totals;
  const fa = r.false_allows.length;
  const card = (label: string, value: string, cls?: string) => `<div class="card"><b${cls ? ` class="${cls}"` : ''}>${e(value)}</b>${e(label)}</div>`;
  const source = r.input.source === 'ledger' ? `the ledger (${r.input.name})` : r.input.name;
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><meta name="viewport" content="width=device-width, initial-scale=1"><title>govern replay: ${e(source)}</title><style>${CSS}</style></head><body>`);
  parts.push(`<h1>govern replay</h1><p>${t.records} records from ${e(source)}${r.input.from ? `, ${e(r.input.from)} to ${e(r.input.to ?? '')}` : ''}; policies ${e(r.policies.path)} (bundle <code>${e(r.policies.hash.slice(0, 12))}</code>).${r.split ? ` Held-out replay: the first ${r.split.train} records were distilled into ${count(r.split.files.length, 'rule file')}, the last ${r.split.test} replayed with the hand-written policies and those rules.` : ''}</p>`);
  parts.push(r.gates.passed
    ? `<div class="gates pass">Gates passed${e(gateList(r))}.</div>`
    : `<div class="gates fail"><b>Gates failed (exit ${r.gates.exit_code}):</b><ul>${r.gates.failed.map((g) => `<li>${e(g.message)}</li>`).join('')}</ul></div>`);
  parts.push(`<div class="cards">${card('coverage: decided without the model', share(r.coverage))}${card('agreement of covered requests', share(r.agreement))}${card('false allows', String(fa), fa ? 'bad' : 'good')}${card('false denies', String(r.false_denies))}${card('tokens saved', share(r.tokens.saved_share))}${card('p99 latency (ms)', ms(r.latency.p99_ms))}</div>`);
  parts.push(`<p>${t.judged} judged requests; ${t.skipped} skipped: no judgement recorded (${count(r.skipped.default, 'default escalation')}, ${count(r.skipped.model_failed, 'failed model call')}). Agreement: covered requests decided as recorded, ${t.agreeing} of ${t.covered}. Overall agreement ${share(r.overall_agreement)} counts the ${t.uncovered} requests the model would still decide as agreeing. p50 latency ${ms(r.latency.p50_ms)} ms (policy work per decision, in-process).</p>`);
  parts.push(`<h2>Route shares</h2><figure id="chart-routes"><figcaption>Judged requests by the route the pipeline decides them on; model means it would still ask the model.</figcaption>${routeChart(r)}</figure>`);
  parts.push(`<h2>Tokens against the baseline</h2><figure id="chart-tokens"><figcaption>Baseline: every recorded request sent to the large model (${r.tokens.baseline.measured} measured usages, ${r.tokens.baseline.estimated} estimates). With the pipeline: only the requests it does not cover; failed model calls and default escalations it cannot decide count as spent (${int(r.tokens.not_saved.tokens)} tokens). Saved ${e(int(r.tokens.saved))} tokens (${share(r.tokens.saved_share)}).</figcaption>${tokenChart(r)}</figure>`);
  parts.push(`<h2>Confusion matrix</h2><figure id="chart-confusion"><figcaption>Rows: the recorded decision. Columns: the replayed decision. Red: false allows.</figcaption>${confusionTable(r.confusion, ['allow', 'deny', 'escalate', 'model'] as const, 'replayed')}</figure>`);
  parts.push(`<h2>Agreement per rule</h2><figure id="chart-rules"><figcaption>Covered requests each rule decided (directly or through a cached decision), and the share decided as recorded.</figcaption>${ruleChart(r)}</figure>`);
  if (fa) {
    parts.push(`<h2 class="bad">False allows</h2><table><thead><tr><th>where</th><th>agent</th><th>action</th><th>resource</th><th>recorded</th><th>allowed by</th></tr></thead><tbody>${r.false_allows.map((f) => `<tr><td>${e(placeOf(r, f.line))}</td><td>${e(f.agent)}</td><td>${e(f.action)}</td><td>${e(f.resource)}</td><td>${e(f.recorded)}</td><td>${e(allowedBy(f))}</td></tr>`).join('')}</tbody></table>`);
  }
  parts.push(`<h2>By route</h2>${figureTable('route', ROUTES.map((x) => [x, r.by_route[x]]))}`);
  if (r.by_rule.length) parts.push(`<h2>By rule</h2>${figureTable('rule', r.by_rule.map((x) => [x.rule, x]))}`);
  if (r.live) {
    const l = r.live;
    parts.push(`<h2>Live model</h2><p>${e(l.model)} asked about ${l.asked} judged requests (${l.errors} failed, counted as escalate). Agreement with the recorded decision ${share(l.agreement)} (${l.agreeing} of ${l.asked}); with the replay ${share(l.replayed.agreement)} (${l.replayed.agreeing} of ${l.replayed.compared} covered), ${l.replayed.false_allows} replayed allows the live model denied or escalated. Tokens ${int(l.tokens.input + l.tokens.output)}.</p>${confusionTable(l.confusion, VERDICTS, 'live')}`);
  }
  parts.push(`<h2>Definitions</h2><ul><li><b>judged</b>: records whose recorded decision was a judgement (rules, cache, router or an answering model); default escalations and failed model calls are skipped.</li><li><b>coverage</b>: judged requests the pipeline decides without the model (cache, rules, router), over judged requests.</li><li><b>agreement</b>: covered requests decided as recorded, over covered requests.</li><li><b>false allow</b>: replayed allow where the recorded decision was deny or escalate. <b>false deny</b>: replayed deny where it was allow or escalate.</li><li><b>tokens</b>: baseline is every recorded request sent to the large model (its recorded usage, else an estimate); replayed is the baseline of the requests the pipeline does not cover, failed model calls and default escalations included: they saved nothing.</li></ul>`);
  parts.push('</body></html>\n');
  return parts.join('\n');
}

/** Writes the HTML report to `path`; a file that cannot be written is a usage error naming --report. */
export function writeHtmlReport(path: string, r: Report): void {
  try {
    writeFileSync(path, renderHtml(r));
  } catch (e) {
    throw new UsageError(`--report: cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
}
