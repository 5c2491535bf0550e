// The flags every command shares, and where the policies are when no path is given. Apart from
// program.ts so that command modules can import them without importing the program.
import { resolve } from 'node:path';
import { loadConfig, type Config } from '../config/config.js';
import { displayPath } from '../policy/files.js';
import { usageErrorOf } from './errors.js';

export interface GlobalOptions {
  config?: string;
  policies?: string;
  bundle?: string;
  quiet?: boolean;
  color?: boolean;
}

/**
 * The paths to check: those given, else --policies, else the policy folder of the configuration
 * (--config, else govern.config.yaml found walking up), resolved as eval resolves it: `policies:`
 * relative to the config's folder, `policies` beside the config, or ./policies without a config.
 */
export async function policyPaths(paths: string[], g: GlobalOptions): Promise<string[]> {
  if (paths.length) return paths;
  if (g.policies) return [g.policies];
  return [displayPath((await projectConfig(g)).policies)];
}

/**
 * The one way a command without the runtime reads the configuration: --config, else
 * govern.config.yaml found walking up; --policies replaces its policy folder. A configuration that
 * is not valid is a usage error (exit 1) listing its diagnostics.
 */
export async function projectConfig(g: GlobalOptions): Promise<Config> {
  let config: Config;
  try {
    config = await loadConfig(g.config);
  } catch (e) {
    throw (await usageErrorOf(e)) ?? e;
  }
  if (g.policies) config.policies = resolve(g.policies);
  return config;
}
