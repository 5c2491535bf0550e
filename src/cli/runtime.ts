// Opening the shared runtime from the global flags, with the errors a user can cause turned into
// messages that say what and where (exit 1), never a stack trace.
import type { Command } from 'commander';
import { ConfigError } from '../config/config.js';
import { StateError } from '../ledger/state.js';
import { renderHuman } from '../diagnostics/render.js';
import type { Runtime } from '../runtime/runtime.js';
import { EXIT, UsageError } from './output.js';
import type { GlobalOptions } from './options.js';

export interface StateOptions { state?: string | boolean; bundle?: string }

/** The runtime from the global flags; `noState` lets a command that needs no state file open none. */
export async function openRuntime(cmd: Command, opts: { noState?: boolean } = {}): Promise<Runtime> {
  const g = cmd.optsWithGlobals<GlobalOptions & StateOptions>();
  // Loaded here, not at start: commands that never decide (check, compile, --help) don't pay for it.
  const { PolicyError, Runtime } = await import('../runtime/runtime.js');
  try {
    return await Runtime.open({
      ...(g.config ? { config: g.config } : {}),
      ...(g.policies ? { policies: g.policies } : {}),
      ...(typeof g.state === 'string' ? { state: g.state } : {}),
      noState: g.state === false || opts.noState === true,
      ...(g.bundle ? { bundle: g.bundle } : {}),
    });
  } catch (e) {
    if (e instanceof PolicyError) throw new UsageError(`${e.message}\n\n${renderHuman(e.diagnostics.filter((d) => d.severity === 'error'), e.sources).trimEnd()}`, EXIT.failure);
    if (e instanceof ConfigError) throw new UsageError(`the configuration is not valid:\n${e.message}`, EXIT.failure);
    if (e instanceof StateError) throw new UsageError(e.message, EXIT.failure);
    if (e instanceof (await import('../bundle/bundle.js')).BundleError) throw new UsageError(e.message, EXIT.failure);
    throw e;
  }
}

/** Commands that need recorded state refuse --no-state with a clear message. */
export function requireState(rt: Runtime, what: string): NonNullable<Runtime['state']> {
  if (!rt.state) throw new UsageError(`${what} needs the state file; drop --no-state.`);
  return rt.state;
}
