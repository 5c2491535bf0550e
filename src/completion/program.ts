// The completion tree of a commander program: its commands, their options, option and argument
// choices, each with its ancestors' flags, for the shell scripts of src/completion/scripts.ts.
import type { Argument, Command, Option } from 'commander';
import { completionScript as scriptOf, type Flag, type Node, type Shell } from './scripts.js';

export function completionScript(program: Command, shell: Shell): string {
  return scriptOf(nodes(program), program.name(), shell);
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

function flagOf(o: Option): Flag {
  return {
    names: [o.short, o.long].filter((n): n is string => !!n),
    description: firstLine(o.description),
    value: o.required || o.optional,
    choices: o.argChoices ?? [],
  };
}

/** Every command of the program, depth first, each with its own flags and those of its ancestors. */
function nodes(program: Command): Node[] {
  const out: Node[] = [];
  const visit = (cmd: Command, parent: Command | undefined, path: string[], inherited: Flag[]) => {
    const help = cmd.createHelp();
    const own = help.visibleOptions(cmd).map(flagOf);
    const seen = new Set(own.flatMap((f) => f.names));
    // An ancestor's options are accepted after a subcommand too, except --version, which is only its own.
    const flags = [...own, ...inherited.filter((f) => !f.names.some((n) => seen.has(n)))];
    const passOn = flags.filter((f) => !f.names.includes('--version') && !f.names.includes('--help'));
    const subs = help.visibleCommands(cmd);
    const args: readonly Argument[] = cmd.registeredArguments;
    // commander's implicit `help [command]` takes the name of a sibling command.
    const isHelp = parent !== undefined && !parent.commands.includes(cmd);
    const siblings = isHelp ? parent.createHelp().visibleCommands(parent).map((c) => c.name()).filter((n) => n !== 'help') : [];
    out.push({
      path,
      commands: subs.map((c) => ({ name: c.name(), description: firstLine(c.description()) })),
      flags,
      choices: [...siblings, ...args.flatMap((a) => a.argChoices ?? [])],
      files: !isHelp && args.some((a) => !a.argChoices),
    });
    for (const sub of subs) visit(sub, cmd, [...path, sub.name()], passOn);
  };
  visit(program, undefined, [], []);
  return out;
}
