// What `govern daemon start|status` prints about a running daemon: its pid, socket, configuration,
// policies and bundle hash, state file and decisions; or the same as JSON.

/** What a daemon says about itself (`govern/daemon`), as far as it is printed. */
export interface DaemonView {
  pid: number;
  socket: string;
  started: string;
  identity: { config: string | null; root: string | null };
  status: { bundle: { hash: string; rules: number }; policies: string; watching: boolean; reload_error: { message: string } | null; reloads: number; state: string | null; decisions: number };
}

function describe(i: DaemonView): string {
  const s = i.status;
  return [
    `running: pid ${i.pid}, socket ${i.socket}`,
    `  config     ${i.identity.config ?? `(none; working folder ${i.identity.root})`}`,
    `  policies   ${s.policies}: ${s.bundle.rules} rules, bundle ${s.bundle.hash.slice(0, 12)}${s.watching ? ', watched' : ''}${s.reload_error ? ` (reload failed: ${s.reload_error.message})` : ''}`,
    `  state      ${s.state ?? 'none (--no-state)'}`,
    `  decisions  ${s.decisions} since ${i.started} (${s.reloads} reload${s.reloads === 1 ? '' : 's'})`,
  ].join('\n') + '\n';
}

/** The daemon as JSON with `state` (running, started, already running), or as text. */
export function daemonReport(info: DaemonView, format: string, what: string): string {
  if (format === 'json') return JSON.stringify({ ...info, state: what }, null, 2) + '\n';
  return `${what === 'running' ? '' : `${what}; `}${describe(info)}`;
}
