// `govern eval`: one request in (stdin, a file, or flags), one decision out, recorded; the exit
// code says allow (0), deny (2) or escalate (3), so `govern eval ... && act` fails closed.
// `--batch` decides JSON Lines in one process, one decision a line, in order.
import type { Command } from 'commander';
// Only what reading the request and asking a daemon need is imported at start; the engine, the
// state file and the detectors are loaded when the request is decided in this process.
import { verdictExit } from '../diagnostics/exit.js';
import { readRequest, requestWhere, parseNumber, type RequestFlags } from '../request/input.js';
import { askDaemon, identityOf } from '../serve/client.js';
import { EXIT, UsageError, useColor, writeOut } from './output.js';
import type { GlobalOptions } from './options.js';

interface EvalOptions extends RequestFlags { format: 'human' | 'json'; daemon: boolean; explain?: boolean; batch?: string; wait?: string }

/** The request the early path (before commander, src/serve/early.ts) read, for the action not to read it twice. */
let early: { request: unknown } | undefined;

/** Takes the request the early path read. */
export function useEarly(read: { request: unknown }): void {
  early = read;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description('decide one request (JSON on stdin, a file, or flags); exit 0 allow, 2 deny, 3 escalate')
    .argument('[file]', 'a request as JSON ("-" for stdin)')
    .addOption(program.createOption('-f, --format <format>', 'output format').choices(['human', 'json']).default('human'))
    .option('--explain', 'also show the facts, detector findings and how each rule was decided')
    .option('--batch <file>', 'decide JSON Lines ("-" for stdin), one decision a line, in order')
    .option('--wait <seconds>', 'on escalate, wait up to this long for a human: approved, the request is decided again (allowed once); denied, expired or timed out, exit 2')
    .option('--agent <id>', 'the agent that asks')
    .option('--action <verb>', 'what it wants to do, e.g. delete')
    .option('--category <category>', 'CREATE, MODIFY, DELETE, ACCESS or COMPLY (else inferred)')
    .option('--resource <resource>', 'TYPE/ID, e.g. k8s:pod/web-1, or file:PATH')
    .option('--env <environment>', 'environment (default production)')
    .option('--namespace <namespace>', 'namespace')
    .option('--command <command>', 'the shell command it will run')
    .option('--content <text>', 'text that leaves the agent')
    .option('--request <text>', 'free-text description of the intent')
    .option('--justification <text>', 'why the agent wants it')
    .option('--cost-usd <usd>', 'estimated cost in dollars')
    .option('--tokens <n>', 'estimated tokens')
    .option('--no-daemon', 'decide in this process even when a govern daemon for this configuration runs')
    .addHelpText('after', '\nExit codes: 0 allow, 2 deny, 3 escalate, 1 failure (bad input, bad policies, internal error).\nWith --batch: 0 when every line was decided, 1 when any line failed (its line holds an error object).');
  cmd.action(async (file: string | undefined, opts: EvalOptions, c: Command) => {
    const g = c.optsWithGlobals<GlobalOptions & EvalOptions>();
    if (opts.batch !== undefined) {
      if (file) throw new UsageError('--batch reads its own input; drop the request file.');
      return (await import('./options.js')).withRuntime(c, async (rt) => {
        const { failed, lines } = await (await import('../batch/batch.js')).runBatch(rt, opts.batch!);
        if (failed) process.stderr.write(`govern: ${failed} of ${lines} lines could not be decided (see their error objects).\n`);
        process.exitCode = failed ? EXIT.failure : EXIT.ok;
        await rt.settled();
      });
    }
    const waitS = opts.wait !== undefined ? parseNumber('--wait', opts.wait, false) : undefined;
    const raw = early ? early.request : await readRequest(file, opts);
    const where = requestWhere(file, opts);
    const format = { format: opts.format, explain: opts.explain === true, color: useColor(g), quiet: g.quiet === true };
    // A daemon that serves exactly what this process would load decides it, and prints the same.
    const answer = opts.daemon && waitS === undefined && !early ? await askDaemon({ identity: identityOf(g), request: raw, ...format }, where) : undefined;
    if (answer) {
      process.exitCode = answer.exit;
      if (answer.stdout) await writeOut(answer.stdout);
      return;
    }
    const rt = await (await import('./options.js')).openRuntime(c);
    const { ev, unanswered } = await (await import('../runtime/wait.js')).evaluateAndWait(rt, raw, where, waitS, (id) => {
      if (!g.quiet && opts.format !== 'json') process.stderr.write(`waiting up to ${waitS} s for a human: govern escalations approve ${id}\n`);
    });
    // The decision is committed. The state file is not closed: closing checkpoints the WAL (a disk
    // flush, most of the cost of a cached decision), which the next writer or checkpoint does anyway.
    process.exitCode = verdictExit(ev.decision.decision);
    await writeOut(await (await import('../render/decision.js')).evalOutput(ev, rt, format));
    if (unanswered) {
      process.stderr.write(`govern: ${unanswered}\n`);
      process.exitCode = EXIT.deny;
    }
  });
}
