// The commander program: global options, one module per subcommand, and the mapping of errors
// to exit codes. Imported by nothing but bin/govern.
import type { Command } from 'commander';
import { EXIT, UsageError } from './output.js';
import { endQuietlyOnClosedStdout } from '../render/terminal.js';
import { tiering } from '../cedar/tiering.js';
import { answerEarly, commandOf, reportUsage, rewriteExplain, type Early } from '../serve/early.js';

export { flushOutput } from '../render/terminal.js';
// For bin/govern's start (src/boot.ts).
export { tiering } from '../cedar/tiering.js';

/**
 * Each command's module, loaded only when it runs: `govern eval` does not load the compiler, the
 * YAML parser or the other commands. Help, completion and an unknown command load them all.
 */
const COMMANDS: [names: string[], load: () => Promise<{ register(program: Command): void }>][] = [
  [['init'], () => import('./init.js')],
  [['check'], () => import('./check.js')],
  [['compile'], () => import('./compile.js')],
  [['build'], () => import('./build.js')],
  [['eval', 'explain'], () => import('./eval.js')],
  [['route'], () => import('./route.js')],
  [['distill'], () => import('./distill.js')],
  [['replay'], () => import('./replay.js')],
  [['serve'], () => import('./serve.js')],
  [['daemon'], () => import('./daemon.js')],
  [['providers'], () => import('./providers.js')],
  [['trust', 'usage', 'ledger', 'escalations'], () => import('./state.js')],
  [['stats'], () => import('./stats.js')],
  [['completion'], () => import('./completion.js')],
];

/**
 * The commander program with every command, or with only the one `argv` runs (help, completion
 * and anything not a known command get them all, for listings and "did you mean").
 */
export async function buildProgram(argv?: string[]): Promise<Command> {
  const [{ Command }, { VERSION }] = await Promise.all([import('commander'), import('../version.js')]);
  const program = new Command('govern')
    .description('Policy-as-code for AI agents: YAML policies compiled to Cedar, decided locally.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('-c, --config <file>', 'configuration file (default: govern.config.yaml, found walking up)')
    .option('-p, --policies <dir>', 'policy folder (default: the config\'s policies:, else policies beside the config)')
    .option('-q, --quiet', 'print only what is needed')
    .option('--no-color', 'plain output (also NO_COLOR=1, and whenever output is piped)')
    .option('--state <file>', 'the SQLite state file or a postgres:// URL (default: .govern/state.db beside the config)')
    .option('--no-state', 'read and write no state file: default trust, empty budgets, nothing recorded')
    .option('--bundle <file>', 'eval, serve, check: run from this bundle (govern build), verified against bundle.public_keys, instead of the policy folder')
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false })
    .exitOverride();
  const name = argv ? commandOf(argv) : undefined;
  const only = name !== undefined && name !== 'completion' ? COMMANDS.find(([names]) => names.includes(name)) : undefined;
  // `govern --version` alone prints the version: no command is needed.
  const bare = argv !== undefined && name === undefined && argv.slice(2).some((a) => a === '-V' || a === '--version') && !argv.slice(2).some((a) => a === '-h' || a === '--help');
  const chosen = only ? [only] : bare ? [] : COMMANDS;
  const modules = await Promise.all(chosen.map(([, load]) => load()));
  for (const [i, [names]] of chosen.entries()) {
    if (names[0] === 'completion') continue;
    modules[i]!.register(program);
  }
  // `govern explain ...` is `govern eval --explain ...` (see main); listed here for help.
  if (chosen === COMMANDS) program.command('explain').description('decide one request and show why: facts, findings, and each rule matched, unmet or skipped (flags as for eval)');
  // Completion last: its script lists the program as built, every command included.
  if (chosen === COMMANDS) modules[COMMANDS.findIndex(([names]) => names[0] === 'completion')]!.register(program);
  const setOverride = (c: Command) => { c.exitOverride(); c.commands.forEach(setOverride); };
  setOverride(program);
  return program;
}

/** Prints an error the user caused (exit 1, or its own code) and returns true; false for anything else. */
async function reported(e: unknown): Promise<boolean> {
  const usage = e instanceof UsageError ? e : await import('./errors.js').then((m) => m.usageErrorOf(e)).catch(() => undefined);
  if (!usage) return false;
  reportUsage(usage);
  return true;
}

/** Runs the command line; `early` is what bin/govern's early path found (src/serve/early.ts), when it ran it. */
export async function main(argv: string[], opts: { early?: Early } = {}): Promise<void> {
  endQuietlyOnClosedStdout();
  tiering.shortCommands = true;
  argv = rewriteExplain(argv);
  // A plain eval with a daemon running is answered before commander or any command is loaded.
  if (commandOf(argv) === 'eval') {
    const early = opts.early ?? (await answerEarly(argv));
    if (early.done) return;
    if (early.read) (await import('./eval.js')).useEarly(early.read);
  }
  const program = await buildProgram(argv);
  const { CommanderError } = await import('commander');
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
        process.exitCode = EXIT.ok;
        return;
      }
      // commander has printed "error: ..." naming the flag; add the usage line.
      const name = argv.slice(2).find((a) => !a.startsWith('-'));
      const sub = program.commands.find((c) => c.name() === name);
      process.stderr.write(`usage: ${sub ? `govern ${sub.name()} ${sub.usage()}` : `govern ${program.usage()}`}\n`);
      process.exitCode = EXIT.failure;
      return;
    }
    if (await reported(e)) return;
    process.stderr.write(`govern: internal error: ${(e as Error).stack ?? String(e)}\nPlease report this with the command you ran.\n`);
    process.exitCode = EXIT.failure;
  }
}
