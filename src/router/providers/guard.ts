// The transport of the injection guard model (`detectors.injection.model`): one plain chat call to
// a local Ollama server per text, the text as the user's message and no system prompt or output
// format, because guard models such as Llama Guard wrap the message in their own template and
// answer `safe` or `unsafe`. What the answer means is decided in request/detectors/guard.ts.
import type { Ollama } from 'ollama';
import { deadline, endpoint, loadSdk, toProviderError } from './errors.js';
import { guardedFetch, OLLAMA_HOST } from './ollama.js';

export interface GuardSettings {
  provider: 'ollama';
  /** The model's name at the server (`llama-guard3`). */
  model: string;
  /** Where Ollama listens; default OLLAMA_HOST from the environment, else 127.0.0.1:11434. */
  baseUrl?: string;
  timeoutMs: number;
}

/** A function that sends one text to the guard model and resolves to its answer; rejects with a ProviderError. */
export function guardModel(settings: GuardSettings, env: NodeJS.ProcessEnv = process.env): (text: string) => Promise<string> {
  const host = settings.baseUrl ?? env.OLLAMA_HOST ?? OLLAMA_HOST;
  return async (text) => {
    const d = deadline(settings.timeoutMs);
    try {
      const { Ollama: Client } = await loadSdk('ollama', 'ollama', () => import('ollama'));
      const client: Ollama = new Client({ host, fetch: guardedFetch(d.signal) });
      const res = await client.chat({ model: settings.model, messages: [{ role: 'user', content: text }], stream: false, options: { temperature: 0 } });
      return res.message?.content ?? '';
    } catch (e) {
      throw toProviderError('ollama', e, d, settings.timeoutMs, endpoint(host));
    }
  };
}
