// `govern eval`: one request in (stdin, a file, or flags), one decision out, recorded; the exit
// code says allow (0), deny (2) or escalate (3), so `govern eval ... && act` fails closed.
// `--batch` decides JSON Lines in one process, one decision a line, in order.
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Decision } from '../engine/engine.js';
import { RequestError } from '../request/normalize.js';
import type { Evaluation, Runtime } from '../runtime/runtime.js';
import { EXIT, styleFor, UsageError, useColor } from './output.js';
import type { GlobalOptions } from './program.js';
import { openRuntime } from './runtime.js';
import { renderDecision, renderExplanation } from './render-decision.js';

/** Requests larger than this are refused before parsing: no agent needs more, and it bounds memory. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

interface EvalOptions {
  format: 'human' | 'json';
  explain?: boolean;
  batch?: string;
  wait?: string;
  agent?: string; action?: string; category?: string; resource?: string; env?: string; namespace?: string;
  command?: string; content?: string; request?: string; justification?: string; costUsd?: string; tokens?: string;
}

const FLAG_FIELDS: [keyof EvalOptions, string][] = [
  ['agent', 'agent'], ['action', 'action'], ['category', 'category'], ['resource', 'resource'], ['env', 'environment'],
  ['namespace', 'namespace'], ['command', 'command'], ['content', 'content'], ['request', 'request'], ['justification', 'justification'],
];

export function exitCodeOf(d: Decision): number {
  return d.decision === 'allow' ? EXIT.ok : d.decision === 'deny' ? EXIT.deny : EXIT.escalate;
}

function parseNumber(flag: string, v: string, integer: boolean): number {
  const n = Number(v);
  if (!v.trim() || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new UsageError(`${flag}: "${v}" is not ${integer ? 'a whole number' : 'a number'} of 0 or more.`);
  return n;
}

/** The request from flags, a file or stdin; each source is an error to combine with another. */
async function readRequest(file: string | undefined, opts: EvalOptions): Promise<unknown> {
  const fromFlags: Record<string, unknown> = {};
  for (const [flag, field] of FLAG_FIELDS) if (opts[flag] !== undefined) fromFlags[field] = opts[flag];
  if (opts.costUsd !== undefined || opts.tokens !== undefined) {
    fromFlags.cost = {
      ...(opts.costUsd !== undefined ? { usd: parseNumber('--cost-usd', opts.costUsd, false) } : {}),
      ...(opts.tokens !== undefined ? { tokens: parseNumber('--tokens', opts.tokens, true) } : {}),
    };
  }
  const hasFlags = Object.keys(fromFlags).length > 0;
  if (hasFlags && file) throw new UsageError('give the request either as a file or with flags, not both.');
  if (hasFlags) return fromFlags;
  if (!file && process.stdin.isTTY) throw new UsageError('no request: pipe JSON on stdin, name a file, or use flags such as --agent and --action (see govern eval --help).');
  const where = !file || file === '-' ? 'stdin' : file;
  let text: string;
  try {
    text = !file || file === '-' ? await readStdin(MAX_REQUEST_BYTES) : readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${where}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}.`);
  }
  return parseRequestText(text, where);
}

/** All of stdin, or a little more than `limit` bytes so that the size check can say how much. */
async function readStdin(limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > limit * 2) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function parseRequestText(text: string, where: string): unknown {
  if (Buffer.byteLength(text) > MAX_REQUEST_BYTES) throw new UsageError(`${where}: the request is ${(Buffer.byteLength(text) / 1048576).toFixed(1)} MB; the limit is 1 MB.`);
  if (!text.trim()) throw new UsageError(`${where}: empty input; expected a request as JSON.`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${where}: not valid JSON: ${(e as Error).message}.`);
  }
}

function requestError(e: unknown, where: string): UsageError {
  if (e instanceof RequestError) return new UsageError(`${where}: ${e.message}`);
  throw e;
}

/** Lines decided per transaction: one commit for many decisions, whose output is written after it. */
const BATCH_CHUNK = 256;

async function runBatch(rt: Runtime, source: string): Promise<number> {
  const input = source === '-' ? process.stdin : createReadStream(source);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let failed = 0;
  let n = 0;
  let pending: { line: number; text: string }[] = [];
  const fail = (line: number, e: unknown) => {
    failed++;
    const message = e instanceof UsageError ? e.message : e instanceof RequestError ? `line ${line}: ${e.message}` : `line ${line}: internal error: ${(e as Error).message}`;
    return { error: { line, message } };
  };
  const decideChunk = async () => {
    if (!pending.length) return;
    const chunk = pending;
    pending = [];
    // Prepare every line, ask the model about those nobody decided, then record the chunk at once.
    const prepared = chunk.map(({ line, text }) => {
      try {
        return { line, p: rt.prepare(parseRequestText(text, `line ${line}`)) };
      } catch (e) {
        return { line, error: fail(line, e) };
      }
    });
    const asked = await Promise.all(prepared.map(async (x) => (x.p ? rt.consult(x.p) : undefined)));
    const results = rt.transaction(() => prepared.map((x, i) => {
      if (!x.p) return x.error as unknown;
      try {
        return rt.commit(x.p, asked[i]).decision as unknown;
      } catch (e) {
        return fail(x.line, e);
      }
    }));
    // Written only once the chunk is committed: a printed decision is a recorded one.
    process.stdout.write(results.map((r) => JSON.stringify(r) + '\n').join(''));
  };
  try {
    for await (const line of lines) {
      n++;
      if (!line.trim()) continue;
      pending.push({ line: n, text: line });
      if (pending.length >= BATCH_CHUNK) await decideChunk();
    }
  } catch (e) {
    await decideChunk();
    throw new UsageError(`cannot read ${source === '-' ? 'stdin' : source}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}.`);
  }
  await decideChunk();
  if (failed) process.stderr.write(`govern: ${failed} of ${n} lines could not be decided (see their error objects).\n`);
  return failed ? EXIT.failure : EXIT.ok;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description('decide one request (JSON on stdin, a file, or flags); exit 0 allow, 2 deny, 3 escalate')
    .argument('[file]', 'a request as JSON ("-" for stdin)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['human', 'json']).default('human'))
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
    .addHelpText('after', '\nExit codes: 0 allow, 2 deny, 3 escalate, 1 failure (bad input, bad policies, internal error).\nWith --batch: 0 when every line was decided, 1 when any line failed (its line holds an error object).');
  cmd.action(async (file: string | undefined, opts: EvalOptions, c: Command) => {
    const g = c.optsWithGlobals<GlobalOptions & EvalOptions>();
    if (opts.batch !== undefined) {
      if (file) throw new UsageError('--batch reads its own input; drop the request file.');
      const rt = await openRuntime(c);
      try {
        process.exitCode = await runBatch(rt, opts.batch);
        await rt.settled();
      } finally {
        rt.close();
      }
      return;
    }
    const waitS = opts.wait !== undefined ? parseNumber('--wait', opts.wait, false) : undefined;
    const raw = await readRequest(file, opts);
    const rt = await openRuntime(c);
    let ev: Evaluation;
    try {
      ev = await rt.evaluate(raw);
    } catch (e) {
      rt.close();
      throw requestError(e, file && file !== '-' ? file : Object.keys(opts).some((k) => FLAG_FIELDS.some(([f]) => f === k)) ? 'flags' : 'stdin');
    }
    await rt.settled();
    let unanswered: string | undefined;
    if (waitS !== undefined && ev.decision.decision === 'escalate' && ev.escalation && rt.state) {
      const { waitForAnswer } = await import('../escalation/escalation.js');
      if (!g.quiet && opts.format !== 'json') process.stderr.write(`waiting up to ${waitS} s for a human: govern escalations approve ${ev.escalation}\n`);
      const answer = await waitForAnswer(rt.state, ev.escalation, waitS * 1000);
      if (answer.status === 'approved') ev = await rt.evaluate(raw);
      else unanswered = answer.timed_out ? `no human answered escalation ${ev.escalation} within ${waitS} s (--wait): do not proceed` : `escalation ${ev.escalation} was ${answer.status}${answer.resolved_by ? ` by ${answer.resolved_by}` : ''}: do not proceed`;
    }
    // The decision is committed. The state file is not closed: closing checkpoints the WAL (a disk
    // flush, most of the cost of a cached decision), which the next writer or checkpoint does anyway.
    if (opts.format === 'json') {
      process.stdout.write(JSON.stringify(opts.explain ? { ...ev.decision, explanation: explanationData(ev, rt) } : ev.decision, null, 2) + '\n');
    } else if (!g.quiet) {
      const style = await styleFor(useColor(g));
      process.stdout.write(renderDecision(ev, style));
      if (opts.explain) process.stdout.write(renderExplanation(ev, rt, style));
    }
    process.exitCode = exitCodeOf(ev.decision);
    if (unanswered) {
      process.stderr.write(`govern: ${unanswered}\n`);
      process.exitCode = EXIT.deny;
    }
  });
}

export function explanationData(ev: Evaluation, rt: Runtime): unknown {
  return {
    rules: rt.engine.explain(ev.facts),
    request: { agent: ev.request.agent.id, action: ev.request.action, environment: ev.request.environment, resource: ev.request.resource },
    facts: { category: ev.facts.category, trust: ev.facts.trust, team: ev.facts.team ?? null, hour: ev.facts.hour, budget: ev.facts.budget },
    findings: ev.findings.map((f) => ({ kind: f.kind, field: f.field, span: f.span, preview: f.preview })),
  };
}
