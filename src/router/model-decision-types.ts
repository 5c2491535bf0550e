/* Generated from schemas/model-decision.schema.json by `npm run types`. Do not edit: change the schema. */

/**
 * What a model must answer when asked to decide a request. Anything else is invalid output and ends in escalate.
 */
export interface ModelDecision {
  decision: 'allow' | 'deny' | 'escalate';
  confidence: number;
  reason: string;
  category?: 'CREATE' | 'MODIFY' | 'DELETE' | 'ACCESS' | 'COMPLY';
  risk?: 'low' | 'medium' | 'high' | 'critical';
}
