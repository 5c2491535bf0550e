// `govern init`'s work: it asks its questions on a terminal (@inquirer/prompts, loaded only here),
// takes the defaults with --yes, writes the config, the default policy pack, example requests and
// optionally a pre-commit hook config and a CI workflow, and never replaces a file unless the user
// says so (a confirmation per file, or --force).
import { existsSync, statSync } from 'node:fs';
import { Writable } from 'node:stream';
import { EXIT } from '../diagnostics/exit.js';
import { UsageError } from '../diagnostics/usage.js';
import { styleFor } from '../render/terminal.js';
import { VERSION } from '../version.js';
import { report } from './report.js';
import type { Answers, FileResult, PlannedFile, Provider } from './scaffold.js';

/** Where questions are asked and answered. The CLI passes the process's own; tests pass streams. */
export interface Terminal {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Whether a person can answer: stdin is a terminal. */
  interactive: boolean;
}

export interface InitSettings {
  dir: string;
  yes: boolean;
  force: boolean;
  quiet: boolean;
  color: boolean;
  /** A policy folder given with --policies: the default answer. */
  policies?: string;
}

/** Runs init: asks (or takes the defaults), writes, and reports. Returns the exit code. */
export async function init(s: InitSettings, term: Terminal, print: (text: string) => void): Promise<number> {
  if (!s.yes && !term.interactive) {
    throw new UsageError('init asks questions, but stdin is not a terminal. Pass --yes to take the defaults without asking (files that exist are kept; --force overwrites them).');
  }
  const scaffold = await import('./scaffold.js');
  // A folder that does not exist yet is created by the first write.
  if (existsSync(s.dir) && !statSync(s.dir).isDirectory()) throw new UsageError(`--dir: ${s.dir} is not a folder.`);
  const folderProblem = s.policies === undefined ? undefined : scaffold.policyFolderProblem(s.policies);
  if (folderProblem) throw new UsageError(`--policies: ${s.policies}: ${folderProblem}`);
  const defaults: Answers = { ...scaffold.DEFAULT_ANSWERS, ...(s.policies ? { policies: scaffold.normalizeFolder(s.policies) } : {}) };

  let results: FileResult[];
  let answers: Answers;
  try {
    const prompts = s.yes ? undefined : await loadPrompts(s.color);
    answers = prompts ? await ask(prompts, scaffold, defaults, term) : defaults;
    const files = scaffold.plan(answers, VERSION);
    results = await scaffold.writeFiles(s.dir, files, (file: PlannedFile, state) => {
      if (s.force) return true;
      if (!prompts || state === 'same') return false;
      return prompts.confirm({ message: `${file.path} exists and differs from the default. Overwrite it?`, default: false }, promptContext(term));
    });
  } catch (e) {
    if ((e as Error).name === 'ExitPromptError' || (e as Error).name === 'AbortPromptError') throw new UsageError('cancelled; nothing was written.');
    throw e;
  }
  print(report(scaffold, s, answers, results, await styleFor(s.color)));
  return EXIT.ok;
}

type Prompts = typeof import('@inquirer/prompts');
type Scaffold = typeof import('./scaffold.js');

/**
 * The streams for one prompt. A prompt ends its output stream when it is answered (harmless for
 * stdout, which never closes), so each prompt writes through a stream of its own into the terminal.
 */
function promptContext(term: Terminal): { input: NodeJS.ReadableStream; output: NodeJS.WritableStream } {
  const target = term.output as NodeJS.WritableStream & { columns?: number; rows?: number };
  const output = new Writable({ write: (chunk: Buffer, _encoding, done) => { target.write(chunk); done(); } });
  // The prompts wrap their text at the terminal's width.
  Object.defineProperties(output, { columns: { get: () => target.columns }, rows: { get: () => target.rows } });
  return { input: term.input, output };
}

async function loadPrompts(color: boolean): Promise<Prompts> {
  // The prompts colour with node's styleText, which follows NO_COLOR; --no-color must count too.
  if (!color) process.env.NO_COLOR = '1';
  return import('@inquirer/prompts');
}

/** The questions, in order; each default is the --yes answer. */
export async function ask(prompts: Prompts, scaffold: Scaffold, defaults: Answers, term: Terminal): Promise<Answers> {
  const { KNOWN_ENVIRONMENTS, DEFAULT_MODELS, environmentProblem, keyNote, keyVariable, normalizeFolder, parseEnvironments, policyFolderProblem, unknownEnvironments } = scaffold;
  const ctx = () => promptContext(term);
  const say = (text: string) => term.output.write(text);

  const known = await prompts.checkbox<string>({
    message: 'Which environments do your agents act in?',
    choices: KNOWN_ENVIRONMENTS.map((e) => ({ value: e, name: e, checked: defaults.environments.includes(e) })),
  }, ctx());
  const othersText = await prompts.input({
    message: 'Other environments (names separated by commas; Enter for none):',
    validate: (v: string) => {
      const names = parseEnvironments(v);
      if (!known.length && !names.length) return 'Name at least one environment.';
      return names.map(environmentProblem).find((p) => p !== undefined) ?? true;
    },
  }, ctx());
  const environments = [...new Set([...known, ...parseEnvironments(othersText)])];
  const unknown = unknownEnvironments(environments);
  if (unknown.length) say(`  The default pack has no rules of its own for ${unknown.join(', ')}: the rules for "outside dev and test" apply there.\n`);

  const provider = await prompts.select<'none' | Provider>({
    message: 'Which model decides what no rule decides?',
    choices: [
      { value: 'none', name: 'none: a human decides them (they escalate)' },
      { value: 'anthropic', name: 'anthropic' },
      { value: 'openai', name: 'openai (or an OpenAI-compatible server)' },
      { value: 'ollama', name: 'ollama (a local server)' },
    ],
    default: defaults.model?.provider ?? 'none',
  }, ctx());
  let model: Answers['model'];
  if (provider !== 'none') {
    const name = await prompts.input({
      message: `Which ${provider} model?`,
      default: defaults.model?.provider === provider ? defaults.model.model : DEFAULT_MODELS[provider],
      validate: (v: string) => (/^\S+$/.test(v.trim()) ? true : 'Name one model, e.g. ' + DEFAULT_MODELS[provider] + '.'),
    }, ctx());
    model = { provider, model: name.trim() };
    const variable = keyVariable(provider);
    say(`  ${keyNote(provider)}${variable && !process.env[variable] ? ` (It is not set in this shell yet.)` : ''}\n`);
  }

  const policies = normalizeFolder(await prompts.input({
    message: 'Which folder holds the policies?',
    default: defaults.policies,
    validate: (v: string) => policyFolderProblem(v) ?? true,
  }, ctx()));
  const precommit = await prompts.confirm({ message: 'Add a pre-commit hook (.pre-commit-config.yaml)?', default: defaults.precommit }, ctx());
  const workflow = await prompts.confirm({ message: 'Add a GitHub Actions workflow (.github/workflows/govern.yml)?', default: defaults.workflow }, ctx());
  return { environments, ...(model ? { model } : {}), policies, precommit, workflow };
}
