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
   * The SQLite state file, relative to this file, or a postgres:// URL for state shared by several hosts (the password may come from PGPASSWORD). Default: .govern/state.db.
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
    /**
     * How long an escalation waits for a human; unanswered after that, it counts as a deny and the agent asks again. Default: 24.
     */
    pending_ttl_hours?: number;
    /**
     * How long a human's deny of a request is remembered and answered without asking again. 0 forgets it at once. Default: 24.
     */
    deny_ttl_hours?: number;
  };
  /**
   * The people who may approve or deny escalations and report outcomes that raise trust. Without it, nobody can.
   */
  approvers?: Approver[];
  /**
   * Who hears of a new escalation: a command, a webhook, or both.
   */
  notify?: {
    /**
     * Run with sh -c on each new escalation; it reads the escalation as JSON on stdin, and GOVERN_ESCALATION_ID and GOVERN_APPROVE_COMMAND from its environment.
     */
    command?: string;
    /**
     * POSTed the escalation as JSON on each new escalation.
     */
    webhook?: string;
    /**
     * How long a command or webhook may take. Default 5000.
     */
    timeout_ms?: number;
  };
  /**
   * How outcomes and detector findings move an agent's trust (0-100).
   */
  trust?: {
    /**
     * Trust change per reported outcome. Defaults: success 2, failure -2, exception -3, violation -5.
     */
    outcomes?: {
      success?: number;
      failure?: number;
      exception?: number;
      violation?: number;
    };
    /**
     * Trust lost when a request is denied with detector findings, per finding kind (the largest loss applies), and `default` for any other kind. Default: default 3. 0 turns a kind off.
     */
    findings?: {
      [k: string]: number;
    };
    /**
     * Names (besides the approvers) that may report outcomes that raise trust, with `govern trust record --as NAME`, e.g. a CI job.
     */
    reporters?: string[];
  };
  /**
   * Language models. None is configured by default: then nothing calls a model, and requests no rule decides escalate to a human.
   */
  models?: {
    large?: Model;
    small?: Model1;
  };
  router?: {
    /**
     * Below this the built-in router's answer counts as unclear (default 0.6).
     */
    min_confidence?: number;
  };
  /**
   * Settings of the detectors.
   */
  detectors?: {
    /**
     * The prompt-injection detector.
     */
    injection?: {
      model?: GuardModel;
    };
  };
  /**
   * Online A/B: a sample of the requests the cache or a distilled rule decided is also sent to models.large, without waiting for it; its answers are kept in the state file, where replay --ledger, stats and distill read them.
   */
  shadow?: {
    /**
     * Share of those requests to ask the model about (default 0: off).
     */
    sample?: number;
  };
  /**
   * Run from a built bundle (govern build) instead of the policy folder, and the keys its signature must verify against.
   */
  bundle?: {
    /**
     * The bundle file to decide with, relative to this file (as --bundle). Default: none, the policy folder is compiled.
     */
    file?: string;
    /**
     * Ed25519 public keys (PEM files, relative to this file). When any is listed, a bundle must carry a signature by one of them; an unsigned bundle is refused.
     */
    public_keys?: string[];
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
export interface Approver {
  /**
   * The name recorded with an approval. Never an agent id.
   */
  name: string;
  /**
   * The OS user names this approver runs govern as. Without it, the approver's name is the OS user name; an empty list lets only `--as NAME` (CI) act for this approver.
   */
  os_users?: string[];
}
/**
 * Decides what the rules and the router leave open.
 */
export interface Model {
  provider: 'anthropic' | 'openai' | 'ollama' | 'replay';
  /**
   * The model's name at the provider (required except for replay).
   */
  model?: string;
  /**
   * An OpenAI-compatible server, a proxy, or where Ollama listens.
   */
  base_url?: string;
  /**
   * The environment variable that holds the API key (default ANTHROPIC_API_KEY or OPENAI_API_KEY). Keys never go in this file.
   */
  api_key_env?: string;
  /**
   * Default 20000.
   */
  timeout_ms?: number;
  /**
   * Default 512.
   */
  max_tokens?: number;
  /**
   * Default 0.
   */
  temperature?: number;
  /**
   * For replay: the decision records (JSON Lines) to answer from, relative to this file.
   */
  file?: string;
}
/**
 * Optional: classifies free text when the built-in router is unsure.
 */
export interface Model1 {
  provider: 'anthropic' | 'openai' | 'ollama' | 'replay';
  /**
   * The model's name at the provider (required except for replay).
   */
  model?: string;
  /**
   * An OpenAI-compatible server, a proxy, or where Ollama listens.
   */
  base_url?: string;
  /**
   * The environment variable that holds the API key (default ANTHROPIC_API_KEY or OPENAI_API_KEY). Keys never go in this file.
   */
  api_key_env?: string;
  /**
   * Default 20000.
   */
  timeout_ms?: number;
  /**
   * Default 512.
   */
  max_tokens?: number;
  /**
   * Default 0.
   */
  temperature?: number;
  /**
   * For replay: the decision records (JSON Lines) to answer from, relative to this file.
   */
  file?: string;
}
/**
 * Optional: a guard model that also reads every text the shipped classifier and the patterns do not flag. An unsafe verdict, an answer that is not a verdict, or no answer at all adds a prompt-injection-suspected finding; it never removes one. Not called unless set.
 */
export interface GuardModel {
  /**
   * Where the guard model runs: a local Ollama server.
   */
  provider: 'ollama';
  /**
   * The guard model's name at the server, e.g. llama-guard3. It must answer `safe` or `unsafe` (Llama Guard's format).
   */
  model: string;
  /**
   * Where Ollama listens (default OLLAMA_HOST, else http://127.0.0.1:11434).
   */
  base_url?: string;
  /**
   * Default 20000. A call that takes longer counts as no answer: the text is suspected.
   */
  timeout_ms?: number;
}
