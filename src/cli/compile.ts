// `govern compile [--out DIR]`: write the Cedar policies, the generated Cedar schema and a
// manifest (rule id -> YAML source, content hash). Byte-identical for the same input.
import type { Command } from 'commander';
import { Option } from 'commander';
import { EXIT, styleFor, useColor } from './output.js';
import { policyPaths, type GlobalOptions } from './options.js';

interface CompileOptions { out: string; format: 'human' | 'json' }

export function register(program: Command): void {
  program
    .command('compile')
    .description('compile the YAML policies to Cedar: policies, generated schema and manifest')
    .argument('[paths...]', 'policy files or folders (default: the policies folder)')
    .option('-o, --out <dir>', 'where to write the compiled bundle', '.govern/bundle')
    .addOption(new Option('-f, --format <format>', 'report format').choices(['human', 'json']).default('human'))
    .addHelpText('after', '\nExit codes: 0 written, 3 policy errors (nothing written), 1 other failure.')
    .action(async (paths: string[], opts: CompileOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & CompileOptions>();
      const [{ check }, { bundleFiles, writeBundleFiles }, render] = await Promise.all([import('../check/check.js'), import('../compile/files.js'), import('../render/check.js')]);
      const r = check(await policyPaths(paths, g), { tests: false });
      if (!r.bundle || r.diagnostics.some((d) => d.severity === 'error')) {
        process.stdout.write(render.policyErrors(r, opts.format, await styleFor(useColor(g))));
        process.exitCode = EXIT.policyErrors;
        return;
      }
      const files = bundleFiles(r.bundle);
      writeBundleFiles(opts.out, files);
      if (opts.format === 'json') {
        process.stdout.write(JSON.stringify({ out: opts.out, hash: r.bundle.hash, rules: r.bundle.rules.length, files: Object.keys(files), diagnostics: r.diagnostics }, null, 2) + '\n');
      } else if (!g.quiet) {
        if (r.diagnostics.length) process.stderr.write(render.policyErrors(r, 'human', await styleFor(useColor(g, process.stderr))));
        const n = r.bundle.rules.length;
        process.stdout.write(`compiled ${n} rule${n === 1 ? '' : 's'} to ${opts.out} (bundle ${r.bundle.hash.slice(0, 12)})\n`);
      }
    });
}
