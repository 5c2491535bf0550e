// The exit codes of the command line, in one table: the CLI maps errors to them (src/cli/errors.ts),
// and the daemon answers a client's eval with the code the client exits with.

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
  /** route: a fixture's expectation is not met, or an accuracy is under --min-accuracy. */
  expectationsFailed: 11,
} as const;

/** allow 0, deny 2, escalate 3: `govern eval ... && act` fails closed. */
export function verdictExit(verdict: 'allow' | 'deny' | 'escalate'): number {
  return verdict === 'allow' ? EXIT.ok : verdict === 'deny' ? EXIT.deny : EXIT.escalate;
}
