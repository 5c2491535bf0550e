// `govern serve --stdio`: a decision service for agents on stdin and stdout, speaking the Model
// Context Protocol and plain JSON-RPC 2.0 lines (see src/serve/server.ts). The server and the MCP
// SDK are loaded only when this command runs, so other commands start no slower.
import type { Command } from 'commander';
import { UsageError } from './output.js';
import type { Transport } from '../serve/transport.js';
import { openRuntime, type GlobalOptions } from './options.js';

interface ServeFlags { stdio?: boolean; http?: string; socket?: string; token?: string; watch: boolean; reloadDelay: string }

const PROTOCOLS = `
Protocols (one JSON-RPC 2.0 message a line on stdin, answers on stdout, logs on stderr):
  Each message is routed on its own: a method under governance/ is plain JSON-RPC, anything else
  goes to the MCP server, so MCP clients (initialize, tools/list, tools/call) and other processes
  both work with no setup.
  MCP tools:        evaluate, explain, record_outcome, budget_status, autonomy_rate, status
  plain methods:    governance/evaluate (params: a Request; result: the Decision),
                    governance/explain, governance/record_outcome {agent, event, note?},
                    governance/budget_status {agent}, governance/autonomy_rate {agent?, hours?},
                    governance/status
  errors:           -32700 not JSON, -32600 not JSON-RPC or a line over 1 MB, -32601 unknown method,
                    -32602 bad params (data.field names the field), -32002 needs the state file
  Policy files are watched: a change that compiles is served from the next decision on; one that
  does not is logged (file:line:col) and shown by status, and the previous policies keep serving.

Unix socket (--socket PATH): the plain methods above as JSON-RPC lines, any number of connections
  served by one process (what govern daemon start runs). The socket is created 0600 in a folder only
  you may write; a live daemon's socket is never taken over, a dead one's is removed.

HTTP (--http ADDR): the same plain methods as POST /v1/NAME with the params as a JSON body
  (/v1/evaluate, also /v1/decide, /v1/explain, ...); answers are the result, or {"error": {...}}
  with status 400, 401, 404, 405, 413 or 503. GET /healthz, GET /metrics (Prometheus text).
  A non-loopback address needs a token; bodies over 1 MB are refused.

Example:
  echo '{"jsonrpc":"2.0","id":1,"method":"governance/evaluate","params":{"agent":"ops","action":"delete","resource":"k8s:pod/web-1","environment":"staging"}}' | govern serve --stdio

Exit codes: 0 stopped on end of input, SIGTERM or SIGINT (every answered decision is recorded),
1 failure (bad policies or config at start, state file unusable, stdout closed before all answers
were written, calls unfinished 30 s after a signal).`;

export function register(program: Command): void {
  program
    .command('serve')
    .description('a decision service for agents: MCP tools and plain JSON-RPC lines on stdin/stdout')
    .option('--stdio', 'speak on stdin and stdout')
    .option('--socket <path>', 'serve JSON-RPC lines on this Unix socket instead, for many clients (see govern daemon)')
    .option('--http <addr>', 'serve JSON over HTTP on HOST:PORT instead (e.g. 127.0.0.1:8181): POST /v1/<method>, GET /healthz, GET /metrics')
    .option('--token <token>', 'with --http: require `Authorization: Bearer TOKEN` (needed for a non-loopback address; also GOVERN_HTTP_TOKEN)')
    .option('--no-watch', 'do not reload the policies when their files change')
    .option('--reload-delay <ms>', 'quiet time after a policy file changes before reloading', '200')
    .addHelpText('after', PROTOCOLS)
    .action(async (opts: ServeFlags, c: Command) => {
      const transports = [opts.stdio, opts.http !== undefined, opts.socket !== undefined].filter(Boolean).length;
      if (transports === 0) throw new UsageError('serve needs a transport: --stdio, --socket PATH or --http ADDR. See govern serve --help.');
      if (transports > 1) throw new UsageError('serve: choose one transport, --stdio, --socket PATH or --http ADDR.');
      if (opts.token !== undefined && opts.http === undefined) throw new UsageError('--token: only with --http.');
      const delay = Number(opts.reloadDelay);
      if (!opts.reloadDelay.trim() || !Number.isInteger(delay) || delay < 0) throw new UsageError(`--reload-delay: "${opts.reloadDelay}" is not a whole number of milliseconds.`);
      const quiet = c.optsWithGlobals<GlobalOptions>().quiet === true;
      const token = opts.token ?? (process.env.GOVERN_HTTP_TOKEN || undefined);
      const transport: Transport = opts.http !== undefined ? { http: opts.http, ...(token !== undefined ? { token } : {}) }
        : opts.socket !== undefined ? { socket: opts.socket, flags: c.optsWithGlobals<GlobalOptions & { state?: string | boolean }>() } : { stdio: true };
      process.exitCode = await (await import('../serve/transport.js')).serveOn(transport, { watch: opts.watch, reloadDelayMs: delay, quiet }, () => openRuntime(c));
    });
}
