// What `govern distill` and `govern rules list|show|history` print: a summary of a distill run
// (or its JSON), and the distilled rules with their evidence and versions.
import { join } from 'node:path';
import { parse } from 'yaml';
import { lineDiff, type Change } from '../distill/changes.js';
import { DISTILLED_DIR, type DistillResult, type Existing } from '../distill/distill.js';
import type { DistillMode, RuleVersion } from '../distill/project.js';
import { displayPath } from '../policy/files.js';

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** The run as JSON: mode, changes, rules, retired, rejected, outliers, unlearned groups, figures. */
export function distillJson(mode: DistillMode, result: DistillResult, changes: Change[]): string {
  return JSON.stringify({
    mode,
    up_to_date: changes.length === 0,
    changes,
    rules: result.rules.map((r) => ({ id: r.id, version: r.version, effect: r.effect, file: r.file, status: r.status, support: r.provenance?.support, agreement: r.provenance?.agreement })),
    retired: result.retired.map((k) => ({ id: k.id, version: k.version, file: k.file, reason: k.reason })),
    rejected: result.rejected,
    outliers: result.outliers,
    unlearned: result.unlearned.map((u) => ({ verdict: u.verdict, evidence: u.evidence, description: u.description, reason: u.reason })),
    stats: { ...result.stats, ms: Math.round(result.stats.ms) },
  }, null, 2) + '\n';
}

/** The run for a person: the summary, then the diff (dry run) or what was written. */
export function distillText(result: DistillResult, changes: Change[], mode: DistillMode, policies: string, diff: string): string {
  let out = summary(result, changes, mode);
  if (mode === 'dry-run') out += diff + 'dry run: nothing written\n';
  else if (mode === 'write') out += changes.length ? `wrote ${displayPath(join(policies, DISTILLED_DIR))}/\n` : 'nothing to change\n';
  return out;
}

function summary(result: DistillResult, changes: Change[], mode: 'write' | 'dry-run' | 'check'): string {
  const s = result.stats;
  const by = (st: string) => result.rules.filter((r) => r.status === st).length;
  const lines: string[] = [];
  lines.push(`${count(s.records, 'record')} read: ${count(s.evidence - s.humans, 'model decision')}${s.humans ? `, ${count(s.humans, 'human decision')}` : ''}, ${count(s.judged - s.evidence, 'other judgement')}, ${s.records - s.judged} without a judgement (skipped)${s.low_confidence ? `, ${s.low_confidence} of them the model's low-confidence answers` : ''}`);
  lines.push(`${count(result.rules.length, 'distilled rule')}: ${by('new')} new, ${by('changed')} changed, ${by('updated')} with new evidence, ${by('unchanged')} unchanged, ${by('kept')} kept without new evidence; ${result.retired.length} retired`);
  for (const r of result.rules.filter((x) => x.status !== 'unchanged' && x.status !== 'kept')) {
    lines.push(`  ${r.status.padEnd(8)} ${r.id} v${r.version} (${r.effect}, support ${r.provenance.support}, agreement ${(r.provenance.agreement * 100).toFixed(1)}%, lower bound ${(r.provenance.bound * 100).toFixed(1)}%)`);
  }
  for (const k of result.retired) lines.push(`  retired  ${k.id} v${k.version}: ${k.reason}`);
  if (result.rejected.length) {
    lines.push(`${count(result.rejected.length, 'rule')} not written (verification failed):`);
    for (const r of result.rejected) lines.push(`  ${r.id}: ${r.reason}`);
  }
  if (result.outliers.length) {
    lines.push(`${count(result.outliers.length, 'dissenting decision')} set aside as noise (listed in the rule's provenance and the lock file):`);
    for (const o of result.outliers.slice(0, 20)) lines.push(`  ${o.decision} (${o.recorded}) under ${o.rule}`);
    if (result.outliers.length > 20) lines.push(`  ... and ${result.outliers.length - 20} more (--format json lists them all)`);
  }
  const left = result.unlearned.filter((u) => u.evidence > 0);
  if (left.length) {
    const n = left.reduce((a, u) => a + u.evidence, 0);
    lines.push(`${count(n, 'model decision')} in ${count(left.length, 'group')} stay with the model:`);
    for (const u of [...left].sort((a, b) => b.evidence - a.evidence).slice(0, 8)) lines.push(`  ${count(u.evidence, 'decision')}, no ${u.verdict} rule: ${u.description}: ${u.reason}`);
    if (left.length > 8) lines.push(`  ... and ${left.length - 8} more groups`);
  }
  if (mode === 'check') {
    if (!changes.length) lines.push('distilled rules are up to date with the record');
    else {
      lines.push(`distilled rules are NOT up to date (${count(changes.length, 'problem')}):`);
      for (const c of changes) lines.push(`  ${c.file}: ${c.kind}: ${c.detail}`);
      lines.push('run `govern distill` (with the same input) and commit policies/distilled/');
    }
  }
  return lines.join('\n') + '\n';
}

/** `govern rules list`: every distilled rule with its version, effect, support and dates. */
export function rulesList(policies: string, existing: Existing[], format: string): string {
  const rows = existing.map((e) => ({ id: e.id, version: e.version, effect: e.effect, support: e.provenance?.support ?? null, agreement: e.provenance?.agreement ?? null, models: e.provenance?.models ?? [], first: e.provenance?.first ?? null, last: e.provenance?.last ?? null, file: displayPath(join(policies, e.file)) }));
  if (format === 'json') return JSON.stringify(rows, null, 2) + '\n';
  if (!rows.length) return `no distilled rules in ${join(policies, 'distilled')}/; run \`govern distill\`\n`;
  const w = Math.max(...rows.map((r) => r.id.length));
  return rows.map((r) => `${r.id.padEnd(w)}  v${r.version}  ${r.effect.padEnd(8)}  support ${String(r.support ?? '-').padStart(4)}  ${r.first?.slice(0, 10) ?? '?'} to ${r.last?.slice(0, 10) ?? '?'}  ${r.models.join(', ')}\n`).join('');
}

/** `govern rules show`: one distilled rule, its file, provenance and text. */
export function ruleShow(policies: string, e: Existing, format: string): string {
  if (format === 'json') return JSON.stringify({ id: e.id, version: e.version, effect: e.effect, file: join(policies, e.file), provenance: e.provenance ?? null, text: e.text }, null, 2) + '\n';
  const p = e.provenance ?? {};
  return `${e.id} v${e.version} (${e.effect}), ${displayPath(join(policies, e.file))}\n` +
    `  learned from ${p.decisions ?? '?'} decisions (${p.support ?? '?'} distinct requests) of ${(p.models ?? []).join(', ') || '?'}, ${p.first ?? '?'} to ${p.last ?? '?'}\n` +
    `  agreement ${p.agreement !== undefined ? (p.agreement * 100).toFixed(1) + '%' : '?'} of the evidence (lower bound ${p.bound !== undefined ? (p.bound * 100).toFixed(1) + '%' : '?'} at ${p.confidence !== undefined ? (p.confidence * 100).toFixed(0) + '%' : '?'} confidence), ${p.judged ?? '?'} recorded judgements in scope; ${(p.outliers ?? []).length} outliers set aside${(p.outliers ?? []).length ? ': ' + p.outliers!.join(', ') : ''}\n` +
    `  drafted by ${p.drafted_by ?? '?'}\n\n${e.text}`;
}

/** `govern rules history`: each version with its evidence, and what changed from the one before. */
export function ruleHistory(id: string, versions: RuleVersion[], current: boolean, format: string): string {
  if (format === 'json') return JSON.stringify(versions.map((v) => ({ version: v.version, file: v.file, current: v.current })), null, 2) + '\n';
  let out = `${id}: ${count(versions.length, 'version')}${current ? '' : ' (retired)'}\n`;
  versions.forEach((v, i) => {
    // The file's provenance, read as the YAML it is (not by matching its text).
    const prov = (parse(v.text) as { provenance?: { first?: unknown; last?: unknown; support?: unknown } } | null)?.provenance;
    const evidence = prov && prov.first !== undefined && prov.last !== undefined && prov.support !== undefined ? `  evidence ${String(prov.first)} to ${String(prov.last)}, support ${String(prov.support)}` : '';
    out += `\nv${v.version}${v.current ? ' (current)' : ''}  ${v.file}${evidence}\n`;
    if (i > 0) out += lineDiff(ruleBlock(versions[i - 1]!.text), ruleBlock(v.text), `${id} rule`).split('\n').slice(2).map((l) => (l ? `  ${l}` : l)).join('\n');
  });
  return out.endsWith('\n') ? out : out + '\n';
}

/** The `rules:` part of a distilled file: what a version change is about. */
function ruleBlock(text: string): string {
  const m = /\nrules:\n([\s\S]*?)(?=\ntests:|$)/.exec(text);
  return m ? m[1]! : text;
}
