// Hot reload for `govern serve`: watches the policy folder, and some time after the last change
// compiles it again through the same cached path as startup. A bundle that compiles replaces the
// one being served between two commits; one that does not is reported (file:line:col) and the
// last good bundle keeps serving: invalid policies never load partially.
import { watch, type FSWatcher } from 'node:fs';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { policiesKey } from '../runtime/bundle-cache.js';
import { PolicyError, type Runtime } from '../runtime/runtime.js';
import { BUILD } from '../version.js';
import type { Governance } from './service.js';

export interface PolicyWatch {
  /** Checks the policies now (the watcher calls it after each quiet period). */
  check(): Promise<void>;
  /** The content key of the policies last loaded or last found broken. */
  key(): string | undefined;
  close(): void;
}

function contentKey(dir: string): string | undefined {
  try {
    return policiesKey([dir], BUILD);
  } catch {
    // A file vanished between listing and reading it: an edit in progress; the next event retries.
    return undefined;
  }
}

const line = (d: Diagnostic) => `${d.file}:${d.line}:${d.column} ${d.severity} ${d.code} ${d.message}`;

/** The content key `watchPolicies` compares against (read before loading, so a change while loading is seen). */
export function policiesContentKey(dir: string): string | undefined {
  return contentKey(dir);
}

export function watchPolicies(rt: Runtime, gov: Governance, opts: { delayMs: number; log: (m: string) => void; info: (m: string) => void; initialKey?: string }): PolicyWatch {
  const dir = rt.config.policies;
  let known = opts.initialKey ?? contentKey(dir);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let watcher: FSWatcher | undefined;

  const attempt = async (): Promise<void> => {
    const key = contentKey(dir);
    if (key === undefined || key === known) return;
    const before = rt.bundle;
    try {
      const b = await rt.reload();
      known = key;
      gov.reloaded();
      opts.info(`policies reloaded: ${b.rules.length} rules, bundle ${b.hash.slice(0, 12)} (was ${before.hash.slice(0, 12)})`);
    } catch (e) {
      if (!(e instanceof PolicyError)) {
        opts.log(`policy reload failed: ${(e as Error).message}; still serving bundle ${before.hash.slice(0, 12)}`);
        gov.reloadFailed({ message: (e as Error).message, diagnostics: [] });
        return;
      }
      // Remember the broken content, so that only a new change tries again.
      known = key;
      const errors = e.diagnostics.filter((d) => d.severity === 'error');
      opts.log(`the policies do not compile; still serving bundle ${before.hash.slice(0, 12)} (${before.rules.length} rules):\n${errors.map((d) => `  ${line(d)}`).join('\n')}`);
      gov.reloadFailed({
        message: `${errors.length} error${errors.length === 1 ? '' : 's'} in the policies; the previous bundle keeps serving. ${errors.slice(0, 3).map(line).join('; ')}`,
        diagnostics: errors.map((d) => ({ file: d.file, line: d.line, column: d.column, code: d.code, message: d.message })),
      });
    }
  };

  const check = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await attempt();
      } while (again);
    })().finally(() => (running = undefined));
    return running;
  };

  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void check(), opts.delayMs);
  };

  try {
    watcher = watch(dir, { recursive: true }, changed);
    watcher.on('error', (e) => {
      gov.watching = false;
      opts.log(`stopped watching ${dir}: ${e.message}; restart the server to pick up policy changes`);
    });
    gov.watching = true;
  } catch (e) {
    opts.log(`cannot watch ${dir} (${(e as Error).message}); policy changes need a restart`);
  }

  return {
    check,
    key: () => known,
    close() {
      clearTimeout(timer);
      watcher?.close();
      gov.watching = false;
    },
  };
}
