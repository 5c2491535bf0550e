// How bin/govern starts the command line (bundled into dist/boot.cjs by scripts/bundle.mjs): from
// dist/govern.cjs, the whole command line in one file, compiled with a V8 code cache kept in the
// user's cache folder. A run leaves V8's compiled form of the functions it ran; the next run of the
// same command takes them from there instead of parsing and compiling them again. Node 20 has no
// compile cache of its own for modules.
// The code cache is trusted as the rest of that folder is: only when the folder is this user's and
// closed to everyone else, and only with the seal of the user's key (src/cache/sealed.ts). It is
// keyed by everything V8's compiled form depends on (govern's build, the bundle file, node, V8
// and the platform); V8 also refuses a cache that does not fit, and then a new one is written.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { cachePath, readSealedBytes, writeSealedBytes } from './cache/sealed.js';
import { BUILD } from './version.js';

interface Cli {
  main(argv: string[], opts: { early: unknown }): Promise<void>;
  flushOutput(): Promise<void>;
  tiering?: { beforeFlags?: () => void };
}

/** Where the code cache for this bundle, node and command lives; undefined where nothing can be cached. */
function codeCachePath(bundle: string, argv: string[]): string | undefined {
  const s = statSync(bundle);
  // Each command keeps its own: V8 caches the functions a run compiled, and commands run different ones.
  const command = /^[a-z]{1,16}$/.test(argv[2] ?? '') ? argv[2]! : '-';
  const key = createHash('sha256')
    // V8 refuses a cache made under other flags: each set of node flags keeps its own.
    .update([BUILD, bundle, s.size, s.mtimeMs, process.version, process.versions.v8, process.arch, process.platform, command, process.execArgv.join(' '), process.env.NODE_OPTIONS ?? ''].join('\0'))
    .digest('hex')
    .slice(0, 32);
  return cachePath('code', `${key}.bin`);
}

/** Compiles and runs the bundle, with V8's compiled form from an earlier run when there is one. */
function load(bundle: string, cache: string | undefined): { cli: Cli; keep(): void } {
  // The build writes the bundle in ASCII only (scripts/bundle.mjs), where latin1 reads the same
  // string as UTF-8 does, in half the time: node decodes UTF-8 byte by byte, latin1 by copying.
  const source = readFileSync(bundle, 'latin1');
  // The first byte says whether the run that made it ran to its end (WHOLE) or loaded Cedar (PART).
  const kept = cache === undefined ? undefined : readSealedBytes(cache);
  const cachedData = kept && kept.length > 1 ? kept.subarray(1) : undefined;
  // `__governImport` is `import()` for the bundle (scripts/bundle.mjs): node loses the dynamic import
  // callback of a script compiled from a code cache.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __governImport) {${source}\n})`, { filename: bundle, cachedData });
  const module = { exports: {} as Cli };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(module.exports, createRequire(bundle), module, bundle, dirname(bundle), (specifier: string) => import(specifier));
  const missing = cache !== undefined && (cachedData === undefined || script.cachedDataRejected);
  // V8 refuses a code cache made under other flags than its own: one made after Cedar changed
  // them (cedar.ts) would be refused by every later run. A run that loads Cedar makes it just
  // before, then, holding only what was compiled until that point.
  let flagsChanged = false;
  let part: Buffer | undefined;
  if (cache !== undefined && module.exports.tiering) {
    module.exports.tiering.beforeFlags = () => {
      flagsChanged = true;
      if (missing) part = script.createCachedData();
    };
  }
  return {
    cli: module.exports,
    keep: () => {
      if (cache === undefined) return;
      if (part) writeSealedBytes(cache, Buffer.concat([PART, part]));
      // Made after the command ran, the cache holds what it compiled too, not only the top level.
      // One made by a run that loaded Cedar lacks the rest of that run: the first run of the same
      // command that does not load Cedar (an eval answered from the decision cache, the most
      // frequent) replaces it, once.
      else if (!flagsChanged && (missing || kept![0] !== WHOLE[0])) writeSealedBytes(cache, Buffer.concat([WHOLE, script.createCachedData()]));
    },
  };
}

const WHOLE = Buffer.from([1]);
const PART = Buffer.from([0]);

/** The early path (src/serve/early.ts), bundled on its own. */
interface EarlyPath {
  answerEarly(argv: string[]): Promise<{ done: boolean }>;
  flushOutput(): Promise<void>;
}

/** Runs the command line on `argv`. */
export async function run(argv: string[]): Promise<void> {
  const bundle = fileURLToPath(new URL('./govern.cjs', import.meta.url));
  for (const file of [bundle, fileURLToPath(new URL('./early.cjs', import.meta.url))]) {
    if (!existsSync(file)) throw Object.assign(new Error(`${file} is missing`), { code: 'GOVERN_NOT_BUILT' });
  }
  // An eval a daemon answers is done before the command line's bundle is read.
  const early = createRequire(bundle)('./early.cjs') as EarlyPath;
  const read = await early.answerEarly(argv);
  if (read.done) {
    await early.flushOutput();
    return;
  }
  const { cli, keep } = load(bundle, codeCachePath(bundle, argv));
  await cli.main(argv, { early: read });
  // What is still queued for a pipe reaches it first.
  await cli.flushOutput();
  keep();
}
