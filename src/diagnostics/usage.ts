// The error a user causes with a flag, an input or a file (as opposed to a bug): the command line
// prints its message, which names the flag or the file, without a stack trace; and the parsing of
// share flags that raises it. Imports nothing, so every stage can throw it.

/** An error the user caused; the CLI prints it without a stack trace and exits with `code`. */
export class UsageError extends Error {
  constructor(message: string, readonly code: number = 1) {
    super(message);
  }
}

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
