/* Generated from schemas/request.schema.json by `npm run types`. Do not edit: change the schema. */

/**
 * What an agent asks (DESIGN.md 'Request'). Only agent and one of action, command or request are required; unknown top-level fields are refused.
 */
export interface RequestInput {
  /**
   * your id for this request
   */
  id?: string | number;
  /**
   * the agent that asks: its id, or {id, team, trust}
   */
  agent:
    | string
    | {
        id: string;
        team?: string;
        trust?: number;
      };
  /**
   * what it wants to do: a verb such as delete, write_file, deploy
   */
  action?: string;
  /**
   * else inferred from the command or the action
   */
  category?: 'CREATE' | 'MODIFY' | 'DELETE' | 'ACCESS' | 'COMPLY';
  /**
   * "type/id" (k8s:pod/web-1), "file:PATH", or {type, id, path, namespace, classification, ...attributes}
   */
  resource?:
    | string
    | {
        type?: string;
        id?: string | number;
        path?: string;
        namespace?: string;
        /**
         * public, internal, pii or secret
         */
        classification?: string;
        [k: string]: unknown;
      };
  /**
   * production (the default), staging, dev, test, or your own; prod, prd, stage, stg, development are normalized
   */
  environment?: string;
  /**
   * the namespace it acts in
   */
  namespace?: string;
  /**
   * the shell command it will run
   */
  command?: string;
  /**
   * text that leaves the agent; scanned for secrets and PII
   */
  content?: string;
  /**
   * free-text description of the intent, for the router
   */
  request?: string;
  /**
   * estimated cost
   */
  cost?: {
    usd?: number;
    tokens?: number;
  };
  /**
   * why the agent wants it
   */
  justification?: string;
  /**
   * other attributes the policies may test (has_backup, change_ticket, ...)
   */
  context?: {
    [k: string]: unknown;
  };
}
