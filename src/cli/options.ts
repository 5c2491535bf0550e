// The flags every command shares, the one way commands load the configuration, and the runtime
// opened from the global flags (errors a user can cause become messages saying what and where,
// exit 1, never a stack trace). Apart from program.ts so that command modules can import them.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, resolveState, type Config } from '../config/config.js';
import type { State } from '../ledger/state.js';
import { displayPath } from '../policy/files.js';
import type { Runtime } from '../runtime/runtime.js';
import { usageErrorOf } from './errors.js';
import { UsageError } from './output.js';

export interface GlobalOptions { config?: string; policies?: string; bundle?: string; quiet?: boolean; color?: boolean; state?: string | boolean }

/**
 * The paths to check: those given, else --policies, else the policy folder of the configuration
 * (--config, else govern.config.yaml found walking up), resolved as eval resolves it: `policies:`
 * relative to the config's folder, `policies` beside the config, or ./policies without a config.
 */
export async function policyPaths(paths: string[], g: GlobalOptions): Promise<string[]> {
  if (paths.length) return paths;
  if (g.policies) return [g.policies];
  return [displayPath((await projectConfig(g)).policies)];
}

/**
 * The one way a command without the runtime reads the configuration: --config, else
 * govern.config.yaml found walking up; --policies replaces its policy folder. A configuration that
 * is not valid is a usage error (exit 1) listing its diagnostics.
 */
export async function projectConfig(g: GlobalOptions): Promise<Config> {
  const config = await loadConfig(g.config).catch(async (e: unknown) => { throw (await usageErrorOf(e)) ?? e; });
  if (g.policies) config.policies = resolve(g.policies);
  return config;
}

/** The runtime from the global flags; `noState` lets a command that needs no state file open none. */
export async function openRuntime(cmd: Command, opts: { noState?: boolean } = {}): Promise<Runtime> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  // Loaded here, not at start: commands that never decide (check, compile, --help) don't pay for it.
  const { Runtime } = await import('../runtime/runtime.js');
  return Runtime.open({
    ...(g.config ? { config: g.config } : {}),
    ...(g.policies ? { policies: g.policies } : {}),
    ...(typeof g.state === 'string' ? { state: g.state } : {}),
    noState: g.state === false || opts.noState === true,
    ...(g.bundle ? { bundle: g.bundle } : {}),
  }).catch(async (e: unknown) => { throw (await usageErrorOf(e)) ?? e; });
}

/** Runs `f` with the runtime from the global flags, and closes the runtime after, whatever happens. */
export async function withRuntime<T>(cmd: Command, f: (rt: Runtime) => Promise<T>, opts: { noState?: boolean } = {}): Promise<T> {
  const rt = await openRuntime(cmd, opts);
  try { return await f(rt); } finally { rt.close(); }
}

/**
 * Runs `f` with the configuration and the state file from the global flags, and closes the state
 * after: for the commands that only read or change recorded state (ledger, escalations, trust),
 * which neither compile the policies nor decide, and so load neither.
 */
export async function withStateFile<T>(cmd: Command, what: string, f: (st: State, config: Config) => Promise<T> | T): Promise<T> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  if (g.state === false) throw new UsageError(`${what} needs the state file; drop --no-state.`);
  const config = await projectConfig(g);
  if (typeof g.state === 'string') config.state = resolveState(process.cwd(), g.state);
  const { State } = await import('../ledger/state.js');
  let st: State;
  try {
    st = State.open(config.state, { synchronous: config.durability });
  } catch (e) {
    throw (await usageErrorOf(e)) ?? e;
  }
  try { return await f(st, config); } finally { st.close(); }
}

/** Commands that need recorded state refuse --no-state with a clear message. */
export function requireState(rt: Runtime, what: string): NonNullable<Runtime['state']> {
  if (!rt.state) throw new UsageError(`${what} needs the state file; drop --no-state.`);
  return rt.state;
}
