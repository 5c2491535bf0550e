// The one mapping from the errors a user can cause (a bad config, policies that do not compile, a
// malformed request, a state file or bundle that cannot be used, a replay that cannot run, a
// file of route fixtures that cannot be read) to what the command line prints
// and its exit code. Anything else is an internal error. The classes of heavy modules are loaded
// only on the error path, so a command that never fails pays nothing for this.
import { renderHuman } from '../diagnostics/render.js';
import { ConfigError } from '../config/error.js';
import { RequestError } from '../request/canonical.js';
import { EXIT, UsageError } from './output.js';

/** The usage error (message and exit code) for an error a user caused, or undefined for a bug. */
export async function usageErrorOf(e: unknown): Promise<UsageError | undefined> {
  if (e instanceof UsageError) return e;
  if (e instanceof ConfigError) return new UsageError(`the configuration is not valid:\n${e.message}`, EXIT.failure);
  if (e instanceof RequestError) return new UsageError(e.message, EXIT.failure);
  if (!(e instanceof Error)) return undefined;
  const [{ PolicyError }, { StateError }, { BundleError }, { ReplayError }, { FixtureFileError }] = await Promise.all([
    import('../runtime/runtime.js'),
    import('../ledger/state.js'),
    import('../bundle/bundle.js'),
    import('../replay/run.js'),
    import('../route/fixtures.js'),
  ]);
  if (e instanceof PolicyError) return new UsageError(`${e.message}\n\n${renderHuman(e.diagnostics.filter((d) => d.severity === 'error'), e.sources).trimEnd()}`, EXIT.failure);
  if (e instanceof StateError || e instanceof BundleError || e instanceof ReplayError || e instanceof FixtureFileError) return new UsageError(e.message, EXIT.failure);
  return undefined;
}
