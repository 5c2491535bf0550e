import { defineConfig } from 'vitest/config';

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
  },
});
