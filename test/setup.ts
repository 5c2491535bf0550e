// Test files share their worker's modules (vitest.config.ts: isolate false), so a file leaves the
// process as it found it: the environment, the working folder and the exit code are put back
// after each file, whatever its tests changed.
import { afterAll, beforeAll } from 'vitest';

let saved: { env: NodeJS.ProcessEnv; cwd: string } | undefined;

beforeAll(() => {
  saved = { env: { ...process.env }, cwd: process.cwd() };
});

afterAll(() => {
  if (!saved) return;
  for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
  Object.assign(process.env, saved.env);
  process.chdir(saved.cwd);
  process.exitCode = undefined;
});
