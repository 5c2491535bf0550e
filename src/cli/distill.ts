// `govern distill` (the model's recurring decisions to rule files, or --check that they are up to
// date) and `govern rules list|show|history` (the distilled rules, their evidence and versions).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { DistillResult } from '../distill/distill.js';
import type { Change } from '../distill/changes.js';
import { displayPath } from '../policy/files.js';
import { EXIT, parseShare, progressBar, UsageError } from './output.js';
import { projectConfig, type GlobalOptions } from './options.js';
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

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** Loaded when a distill or rules command runs, not at start. */
type DistillModule = typeof import('../distill/distill.js');

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
        const { apply, changesOf, lineDiff, makeDrafter } = await import('../distill/changes.js');
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
        const changes = changesOf(policies, result);
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
      const { lineDiff } = await import('../distill/changes.js');
      const { parse } = await import('yaml');
      const current = existing.find((e) => e.id === id);
      const hdir = join(policies, HISTORY_DIR, id);
      const old = existsSync(hdir) ? readdirSync(hdir).filter((n) => /^v\d+\.ya?ml$/.test(n)).sort((a, b) => Number(a.slice(1).split('.')[0]) - Number(b.slice(1).split('.')[0])) : [];
      if (!current && !old.length) throw new UsageError(`rules history: no distilled rule "${id}" (now or in history); \`govern rules list\` shows the rules.`);
      const versions = old.map((n) => ({ version: Number(n.slice(1).split('.')[0]), file: displayPath(join(hdir, n)), text: readFileSync(join(hdir, n), 'utf8'), current: false }));
      if (current) versions.push({ version: current.version, file: displayPath(join(policies, current.file)), text: current.text, current: true });
      if (opts.format === 'json') return void process.stdout.write(JSON.stringify(versions.map((v) => ({ version: v.version, file: v.file, current: v.current })), null, 2) + '\n');
      let out = `${id}: ${count(versions.length, 'version')}${current ? '' : ' (retired)'}\n`;
      versions.forEach((v, i) => {
        // The file's provenance, read as the YAML it is (not by matching its text).
        const prov = (parse(v.text) as { provenance?: { first?: unknown; last?: unknown; support?: unknown } } | null)?.provenance;
        const evidence = prov && prov.first !== undefined && prov.last !== undefined && prov.support !== undefined ? `  evidence ${String(prov.first)} to ${String(prov.last)}, support ${String(prov.support)}` : '';
        out += `\nv${v.version}${v.current ? ' (current)' : ''}  ${v.file}${evidence}\n`;
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
  const { policies } = await projectConfig(c.optsWithGlobals<GlobalOptions>());
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
