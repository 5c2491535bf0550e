// The error of a configuration that is not valid, apart from config.ts so that parse.ts (loaded
// only when a config file exists) can raise it without importing config.ts back.
import { sortDiagnostics, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceFile } from '../policy/source.js';

/** A config that is not valid: its diagnostics, sorted by place, one line each as `govern check` prints them. */
export class ConfigError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[], readonly source?: SourceFile) {
    const sorted = sortDiagnostics(diagnostics);
    super(sorted.map((d) => `${d.file}:${d.line}:${d.column} ${d.severity} ${d.code} ${d.message}${d.help ? ` ${d.help}` : ''}`).join('\n'));
    this.diagnostics = sorted;
  }
}
