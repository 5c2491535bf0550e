// Shell completion, generated from the commander program: the bash script is sourced in a real
// bash and its function driven as bash's completion would (COMP_WORDS, COMP_CWORD); the zsh and
// fish scripts are parsed by their shells where installed. Also the CLI's first-contact polish:
// --version, "did you mean" for a mistyped command, plain output when piped.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { completionScript } from '../src/completion/program.js';
import { buildProgram } from '../src/cli/program.js';
import { cli } from './core.js';
import { govern, ROOT, tempTree } from './helpers.js';

const has = (shell: string) => spawnSync('which', [shell], { encoding: 'utf8' }).status === 0;

/** Completes `line` (the cursor at its end; a trailing space starts a new word) in bash. */
function bashComplete(script: string, line: string): string[] {
  const words = line.split(' ');
  const file = join(tempTree({}), 'govern.bash');
  writeFileSync(file, script);
  const words_ = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `source '${file}'
complete -p govern >/dev/null || exit 9
COMP_WORDS=(${words_}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMP_LINE='${line}'; COMP_POINT=\${#COMP_LINE}
_govern govern "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}

describe('govern completion', () => {
  const bash = govern(['completion', 'bash']);

  it('prints a bash script, plain, with exit 0', async () => {
    expect(bash.code).toBe(0);
    expect(bash.stderr).toBe('');
    expect(bash.stdout).toMatch(/^# bash completion for govern /);
    expect(bash.stdout).not.toMatch(/\x1b\[/);
    expect((await cli(['completion', 'bash'], { env: { NO_COLOR: '', FORCE_COLOR: '1' } })).stdout).toBe(bash.stdout);
  });

  it('bash completes commands, flags and flag values', () => {
    const s = bash.stdout;
    expect(bashComplete(s, 'govern ch')).toEqual(['check']);
    expect(bashComplete(s, 'govern check --fo')).toEqual(['--format']);
    expect(bashComplete(s, 'govern check --format ')).toEqual(['human', 'json', 'sarif', 'github']);
    expect(bashComplete(s, 'govern check --format = s')).toEqual(['sarif']);
    expect(bashComplete(s, 'govern --config govern.config.yaml ch')).toEqual(['check']);
    expect(bashComplete(s, 'govern check --no-t')).toEqual(['--no-tests']);
    expect(bashComplete(s, 'govern check --qu')).toEqual(['--quiet']);
    expect(bashComplete(s, 'govern providers ')).toEqual(['check', 'help']);
    expect(bashComplete(s, 'govern completion ')).toEqual(['bash', 'zsh', 'fish']);
    expect(bashComplete(s, 'govern help co')).toEqual(expect.arrayContaining(['compile', 'completion']));
    // An argument that is a file: nothing from the script, so bash completes file names.
    expect(bashComplete(s, 'govern check pol')).toEqual([]);
  });

  it('is generated from the program: every command and each of its flags is in it', async () => {
    const program = await buildProgram();
    const script = completionScript(program, 'bash');
    const walk = (cmd: typeof program, path: string[]) => {
      for (const sub of cmd.commands) {
        expect(script).toContain(`'${[...path, sub.name()].join(' ')}')`);
        for (const o of sub.options) if (o.long) expect(script).toContain(o.long);
        walk(sub, [...path, sub.name()]);
      }
    };
    walk(program, []);
    // A command added later is completed without touching the generator.
    program.command('brand-new').option('--shiny <level>', 'how shiny').action(() => undefined);
    const later = completionScript(program, 'bash');
    expect(bashComplete(later, 'govern brand')).toEqual(['brand-new']);
    expect(bashComplete(later, 'govern brand-new --sh')).toEqual(['--shiny']);
  });

  for (const shell of ['zsh', 'fish'] as const) {
    it.skipIf(!has(shell))(`${shell}: the script parses (${shell} -n)${has(shell) ? '' : ` (skipped: ${shell} is not installed)`}`, async () => {
      const r = await cli(['completion', shell]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${shell} completion for govern`);
      const file = join(tempTree({}), `govern.${shell}`);
      writeFileSync(file, r.stdout);
      const parsed = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
      expect(parsed.stderr).toBe('');
      expect(parsed.status).toBe(0);
    });
  }

  it.skipIf(!has('fish'))(`fish completes commands and flag values${has('fish') ? '' : ' (skipped: fish is not installed)'}`, async () => {
    const file = join(tempTree({}), 'govern.fish');
    writeFileSync(file, (await cli(['completion', 'fish'])).stdout);
    const complete = (line: string) => {
      const r = spawnSync('fish', ['--no-config', '-c', `source ${file}; complete -C '${line}'`], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
    };
    expect(complete('govern ch')).toEqual(['check']);
    expect(complete('govern check --fo')).toEqual(['--format']);
    expect(complete('govern check --format ')).toEqual(['github', 'human', 'json', 'sarif']);
  });

  it('an unknown shell is a usage error naming it, exit 1', async () => {
    const r = await cli(['completion', 'powershell']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("'powershell' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish.");
    expect(r.stderr).toContain('usage: govern completion [options] <shell>');
    expect(r.stdout).toBe('');
    const none = govern(['completion']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("missing required argument 'shell'");
  });
});

describe('first contact', () => {
  it('--version prints the package version', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-V']) {
      const r = govern([flag]);
      expect(r.stdout).toBe(`${version}\n`);
      expect(r.code).toBe(0);
    }
  });

  it('a mistyped command gets "did you mean" and the usage line, exit 1', () => {
    const r = govern(['chek']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: unknown command 'chek'");
    expect(r.stderr).toContain('(Did you mean check?)');
    expect(r.stderr).toContain('usage: govern [options] [command]');
    expect(r.stdout).toBe('');
    expect(govern(['completoin', 'bash']).stderr).toContain('(Did you mean completion?)');
    expect(govern(['int']).stderr).toContain('(Did you mean init?)');
  });
});
