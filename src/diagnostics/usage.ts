// The error a user causes with a flag, an input or a file (as opposed to a bug): the command line
// prints its message, which names the flag or the file, without a stack trace. Imports nothing, so
// every stage can throw it.

/** An error the user caused; the CLI prints it without a stack trace and exits with `code`. */
export class UsageError extends Error {
  constructor(message: string, readonly code: number = 1) {
    super(message);
  }
}
