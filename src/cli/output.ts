// The command line's exit codes and output helpers, from the core modules that own them, and the
// parsing of share flags ("0.95" or "95%").
import { UsageError } from '../diagnostics/usage.js';

export { EXIT } from '../diagnostics/exit.js';
export { UsageError } from '../diagnostics/usage.js';
export { progressBar, styleFor, useColor, writeOut } from '../render/terminal.js';

/** A share from "0.95" or "95%"; anything else is a usage error naming the flag. */
export function parseShare(flag: string, v: string, opts: { open?: boolean } = {}): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(%?)\s*$/.exec(v);
  const n = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  const inRange = opts.open ? n > 0 && n < 1 : n >= 0 && n <= 1;
  if (!m || !inRange) {
    throw new UsageError(`${flag}: "${v}" is not ${opts.open ? 'a share between 0 and 1 (exclusive)' : 'a share from 0 to 1'}; give a fraction such as ${opts.open ? '0.7' : '0.95'} or a percentage such as ${opts.open ? '70%' : '95%'}.`);
  }
  return n;
}
