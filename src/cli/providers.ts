// `govern providers check`: what models are configured, and whether each one answers.
import type { Command } from 'commander';
import { Option } from 'commander';
import type { ModelSettings } from '../router/provider.js';
import { EXIT } from './output.js';
import { projectConfig, type GlobalOptions } from './options.js';

export function register(program: Command): void {
  const providers = program.command('providers').description('the language models govern may ask');
  providers
    .command('check')
    .description('show the configured models (none by default) and make one small call to each')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['human', 'json']).default('human'))
    .addHelpText('after', '\nExit codes: 0 every configured model answers (or none is configured), 6 a model does not answer, 1 other failure.')
    .action(async (opts: { format: 'human' | 'json' }, c: Command) => {
      const g = c.optsWithGlobals<GlobalOptions>();
      const config = await projectConfig(g);
      const rows = await (await import('../router/check.js')).checkModels(config.models as Record<string, ModelSettings | undefined>);
      if (opts.format === 'json') process.stdout.write(JSON.stringify({ models: rows }, null, 2) + '\n');
      else if (!rows.length) process.stdout.write('no model configured: requests no rule decides escalate to a human.\nAdd models.large to govern.config.yaml to let a model decide them.\n');
      else for (const r of rows) process.stdout.write(`${r.role.padEnd(6)} ${r.provider}/${r.model}  ${r.ok ? 'ok' : 'FAILED'}  ${r.detail}\n`);
      process.exitCode = rows.every((r) => r.ok) ? EXIT.ok : EXIT.providerDown;
    });
}
