// Why a decision came out as it did, as data: each rule matched, unmet or skipped, the request's
// main fields, the facts and the detector findings (kind and redacted span, never the secret).
// `govern eval --explain` prints it; the library's `explain` returns it.
import type { RuleTrace } from '../engine/engine.js';
import type { Evaluation, Runtime } from './runtime.js';

export interface Explanation {
  rules: RuleTrace[];
  request: { agent: string; action: unknown; environment: unknown; resource: unknown };
  facts: { category: unknown; trust: unknown; team: unknown; hour: unknown; budget: unknown };
  findings: { kind: string; field: string; span: unknown; preview: unknown }[];
}

export function explanationData(ev: Evaluation, rt: Runtime): Explanation {
  return {
    rules: rt.engine.explain(ev.facts),
    request: { agent: ev.request.agent.id, action: ev.request.action, environment: ev.request.environment, resource: ev.request.resource },
    facts: { category: ev.facts.category, trust: ev.facts.trust, team: ev.facts.team ?? null, hour: ev.facts.hour, budget: ev.facts.budget },
    findings: ev.findings.map((f) => ({ kind: f.kind, field: f.field, span: f.span, preview: f.preview })),
  };
}
