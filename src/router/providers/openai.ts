// OpenAI's Chat Completions API, and OpenAI-compatible servers, through the `openai` SDK. The answer
// is constrained with `response_format: json_schema` in strict mode. Strict mode wants every
// property required, so optional properties are sent as nullable and their nulls are dropped from
// the answer before govern validates it against the original schema.
import type OpenAIClient from 'openai';
import type { ModelRequest, ModelResponse, ModelSettings, Provider } from '../provider.js';
import { deadline, endpoint, loadSdk, stderrLogger, tokenCount, toProviderError } from './errors.js';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

type Schema = Record<string, unknown>;

function isObject(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nullable(s: Schema): Schema {
  const out: Schema = { ...s };
  if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  if (typeof out.type === 'string') out.type = [out.type, 'null'];
  else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...out.type, 'null'];
  else if (out.type === undefined && !Array.isArray(out.enum)) return { anyOf: [s, { type: 'null' }] };
  return out;
}

/** The schema as strict mode accepts it, and for each object path the properties made nullable. */
export function strictSchema(schema: Schema): { schema: Schema; optional: Map<string, string[]> } {
  const optional = new Map<string, string[]>();
  const walk = (s: Schema, path: string): Schema => {
    const out: Schema = { ...s };
    delete out.$schema;
    delete out.$id;
    if (isObject(s.properties)) {
      const required = Array.isArray(s.required) ? (s.required as string[]) : [];
      const props: Schema = {};
      const made: string[] = [];
      for (const [k, v] of Object.entries(s.properties)) {
        let p = isObject(v) ? walk(v, `${path}/${k}`) : v;
        if (!required.includes(k) && isObject(p)) {
          p = nullable(p);
          made.push(k);
        }
        props[k] = p;
      }
      out.properties = props;
      out.required = Object.keys(props);
      out.additionalProperties = false;
      if (made.length) optional.set(path, made);
    }
    if (isObject(s.items)) out.items = walk(s.items, `${path}/[]`);
    return out;
  };
  return { schema: walk(schema, ''), optional };
}

/** Drops the nulls strict mode made the model write for properties the schema leaves optional. */
export function dropOptionalNulls(text: string, optional: Map<string, string[]>): string {
  if (!optional.size) return text;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) for (const x of v) walk(x, `${path}/[]`);
    else if (isObject(v)) {
      for (const k of optional.get(path) ?? []) if (v[k] === null) delete v[k];
      for (const [k, x] of Object.entries(v)) walk(x, `${path}/${k}`);
    }
  };
  walk(value, '');
  return JSON.stringify(value);
}

export class OpenAIProvider implements Provider {
  private client?: Promise<OpenAIClient>;
  private readonly baseUrl: string;

  constructor(readonly settings: ModelSettings, private readonly apiKey: string, private readonly env: NodeJS.ProcessEnv = {}) {
    this.baseUrl = settings.baseUrl ?? OPENAI_BASE_URL;
  }

  private sdk(): Promise<OpenAIClient> {
    this.client ??= loadSdk('openai', 'openai', () => import('openai')).then(({ default: OpenAI }) =>
      new OpenAI({
        apiKey: this.apiKey,
        baseURL: this.baseUrl,
        organization: this.env.OPENAI_ORG_ID ?? null,
        project: this.env.OPENAI_PROJECT_ID ?? null,
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
      const strict = strictSchema(req.schema);
      const res = await client.chat.completions.create(
        {
          model: this.settings.model,
          messages: [
            { role: 'system', content: req.system },
            { role: 'user', content: req.user },
          ],
          response_format: { type: 'json_schema', json_schema: { name: req.schemaName.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64), schema: strict.schema, strict: true } },
          max_completion_tokens: this.settings.maxTokens,
          temperature: this.settings.temperature,
        },
        { signal: d.signal, timeout: this.settings.timeoutMs },
      );
      const message = res.choices[0]?.message;
      // A refusal is not an answer: its text fails validation and the request escalates.
      const text = message?.content ?? message?.refusal ?? '';
      return {
        text: dropOptionalNulls(text, strict.optional),
        usage: { input_tokens: tokenCount('openai', 'usage.prompt_tokens', res.usage?.prompt_tokens), output_tokens: tokenCount('openai', 'usage.completion_tokens', res.usage?.completion_tokens) },
        model: `openai/${res.model || this.settings.model}`,
      };
    } catch (e) {
      throw toProviderError('openai', e, d, this.settings.timeoutMs, endpoint(this.baseUrl));
    }
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    const d = deadline(this.settings.timeoutMs);
    try {
      const client = await this.sdk();
      // Listing works on OpenAI and on the compatible servers, which do not all serve /models/{id}.
      const page = await client.models.list({ signal: d.signal });
      const ids = page.data.map((m) => m.id);
      if (ids.includes(this.settings.model)) return { ok: true, detail: `openai: model ${this.settings.model} is available at ${endpoint(this.baseUrl)}.` };
      return { ok: false, detail: `openai: ${endpoint(this.baseUrl)} answers but does not list model ${this.settings.model}${ids.length ? ` (it lists ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', ...' : ''})` : ''}.` };
    } catch (e) {
      return { ok: false, detail: toProviderError('openai', e, d, this.settings.timeoutMs, endpoint(this.baseUrl)).message };
    }
  }
}
