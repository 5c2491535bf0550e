/* Generated from schemas/config.schema.json by `npm run types`. Do not edit: change the schema. */

/**
 * govern.config.yaml: paths, budgets, the agent registry, cache and escalation settings. Secrets (API keys) never go here: they come from the environment.
 */
export interface GovernConfig {
  /**
   * Policy folder, relative to this file. Default: policies.
   */
  policies?: string;
  /**
   * The SQLite state file, relative to this file. Default: .govern/state.db.
   */
  state?: string;
  /**
   * normal survives a crash of govern; full also a power loss, at the cost of a disk flush per decision. Default: normal.
   */
  durability?: 'normal' | 'full';
  budgets?: Budgets;
  /**
   * The agent registry: an agent's team is taken from here, never from the request.
   */
  agents?: {
    [k: string]: AgentConfig;
  };
  cache?: {
    /**
     * Default: true.
     */
    enabled?: boolean;
    /**
     * How long a decision is reused for the same facts and policies. 0 turns caching off for that decision. Defaults: allow 3600, deny 3600, escalate 0.
     */
    ttl_seconds?: {
      allow?: number;
      deny?: number;
      escalate?: number;
    };
  };
  escalations?: {
    /**
     * How long a human's approval of a request stays valid. Default: 24.
     */
    approval_ttl_hours?: number;
  };
}
/**
 * Per agent. Defaults: $5 and 100,000 tokens a day, $1 and 20,000 tokens an hour.
 */
export interface Budgets {
  day?: Limit;
  hour?: Limit;
}
export interface Limit {
  usd?: number;
  tokens?: number;
}
export interface AgentConfig {
  /**
   * The namespace this agent owns.
   */
  team?: string;
  budgets?: Budgets;
}
