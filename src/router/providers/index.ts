// The provider named by the model settings. Keys come from the environment only; the SDKs are
// loaded on a provider's first call, not here, so building a provider costs nothing.
import { ProviderError, type ModelSettings, type Provider } from '../provider.js';
import { AnthropicProvider, missingKey } from './anthropic.js';
import { OllamaProvider } from './ollama.js';
import { OpenAIProvider } from './openai.js';
import { ReplayProvider } from './replay.js';

export { AnthropicProvider } from './anthropic.js';
export { OllamaProvider } from './ollama.js';
export { OpenAIProvider } from './openai.js';
export { ReplayProvider, loadRecordings, replayKey } from './replay.js';

/** Where each hosted provider's API key is read from, unless the settings name another variable. */
export const KEY_VARIABLE = { anthropic: 'ANTHROPIC_API_KEY', openai: 'OPENAI_API_KEY' } as const;

/**
 * A provider for these settings. Throws ProviderError('not-configured') when the settings cannot
 * work: no API key in the environment, no model name, no records file for replay.
 */
export function createProvider(settings: ModelSettings, env: NodeJS.ProcessEnv = process.env): Provider {
  const { provider } = settings;
  if (provider !== 'replay' && !settings.model) throw new ProviderError('not-configured', `${provider}: no model name: set \`model\` in the model settings.`);
  switch (provider) {
    case 'anthropic':
    case 'openai': {
      const variable = settings.apiKeyEnv ?? KEY_VARIABLE[provider];
      const key = env[variable]?.trim();
      if (!key) throw missingKey(provider, variable);
      return provider === 'anthropic' ? new AnthropicProvider(settings, key) : new OpenAIProvider(settings, key, env);
    }
    case 'ollama':
      return new OllamaProvider(settings, env);
    case 'replay':
      return new ReplayProvider(settings);
    default:
      throw new ProviderError('not-configured', `unknown model provider ${JSON.stringify(provider)}: use anthropic, openai, ollama or replay.`);
  }
}
