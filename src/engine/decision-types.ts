/* Generated from schemas/decision.schema.json by `npm run types`. Do not edit: change the schema. */

/**
 * What govern answers (DESIGN.md 'Decision'). Detector findings carry a kind, never the value.
 */
export interface Decision {
  decision: 'allow' | 'deny' | 'escalate';
  /**
   * 0 auto-approve, 1 approve with audit, 2 human approval, 3 deny
   */
  tier: number;
  reasons: Reason[];
  warnings: Warning[];
  facts: {
    category: string;
    risk?: string;
    detectors: string[];
    /**
     * the agent's trust when decided (the lower of the state's and the request's)
     */
    trust?: number;
    /**
     * the agent's team (from the agents registry when the agent is listed)
     */
    team?: string;
    /**
     * hour of day, UTC
     */
    hour?: number;
    /**
     * the share of the agent's tightest budget this request would use, and whether it would pass one
     */
    budget?: {
      used_pct: number;
      exceeded: boolean;
    };
  };
  route: 'cache' | 'rules' | 'router' | 'model' | 'default';
  tokens: {
    input: number;
    output: number;
  };
  policy: {
    /**
     * sha256 of the compiled bundle
     */
    hash: string;
  };
  /**
   * the decision's id in the ledger
   */
  id?: string;
  /**
   * the model's own confidence in its answer (route model only); under 0.7 the decision is neither cached nor distilled
   */
  confidence?: number;
  elapsed_ms: number;
  /**
   * on an escalate decision recorded in the state file: the escalation awaiting a human. Poll or wait for it (MCP escalation_status, wait_for_approval; govern eval --wait); an unanswered escalation past expires_at counts as a deny
   */
  escalation?: {
    /**
     * escalation id, for govern escalations approve ID
     */
    id: string;
    /**
     * ISO time after which an unanswered escalation is a deny
     */
    expires_at: string;
  };
}
export interface Reason {
  /**
   * the rule id; null when no rule decided (a model, a human's approval, the default)
   */
  rule: string | null;
  effect: string;
  message: string;
  /**
   * file:line:col of the YAML rule
   */
  source?: string;
  /**
   * a catalogue code (README's code table) when govern itself gave the reason, e.g. decision/model-failure
   */
  code?: string;
}
export interface Warning {
  rule: string;
  message: string;
  source?: string;
}
