// Parsing and checking govern.config.yaml (YAML with positions, the JSON Schema). Loaded only when
// the parsed form is not cached, so a cold `govern eval` does not pay for a YAML parser.
import { resolve } from 'node:path';
import { displayPath, schemaDiagnostics } from '../policy/load.js';
import { CONFIG_SCHEMA, validateAgainst } from '../policy/schema.js';
import { newSource, parseYaml } from '../policy/source.js';
import { configCode } from '../diagnostics/codes.js';
import { ConfigError } from './error.js';
import type { GovernConfig } from './config-types.js';

/** Parses and checks a config file; throws ConfigError with positions when it is not valid. */
export function parseConfig(path: string, text: string): GovernConfig {
  const file = newSource(displayPath(resolve(path)), text);
  const parsed = parseYaml(file, 'config');
  const errors_ = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (errors_.length || !('data' in parsed)) throw new ConfigError(errors_, file);
  const data = parsed.data ?? {};
  const errors = validateAgainst(CONFIG_SCHEMA, data);
  if (errors.length) throw new ConfigError(schemaDiagnostics(file, errors).map((d) => ({ ...d, code: configCode(d.code) })), file);
  return data as GovernConfig;
}

