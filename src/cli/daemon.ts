// `govern daemon start|stop|status`: a background decision service for this configuration
// (src/serve/daemon.ts) that `govern eval` asks before it loads the engine (src/serve/client.ts).
import type { Command } from 'commander';
import { daemonReport } from '../render/daemon.js';
import { identityOf, socketPath } from '../serve/client.js';
import { daemonInfo, startDaemon, stopDaemon } from '../serve/daemon.js';
import { EXIT, writeOut } from './output.js';
import type { GlobalOptions } from './options.js';

const flagsOf = (c: Command) => c.optsWithGlobals<GlobalOptions>();

export function register(program: Command): void {
  const daemon = program
    .command('daemon')
    .description('a background decision service that makes govern eval and explain fast (a Unix socket); start, stop, status')
    .addHelpText('after', `
The daemon serves the configuration, policies, bundle and state file of the flags it was started
with (found as eval finds them), on a socket in ${'$'}XDG_RUNTIME_DIR/govern (else govern-UID in the
temporary folder), a folder only you can use. govern eval and explain use it when it serves exactly
what they would use; otherwise, or with --no-daemon, they decide in process. It reloads changed
policies as serve --stdio does.

Exit codes: 0 done (status: running), 1 failure (status: no daemon running).`);
  const format = (cmd: Command) => cmd.addOption(cmd.createOption('-f, --format <format>', 'output format').choices(['human', 'json']).default('human'));
  format(daemon.command('start').description('start the daemon in the background for this configuration (nothing if it runs already)'))
    .action(async (opts: { format: string }, c: Command) => {
      const { info, what } = await startDaemon(identityOf(flagsOf(c)));
      await writeOut(daemonReport(info, opts.format, what));
    });
  daemon.command('stop').description('stop the daemon: it finishes the calls in flight, then exits')
    .action(async (_opts: unknown, c: Command) => {
      const info = await stopDaemon(identityOf(flagsOf(c)));
      const n = info?.status.decisions ?? 0;
      if (!flagsOf(c).quiet) await writeOut(info ? `stopped: pid ${info.pid} (${n} decision${n === 1 ? '' : 's'})\n` : 'no daemon runs for this configuration.\n');
    });
  format(daemon.command('status').description('print the daemon\'s pid, socket, policies and bundle hash; exit 1 when none runs'))
    .action(async (opts: { format: string }, c: Command) => {
      const path = socketPath(identityOf(flagsOf(c)));
      const info = await daemonInfo(path);
      if (info) return void (await writeOut(daemonReport(info, opts.format, 'running')));
      if (opts.format === 'json') await writeOut(JSON.stringify({ state: 'stopped', socket: path }, null, 2) + '\n');
      else process.stderr.write(`govern: no daemon runs for this configuration (socket ${path}); start one with govern daemon start.\n`);
      process.exitCode = EXIT.failure;
    });
}
