// The library API: `import { openGovernor } from 'govern-cli'`. One governor per project folder,
// opened once: decide and explain go through the runtime that `govern eval` uses (same cache,
// rules, router, model and ledger), check and compile through the same code as `govern check` and
// `govern compile`. No decision logic lives here.
import { resolve } from 'node:path';
import { isDate } from 'node:util/types';
import { check as checkPolicies, type TestResult } from './check/check.js';
import { bundleFiles } from './compile/files.js';
import { loadConfig, type Config } from './config/config.js';
import type { Diagnostic } from './diagnostics/diagnostic.js';
import type { Decision } from './engine/engine.js';
import { displayPath } from './policy/files.js';
import { explanationData, type Explanation } from './runtime/explain.js';
import { PolicyError, Runtime } from './runtime/runtime.js';

export { ConfigError } from './config/config.js';
export { BundleError } from './bundle/bundle.js';
export { StateError } from './ledger/state.js';
export { RequestError } from './request/normalize.js';
export { PolicyError } from './runtime/runtime.js';
export { CODES, type Code, type CodeInfo } from './diagnostics/codes.js';
export type { Decision, Reason } from './engine/engine.js';
export type { Request } from './request/normalize.js';
export type { Diagnostic, Severity } from './diagnostics/diagnostic.js';
export type { TestResult } from './check/check.js';
export type { Explanation } from './runtime/explain.js';
export { VERSION } from './version.js';

/**
 * The time a decision is made at: `options.now` when given (a valid Date, copied), else the clock.
 * A wrong argument is the caller's mistake, not the agent's: a TypeError, as Node's own functions
 * throw, never a RequestError that would blame the request.
 */
function nowOption(opts: unknown, method: string): Date {
  if (opts === undefined) return new Date();
  if (opts === null || typeof opts !== 'object') throw new TypeError(`${method}: options must be an object such as { now: new Date() }, not ${opts === null ? 'null' : typeof opts}.`);
  const now = (opts as { now?: unknown }).now;
  if (now === undefined) return new Date();
  if (!isDate(now) || Number.isNaN(now.getTime())) {
    const what = isDate(now) ? 'an invalid Date' : typeof now === 'string' ? `the string ${JSON.stringify(now.slice(0, 40))}; pass new Date(${JSON.stringify(now.slice(0, 40))})` : now === null ? 'null' : typeof now;
    throw new TypeError(`${method}: options.now must be a valid Date, not ${what}.`);
  }
  return new Date(now.getTime());
}

const PATH_OPTIONS = ['cwd', 'config', 'policies', 'state', 'bundle'] as const;
const OPTIONS = [...PATH_OPTIONS, 'noState'];

/** openGovernor's options, checked: an unknown one (a misspelt `nostate`) would silently do nothing. */
function governorOptions(given: unknown): GovernorOptions {
  if (given === undefined) return {};
  if (given === null || typeof given !== 'object' || Array.isArray(given)) throw new TypeError(`openGovernor: options must be an object such as { cwd: process.cwd() }, not ${given === null ? 'null' : Array.isArray(given) ? 'an array' : typeof given}.`);
  const o = { ...(given as Record<string, unknown>) };
  for (const k of Object.keys(o)) {
    if (OPTIONS.includes(k)) continue;
    const near = OPTIONS.find((x) => x.toLowerCase() === k.toLowerCase());
    throw new TypeError(`openGovernor: ${JSON.stringify(k)} is not an option${near ? `; did you mean ${near}?` : ''} Options: ${OPTIONS.join(', ')}.`);
  }
  for (const k of PATH_OPTIONS) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === '')) throw new TypeError(`openGovernor: options.${k} must be a path (a non-empty string), not ${o[k] === '' ? 'an empty string' : o[k] === null ? 'null' : typeof o[k]}.`);
  }
  if (o.noState !== undefined && typeof o.noState !== 'boolean') throw new TypeError(`openGovernor: options.noState must be true or false, not ${o.noState === null ? 'null' : typeof o.noState}.`);
  return o as GovernorOptions;
}

export interface GovernorOptions {
  /** The folder relative paths are resolved against and govern.config.yaml is looked for from (default: the working directory). */
  cwd?: string;
  /** The configuration file (default: govern.config.yaml, found walking up from `cwd`). */
  config?: string;
  /** The policy folder (default: the configuration's `policies:`). */
  policies?: string;
  /** The SQLite state file (default: .govern/state.db beside the configuration). */
  state?: string;
  /** Read and write no state file: default trust, empty budgets, nothing recorded. */
  noState?: boolean;
  /** Decide from this bundle file (`govern build`), verified against bundle.public_keys, instead of the policy folder. */
  bundle?: string;
}

/** What `govern check` reports: `ok` is false on a policy error or a failed policy test. */
export interface CheckReport {
  ok: boolean;
  diagnostics: Diagnostic[];
  tests: TestResult[];
  files: number;
  /** The compiled bundle's hash, when the policies compile. */
  hash?: string;
}

/** What `govern compile` writes, as file name -> text. */
export interface CompiledBundle {
  hash: string;
  rules: number;
  files: Record<string, string>;
  /** Warnings (a bundle with errors is not returned: compile throws PolicyError). */
  diagnostics: Diagnostic[];
}

export interface Governor {
  /** One request in, one decision out, recorded in the ledger. Throws RequestError on a malformed request (nothing is written). */
  decide(request: unknown, options?: { now?: Date }): Promise<Decision>;
  /** As decide, with why: each rule matched, unmet or skipped, the facts and the detector findings. */
  explain(request: unknown, options?: { now?: Date }): Promise<{ decision: Decision; explanation: Explanation }>;
  /** Loads, lints, compiles and validates the policy folder and runs its tests. */
  check(options?: { tests?: boolean }): CheckReport;
  /** Compiles the policy folder; throws PolicyError when it has errors. */
  compile(): CompiledBundle;
  /** Waits for background work (shadow answers) and closes the state file. */
  close(): Promise<void>;
}

/**
 * Opens a governor for a project folder. The configuration is read now (ConfigError when it is not
 * valid); the policies are compiled on the first decision (PolicyError when they do not compile),
 * so a governor can check policies that do not compile yet.
 */
export async function openGovernor(given?: GovernorOptions): Promise<Governor> {
  const options = governorOptions(given);
  const cwd = resolve(options.cwd ?? process.cwd());
  const config: Config = await loadConfig(options.config, cwd);
  const policies = options.policies ? resolve(cwd, options.policies) : config.policies;
  let runtime: Promise<Runtime> | undefined;
  let closed = false;
  const open = (): Promise<Runtime> => {
    if (closed) throw new Error('this governor is closed; open another with openGovernor()');
    runtime ??= Runtime.open({ ...options, cwd, ...(options.policies ? { policies } : {}) });
    return runtime;
  };
  const checked = (tests: boolean) => checkPolicies([displayPath(policies)], { tests });
  return {
    // What is returned is the caller's own copy: the runtime keeps decisions in its cache, and a
    // caller that edits the one it got (its reasons, its facts) must not edit the next one.
    async decide(request, opts) {
      const now = nowOption(opts, 'decide');
      const rt = await open();
      return structuredClone((await rt.evaluate(request, { now })).decision);
    },
    async explain(request, opts) {
      const now = nowOption(opts, 'explain');
      const rt = await open();
      const ev = await rt.evaluate(request, { now });
      return structuredClone({ decision: ev.decision, explanation: explanationData(ev, rt) });
    },
    check(opts = {}) {
      const r = checked(opts.tests ?? true);
      const failed = r.diagnostics.some((d) => d.severity === 'error') || r.tests.some((t) => !t.passed);
      return { ok: !failed, diagnostics: r.diagnostics, tests: r.tests, files: r.files, ...(r.bundle ? { hash: r.bundle.hash } : {}) };
    },
    compile() {
      const r = checked(false);
      if (!r.bundle || r.diagnostics.some((d) => d.severity === 'error')) throw new PolicyError(r.diagnostics, r.sources);
      return { hash: r.bundle.hash, rules: r.bundle.rules.length, files: bundleFiles(r.bundle), diagnostics: r.diagnostics };
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!runtime) return;
      const rt = await runtime.catch(() => undefined);
      if (!rt) return;
      await rt.settled();
      rt.close();
    },
  };
}
