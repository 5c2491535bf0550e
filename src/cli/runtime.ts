// Opening the shared runtime from the global flags, with the errors a user can cause turned into
// messages that say what and where (exit 1), never a stack trace.
import type { Command } from 'commander';
import type { Runtime } from '../runtime/runtime.js';
import { usageErrorOf } from './errors.js';
import { UsageError } from './output.js';
import type { GlobalOptions } from './options.js';

export interface StateOptions { state?: string | boolean; bundle?: string }

/** The runtime from the global flags; `noState` lets a command that needs no state file open none. */
export async function openRuntime(cmd: Command, opts: { noState?: boolean } = {}): Promise<Runtime> {
  const g = cmd.optsWithGlobals<GlobalOptions & StateOptions>();
  // Loaded here, not at start: commands that never decide (check, compile, --help) don't pay for it.
  const { Runtime } = await import('../runtime/runtime.js');
  try {
    return await Runtime.open({
      ...(g.config ? { config: g.config } : {}),
      ...(g.policies ? { policies: g.policies } : {}),
      ...(typeof g.state === 'string' ? { state: g.state } : {}),
      noState: g.state === false || opts.noState === true,
      ...(g.bundle ? { bundle: g.bundle } : {}),
    });
  } catch (e) {
    throw (await usageErrorOf(e)) ?? e;
  }
}

/** Commands that need recorded state refuse --no-state with a clear message. */
export function requireState(rt: Runtime, what: string): NonNullable<Runtime['state']> {
  if (!rt.state) throw new UsageError(`${what} needs the state file; drop --no-state.`);
  return rt.state;
}
