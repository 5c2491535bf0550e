// `govern check [PATHS...]`: lint, validate and test policies, for pre-commit hooks and CI.
import type { Command } from 'commander';
import { isTestCode } from '../diagnostics/codes.js';
import { Option } from 'commander';
import { countBySeverity } from '../diagnostics/diagnostic.js';
import { renderGithub, renderHuman, renderJson, renderSarif, summaryLine } from '../diagnostics/render.js';
import { displayPath } from '../policy/files.js';
import { EXIT, UsageError, styleFor, useColor } from './output.js';
import { VERSION } from '../version.js';
import { policyPaths, type GlobalOptions } from './options.js';

interface CheckOptions { format: 'human' | 'json' | 'sarif' | 'github'; strict?: boolean; tests: boolean }

async function configuredBundle(g: GlobalOptions): Promise<string | undefined> {
  const { ConfigError, loadConfig } = await import('../config/config.js');
  try {
    const file = (await loadConfig(g.config)).bundle.file;
    return file ? displayPath(file) : undefined;
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`the configuration is not valid:\n${e.message}`);
    throw e;
  }
}

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
      const bundle = g.bundle ?? (paths.length || g.policies ? undefined : await configuredBundle(g));
      if (bundle) {
        process.exitCode = await (await import('./build.js')).checkBundle(bundle, g, opts.format);
        return;
      }
      const { check } = await import('../check/check.js');
      const r = check(await policyPaths(paths, g), { tests: opts.tests });
      const n = countBySeverity(r.diagnostics);
      const failed = r.tests.filter((t) => !t.passed).length;
      const policyErrors = r.diagnostics.filter((d) => d.severity === 'error' && !isTestCode(d.code)).length;
      const rules = r.model.rules.length + (r.bundle ? r.bundle.rules.length - r.model.rules.length : 0);
      const summary = { files: r.files, rules, tests: { run: r.tests.length, passed: r.tests.length - failed, failed } };
      let out: string;
      switch (opts.format) {
        case 'json': out = renderJson(r.diagnostics, summary); break;
        case 'sarif': out = renderSarif(r.diagnostics, { name: 'govern', version: VERSION }); break;
        case 'github': out = renderGithub(r.diagnostics); break;
        default: {
          const style = await styleFor(useColor(g));
          const body = r.diagnostics.length ? renderHuman(r.diagnostics, r.sources, style).replace(/\n[^\n]*\n$/, '\n') : '';
          const tests = r.bundle ? `, ${summary.tests.passed}/${summary.tests.run} tests passed` : '';
          const line = `${r.files} file${r.files === 1 ? '' : 's'}, ${rules} rule${rules === 1 ? '' : 's'}${tests}; ${summaryLine(n.error, n.warning)}`;
          out = g.quiet && !r.diagnostics.length ? '' : `${body}${policyErrors || failed ? style.red(line) : line}\n`;
        }
      }
      process.stdout.write(out);
      process.exitCode = policyErrors ? EXIT.policyErrors : failed ? EXIT.testsFailed : opts.strict && n.warning ? EXIT.policyErrors : EXIT.ok;
    });
}
