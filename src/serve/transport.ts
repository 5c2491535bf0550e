// `govern serve` on its transport: stdin and stdout, a Unix socket (the daemon), or HTTP. The
// runtime is opened by `open`, only once the address, token or socket path has been accepted.
import { UsageError } from '../diagnostics/usage.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Flags } from './client.js';

export type Transport = { stdio: true } | { http: string; token?: string } | { socket: string; flags: Flags };

export async function serveOn(t: Transport, o: { watch: boolean; reloadDelayMs: number; quiet: boolean }, open: () => Promise<Runtime>): Promise<number> {
  if ('socket' in t) return (await import('./daemon.js')).serveDaemon(t.flags, t.socket, o, open);
  if ('http' in t) {
    const http = await import('./http.js');
    try {
      // Refuse a bad address or token before opening anything.
      http.checkSetup(http.parseAddress(t.http).host, t.token);
      const rt = await open();
      // A bundle is served as built: its policy folder is not watched.
      return await http.serveHttp(rt, { address: t.http, ...(t.token !== undefined ? { token: t.token } : {}), ...o, watch: o.watch && !rt.bundleFile });
    } catch (e) {
      if (e instanceof http.HttpSetupError) throw new UsageError(e.message);
      throw e;
    }
  }
  const rt = await open();
  const { serve } = await import('./server.js');
  return serve(rt, { ...o, watch: o.watch && !rt.bundleFile });
}
