// The long mode of the differential policy fuzzer (test/fuzz.test.ts): many more random folders
// of YAML and .cedar policies than the test suite runs, each decided by the engine and by the
// reference interpreter. A failure prints the counterexample and the seed to replay it with.
//
//   node scripts/fuzz.mjs [--runs N] [--seed S]     (default 2000 runs)
// Exit codes: 0 no difference found, 1 a difference (or another test failure), 2 bad usage.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const USAGE = 'usage: node scripts/fuzz.mjs [--runs N] [--seed S]';
const env = { ...process.env, FUZZ_RUNS: '2000' };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const [flag, inline] = args[i].split('=');
  const value = inline ?? args[++i];
  if (!/^-?\d+$/.test(value ?? '') || !['--runs', '--seed'].includes(flag)) {
    process.stderr.write(`${flag ?? ''}: ${['--runs', '--seed'].includes(flag) ? 'needs a whole number' : 'unknown flag'}\n${USAGE}\n`);
    process.exit(2);
  }
  env[flag === '--runs' ? 'FUZZ_RUNS' : 'FUZZ_SEED'] = value;
}
const r = spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/fuzz.test.ts', '-t', 'random folders'], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status === 0 ? 0 : 1);
