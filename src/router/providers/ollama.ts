// A local Ollama server through the `ollama` SDK (POST /api/chat, `format` set to the JSON schema).
// The SDK has no timeout and takes no signal for a single answer, so every call goes through a
// fetch that carries the call's deadline; that fetch also turns error bodies into the JSON the SDK
// expects, because the SDK prints to stdout when an error body is not JSON.
import type { Ollama } from 'ollama';
import type { ModelRequest, ModelResponse, ModelSettings, Provider } from '../provider.js';
import { deadline, endpoint, loadSdk, tokenCount, toProviderError } from './errors.js';

export const OLLAMA_HOST = 'http://127.0.0.1:11434';

export function guardedFetch(signal: AbortSignal): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, { ...init, signal });
    if (res.ok) return res;
    const body = await res.text();
    let message = body.trim() || `HTTP ${res.status} ${res.statusText}`;
    try {
      const parsed = JSON.parse(body) as { error?: unknown };
      if (typeof parsed.error === 'string') message = parsed.error;
    } catch {
      // not JSON: the text itself is the message
    }
    return new Response(JSON.stringify({ error: message }), { status: res.status, statusText: res.statusText, headers: { 'content-type': 'application/json' } });
  };
}

export class OllamaProvider implements Provider {
  private readonly host: string;

  constructor(readonly settings: ModelSettings, env: NodeJS.ProcessEnv = {}) {
    this.host = settings.baseUrl ?? env.OLLAMA_HOST ?? OLLAMA_HOST;
  }

  /** A client per call: the deadline lives in its fetch. */
  private async sdk(signal: AbortSignal): Promise<Ollama> {
    const { Ollama } = await loadSdk('ollama', 'ollama', () => import('ollama'));
    return new Ollama({ host: this.host, fetch: guardedFetch(signal) });
  }

  async complete(req: ModelRequest): Promise<ModelResponse> {
    const d = deadline(this.settings.timeoutMs, req.signal);
    try {
      const client = await this.sdk(d.signal);
      const res = await client.chat({
        model: this.settings.model,
        messages: [
          { role: 'system', content: req.system },
          { role: 'user', content: req.user },
        ],
        format: req.schema,
        stream: false,
        options: { temperature: this.settings.temperature, num_predict: this.settings.maxTokens },
      });
      return {
        text: res.message?.content ?? '',
        // Ollama leaves prompt_eval_count out when the whole prompt came from its cache.
        usage: { input_tokens: tokenCount('ollama', 'prompt_eval_count', res.prompt_eval_count), output_tokens: tokenCount('ollama', 'eval_count', res.eval_count) },
        model: `ollama/${res.model || this.settings.model}`,
      };
    } catch (e) {
      throw toProviderError('ollama', e, d, this.settings.timeoutMs, endpoint(this.host));
    }
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    const d = deadline(this.settings.timeoutMs);
    try {
      const client = await this.sdk(d.signal);
      const { models } = await client.list();
      const want = this.settings.model;
      const names = models.map((m) => m.name);
      const found = models.some((m) => m.name === want || m.model === want || m.name === `${want}:latest`);
      if (found) return { ok: true, detail: `ollama: model ${want} is available at ${endpoint(this.host)}.` };
      return { ok: false, detail: `ollama: ${endpoint(this.host)} answers but has no model ${want}; run \`ollama pull ${want}\`${names.length ? ` (it has ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''})` : ''}.` };
    } catch (e) {
      return { ok: false, detail: toProviderError('ollama', e, d, this.settings.timeoutMs, endpoint(this.host)).message };
    }
  }
}
