// The large model as the runtime consults it: for a request that cache, rules and router left
// open, build the decision prompt (the request redacted and quoted as data), ask, and turn the
// validated answer into a Decision. Any failure (timeout, rate limit, server or connection error,
// invalid output twice, a missing key) ends in escalate with the cause in the reasons; the model
// is only ever asked when no rule matched, so its allow can never override a deny or escalate.
import type { Decision } from '../engine/engine.js';
import { MODEL_FAILURE, MODEL_FAILURE_CODE } from '../router/provider.js';
import { redactRequest } from '../request/detectors/index.js';
import type { ModelSettings, Provider } from '../router/provider.js';
import type { AdvisorInput, Intent, ModelAdvisor, ModelOutcome, SmallRouter } from './pending.js';

const TIER = { allow: 1, escalate: 2, deny: 3 } as const;

/** A provider's message as a sentence: ending in one full stop (or its own ? or !), never doubled. */
function sentence(message: string): string {
  const m = message.trim();
  return /[.!?]$/.test(m) ? m : `${m}.`;
}

/**
 * A decision made by a cache, a rule or the record, as the model is asked about it (shadow mode,
 * `replay --live`): as if no rule had decided, so that the model judges the request afresh.
 */
export function asUndecided(decision: Decision): Decision {
  return {
    ...decision,
    decision: 'escalate',
    tier: 2,
    reasons: [{ rule: null, effect: 'escalate', message: 'No rule decided this request.' }],
    route: 'default',
    tokens: { input: 0, output: 0 },
  };
}

export function makeAdvisor(settings: ModelSettings): ModelAdvisor {
  let provider: Provider | undefined;
  const label = `${settings.provider}/${settings.model}`;
  return async (p: AdvisorInput): Promise<ModelOutcome> => {
    const t0 = performance.now();
    const base = p.undecided;
    const { ProviderError } = await import('../router/provider.js');
    try {
      const { createProvider } = await import('../router/providers/index.js');
      const { askModel, buildDecisionPrompt } = await import('../router/model.js');
      provider ??= createProvider(settings);
      const request = redactRequest(p.request, p.findings);
      const { system, user } = buildDecisionPrompt({
        ...p.facts,
        request,
        findings: p.facts.findings,
        warnings: base.warnings.map((w) => w.message),
        ...(p.intent ? { intent: p.intent } : {}),
      });
      const { answer, usage, model } = await askModel(provider, system, user, request);
      const decision: Decision = {
        ...base,
        decision: answer.decision,
        // A model's allow is approved with audit (tier 1), never silently.
        tier: TIER[answer.decision],
        reasons: [{ rule: null, effect: answer.decision, message: `${model}: ${answer.reason}` }],
        route: 'model',
        tokens: { input: usage.input_tokens, output: usage.output_tokens },
        confidence: answer.confidence,
        facts: { ...base.facts, ...(answer.risk && !base.facts.risk ? { risk: answer.risk } : {}) },
      };
      return { decision, model, usage, failed: false, elapsedMs: performance.now() - t0 };
    } catch (e) {
      const kind = e instanceof ProviderError ? e.kind : 'internal error';
      const usage = e instanceof ProviderError && e.usage ? e.usage : null;
      const decision: Decision = {
        ...base,
        decision: 'escalate',
        tier: 2,
        reasons: [{ rule: null, effect: 'escalate', code: MODEL_FAILURE_CODE, message: `${MODEL_FAILURE} (${kind}): ${sentence((e as Error).message)} A human decides.` }],
        route: 'model',
        tokens: { input: usage?.input_tokens ?? 0, output: usage?.output_tokens ?? 0 },
      };
      return { decision, model: label, usage, failed: true, elapsedMs: performance.now() - t0 };
    }
  };
}

/** The small model as an intent classifier, for requests the built-in router could not place. Never throws. */
export function makeClassifier(settings: ModelSettings, minConfidence: number): SmallRouter {
  let provider: Provider | undefined;
  return async (p) => {
    try {
      const { createProvider } = await import('../router/providers/index.js');
      const { askStructured, loadPrompt, quoteData, INTENT_SCHEMA } = await import('../router/model.js');
      provider ??= createProvider(settings);
      const redacted = redactRequest(p.request, p.findings);
      const { id: _id, ...request } = redacted;
      const user = `${quoteData('Classify the request below.', { request })}\n\nAnswer with one JSON object that matches the answer schema, and nothing else.`;
      // The answer matches schemas/intent.schema.json: the built-in router's Intent, environment and resource kind optional.
      type Answer = Pick<Intent, 'category' | 'risk' | 'confidence'> & Partial<Pick<Intent, 'environment' | 'resource_kind'>>;
      const { answer, usage, model } = await askStructured<Answer>(provider, { system: loadPrompt('intent-router'), user, request: redacted, schema: INTENT_SCHEMA });
      const intent: Intent = {
        category: answer.category, risk: answer.risk, environment: answer.environment ?? null, resource_kind: answer.resource_kind ?? null,
        confidence: answer.confidence, unclear: answer.confidence < minConfidence || !answer.category, signals: [`small model ${model}`],
      };
      return { intent, usage, model };
    } catch {
      return undefined;
    }
  };
}
