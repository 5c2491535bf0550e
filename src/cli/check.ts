// `govern check [PATHS...]`: lint, validate and test policies, for pre-commit hooks and CI.
import type { Command } from 'commander';
import { Option } from 'commander';
import { displayPath } from '../policy/files.js';
import { EXIT, styleFor, useColor } from './output.js';
import { policyPaths, projectConfig, type GlobalOptions } from './options.js';

interface CheckOptions { format: 'human' | 'json' | 'sarif' | 'github'; strict?: boolean; tests: boolean }

export function register(program: Command): void {
  program
    .command('check')
    .description('lint, validate and test policies (YAML syntax, schema, lints, Cedar validation, the rules\' tests)')
    .argument('[paths...]', 'policy files or folders (default: the policies folder)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['human', 'json', 'sarif', 'github']).default('human'))
    .option('--strict', 'fail on warnings too')
    .option('--no-tests', 'skip the tests: in policy files')
    .addHelpText('after', '\nExit codes: 0 clean (warnings allowed unless --strict), 3 policy errors, 4 policy tests failed, 1 other failure.')
    .action(async (paths: string[], opts: CheckOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & CheckOptions>();
      // Without paths or --policies, the config's bundle.file is what eval and serve decide from: check that.
      const configured = paths.length || g.policies || g.bundle ? undefined : (await projectConfig(g)).bundle.file;
      const bundle = g.bundle ?? (configured ? displayPath(configured) : undefined);
      if (bundle) {
        process.exitCode = await (await import('./build.js')).checkBundle(bundle, g, opts.format);
        return;
      }
      const [{ check }, render] = await Promise.all([import('../check/check.js'), import('../render/check.js')]);
      const r = check(await policyPaths(paths, g), { tests: opts.tests });
      process.stdout.write(render.checkReport(r, opts.format, await styleFor(useColor(g)), g.quiet === true));
      const n = render.checkCounts(r);
      process.exitCode = n.policyErrors ? EXIT.policyErrors : n.failed ? EXIT.testsFailed : opts.strict && n.warnings ? EXIT.policyErrors : EXIT.ok;
    });
}
