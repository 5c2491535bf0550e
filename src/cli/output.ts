// The command line's exit codes, usage errors and output helpers, from the core modules that own them.
export { EXIT } from '../diagnostics/exit.js';
export { parseShare, UsageError } from '../diagnostics/usage.js';
export { progressBar, styleFor, useColor, writeOut } from '../render/terminal.js';
