// `govern init`: sets a project up with a config, the default policy pack, example requests, and
// optionally a pre-commit hook config and a CI workflow (src/init/init.ts).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { InitSettings, Terminal } from '../init/init.js';
import { useColor } from './output.js';
import type { GlobalOptions } from './options.js';

interface InitOptions { yes?: boolean; force?: boolean; dir?: string }

export function register(program: Command): void {
  program
    .command('init')
    .description('set up a project: govern.config.yaml, the default policy pack, example requests, a pre-commit hook and a CI workflow')
    .option('-y, --yes', 'ask nothing: take the defaults, and keep files that exist')
    .option('--force', 'overwrite files that exist without asking')
    .option('--dir <dir>', 'the project folder (default: the current folder)')
    .addHelpText('after', '\nOn a terminal it asks its questions; elsewhere pass --yes. Exit codes: 0 done (kept files are listed), 1 failure.')
    .action(async (opts: InitOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const settings: InitSettings = { dir: resolve(opts.dir ?? '.'), yes: opts.yes === true, force: opts.force === true, quiet: g.quiet === true, color: useColor(g), ...(g.policies ? { policies: g.policies } : {}) };
      // Questions go where the person sees them: stdout, or stderr when stdout is piped.
      const terminal: Terminal = { input: process.stdin, output: process.stdout.isTTY ? process.stdout : process.stderr, interactive: process.stdin.isTTY === true };
      process.exitCode = await (await import('../init/init.js')).init(settings, terminal, (text) => process.stdout.write(text));
    });
}
