// `govern build [-o FILE] [--sign KEY]`: the policy folder as one bundle file (compiled Cedar,
// schema, rules' metadata, manifest, tests' results), optionally signed with Ed25519;
// `govern keygen`: a key pair to sign with; and `govern check --bundle FILE`: verify a bundle.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { isTestCode } from '../diagnostics/codes.js';
import { Option } from 'commander';
import { renderHuman, renderJson } from '../diagnostics/render.js';
import { EXIT, styleFor, UsageError, useColor } from './output.js';
import { policyPaths, projectConfig, type GlobalOptions } from './options.js';

interface BuildOptions { out: string; sign?: string; format: 'human' | 'json' }
interface KeygenOptions { out: string; force?: boolean }

/** Writes beside and renames, so a reader never sees half a file. */
function writeAtomically(path: string, text: string, mode?: number): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  const tmp = join(dirname(resolve(path)), `.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(tmp, text, mode !== undefined ? { mode } : {});
  renameSync(tmp, path);
}

export function register(program: Command): void {
  program
    .command('build')
    .description('build one bundle file from the policies: compiled Cedar, schema, manifest and tests\' results, optionally signed')
    .argument('[paths...]', 'policy files or folders (default: the policies folder)')
    .option('-o, --out <file>', 'the bundle file to write', 'govern-bundle.json')
    .option('--sign <key>', 'sign the bundle with this Ed25519 private key (PEM; `govern keygen` makes one)')
    .addOption(new Option('-f, --format <format>', 'report format').choices(['human', 'json']).default('human'))
    .addHelpText('after', '\nRun from it with `govern eval|serve|check --bundle FILE`. The same policies give the same bytes.\nExit codes: 0 written, 3 policy errors, 4 policy tests failed (nothing written in either case), 1 other failure.')
    .action(async (paths: string[], opts: BuildOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & BuildOptions>();
      const bundles = await import('../bundle/bundle.js');
      // Read the key before the work, so a wrong --sign fails fast.
      // A BundleError here (a key that cannot be read) is a usage error through cli/errors.ts.
      const key = opts.sign ? bundles.readPrivateKey(opts.sign, '--sign') : undefined;
      const { check } = await import('../check/check.js');
      const targets = await policyPaths(paths, g);
      const r = check(targets, { tests: true });
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      const failed = r.tests.filter((t) => !t.passed).length;
      if (!r.bundle || errors.length) {
        process.stdout.write(opts.format === 'json' ? renderJson(r.diagnostics) : renderHuman(r.diagnostics, r.sources, await styleFor(useColor(g))));
        process.exitCode = failed && !errors.some((d) => !isTestCode(d.code)) ? EXIT.testsFailed : EXIT.policyErrors;
        return;
      }
      const { file, tests } = (await import('../bundle/assemble.js')).assembleBundle(r, targets, key);
      writeAtomically(opts.out, bundles.bundleText(file));
      if (opts.format === 'json') {
        process.stdout.write(JSON.stringify({ out: opts.out, hash: file.manifest.hash, digest: file.digest, rules: file.manifest.rules, tests: { run: tests.run, passed: tests.passed, failed }, signed: file.signature ? file.signature.key : null }, null, 2) + '\n');
      } else if (!g.quiet) {
        const n = file.manifest.rules;
        process.stdout.write(`built ${opts.out}: ${n} rule${n === 1 ? '' : 's'}, ${tests.passed}/${tests.run} tests passed, policy hash ${file.manifest.hash.slice(0, 12)}${file.signature ? `, signed by key ${file.signature.key.slice(0, 16)}` : ', unsigned'}\n`);
      }
    });

  program
    .command('keygen')
    .description('make an Ed25519 key pair for signing bundles: PREFIX.key (private, mode 600) and PREFIX.pub')
    .option('-o, --out <prefix>', 'where to write the pair (PREFIX.key, PREFIX.pub)', 'govern-bundle')
    .option('--force', 'overwrite existing key files')
    .addHelpText('after', '\nSign with `govern build --sign PREFIX.key`; list PREFIX.pub under bundle.public_keys in govern.config.yaml.\nExit codes: 0 written, 1 failure (a key file exists: pass --force).')
    .action((opts: KeygenOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const priv = `${opts.out}.key`;
      const pub = `${opts.out}.pub`;
      for (const f of [priv, pub]) if (existsSync(f) && !opts.force) throw new UsageError(`keygen: ${f} exists; choose another --out or pass --force to replace it.`);
      return import('../bundle/bundle.js').then(({ newKeyPair }) => {
        const pair = newKeyPair();
        writeAtomically(priv, pair.privateKey, 0o600);
        writeAtomically(pub, pair.publicKey);
        if (!g.quiet) process.stdout.write(`wrote ${priv} (keep it secret) and ${pub}\n`);
      });
    });
}

/** `govern check --bundle FILE`: verifies the bundle against the configured keys and reports its tests' results. */
export async function checkBundle(path: string, g: GlobalOptions, format: string): Promise<number> {
  const { BundleError, readBundle } = await import('../bundle/bundle.js');
  const config = await projectConfig(g);
  let v;
  try {
    v = readBundle(resolve(path), config.bundle.publicKeys, path);
  } catch (e) {
    if (e instanceof BundleError) throw new UsageError(e.message);
    throw e;
  }
  const t = v.file.tests;
  const signed = v.signedBy ? `signature verified with ${relative(process.cwd(), v.signedBy) || v.signedBy}` : v.file.signature ? 'signed, not verified (no bundle.public_keys configured)' : 'unsigned';
  if (format === 'json') {
    process.stdout.write(JSON.stringify({ bundle: path, hash: v.bundle.hash, govern: v.file.manifest.govern, rules: v.bundle.rules.length, signature: v.file.signature ? { key: v.file.signature.key, verified: v.signedBy !== undefined } : null, tests: { run: t.run, passed: t.passed, failed: t.failed } }, null, 2) + '\n');
  } else if (!g.quiet || t.failed) {
    const failures = t.results.filter((x) => !x.passed).map((x) => `${x.file}:${x.line} test \`${x.name}\` failed: ${x.message ?? `expected ${x.expected}, got ${x.actual}`}\n`).join('');
    process.stdout.write(`${failures}${path}: ${v.bundle.rules.length} rules, policy hash ${v.bundle.hash.slice(0, 12)}, ${signed}; ${t.passed}/${t.run} tests passed when built\n`);
  }
  return t.failed ? EXIT.testsFailed : EXIT.ok;
}
