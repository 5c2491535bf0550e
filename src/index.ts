// The library API: `import { openGovernor } from 'govern-cli'`. One governor per project folder,
// opened once: decide and explain go through the runtime that `govern eval` uses (same cache,
// rules, router, model and ledger), check and compile through the same code as `govern check` and
// `govern compile`. No decision logic lives here.
import { resolve } from 'node:path';
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
export async function openGovernor(options: GovernorOptions = {}): Promise<Governor> {
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
    async decide(request, opts = {}) {
      const rt = await open();
      return (await rt.evaluate(request, opts)).decision;
    },
    async explain(request, opts = {}) {
      const rt = await open();
      const ev = await rt.evaluate(request, opts);
      return { decision: ev.decision, explanation: explanationData(ev, rt) };
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
