// `govern completion bash|zsh|fish`: a shell completion script generated from the commander
// program itself (its commands, their options, option and argument choices), so a new command or
// flag is completed without anyone editing a list.
import type { Command } from 'commander';
import { Argument as CommanderArgument } from 'commander';
import { completionScript } from '../completion/program.js';
import { SHELLS, type Shell } from '../completion/scripts.js';

export function register(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish); see the README for installing it')
    .addArgument(new CommanderArgument('<shell>', 'the shell to complete in').choices(SHELLS))
    .action((shell: Shell, _opts: unknown, cmd: Command) => {
      process.stdout.write(completionScript(cmd.parent ?? program, shell));
    });
}
