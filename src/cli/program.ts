// The commander program: global options, one module per subcommand, and the mapping of errors
// to exit codes. Imported by nothing but bin/govern.
import { Command, CommanderError } from 'commander';
import * as checkCommand from './check.js';
import * as compileCommand from './compile.js';
import * as buildCommand from './build.js';
import * as evalCommand from './eval.js';
import * as routeCommand from './route.js';
import * as replayCommand from './replay.js';
import * as distillCommand from './distill.js';
import * as serveCommand from './serve.js';
import * as providersCommand from './providers.js';
import * as stateCommands from './state.js';
import * as statsCommand from './stats.js';
import * as initCommand from './init.js';
import * as completionCommand from './completion.js';
import { usageErrorOf } from './errors.js';
import { EXIT, UsageError } from './output.js';

export { VERSION } from '../version.js';
import { VERSION } from '../version.js';

export { policyPaths, type GlobalOptions } from './options.js';

export function buildProgram(): Command {
  const program = new Command('govern')
    .description('Policy-as-code for AI agents: YAML policies compiled to Cedar, decided locally.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('-c, --config <file>', 'configuration file (default: govern.config.yaml, found walking up)')
    .option('-p, --policies <dir>', 'policy folder (default: the config\'s policies:, else policies beside the config)')
    .option('-q, --quiet', 'print only what is needed')
    .option('--no-color', 'plain output (also NO_COLOR=1, and whenever output is piped)')
    .option('--state <file>', 'the SQLite state file (default: .govern/state.db beside the config)')
    .option('--no-state', 'read and write no state file: default trust, empty budgets, nothing recorded')
    .option('--bundle <file>', 'eval, serve, check: run from this bundle (govern build), verified against bundle.public_keys, instead of the policy folder')
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false })
    .exitOverride();
  initCommand.register(program);
  for (const cmd of [checkCommand, compileCommand, buildCommand, evalCommand, routeCommand, distillCommand, replayCommand, serveCommand, providersCommand, stateCommands, statsCommand]) cmd.register(program);
  // `govern explain ...` is `govern eval --explain ...` (see main); listed here for help.
  program.command('explain').description('decide one request and show why: facts, findings, and each rule matched, unmet or skipped (flags as for eval)');
  completionCommand.register(program);
  const setOverride = (c: Command) => { c.exitOverride(); c.commands.forEach(setOverride); };
  setOverride(program);
  return program;
}

/** `explain` is `eval --explain`: same input, same flags, same exit codes. */
function rewriteExplain(argv: string[]): string[] {
  const i = argv.findIndex((a, k) => k >= 2 && a === 'explain');
  const firstCommand = argv.findIndex((a, k) => k >= 2 && !a.startsWith('-'));
  return i >= 0 && i === firstCommand ? [...argv.slice(0, i), 'eval', '--explain', ...argv.slice(i + 1)] : argv;
}

let pipeHandled = false;

/**
 * A reader that goes away (`govern ledger export | head -n 1`) closes stdout: the command stops
 * quietly, with the exit code it has set so far (0 if none), instead of an EPIPE stack trace.
 */
function endQuietlyOnClosedStdout(): void {
  if (pipeHandled) return;
  pipeHandled = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
    process.stderr.write(`govern: cannot write the output: ${e.message}\n`);
    process.exit(EXIT.failure);
  });
}

export async function main(argv: string[]): Promise<void> {
  endQuietlyOnClosedStdout();
  argv = rewriteExplain(argv);
  const program = buildProgram();
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
    if (e instanceof UsageError) {
      process.stderr.write(`govern: ${e.message}\n`);
      process.exitCode = e.code;
      return;
    }
    const usage = await usageErrorOf(e).catch(() => undefined);
    if (usage) {
      process.stderr.write(`govern: ${usage.message}\n`);
      process.exitCode = usage.code;
      return;
    }
    process.stderr.write(`govern: internal error: ${(e as Error).stack ?? String(e)}\nPlease report this with the command you ran.\n`);
    process.exitCode = EXIT.failure;
  }
}
