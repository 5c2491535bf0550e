// Where output goes and how it looks: colour only on a TTY and never with NO_COLOR or --no-color.
import type { Style } from '../diagnostics/render.js';
import { plain } from '../diagnostics/render.js';

export const EXIT = {
  ok: 0, failure: 1, deny: 2, policyErrors: 3, escalate: 3, testsFailed: 4, ledgerTampered: 5, providerDown: 6,
  /** distill --check: distilled rules are missing, stale, retired or edited by hand. */
  distillOutOfDate: 7,
  /** distill --check: a distilled rule disagrees with a recorded decision. */
  distillDisagrees: 8,
  /** replay: the pipeline allowed what the model denied or escalated. */
  falseAllow: 9,
  /** replay: agreement or coverage under --min-agreement / --min-coverage. */
  belowThreshold: 10,
} as const;

export function useColor(opts: { color?: boolean }, stream: NodeJS.WriteStream = process.stdout): boolean {
  if (opts.color === false) return false;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '' && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

/** Colours for a terminal; chalk is loaded only when there is one. */
export async function styleFor(color: boolean): Promise<Style> {
  if (!color) return plain;
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: 1 });
  return { red: c.red, yellow: c.yellow, blue: c.cyan, dim: c.dim, bold: c.bold };
}

/** An error the user caused; the CLI prints it without a stack trace and exits with `code`. */
export class UsageError extends Error {
  constructor(message: string, readonly code: number = EXIT.failure) {
    super(message);
  }
}
