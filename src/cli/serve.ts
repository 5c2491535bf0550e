// `govern serve --stdio`: a decision service for agents on stdin and stdout, speaking the Model
// Context Protocol and plain JSON-RPC 2.0 lines (see src/serve/server.ts). The server and the MCP
// SDK are loaded only when this command runs, so other commands start no slower.
import type { Command } from 'commander';
import { UsageError } from './output.js';
import { PROTOCOLS } from '../serve/protocols.js';
import type { Transport } from '../serve/transport.js';
import { openRuntime, type GlobalOptions } from './options.js';

interface ServeFlags { stdio?: boolean; http?: string; socket?: string; token?: string; watch: boolean; reloadDelay: string }


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
        : opts.socket !== undefined ? { socket: opts.socket, flags: c.optsWithGlobals<GlobalOptions>() } : { stdio: true };
      process.exitCode = await (await import('../serve/transport.js')).serveOn(transport, { watch: opts.watch, reloadDelayMs: delay, quiet }, () => openRuntime(c));
    });
}
