// Local HTTP servers on 127.0.0.1 that speak the providers' wire APIs (Anthropic Messages, OpenAI
// Chat Completions, Ollama chat), so that tests run the real SDKs without any other network.
// A server answers from a script of replies and keeps every request it received.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

/** One scripted reply: JSON or text with a status, or 'hang' (never answer). */
export type Reply = { status?: number; json?: unknown; text?: string; headers?: Record<string, string> } | 'hang';

export type Route = (req: Received) => Reply | undefined;

export class FakeServer {
  readonly received: Received[] = [];
  private readonly queue: Reply[] = [];
  private readonly hanging = new Set<ServerResponse>();

  private constructor(private readonly server: Server, readonly url: string, private readonly routes: Route[]) {}

  /** Starts a server on an ephemeral port; `routes` answer fixed endpoints (model lists). */
  static async start(routes: Route[] = []): Promise<FakeServer> {
    let self!: FakeServer;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => self.answer({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: parse(Buffer.concat(chunks).toString('utf8')) }, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new FakeServer(server, `http://127.0.0.1:${port}`, routes);
    return self;
  }

  /** Replies for the next requests, in order (routes answer first). */
  reply(...replies: Reply[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** The requests to a path (exact, without the query). */
  to(path: string): Received[] {
    return this.received.filter((r) => r.path.split('?')[0] === path);
  }

  private answer(req: Received, res: ServerResponse): void {
    this.received.push(req);
    let reply: Reply | undefined;
    for (const route of this.routes) {
      reply = route(req);
      if (reply) break;
    }
    reply ??= this.queue.shift() ?? { status: 500, json: { error: `no reply scripted for ${req.method} ${req.path}` } };
    if (reply === 'hang') {
      this.hanging.add(res);
      return;
    }
    const status = reply.status ?? 200;
    if (reply.json !== undefined) {
      res.writeHead(status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.json));
    } else {
      res.writeHead(status, { 'content-type': 'text/plain', ...reply.headers });
      res.end(reply.text ?? '');
    }
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A port on 127.0.0.1 that nobody listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

// Wire formats of successful answers and errors, as each API sends them.

export const anthropicWire = {
  message: (text: string, usage: { input: number; output: number }, model = 'claude-test') => ({
    id: 'msg_test',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: usage.input, output_tokens: usage.output, cache_creation_input_tokens: null, cache_read_input_tokens: null },
  }),
  error: (status: number, type: string, message: string): Reply => ({ status, json: { type: 'error', error: { type, message } } }),
  model: (id: string) => ({ type: 'model', id, display_name: 'Claude Test', created_at: '2026-01-01T00:00:00Z' }),
};

export const openaiWire = {
  completion: (text: string, usage: { input: number; output: number }, model = 'gpt-test') => ({
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output },
  }),
  error: (status: number, type: string, message: string): Reply => ({ status, json: { error: { message, type, param: null, code: type } } }),
  models: (...ids: string[]) => ({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 1, owned_by: 'test' })) }),
};

export const ollamaWire = {
  chat: (text: string, usage: { input: number; output: number }, model = 'llama-test') => ({
    model,
    created_at: '2026-01-01T00:00:00Z',
    message: { role: 'assistant', content: text },
    done: true,
    done_reason: 'stop',
    total_duration: 1000,
    load_duration: 10,
    prompt_eval_count: usage.input,
    prompt_eval_duration: 100,
    eval_count: usage.output,
    eval_duration: 100,
  }),
  error: (status: number, _type: string, message: string): Reply => ({ status, json: { error: message } }),
  tags: (...names: string[]) => ({ models: names.map((name) => ({ name, model: name, modified_at: '2026-01-01T00:00:00Z', size: 1, digest: 'sha256:0', details: {} })) }),
};
