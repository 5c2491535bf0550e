// Anthropic's Messages API through @anthropic-ai/sdk. The answer is constrained with the API's
// structured output (`output_config.format`, a JSON schema), which the SDK's own helper adapts to
// the subset the API accepts; govern still validates the full schema afterwards.
import type AnthropicClient from '@anthropic-ai/sdk';
import { ProviderError, type ModelRequest, type ModelResponse, type ModelSettings, type Provider } from '../provider.js';
import { deadline, endpoint, loadSdk, stderrLogger, tokenCount, toProviderError } from './errors.js';

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

export class AnthropicProvider implements Provider {
  private client?: Promise<AnthropicClient>;
  private readonly baseUrl: string;

  constructor(readonly settings: ModelSettings, private readonly apiKey: string) {
    this.baseUrl = settings.baseUrl ?? ANTHROPIC_BASE_URL;
  }

  private sdk(): Promise<AnthropicClient> {
    this.client ??= loadSdk('anthropic', '@anthropic-ai/sdk', () => import('@anthropic-ai/sdk')).then(({ default: Anthropic }) =>
      new Anthropic({
        apiKey: this.apiKey,
        baseURL: this.baseUrl,
        timeout: this.settings.timeoutMs,
        // govern retries once itself, and only on invalid output.
        maxRetries: 0,
        // The SDK logs to stdout by default; stdout belongs to govern's answers.
        logger: stderrLogger(),
      }),
    );
    return this.client;
  }

  async complete(req: ModelRequest): Promise<ModelResponse> {
    const d = deadline(this.settings.timeoutMs, req.signal);
    try {
      const client = await this.sdk();
      const { jsonSchemaOutputFormat } = await import('@anthropic-ai/sdk/helpers/json-schema');
      // Identifiers of the schema file mean nothing to the model; the helper would move them into the description.
      const { $id: _id, $schema: _dialect, ...schema } = req.schema;
      const format = jsonSchemaOutputFormat(schema as Parameters<typeof jsonSchemaOutputFormat>[0]);
      const res = await client.messages.create(
        {
          model: this.settings.model,
          max_tokens: this.settings.maxTokens,
          // No temperature: the API version this SDK speaks (2026-10-21) has no sampling parameters.
          system: req.system,
          messages: [{ role: 'user', content: req.user }],
          output_config: { format: { type: 'json_schema', schema: format.schema } },
        },
        { signal: d.signal, timeout: this.settings.timeoutMs },
      );
      const text = res.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
      // Read as the server sent it: the SDK types the fields, but does not check them.
      const u = res.usage as unknown as Record<string, unknown> | undefined;
      const count = (field: string) => tokenCount('anthropic', `usage.${field}`, u?.[field]);
      // Prompt-cache reads and writes are input too: count every token billed as input.
      const input = count('input_tokens') + count('cache_creation_input_tokens') + count('cache_read_input_tokens');
      return {
        text,
        usage: { input_tokens: tokenCount('anthropic', 'usage (input in all)', input), output_tokens: count('output_tokens') },
        model: `anthropic/${res.model || this.settings.model}`,
      };
    } catch (e) {
      throw toProviderError('anthropic', e, d, this.settings.timeoutMs, endpoint(this.baseUrl));
    }
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    const d = deadline(this.settings.timeoutMs);
    try {
      const client = await this.sdk();
      const m = await client.models.retrieve(this.settings.model, {}, { signal: d.signal });
      return { ok: true, detail: `anthropic: model ${m.id}${m.display_name ? ` (${m.display_name})` : ''} is available at ${endpoint(this.baseUrl)}.` };
    } catch (e) {
      const err = toProviderError('anthropic', e, d, this.settings.timeoutMs, endpoint(this.baseUrl));
      if (err.status === 404) return { ok: false, detail: `anthropic: no model named ${this.settings.model} at ${endpoint(this.baseUrl)}.` };
      return { ok: false, detail: err.message };
    }
  }
}

export function missingKey(provider: string, variable: string): ProviderError {
  return new ProviderError('not-configured', `${provider}: no API key: set the environment variable ${variable} (keys are read from the environment only).`);
}
