// `govern build [-o FILE] [--sign KEY]`: the policy folder as one bundle file (compiled Cedar,
// schema, rules' metadata, manifest, tests' results), optionally signed with Ed25519;
// `govern keygen`: a key pair to sign with; and `govern check --bundle FILE`: verify a bundle.
import type { Command } from 'commander';
import { Option } from 'commander';
import { EXIT, styleFor, useColor } from './output.js';
import { policyPaths, projectConfig, type GlobalOptions } from './options.js';

interface BuildOptions { out: string; sign?: string; format: 'human' | 'json' }
interface KeygenOptions { out: string; force?: boolean }

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
      const [bundles, render] = await Promise.all([import('../bundle/bundle.js'), import('../render/check.js')]);
      // Read the key before the work, so a wrong --sign fails fast.
      // A BundleError here (a key that cannot be read) is a usage error through cli/errors.ts.
      const key = opts.sign ? bundles.readPrivateKey(opts.sign, '--sign') : undefined;
      const { check } = await import('../check/check.js');
      const targets = await policyPaths(paths, g);
      const r = check(targets, { tests: true });
      const { policyErrors, failed } = render.checkCounts(r);
      if (!r.bundle || r.diagnostics.some((d) => d.severity === 'error')) {
        process.stdout.write(render.policyErrors(r, opts.format, await styleFor(useColor(g))));
        process.exitCode = failed && !policyErrors ? EXIT.testsFailed : EXIT.policyErrors;
        return;
      }
      const { file, tests } = (await import('../bundle/assemble.js')).assembleBundle(r, targets, key);
      (await import('../bundle/files.js')).writeAtomically(opts.out, bundles.bundleText(file));
      if (opts.format === 'json' || !g.quiet) process.stdout.write(render.builtReport(opts.out, file, tests, failed, opts.format));
    });

  program
    .command('keygen')
    .description('make an Ed25519 key pair for signing bundles: PREFIX.key (private, mode 600) and PREFIX.pub')
    .option('-o, --out <prefix>', 'where to write the pair (PREFIX.key, PREFIX.pub)', 'govern-bundle')
    .option('--force', 'overwrite existing key files')
    .addHelpText('after', '\nSign with `govern build --sign PREFIX.key`; list PREFIX.pub under bundle.public_keys in govern.config.yaml.\nExit codes: 0 written, 1 failure (a key file exists: pass --force).')
    .action(async (opts: KeygenOptions, cmd: Command) => {
      const { priv, pub } = (await import('../bundle/files.js')).writeKeyPair(opts.out, opts.force === true);
      if (!cmd.optsWithGlobals<GlobalOptions>().quiet) process.stdout.write(`wrote ${priv} (keep it secret) and ${pub}\n`);
    });
}

/** `govern check --bundle FILE`: verifies the bundle against the configured keys and reports its tests' results. */
export async function checkBundle(path: string, g: GlobalOptions, format: string): Promise<number> {
  const [{ verifyBundleFile }, { bundleReport }] = await Promise.all([import('../bundle/files.js'), import('../render/check.js')]);
  const { verified, signed } = verifyBundleFile(path, (await projectConfig(g)).bundle.publicKeys);
  process.stdout.write(bundleReport(path, verified, signed, format, g.quiet === true));
  return verified.file.tests.failed ? EXIT.testsFailed : EXIT.ok;
}
