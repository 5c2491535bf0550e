import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The files that run longest start first, so that they overlap the rest instead of running alone
 * at the end: a fresh checkout (`npm ci`) has no timings cached, and Vitest then runs the largest
 * files first, which these small files are not.
 */
const FIRST = ['test/precommit.test.ts', 'test/workflow.test.ts', 'test/docs.test.ts'];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = FIRST.findIndex((name) => f.moduleId.endsWith(name));
      return i < 0 ? FIRST.length : i;
    };
    const sorted = await super.sort(files);
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Timeouts guard against a hang; they are not speed assertions. On two loaded cores a test
    // that spawns govern a few times can take far longer than on a laptop, and must still pass.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest picks one worker on a two-core machine, which runs the files one after another. Most
    // files wait on child processes, SQLite or a local HTTP server, so a third fork keeps the cores busy.
    maxWorkers: 3,
    // A worker keeps its modules from one file to the next instead of importing all of src/ again
    // for each (about a tenth of the suite's CPU went to that). test/setup.ts puts back what a file
    // changed in the process; the modules' own state is caches keyed by what they hold.
    isolate: false,
    setupFiles: ['test/setup.ts'],
    sequence: { sequencer: LongestFirst },
  },
});
