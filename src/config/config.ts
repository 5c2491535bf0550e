// govern.config.yaml: found by walking up from the working directory (or given with --config),
// checked against schemas/config.schema.json, and resolved to absolute paths and defaults.
// A bad config is an error with its file, line and column, like a bad policy.
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { fileDiag, sortDiagnostics } from '../diagnostics/diagnostic.js';
import type { SourceFile } from '../policy/source.js';
import { BUILD } from '../version.js';
import { cachePath, readSealed, writeSealed } from '../cache/sealed.js';
import type { ModelSettings } from '../router/provider.js';
import type { Budgets, GovernConfig, GuardModel, Model } from './config-types.js';
import type { GuardSettings } from '../router/providers/guard.js';
import { ConfigError } from './error.js';

export { ConfigError } from './error.js';

export type TrustEvent = 'success' | 'failure' | 'exception' | 'violation';
/** DESIGN.md's trust moves per outcome, unless `trust.outcomes` says otherwise. */
export const DEFAULT_OUTCOME_DELTAS: Record<TrustEvent, number> = { success: 2, failure: -2, exception: -3, violation: -5 };
/** Trust lost for a request denied with detector findings, unless `trust.findings` says otherwise. */
export const DEFAULT_FINDING_LOSS = 3;

/** A person who may approve escalations; `osUsers` undefined means the name is the OS user name. */
export interface Approver { name: string; osUsers?: string[] }

export const CONFIG_FILE = 'govern.config.yaml';

export interface Limits { usd: number; tokens: number }

export interface Config {
  /** The config file, if one was found. */
  file?: string;
  /** The folder paths are relative to: the config's folder, else the working directory. */
  root: string;
  policies: string;
  state: string;
  durability: 'normal' | 'full';
  budgets: { day: Limits; hour: Limits };
  agents: Record<string, { team?: string; budgets: { day: Limits; hour: Limits } }>;
  cache: { enabled: boolean; ttl: { allow: number; deny: number; escalate: number } };
  approvalTtlHours: number;
  /** How long an escalation waits for a human before it counts as a deny. */
  pendingTtlHours: number;
  /** How long a human's deny of a request is remembered (0: not at all). */
  denyTtlHours: number;
  /** Who may approve, deny and report outcomes that raise trust. */
  approvers: Approver[];
  notify: { command?: string; webhook?: string; timeoutMs: number };
  trust: { outcomes: Record<TrustEvent, number>; findings: Record<string, number>; reporters: string[] };
  models: { large?: ModelSettings; small?: ModelSettings };
  router: { minConfidence: number };
  /** The injection detector's optional guard model. */
  detectors: { injection: { model?: GuardSettings } };
  /** Online A/B: the share of cache and distilled-rule decisions also put to the large model. */
  shadow: { sample: number };
  /** A built bundle to decide with instead of the policy folder, and the public keys (PEM files) its signature must verify against. */
  bundle: { file?: string; publicKeys: string[] };
}

export const DEFAULT_BUDGETS = { day: { usd: 5, tokens: 100_000 }, hour: { usd: 1, tokens: 20_000 } };

function model(m: Model | undefined, root: string): ModelSettings | undefined {
  if (!m) return undefined;
  return {
    provider: m.provider,
    model: m.model ?? (m.provider === 'replay' ? 'replay' : ''),
    ...(m.base_url ? { baseUrl: m.base_url } : {}),
    ...(m.api_key_env ? { apiKeyEnv: m.api_key_env } : {}),
    ...(m.file ? { file: resolve(root, m.file) } : {}),
    timeoutMs: m.timeout_ms ?? 20_000,
    maxTokens: m.max_tokens ?? 512,
    temperature: m.temperature ?? 0,
  };
}

function guardSettings(m: GuardModel): GuardSettings {
  return { provider: m.provider, model: m.model, ...(m.base_url ? { baseUrl: m.base_url } : {}), timeoutMs: m.timeout_ms ?? 20_000 };
}

/** The nearest govern.config.yaml at or above `from`. */
export function findConfig(from = process.cwd()): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const p = join(dir, CONFIG_FILE);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function budgets(b: Budgets | undefined, base: { day: Limits; hour: Limits }): { day: Limits; hour: Limits } {
  return {
    day: { usd: b?.day?.usd ?? base.day.usd, tokens: b?.day?.tokens ?? base.day.tokens },
    hour: { usd: b?.hour?.usd ?? base.hour.usd, tokens: b?.hour?.tokens ?? base.hour.tokens },
  };
}

/** A state file resolved against `root`; a postgres:// URL as it is. */
export function resolveState(root: string, state: string): string {
  return /^postgres(ql)?:\/\//i.test(state) ? state : resolve(root, state);
}

/** Resolves a parsed config; `file` is where it came from, if anywhere. */
export function resolveConfig(raw: GovernConfig, file: string | undefined, cwd = process.cwd()): Config {
  const root = file ? dirname(resolve(file)) : resolve(cwd);
  const base = budgets(raw.budgets, DEFAULT_BUDGETS);
  const agents: Config['agents'] = {};
  for (const [id, a] of Object.entries(raw.agents ?? {})) {
    agents[id] = { ...(a.team !== undefined ? { team: a.team } : {}), budgets: budgets(a.budgets, base) };
  }
  return {
    ...(file ? { file: resolve(file) } : {}),
    root,
    policies: resolve(root, raw.policies ?? 'policies'),
    state: resolveState(root, raw.state ?? '.govern/state.db'),
    durability: raw.durability ?? 'normal',
    budgets: base,
    agents,
    cache: {
      enabled: raw.cache?.enabled ?? true,
      ttl: { allow: raw.cache?.ttl_seconds?.allow ?? 3600, deny: raw.cache?.ttl_seconds?.deny ?? 3600, escalate: raw.cache?.ttl_seconds?.escalate ?? 0 },
    },
    approvalTtlHours: raw.escalations?.approval_ttl_hours ?? 24,
    pendingTtlHours: raw.escalations?.pending_ttl_hours ?? 24,
    denyTtlHours: raw.escalations?.deny_ttl_hours ?? 24,
    approvers: (raw.approvers ?? []).map((a) => ({ name: a.name, ...(a.os_users ? { osUsers: a.os_users } : {}) })),
    notify: { ...(raw.notify?.command ? { command: raw.notify.command } : {}), ...(raw.notify?.webhook ? { webhook: raw.notify.webhook } : {}), timeoutMs: raw.notify?.timeout_ms ?? 5000 },
    trust: {
      outcomes: { ...DEFAULT_OUTCOME_DELTAS, ...(raw.trust?.outcomes ?? {}) },
      findings: { default: DEFAULT_FINDING_LOSS, ...(raw.trust?.findings ?? {}) },
      reporters: raw.trust?.reporters ?? [],
    },
    models: {
      ...(raw.models?.large ? { large: model(raw.models.large, root) } : {}),
      ...(raw.models?.small ? { small: model(raw.models.small, root) } : {}),
    },
    router: { minConfidence: raw.router?.min_confidence ?? 0.6 },
    detectors: { injection: raw.detectors?.injection?.model ? { model: guardSettings(raw.detectors.injection.model) } : {} },
    shadow: { sample: raw.shadow?.sample ?? 0 },
    bundle: {
      ...(raw.bundle?.file ? { file: resolve(root, raw.bundle.file) } : {}),
      publicKeys: (raw.bundle?.public_keys ?? []).map((k) => resolve(root, k)),
    },
  };
}

/** The configuration in effect: --config, else the nearest govern.config.yaml, else defaults. */
export async function loadConfig(explicit?: string, cwd = process.cwd()): Promise<Config> {
  const path = explicit ? resolve(cwd, explicit) : findConfig(cwd);
  if (!path) return resolveConfig({}, undefined, cwd);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError([fileDiag(explicit ? '--config' : path, 'error', 'config/not-found', `${explicit ?? path} does not exist or cannot be read.`, 'Pass an existing file to --config, or run `govern init`.')]);
  }
  // The checked form is cached by content, like the compiled bundle, sealed with the user's key.
  const cacheFile = cachePath('config', `${createHash('sha256').update(BUILD).update('\0').update(text).digest('hex').slice(0, 32)}.json`);
  const cached = cacheFile === undefined ? undefined : readSealed(cacheFile);
  if (cached !== undefined) {
    try {
      return resolveConfig(JSON.parse(cached) as GovernConfig, path, cwd);
    } catch {
      // written by a version that checked otherwise: check again
    }
  }
  const { parseConfig } = await import('./parse.js');
  const raw = parseConfig(path, text);
  if (cacheFile !== undefined) writeSealed(cacheFile, JSON.stringify(raw));
  return resolveConfig(raw, path, cwd);
}
