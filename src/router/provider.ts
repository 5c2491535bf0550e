// The one interface every model provider implements (Anthropic, OpenAI and OpenAI-compatible
// servers, Ollama, and replay of recorded decisions). The router/ folder is the only home of the
// model SDKs. A provider returns the model's raw answer and the provider's own usage figures;
// it never decides anything itself, and every failure is a ProviderError with a kind, which the
// pipeline turns into escalate.
import type { Code } from '../diagnostics/codes.js';
import type { Request } from '../request/normalize.js';

/** The start of the reason the runtime gives when the model failed; such a decision is no judgement. */
export const MODEL_FAILURE = 'the model could not decide';
/** The code on that reason, which is what readers of records test (not the text). */
export const MODEL_FAILURE_CODE = 'decision/model-failure' satisfies Code;

/** Under this confidence a model's decision is neither cached nor evidence (the decision prompt asks it to escalate then). */
export const LOW_CONFIDENCE = 0.7;

export type ProviderName = 'anthropic' | 'openai' | 'ollama' | 'replay';

export interface ModelSettings {
  provider: ProviderName;
  /** Model name as the provider knows it (for replay: a label). */
  model: string;
  /** For OpenAI-compatible servers, Ollama, or a proxy. */
  baseUrl?: string;
  timeoutMs: number;
  maxTokens: number;
  temperature: number;
  /** For replay: the decision records file (JSON Lines). */
  file?: string;
  /** Name of the environment variable holding the API key (never the key itself). */
  apiKeyEnv?: string;
}

export interface ModelRequest {
  /** The instructions (a prompt from prompts/, never request data). */
  system: string;
  /** The request, quoted as data. */
  user: string;
  /** JSON Schema the answer must match; providers use their structured-output feature with it. */
  schema: Record<string, unknown>;
  schemaName: string;
  /** The normalized request, for providers that answer from records (replay). */
  request: Request;
  signal?: AbortSignal;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

export interface ModelResponse {
  /** The model's answer as text (expected to be JSON matching the schema). */
  text: string;
  usage: Usage;
  /** `provider/model` as the provider reports it. */
  model: string;
}

export type ProviderErrorKind = 'timeout' | 'rate-limit' | 'server' | 'connection' | 'auth' | 'bad-request' | 'invalid-output' | 'no-recording' | 'not-configured' | 'other';

export class ProviderError extends Error {
  constructor(readonly kind: ProviderErrorKind, message: string, readonly status?: number, readonly usage?: Usage) {
    super(message);
  }
}

export interface Provider {
  readonly settings: ModelSettings;
  /** One completion. Rejects with ProviderError only. */
  complete(req: ModelRequest): Promise<ModelResponse>;
  /** A cheap call that shows the provider answers (for `govern providers check`). */
  check(): Promise<{ ok: boolean; detail: string }>;
}
