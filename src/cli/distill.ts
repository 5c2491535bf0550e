// `govern distill` (the model's recurring decisions to rule files, or --check that they are up to
// date) and `govern rules list|show|history` (the distilled rules, their evidence and versions).
import type { Command } from 'commander';
import { Option } from 'commander';
import { EXIT, progressBar } from './output.js';
import { projectConfig, requireState, withRuntime, type GlobalOptions } from './options.js';

interface DistillOptions {
  from?: string; minSupport: string; minAgreement: string; minAllowAgreement: string; confidence: string; humanWeight: string;
  model?: boolean; dryRun?: boolean; check?: boolean; format: 'human' | 'json';
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
      const { minSupport, tolerance, mode } = (await import('../distill/project.js')).distillSettings(opts);
      const g = c.optsWithGlobals<GlobalOptions>();
      await withRuntime(c, async (rt) => {
        const [project, render] = await Promise.all([import('../distill/project.js'), import('../render/distill.js')]);
        const records = await project.distillRecords(opts.from, () => requireState(rt, 'distill (without --from)'));
        const bar = progressBar(records.length, g.quiet);
        const { result, changes, policies } = await project.distillProject(rt, records, { mode, minSupport, tolerance, model: opts.model === true, progress: (done) => bar.tick(done) });
        bar.clear();
        if (opts.format === 'json') process.stdout.write(render.distillJson(mode, result, changes));
        else if (!g.quiet || mode === 'check') process.stdout.write(render.distillText(result, changes, mode, policies, mode === 'dry-run' ? project.dryRunDiff(policies, result) : ''));
        if (mode === 'check') process.exitCode = result.retired.length ? EXIT.distillDisagrees : changes.length ? EXIT.distillOutOfDate : EXIT.ok;
      }, { noState: opts.from !== undefined });
    });

  const rules = program.command('rules').description('the distilled rules: list, show one with its evidence, or its version history');
  const fmt = () => new Option('-f, --format <format>', 'output format').choices(['human', 'json']).default('human');
  rules
    .command('list')
    .description('every distilled rule with its version, effect, support and dates')
    .addOption(fmt())
    .action(async (opts: { format: string }, c: Command) => {
      const { policies, existing, render } = await distilled(c);
      process.stdout.write(render.rulesList(policies, existing, opts.format));
    });
  rules
    .command('show')
    .description('one distilled rule: its file, provenance and tests')
    .argument('<rule>', 'rule id')
    .addOption(fmt())
    .action(async (id: string, opts: { format: string }, c: Command) => {
      const { policies, existing, render, project } = await distilled(c);
      process.stdout.write(render.ruleShow(policies, project.findRule(existing, id), opts.format));
    });
  rules
    .command('history')
    .description('the versions of one distilled rule, oldest first, with what changed')
    .argument('<rule>', 'rule id')
    .addOption(fmt())
    .action(async (id: string, opts: { format: string }, c: Command) => {
      const { policies, render, project } = await distilled(c);
      const { versions, current } = project.ruleVersions(policies, id);
      process.stdout.write(render.ruleHistory(id, versions, current, opts.format));
    });
}

/** The policy folder of the configuration, its distilled rules, and the modules that read and print them. */
async function distilled(c: Command) {
  const { policies } = await projectConfig(c.optsWithGlobals<GlobalOptions>());
  const [{ readExisting }, project, render] = await Promise.all([import('../distill/distill.js'), import('../distill/project.js'), import('../render/distill.js')]);
  return { policies, existing: readExisting(policies), project, render };
}
