// What `govern distill` does to the policy folder, apart from the command line: the changes that
// writing a result would make (for --check and the summary), writing it, a line diff for review,
// and the large model as the drafter of rules.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sha256 } from '../compile/canonical.js';
import type { ModelSettings } from '../router/provider.js';
import { DISTILLED_DIR, LOCK_FILE, readLock, type DistillResult, type Drafter } from './distill.js';

/** One difference between the folder and what distill would write. */
export interface Change {
  kind: 'missing' | 'stale' | 'edited' | 'disagrees' | 'orphan';
  rule?: string;
  file: string;
  detail: string;
}

/** What writing the result would change in the policy folder. */
export function changesOf(policies: string, result: DistillResult): Change[] {
  const lock = readLock(policies);
  const locked = new Map((lock?.rules ?? []).map((r) => [r.file, r.sha256]));
  const out: Change[] = [];
  for (const r of result.rules) {
    const path = join(policies, r.file);
    const onDisk = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (onDisk !== undefined && locked.has(r.file) && locked.get(r.file) !== sha256(onDisk)) out.push({ kind: 'edited', rule: r.id, file: r.file, detail: 'edited by hand since distill wrote it; distill would write it again' });
    if (r.status === 'new') out.push({ kind: 'missing', rule: r.id, file: r.file, detail: `new ${r.effect} rule from ${r.provenance.support} requests (${r.provenance.decisions} decisions)` });
    else if (r.status === 'changed') out.push({ kind: 'stale', rule: r.id, file: r.file, detail: `the record now supports a different rule: version ${r.previous!.version} -> ${r.version}` });
    else if (r.status === 'updated' && onDisk !== undefined && (!locked.has(r.file) || locked.get(r.file) === sha256(onDisk))) out.push({ kind: 'stale', rule: r.id, file: r.file, detail: `its evidence changed (support ${r.provenance.support}, last decision ${r.provenance.last})` });
  }
  for (const k of result.retired) out.push({ kind: 'disagrees', rule: k.id, file: k.file, detail: k.reason });
  const dir = join(policies, DISTILLED_DIR);
  const keep = new Set([...result.files.keys()]);
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      const rel = `${DISTILLED_DIR}/${name}`;
      if (/\.ya?ml$/i.test(name) && !keep.has(rel) && !result.retired.some((k) => k.file === rel)) out.push({ kind: 'orphan', file: rel, detail: 'not a distilled rule file that distill knows; move it out of distilled/' });
    }
  }
  const lockPath = join(policies, LOCK_FILE);
  const lockText = result.files.get(LOCK_FILE)!;
  if (!out.length && (!existsSync(lockPath) || readFileSync(lockPath, 'utf8') !== lockText) && result.rules.length) out.push({ kind: 'stale', file: LOCK_FILE, detail: 'the lock file does not list the rules as they are' });
  return out;
}

/** Writes a file whole or not at all: a crash leaves the old file or the new one. */
function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Writes the result into the policy folder: history first, then the rule files; retired ones go. */
export function apply(policies: string, result: DistillResult): void {
  // History first: an old version is never lost, even if writing the new one fails.
  for (const [rel, text] of result.history) {
    const p = join(policies, rel);
    if (!existsSync(p)) writeAtomic(p, text);
  }
  for (const [rel, text] of result.files) {
    const p = join(policies, rel);
    if (!existsSync(p) || readFileSync(p, 'utf8') !== text) writeAtomic(p, text);
  }
  for (const k of result.retired) rmSync(join(policies, k.file), { force: true });
}

/** A unified-style diff of two texts, line by line (small files: plain LCS). */
export function lineDiff(a: string, b: string, name: string): string {
  const x = a ? a.replace(/\n$/, '').split('\n') : [];
  const y = b ? b.replace(/\n$/, '').split('\n') : [];
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const lines: string[] = [`--- ${a ? name : '/dev/null'}`, `+++ ${b ? name : '/dev/null'}`];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { i++; j++; continue; }
    if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) lines.push(`+${y[j++]}`);
    else lines.push(`-${x[i++]}`);
  }
  return lines.join('\n') + '\n';
}

/** The large model as the writer of a group's rule (the distillation prompt); its output is validated like any policy. */
export function makeDrafter(settings: ModelSettings): Drafter {
  let provider: import('../router/provider.js').Provider | undefined;
  return async ({ verdict, records }) => {
    const { createProvider } = await import('../router/providers/index.js');
    const { askStructured, loadPrompt, quoteData } = await import('../router/model.js');
    const { newSource, parseYaml } = await import('../policy/source.js');
    const label = `${settings.provider}/${settings.model}`;
    try {
      provider ??= createProvider(settings);
      const data = { decision: verdict, records: records.map((r) => ({ request: { ...r.request, id: undefined }, facts: r.decision.facts })) };
      const user = `${quoteData('The group of recorded decisions.', data)}\n\nAnswer with one JSON object {"rule": "<the YAML of the rule>"}, and nothing else.`;
      const { answer, model } = await askStructured<{ rule: string }>(provider, { system: loadPrompt('distill'), user, request: records[0]!.request, schema: 'distill-answer.schema.json' });
      const { data: rule, diagnostics } = parseYaml(newSource('draft.yaml', answer.rule), 'policy');
      if (diagnostics.some((d) => d.severity === 'error') || typeof rule !== 'object' || rule === null || Array.isArray(rule)) return { model, error: 'the answer is not one YAML mapping' };
      return { rule: rule as Record<string, unknown>, model };
    } catch (e) {
      return { model: label, error: (e as Error).message };
    }
  };
}
