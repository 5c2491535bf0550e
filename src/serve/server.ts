// `govern serve --stdio`: one long-running process answering agents on stdin and stdout. stdout
// carries protocol messages only, one JSON-RPC 2.0 message a line; logs go to stderr.
//
// Two protocols share the one stdin, told apart per message rather than per connection:
//  - a method under `governance/` (evaluate, explain, record_outcome, budget_status, autonomy_rate,
//    status) is plain JSON-RPC, answered here, for processes that are not MCP clients: params are
//    the Request (or the method's fields), the result is the Decision (or the method's answer);
//  - every other message goes to the Model Context Protocol server (initialize, tools/list,
//    tools/call, ping, notifications), which answers -32601 for a method it does not know.
// Neither kind of client needs a handshake for the other's sake, and one client may use both.
//
// One reader serves both, so malformed input is answered the same way: a line that is not JSON
// gets -32700, a message that is not JSON-RPC 2.0 -32600, a line over 1 MB -32600 (its bytes are
// dropped as they arrive, never buffered); the id is null when it could not be read. Reading pauses
// while too many calls are in flight or stdout is not draining, so memory stays bounded.
//
// EOF on stdin, SIGTERM or SIGINT: stop reading, finish every call in flight (a decision is
// answered only once committed), flush stdout, close the state file, and return exit code 0
// (1 when stdout broke and answers were lost, or calls were still unfinished after the grace time).
import type { Runtime } from '../runtime/runtime.js';
import { classify, CODE, errorOf, errorResponse, isCallerError, response, type Id, type RpcRequest } from './jsonrpc.js';
import { LineSplitter } from './lines.js';
import type { LineTransport } from './mcp.js';
import { Governance } from './service.js';
import { watchPolicies, type PolicyWatch } from './watch.js';

/** A message longer than this is refused unread: no agent needs more, and it bounds memory. */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Calls in flight at which reading pauses, and resumes. */
const HIGH_WATER = 1024;
const LOW_WATER = 256;
/** How long a shutdown waits for calls in flight (a model may be thinking) before giving up on them. */
const SHUTDOWN_GRACE_MS = 30_000;

export interface ServeOptions {
  watch: boolean;
  reloadDelayMs: number;
  quiet: boolean;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

type PlainMethod = (gov: Governance, params: unknown) => unknown;

export const PLAIN_METHODS: Record<string, PlainMethod> = {
  'governance/evaluate': (g, p) => g.evaluate(p),
  'governance/explain': (g, p) => g.explain(p),
  'governance/record_outcome': (g, p) => g.recordOutcome(p),
  'governance/budget_status': (g, p) => g.budgetStatus(p),
  'governance/autonomy_rate': (g, p) => g.autonomyRate(p),
  'governance/status': (g, p) => g.status(p),
  'governance/escalation_status': (g, p) => g.escalationStatus(p),
  'governance/wait_for_approval': (g, p) => g.waitForApproval(p),
  'governance/record_spend': (g, p) => g.recordSpend(p),
};

/** Messages out, many to a write, in the order they were sent; tells when stdout stops draining. */
class Output {
  private lines: string[] = [];
  private scheduled = false;
  blocked = false;
  broken = false;

  constructor(private readonly stream: NodeJS.WritableStream, private readonly onDrain: () => void) {}

  send(message: unknown): void {
    if (this.broken) return;
    this.lines.push(JSON.stringify(message));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (!this.lines.length || this.broken) return;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    if (!this.stream.write(text) && !this.blocked) {
      this.blocked = true;
      this.stream.once('drain', () => {
        this.blocked = false;
        this.onDrain();
      });
    }
  }

  /** Resolves once everything sent has been handed to the system. */
  end(): Promise<void> {
    this.flush();
    if (this.broken) return Promise.resolve();
    return new Promise((resolve) => this.stream.write('', () => resolve()));
  }
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

/** Serves until stdin ends or a termination signal; resolves with the exit code. */
export async function serve(rt: Runtime, opts: ServeOptions): Promise<number> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const log = (m: string) => void process.stderr.write(`govern serve: ${m}\n`);
  const info = opts.quiet ? () => {} : log;

  const gov = new Governance(rt);
  let closing = false;
  let paused = false;
  let plainPending = 0;
  // The MCP side is loaded with the first message for it: a client of the plain methods never pays
  // for the SDK (about 200 modules, a third of the start of a short session). Messages that arrive
  // while it loads wait, in order.
  let transport: LineTransport | undefined;
  let loading: Promise<void> | undefined;
  const waiting: { message: unknown; id: Id | undefined }[] = [];
  const inflight = () => plainPending + waiting.length + (transport?.pending ?? 0);
  const maybeResume = () => {
    if (paused && !closing && !out.blocked && inflight() <= LOW_WATER) {
      paused = false;
      input.resume();
    }
  };
  const out = new Output(output, maybeResume);
  /** Hands a message to the MCP server; a request it cannot take is answered with why. */
  const deliver = (t: LineTransport, message: unknown, id: Id | undefined) => {
    const problem = t.deliver(message);
    if (problem !== undefined && id !== undefined) out.send(errorResponse(id, problem));
  };
  const toMcp = (message: unknown, id: Id | undefined) => {
    if (transport) return deliver(transport, message, id);
    waiting.push({ message, id });
    loading ??= import('./mcp.js').then(
      async ({ LineTransport, startMcp }) => {
        const t = new LineTransport((m) => out.send(m));
        await startMcp(gov, t, log);
        transport = t;
        for (const w of waiting.splice(0)) deliver(t, w.message, w.id);
      },
      (e: unknown) => {
        log(`cannot start the MCP server: ${(e as Error)?.message ?? String(e)}`);
        loading = undefined;
        for (const w of waiting.splice(0)) if (w.id !== undefined) out.send(errorResponse(w.id, { code: CODE.internalError, message: 'the MCP server could not start; see the server log' }));
      },
    ).finally(maybeResume);
  };
  const watcher: PolicyWatch | undefined = opts.watch ? watchPolicies(rt, gov, { delayMs: opts.reloadDelayMs, log, info }) : undefined;

  const plain = (msg: RpcRequest, id: Id | undefined) => {
    const method = PLAIN_METHODS[msg.method];
    if (!method) {
      if (id !== undefined) out.send(errorResponse(id, { code: CODE.methodNotFound, message: `unknown method "${msg.method}"; methods: ${Object.keys(PLAIN_METHODS).join(', ')} (and MCP's).` }));
      return;
    }
    plainPending++;
    let answer: Promise<unknown>;
    try {
      answer = Promise.resolve(method(gov, msg.params));
    } catch (e) {
      answer = Promise.reject(e);
    }
    answer.then(
      (result) => {
        plainPending--;
        // A notification (no id) is carried out but never answered.
        if (id !== undefined) out.send(response(id, result));
        maybeResume();
      },
      (e: unknown) => {
        plainPending--;
        if (!isCallerError(e)) log(`internal error in ${msg.method}: ${(e as Error)?.stack ?? String(e)}`);
        if (id !== undefined) out.send(errorResponse(id, errorOf(e)));
        maybeResume();
      },
    );
  };

  const handleLine = (text: string) => {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      out.send(errorResponse(null, { code: CODE.parseError, message: `not valid JSON: ${(e as Error).message}` }));
      return;
    }
    const env = classify(msg);
    if (env.kind === 'invalid') out.send(errorResponse(env.id, env.error));
    else if (env.kind === 'response') toMcp(env.message, undefined);
    else if (env.message.method.startsWith('governance/')) plain(env.message, env.id);
    else toMcp(env.message, env.id);
    if (!paused && inflight() >= HIGH_WATER) {
      paused = true;
      input.pause();
    }
  };

  const splitter = new LineSplitter(MAX_LINE_BYTES, {
    line: handleLine,
    oversized: (bytes) => out.send(errorResponse(null, {
      code: CODE.invalidRequest,
      message: `the message is ${mb(bytes)}; the limit is 1 MB a line. It was not read.`,
      data: { bytes, limit: MAX_LINE_BYTES },
    })),
  });

  let done!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (done = resolve));

  const onData = (chunk: Buffer | string) => {
    if (out.blocked && !paused) {
      paused = true;
      input.pause();
    }
    splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  };

  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    input.removeListener('data', onData);
    input.pause();
    watcher?.close();
    // A waiting agent is answered now (a timeout: deny) rather than holding the shutdown.
    gov.stopWaiting();
    const n = inflight();
    info(`${why}: ${n ? `finishing ${n} call${n === 1 ? '' : 's'} in flight, then ` : ''}stopping`);
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    let code = 0;
    for (;;) {
      await gov.idle();
      await new Promise((r) => setImmediate(r));
      if (inflight() === 0) break;
      if (Date.now() > deadline) {
        log(`gave up waiting for ${inflight()} calls after ${SHUTDOWN_GRACE_MS / 1000} s`);
        code = 1;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await out.end();
    await rt.settled();
    rt.close();
    info(`stopped after ${gov.decisions} decision${gov.decisions === 1 ? '' : 's'}`);
    // Answers were lost when stdout broke: the decisions are recorded, but say that it went wrong.
    done(out.broken ? 1 : code);
  };

  const onEnd = () => {
    splitter.end();
    void shutdown('end of input');
  };
  const onSignal = (signal: NodeJS.Signals) => void shutdown(signal);
  input.on('data', onData);
  input.once('end', onEnd);
  input.on('error', (e: Error) => {
    log(`cannot read stdin: ${e.message}`);
    void shutdown('input error');
  });
  output.on('error', (e: Error) => {
    if (out.broken) return;
    out.broken = true;
    log(`cannot write stdout (${e.message}); the client is gone`);
    void shutdown('output closed');
  });
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  // Load Cedar and parse a first candidate set now rather than on the first request (writes nothing).
  try {
    rt.prepare({ agent: 'govern-serve', action: 'read', environment: 'dev' });
  } catch (e) {
    log(`warm-up failed: ${(e as Error).message}`);
  }
  const b = rt.bundle;
  info(`ready on stdio: ${b.rules.length} rules (bundle ${b.hash.slice(0, 12)}), ${rt.state ? `state ${gov.status().state}` : 'no state file'}${watcher ? `, watching ${gov.status().policies}` : ''}`);

  const code = await finished;
  process.removeListener('SIGTERM', onSignal);
  process.removeListener('SIGINT', onSignal);
  input.removeListener('end', onEnd);
  return code;
}
