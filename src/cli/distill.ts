// `govern distill` (the model's recurring decisions to rule files, or --check that they are up to
// date) and `govern rules list|show|history` (the distilled rules, their evidence and versions).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { DistillResult, Drafter } from '../distill/distill.js';
import { displayPath } from '../policy/files.js';
import { sha256 } from '../compile/canonical.js';
import { EXIT, parseShare, progressBar, UsageError } from './output.js';
import type { GlobalOptions } from './options.js';
import { openRuntime, requireState } from './runtime.js';

interface DistillOptions {
  from?: string;
  minSupport: string;
  minAgreement: string;
  minAllowAgreement: string;
  confidence: string;
  humanWeight: string;
  model?: boolean;
  dryRun?: boolean;
  check?: boolean;
  format: 'human' | 'json';
}

/** One difference between the folder and what distill would write. */
interface Change {
  kind: 'missing' | 'stale' | 'edited' | 'disagrees' | 'orphan';
  rule?: string;
  file: string;
  detail: string;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** What writing the result would change in the policy folder. */
function changesOf(d: DistillModule, policies: string, result: DistillResult): Change[] {
  const { LOCK_FILE, readLock, DISTILLED_DIR } = d;
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

/** Loaded when a distill or rules command runs, not at start. */
type DistillModule = typeof import('../distill/distill.js');

/** Writes a file whole or not at all: a crash leaves the old file or the new one. */
function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function apply(policies: string, result: DistillResult): void {
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

function makeDrafter(settings: NonNullable<import('../config/config.js').Config['models']['large']>): Drafter {
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

export function register(program: Command): void {
  program
    .command('distill')
    .description("turn the model's recurring decisions into rule files in policies/distilled/")
    .option('--from <file>', 'decision records (JSON Lines, as `govern ledger export` writes; "-" for stdin) instead of the ledger')
    .option('--min-support <n>', 'distinct requests a rule needs', '3')
    .option('--min-agreement <share>', "the lower confidence bound of a deny or escalate rule's agreement must reach this (0-1 or a percentage)", '60%')
    .option('--min-allow-agreement <share>', "the same for an allow rule: stricter, a wrong allow is the costly mistake", '75%')
    .option('--confidence <share>', 'one-sided confidence of the lower bound (Wilson score interval)', '90%')
    .option('--human-weight <n>', "how many of the model's decisions a human's answer to an escalation counts for", '3')
    .option('--model', 'ask the configured large model to draft each new rule (the draft is verified like any rule; the learned rule stands if it fails)')
    .option('--dry-run', 'show what would change, as a diff; write nothing')
    .option('--check', 'write nothing; exit 7 when the distilled rules are out of date, 8 when one disagrees with the record')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['human', 'json']).default('human'))
    .addHelpText('after', `
A rule is written for a group of the model's decisions (and the humans' answers to escalations)
when it has enough support and Wilson's lower bound of its agreement clears --min-agreement
(--min-allow-agreement for an allow), no feature tells its dissent apart, the written rules decided
nothing inside it otherwise, and the rules with it reproduce the group; its dissent is listed.
An allow always names its category, environment, resource type, path, classification, cost band
and the absence of findings; deny and escalate name at least the category and environment.
Distilled rules never outrank a written deny or escalate.

Exit codes: 0 done (or up to date), 7 --check: rules missing, stale or edited by hand,
8 --check: a distilled rule disagrees with the record, 1 failure.`)
    .action(async (opts: DistillOptions, c: Command) => {
      const minSupport = Number(opts.minSupport);
      if (!Number.isInteger(minSupport) || minSupport < 1) throw new UsageError(`--min-support: "${opts.minSupport}" is not a whole number of at least 1.`);
      const minBound = parseShare('--min-agreement', opts.minAgreement);
      const minAllowBound = parseShare('--min-allow-agreement', opts.minAllowAgreement);
      const confidence = parseShare('--confidence', opts.confidence, { open: true });
      const humanWeight = Number(opts.humanWeight);
      if (!Number.isFinite(humanWeight) || humanWeight <= 0) throw new UsageError(`--human-weight: "${opts.humanWeight}" is not a number above 0.`);
      if (opts.check && opts.dryRun) throw new UsageError('--check and --dry-run: give one of them (--check also writes nothing, and sets the exit code).');
      const g = c.optsWithGlobals<GlobalOptions>();
      const rt = await openRuntime(c, { noState: opts.from !== undefined });
      try {
        const { readRecords, ledgerRecords, humanRecords, shadowRecords, RecordError } = await import('../records/records.js');
        const distillModule = await import('../distill/distill.js');
        let records;
        try {
          if (opts.from !== undefined) records = await readRecords(opts.from);
          else {
            const state = requireState(rt, 'distill (without --from)');
            records = ledgerRecords(state.ledgerRows(), 'ledger');
            // The humans' answers to escalations are evidence too, and weigh more than the model's.
            // So are the model's shadow answers (shadow.sample): a rule they contradict is narrowed or retired.
            const ledger = records;
            records = [...ledger, ...humanRecords(state.escalations(), ledger), ...shadowRecords(state.shadowRows(), ledger)];
          }
        } catch (e) {
          if (e instanceof RecordError) throw new UsageError(`${e.message}`);
          throw e;
        }
        if (opts.model && !rt.config.models.large) throw new UsageError('--model: no large model is configured; add models.large to govern.config.yaml (see `govern providers check`).');
        const policies = rt.config.policies;
        const bar = progressBar(records.length, g.quiet);
        const result = await distillModule.distill(records, {
          policies, minSupport, tolerance: { minBound, minAllowBound, confidence, humanWeight },
          progress: (done) => bar.tick(done),
          ...(rt.router ? { router: rt.router } : {}),
          ...(opts.model && rt.config.models.large ? { drafter: makeDrafter(rt.config.models.large) } : {}),
        });
        bar.clear();
        const mode = opts.check ? 'check' : opts.dryRun ? 'dry-run' : 'write';
        const changes = changesOf(distillModule, policies, result);
        if (mode === 'write') apply(policies, result);
        if (opts.format === 'json') {
          process.stdout.write(JSON.stringify({
            mode,
            up_to_date: changes.length === 0,
            changes,
            rules: result.rules.map((r) => ({ id: r.id, version: r.version, effect: r.effect, file: r.file, status: r.status, support: r.provenance?.support, agreement: r.provenance?.agreement })),
            retired: result.retired.map((k) => ({ id: k.id, version: k.version, file: k.file, reason: k.reason })),
            rejected: result.rejected,
            outliers: result.outliers,
            unlearned: result.unlearned.map((u) => ({ verdict: u.verdict, evidence: u.evidence, description: u.description, reason: u.reason })),
            stats: { ...result.stats, ms: Math.round(result.stats.ms) },
          }, null, 2) + '\n');
        } else if (!g.quiet || mode === 'check') {
          let out = summary(result, changes, mode);
          if (mode === 'dry-run') {
            // Rule files by name, then the lock file.
            const order = (rel: string) => `${rel === distillModule.LOCK_FILE ? 1 : 0}${rel}`;
            for (const [rel, text] of [...result.files].sort((a, b) => (order(a[0]) < order(b[0]) ? -1 : 1))) {
              const p = join(policies, rel);
              const old = existsSync(p) ? readFileSync(p, 'utf8') : '';
              if (old !== text) out += lineDiff(old, text, rel);
            }
            for (const k of result.retired) out += lineDiff(k.text, '', k.file);
            out += 'dry run: nothing written\n';
          } else if (mode === 'write') out += changes.length ? `wrote ${displayPath(join(policies, distillModule.DISTILLED_DIR))}/\n` : 'nothing to change\n';
          process.stdout.write(out);
        }
        if (mode === 'check') process.exitCode = result.retired.length ? EXIT.distillDisagrees : changes.length ? EXIT.distillOutOfDate : EXIT.ok;
      } finally {
        rt.close();
      }
    });

  const rules = program.command('rules').description('the distilled rules: list, show one with its evidence, or its version history');
  const fmt = () => new Option('-f, --format <format>', 'output format').choices(['human', 'json']).default('human');
  rules
    .command('list')
    .description('every distilled rule with its version, effect, support and dates')
    .addOption(fmt())
    .action(async (opts: { format: string }, c: Command) => {
      const { policies, existing } = await distilled(c);
      const rows = existing.map((e) => ({ id: e.id, version: e.version, effect: e.effect, support: e.provenance?.support ?? null, agreement: e.provenance?.agreement ?? null, models: e.provenance?.models ?? [], first: e.provenance?.first ?? null, last: e.provenance?.last ?? null, file: displayPath(join(policies, e.file)) }));
      if (opts.format === 'json') return void process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      if (!rows.length) return void process.stdout.write(`no distilled rules in ${join(policies, 'distilled')}/; run \`govern distill\`\n`);
      const w = Math.max(...rows.map((r) => r.id.length));
      process.stdout.write(rows.map((r) => `${r.id.padEnd(w)}  v${r.version}  ${r.effect.padEnd(8)}  support ${String(r.support ?? '-').padStart(4)}  ${r.first?.slice(0, 10) ?? '?'} to ${r.last?.slice(0, 10) ?? '?'}  ${r.models.join(', ')}\n`).join(''));
    });
  rules
    .command('show')
    .description('one distilled rule: its file, provenance and tests')
    .argument('<rule>', 'rule id')
    .addOption(fmt())
    .action(async (id: string, opts: { format: string }, c: Command) => {
      const { policies, existing } = await distilled(c);
      const e = find(existing, id);
      if (opts.format === 'json') return void process.stdout.write(JSON.stringify({ id: e.id, version: e.version, effect: e.effect, file: join(policies, e.file), provenance: e.provenance ?? null, text: e.text }, null, 2) + '\n');
      const p = e.provenance ?? {};
      process.stdout.write(`${e.id} v${e.version} (${e.effect}), ${displayPath(join(policies, e.file))}\n` +
        `  learned from ${p.decisions ?? '?'} decisions (${p.support ?? '?'} distinct requests) of ${(p.models ?? []).join(', ') || '?'}, ${p.first ?? '?'} to ${p.last ?? '?'}\n` +
        `  agreement ${p.agreement !== undefined ? (p.agreement * 100).toFixed(1) + '%' : '?'} of the evidence (lower bound ${p.bound !== undefined ? (p.bound * 100).toFixed(1) + '%' : '?'} at ${p.confidence !== undefined ? (p.confidence * 100).toFixed(0) + '%' : '?'} confidence), ${p.judged ?? '?'} recorded judgements in scope; ${(p.outliers ?? []).length} outliers set aside${(p.outliers ?? []).length ? ': ' + p.outliers!.join(', ') : ''}\n` +
        `  drafted by ${p.drafted_by ?? '?'}\n\n${e.text}`);
    });
  rules
    .command('history')
    .description('the versions of one distilled rule, oldest first, with what changed')
    .argument('<rule>', 'rule id')
    .addOption(fmt())
    .action(async (id: string, opts: { format: string }, c: Command) => {
      const { policies, existing, module: { HISTORY_DIR } } = await distilled(c);
      const current = existing.find((e) => e.id === id);
      const hdir = join(policies, HISTORY_DIR, id);
      const old = existsSync(hdir) ? readdirSync(hdir).filter((n) => /^v\d+\.ya?ml$/.test(n)).sort((a, b) => Number(a.slice(1).split('.')[0]) - Number(b.slice(1).split('.')[0])) : [];
      if (!current && !old.length) throw new UsageError(`rules history: no distilled rule "${id}" (now or in history); \`govern rules list\` shows the rules.`);
      const versions = old.map((n) => ({ version: Number(n.slice(1).split('.')[0]), file: displayPath(join(hdir, n)), text: readFileSync(join(hdir, n), 'utf8'), current: false }));
      if (current) versions.push({ version: current.version, file: displayPath(join(policies, current.file)), text: current.text, current: true });
      if (opts.format === 'json') return void process.stdout.write(JSON.stringify(versions.map((v) => ({ version: v.version, file: v.file, current: v.current })), null, 2) + '\n');
      let out = `${id}: ${count(versions.length, 'version')}${current ? '' : ' (retired)'}\n`;
      versions.forEach((v, i) => {
        const prov = /\n  first: (.*)\n  last: (.*)\n  support: (\d+)/.exec(v.text);
        out += `\nv${v.version}${v.current ? ' (current)' : ''}  ${v.file}${prov ? `  evidence ${prov[1]} to ${prov[2]}, support ${prov[3]}` : ''}\n`;
        if (i > 0) out += lineDiff(ruleBlock(versions[i - 1]!.text), ruleBlock(v.text), `${id} rule`).split('\n').slice(2).map((l) => (l ? `  ${l}` : l)).join('\n');
      });
      process.stdout.write(out.endsWith('\n') ? out : out + '\n');
    });
}

/** The `rules:` part of a distilled file: what a version change is about. */
function ruleBlock(text: string): string {
  const m = /\nrules:\n([\s\S]*?)(?=\ntests:|$)/.exec(text);
  return m ? m[1]! : text;
}

async function distilled(c: Command): Promise<{ policies: string; existing: import('../distill/distill.js').Existing[]; module: DistillModule }> {
  const { loadConfig } = await import('../config/config.js');
  const g = c.optsWithGlobals<GlobalOptions>();
  const config = await loadConfig(g.config).catch((e: Error) => { throw new UsageError(`the configuration is not valid:\n${e.message}`); });
  const policies = g.policies ? resolve(g.policies) : config.policies;
  const module = await import('../distill/distill.js');
  return { policies, existing: module.readExisting(policies), module };
}

function find(existing: import('../distill/distill.js').Existing[], id: string): import('../distill/distill.js').Existing {
  const e = existing.find((x) => x.id === id);
  if (!e) {
    const near = existing.filter((x) => x.id.includes(id) || id.includes(x.id)).map((x) => x.id).slice(0, 3);
    throw new UsageError(`no distilled rule "${id}"${near.length ? `; did you mean ${near.join(', ')}?` : ''} (\`govern rules list\` shows them).`);
  }
  return e;
}
