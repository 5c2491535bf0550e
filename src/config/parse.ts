// Parsing and checking govern.config.yaml (YAML with positions, the JSON Schema). Loaded only when
// the parsed form is not cached, so a cold `govern eval` does not pay for a YAML parser.
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { displayPath, schemaDiagnostics } from '../policy/load.js';
import { CONFIG_SCHEMA, validateAgainst } from '../policy/schema.js';
import { diag, spanOf, type SourceFile } from '../policy/source.js';
import { ConfigError } from './config.js';
import type { GovernConfig } from './config-types.js';

/** Parses and checks a config file; throws ConfigError with positions when it is not valid. */
export function parseConfig(path: string, text: string): GovernConfig {
  const file: SourceFile = { path: displayPath(resolve(path)), text, kind: 'yaml', lines: new LineCounter() };
  const doc = parseDocument(text, { lineCounter: file.lines, prettyErrors: false, uniqueKeys: true });
  file.doc = doc;
  if (doc.errors.length) {
    throw new ConfigError(doc.errors.map((e) => diag(file, spanOf(file, e.pos[0], e.pos[1]), 'error', 'config/syntax', e.message.split('\n')[0]!, 'Fix the YAML syntax.')), file);
  }
  const data = (doc.toJS() as unknown) ?? {};
  const errors = validateAgainst(CONFIG_SCHEMA, data);
  if (errors.length) throw new ConfigError(schemaDiagnostics(file, errors).map((d) => ({ ...d, code: d.code.replace(/^schema\//, 'config/') })), file);
  return data as GovernConfig;
}

