// What `govern init` writes into a project: govern.config.yaml, the default policy pack, example
// requests that the pack decides, and optionally a pre-commit config and a GitHub Actions workflow.
// Planning is pure (answers in, files out); writing never replaces a file unless told to.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalizeEnvironment } from '../policy/vocabulary.js';
import { KEY_VARIABLE } from '../router/providers/index.js';
import { OLLAMA_HOST } from '../router/providers/ollama.js';

export type Provider = 'anthropic' | 'openai' | 'ollama';

export interface Answers {
  /** The environments agents act in, as the team names them. */
  environments: string[];
  /** The large model that decides what no rule does; none by default. */
  model?: { provider: Provider; model: string };
  /** The policy folder, relative to the project folder. */
  policies: string;
  precommit: boolean;
  workflow: boolean;
}

/** The environments the default pack has rules for. */
export const KNOWN_ENVIRONMENTS = ['production', 'staging', 'dev', 'test'] as const;

export const DEFAULT_ANSWERS: Answers = {
  environments: [...KNOWN_ENVIRONMENTS],
  policies: 'policies',
  precommit: true,
  workflow: true,
};

export const DEFAULT_MODELS: Record<Provider, string> = { anthropic: 'claude-sonnet-5-5', openai: 'gpt-5.4-mini', ollama: 'llama3.1' };

/** Where a provider's key comes from, in words: keys are never written to a file. */
export function keyNote(provider: Provider): string {
  return provider === 'ollama'
    ? `Ollama needs no API key; govern calls it at ${OLLAMA_HOST} (OLLAMA_HOST or base_url change that).`
    : `The API key comes from ${KEY_VARIABLE[provider]} in the environment, never from a file.`;
}

/** The environment variable a provider's key is read from, if it needs one. */
export function keyVariable(provider: Provider): string | undefined {
  return provider === 'ollama' ? undefined : KEY_VARIABLE[provider];
}

/** `./policies/` -> `policies`: the form pre-commit's file patterns and the config use. */
export function normalizeFolder(folder: string): string {
  return folder.trim().replace(/\\/g, '/').replace(/\/{2,}/g, '/').replace(/^(\.\/)+/, '').replace(/\/+$/, '').replace(/^\.$/, '');
}

/** A policy folder must stay inside the project: the hook and the workflow run from its root. */
export function policyFolderProblem(folder: string): string | undefined {
  const f = normalizeFolder(folder);
  if (!f) return 'Name a folder inside the project, e.g. policies.';
  if (f.startsWith('/') || /^[A-Za-z]:[\\/]/.test(f)) return 'Give a path relative to the project folder.';
  if (f.split(/[\\/]/).includes('..')) return 'The folder must be inside the project folder.';
  if (/[\s:#'"]/.test(f)) return 'Use a folder name without spaces, quotes, `:` or `#`.';
  return undefined;
}

/** Splits "prod, qa  sandbox" into names. */
export function parseEnvironments(text: string): string[] {
  return text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

export function environmentProblem(name: string): string | undefined {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) ? undefined : `"${name}" is not an environment name (letters, digits, ".", "_", "-").`;
}

/** Environments the default pack has no rules of its own for (after prod -> production etc.). */
export function unknownEnvironments(envs: string[]): string[] {
  return envs.filter((e) => !(KNOWN_ENVIRONMENTS as readonly string[]).includes(normalizeEnvironment(e)));
}

export interface PlannedFile {
  /** Relative to the project folder, with `/`. */
  path: string;
  content: string;
}

/** The package's own folder (where policies/ ships), from this module's place in dist/ or src/. */
export function packageRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

/** The default pack: the project's own top-level policies/*.yaml, as shipped with the package. */
export function defaultPack(): PlannedFile[] {
  const dir = join(packageRoot(), 'policies');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ path: f, content: readFileSync(join(dir, f), 'utf8') }));
}

/** Every file init writes for these answers, in the order it reports them. */
export function plan(answers: Answers, version: string): PlannedFile[] {
  const folder = normalizeFolder(answers.policies);
  const files: PlannedFile[] = [
    { path: 'govern.config.yaml', content: configText(answers) },
    ...defaultPack().map((f) => ({ path: `${folder}/${f.path}`, content: f.content })),
    ...exampleRequests(answers.environments).map((e) => ({ path: `examples/requests/${e.name}.json`, content: JSON.stringify(e.request, null, 2) + '\n' })),
    { path: LABELED_REQUESTS, content: labeledRequests(answers.environments).map((l) => JSON.stringify(l)).join('\n') + '\n' },
    // The state file (ledger, cache, trust) belongs to this machine, not to git.
    { path: '.govern/.gitignore', content: '# The state file of govern (ledger, decision cache, trust, usage): local, never committed.\n*\n' },
  ];
  if (answers.precommit) files.push({ path: '.pre-commit-config.yaml', content: precommitText(folder) });
  if (answers.workflow) files.push({ path: '.github/workflows/govern.yml', content: workflowText(folder, version) });
  return files;
}

/** `govern check` with the folder named when it is not the default one. */
export function checkCommand(folder: string): string {
  return folder === 'policies' ? 'govern check' : `govern check ${folder}`;
}

/** govern.config.yaml with a comment on every key; valid under schemas/config.schema.json. */
export function configText(a: Answers): string {
  const envs = a.environments;
  const unknown = unknownEnvironments(envs);
  const lines = [
    '# govern.config.yaml, written by `govern init`. Every key is optional: a missing key takes the',
    '# default written here. schemas/config.schema.json describes them all. Paths are relative to',
    '# this file. API keys never go here: they are read from the environment.',
    '#',
    `# Environments your agents act in: ${envs.join(', ')}.`,
    '# Requests name one in `environment`; prod, stage, development, qa and the like count as',
    '# production, staging, dev and test. The default pack is strictest in production, asks a human',
    '# for deletes anywhere outside dev and test, and lets routine work through in dev and test.',
    '# A request that names no environment is judged as production.',
  ];
  if (unknown.length) {
    lines.push(
      `# The pack has no rules of its own for ${unknown.join(', ')}: there, the rules for "outside dev and`,
      '# test" apply and the production-only ones do not. Add rules that name them if they need more.',
    );
  }
  lines.push(
    '',
    '# The policy folder: YAML rule files (and .cedar files) that `govern check` lints and tests.',
    `policies: ${normalizeFolder(a.policies)}`,
    '',
    '# The state file (SQLite): the decision ledger, the decision cache, trust, usage and escalations.',
    'state: .govern/state.db',
    '',
    '# normal survives a crash of govern; full also a power loss, at a disk flush per decision.',
    'durability: normal',
    '',
    '# Spending limits per agent. A request whose estimated cost would pass what is left is denied;',
    '# warnings start at 80% of a budget.',
    'budgets:',
    '  day: {usd: 5, tokens: 100000}',
    '  hour: {usd: 1, tokens: 20000}',
    '',
    '# The agent registry: a listed agent\'s team (the namespace it owns) and budgets come from here,',
    '# never from what the request claims. For example:',
    '# agents:',
    '#   deploy-agent:',
    '#     team: team-alpha',
    '#     budgets: {day: {usd: 20}}',
    '',
    '# The decision cache: the same facts under the same policies get the same decision, with no',
    '# policy work. ttl_seconds is how long each kind of decision is reused; 0 turns that kind off.',
    'cache:',
    '  enabled: true',
    '  ttl_seconds: {allow: 3600, deny: 3600, escalate: 0}',
    '',
    '# How long a human\'s approval (`govern escalations approve`) of a request stays valid.',
    'escalations:',
    '  approval_ttl_hours: 24',
    '',
    '# The built-in intent router (no model, no network) classifies free text and commands; below',
    '# this confidence its answer counts as unclear.',
    'router:',
    '  min_confidence: 0.6',
    '',
  );
  if (a.model) {
    const variable = keyVariable(a.model.provider);
    lines.push(
      '# Language models. The large model decides only what no rule decides; a deny or escalate rule',
      '# always wins. Check that it answers with `govern providers check`.',
      'models:',
      '  large:',
      `    provider: ${a.model.provider}   # anthropic | openai (or an OpenAI-compatible server) | ollama | replay`,
      `    model: ${a.model.model}`,
      '    timeout_ms: 20000            # per attempt; a timeout escalates, never allows',
      ...(variable
        ? [`    # The API key is read from ${variable}; api_key_env names another variable.`]
        : [`    # base_url: ${OLLAMA_HOST}   where Ollama listens (or set OLLAMA_HOST)`]),
    );
  } else {
    lines.push(
      '# Language models: none. Nothing calls a model, and a request that no rule decides escalates',
      '# to a human. To let a model decide those, for example:',
      '# models:',
      `#   large: {provider: anthropic, model: ${DEFAULT_MODELS.anthropic}}   # key from ${KEY_VARIABLE.anthropic}`,
      `#   large: {provider: openai, model: ${DEFAULT_MODELS.openai}}           # key from ${KEY_VARIABLE.openai}`,
      `#   large: {provider: ollama, model: ${DEFAULT_MODELS.ollama}}               # a local server, no key`,
    );
  }
  return lines.join('\n') + '\n';
}

export interface ExampleRequest {
  /** Starts with the decision the default pack gives: allow-, deny- or escalate-. */
  name: string;
  request: Record<string, unknown>;
}

/**
 * Requests that show each decision of the default pack, in the team's own environments where the
 * pack's rules allow (a scratch file needs dev or test; a delete that a human approves needs an
 * environment outside dev, test and production, where a delete by a new agent is denied).
 */
export function exampleRequests(environments: string[]): ExampleRequest[] {
  const named = new Map<string, string>();
  for (const e of environments) if (!named.has(normalizeEnvironment(e))) named.set(normalizeEnvironment(e), e);
  const first = (...want: string[]) => want.map((w) => named.get(w)).find((e) => e !== undefined);
  const any = first('production') ?? environments[0] ?? 'production';
  const nonProduction = first('staging', 'dev', 'test') ?? any;
  const scratch = first('dev', 'test');
  const elsewhere = first('staging') ?? environments.find((e) => !['production', 'dev', 'test'].includes(normalizeEnvironment(e)));
  const out: ExampleRequest[] = [
    { name: 'allow-compliance-query', request: { agent: 'auditor', action: 'audit', resource: 'iam:policy/all', environment: any } },
  ];
  if (scratch) out.push({ name: 'allow-scratch-file', request: { agent: 'coder', action: 'write_file', resource: 'file:tmp/scratch.txt', environment: scratch, content: 'notes for the next step' } });
  out.push(
    { name: 'deny-drop-table', request: { agent: 'db-agent', action: 'run_sql', command: 'psql -c "DROP TABLE customers;"', environment: nonProduction, justification: 'clean up old data' } },
    { name: 'deny-secret-in-content', request: { agent: 'coder', action: 'write_file', resource: 'file:src/settings.ts', environment: nonProduction, content: 'export const DATABASE_URL = "postgres://orders:Qm7vT2pLx9wR@db-primary:5432/orders";' } },
  );
  if (elsewhere) out.push({ name: 'escalate-delete-pod', request: { agent: 'deploy-agent', action: 'delete', resource: 'k8s:pod/web-1', environment: elsewhere, namespace: 'team-alpha' } });
  out.push({ name: 'escalate-credential-read', request: { agent: 'deploy-agent', action: 'get', resource: 'k8s:secret/db-password', environment: any } });
  return out;
}

/** Where init writes the labeled requests that `govern route` scores. */
export const LABELED_REQUESTS = 'examples/requests/labeled.jsonl';

/** How strict the default pack and the router take an environment: 3 production, 2 staging, 1 dev/test. */
function tierOf(environment: string): number {
  const e = normalizeEnvironment(environment);
  return e === 'production' ? 3 : e === 'dev' || e === 'test' ? 1 : 2;
}

/**
 * Labeled requests for `govern route`: each example request with the decision its name states, and
 * free-text requests with the category and risk the built-in router gives them in the team's own
 * environments. A team adds its own lines; CI fails (exit 11) when the router or the rules drift.
 */
export function labeledRequests(environments: string[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = exampleRequests(environments).map((e) => ({ request: e.request, decision: e.name.split('-')[0] }));
  const any = environments.find((e) => normalizeEnvironment(e) === 'production') ?? environments[0] ?? 'production';
  const deleteRisk = ['low', 'medium', 'critical'][tierOf(any) - 1]!;
  const writeRisk = ['low', 'medium', 'high'][tierOf(any) - 1]!;
  out.push(
    { request: { agent: 'sre-agent', request: "show me yesterday's error logs for checkout", environment: any }, category: 'ACCESS', risk: 'low' },
    { request: { agent: 'auditor', request: 'generate the quarterly SOC 2 access report', environment: any }, category: 'COMPLY', risk: 'low' },
    { request: { agent: 'deploy-agent', request: 'read the database password from the vault', environment: any }, category: 'ACCESS', risk: 'critical' },
    { request: { agent: 'cleanup-agent', request: 'Can cleanup-agent delete temp files in my-project?', environment: any }, category: 'DELETE', risk: deleteRisk },
    { request: { agent: 'architect-agent', request: 'Should architect-agent modify the DB schema?', environment: any }, category: 'MODIFY', risk: writeRisk },
  );
  return out;
}

/** A regular expression (for pre-commit's `files:`) matching the folder's policies and the config. */
function filesPattern(folder: string): string {
  const f = folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return `^(${f}/.*\\.(ya?ml|cedar)|govern\\.config\\.yaml)$`;
}

export function precommitText(folder: string): string {
  return [
    '# pre-commit hooks (https://pre-commit.com). Run `pre-commit install` once; from then on a commit',
    '# that touches a policy runs `govern check` and is refused when a policy has an error or a failing',
    '# test, with the file:line:col of each problem.',
    'repos:',
    '  - repo: local',
    '    hooks:',
    '      - id: govern-check',
    '        name: govern check',
    `        entry: ${checkCommand(folder)}`,
    '        # govern from your PATH (the tarball `npm pack git+URL#TAG` builds from its repository,',
    '        # installed with npm install --global); write `npx govern check` for a project-local install.',
    '        language: system',
    '        # govern checks the whole folder: rule ids, conflicts and tests span files.',
    '        pass_filenames: false',
    `        files: ${filesPattern(folder)}`,
    '',
  ].join('\n');
}

export function workflowText(folder: string, version: string): string {
  return [
    '# Checks the policies on every push and pull request: YAML, schema, lints, Cedar validation and',
    '# the policies\' tests (problems show as annotations on the changed lines), then decides the',
    '# labeled requests and fails when one is not decided or classified as labeled.',
    'name: govern',
    'on:',
    '  push:',
    '    branches: [main, master]',
    '  pull_request:',
    'permissions:',
    '  contents: read',
    'jobs:',
    '  check:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    '      - uses: actions/checkout@v4',
    '      - uses: actions/setup-node@v4',
    '        with:',
    '          node-version: 20',
    '      # govern from its git repository at the version this repository was set up with (raise the',
    '      # tag to upgrade; the package is not on the npm registry). Put the URL you get govern from.',
    '      # `npm pack` builds it with its build tools; a global install straight from a git URL does',
    '      # not install them first (npm/cli#8440), so the build would fail.',
    `      - run: npm pack git+https://github.com/your-org/govern.git#v${version} && npm install --global ./govern-cli-${version}.tgz`,
    `      - run: ${checkCommand(folder)} --format github`,
    '      # The router and the rules against labeled requests: exit 11 when a label is not met.',
    `      - run: govern route ${LABELED_REQUESTS} --no-state`,
    '',
  ].join('\n');
}

export type Outcome = 'written' | 'overwritten' | 'skipped';

export interface FileResult {
  path: string;
  outcome: Outcome;
  /** For a skipped file: whether it differs from what init would have written. */
  differs?: boolean;
}

/** Whether a planned file already exists in `dir`, and whether it holds the same text. */
export function existing(dir: string, file: PlannedFile): 'absent' | 'same' | 'different' {
  const p = join(dir, file.path);
  if (!existsSync(p)) return 'absent';
  try {
    return readFileSync(p, 'utf8') === file.content ? 'same' : 'different';
  } catch {
    return 'different';
  }
}

/**
 * Writes the planned files into `dir`. `overwrite` is asked about each file that exists; every
 * answer is gathered before the first write, so a cancelled run writes nothing.
 */
export async function writeFiles(dir: string, files: PlannedFile[], overwrite: (file: PlannedFile, state: 'same' | 'different') => Promise<boolean> | boolean): Promise<FileResult[]> {
  const decided: { file: PlannedFile; result: FileResult }[] = [];
  for (const file of files) {
    const state = existing(dir, file);
    if (state === 'absent') decided.push({ file, result: { path: file.path, outcome: 'written' } });
    else if (await overwrite(file, state)) decided.push({ file, result: { path: file.path, outcome: 'overwritten' } });
    else decided.push({ file, result: { path: file.path, outcome: 'skipped', differs: state === 'different' } });
  }
  for (const { file, result } of decided) {
    if (result.outcome === 'skipped') continue;
    const p = join(dir, file.path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, file.content);
  }
  return decided.map((d) => d.result);
}
