// The words of the policy language: the request fields a rule can test (with their types and
// where they live in Cedar), the detector findings, the environments and the categories.
// The compiler, the linter and the request normalizer all read these tables, so they cannot drift.

export type FieldType = 'String' | 'Long' | 'Decimal' | 'Boolean' | 'Set<String>';

export interface Field {
  /** The name policies use, e.g. `agent.trust`. */
  path: string;
  /** Cedar variable the value hangs off, and the attribute path below it. */
  base: 'principal' | 'resource' | 'context';
  attrs: string[];
  type: FieldType;
  /** A request may lack it: conditions on it are guarded with `has`. */
  optional: boolean;
  /** Declared by policies (resource.X, context.X) rather than built in. */
  custom?: boolean;
}

export const CATEGORIES = ['CREATE', 'MODIFY', 'DELETE', 'ACCESS', 'COMPLY'] as const;
export type Category = (typeof CATEGORIES)[number];
/** The Cedar action of a request whose category nobody could tell. Rules on a category never match it. */
export const UNCLASSIFIED = 'UNCLASSIFIED';

const builtin = (path: string, base: Field['base'], attrs: string[], type: FieldType, optional: boolean): Field => ({
  path, base, attrs, type, optional,
});

/** Fields every request has (filled with defaults by normalization) or may have. */
export const BUILTIN_FIELDS: ReadonlyMap<string, Field> = new Map(
  [
    builtin('agent.id', 'principal', ['name'], 'String', false),
    builtin('agent.team', 'principal', ['team'], 'String', true),
    builtin('agent.trust', 'principal', ['trust'], 'Long', false),
    builtin('resource.type', 'resource', ['type'], 'String', false),
    builtin('resource.id', 'resource', ['id'], 'String', false),
    builtin('resource.path', 'resource', ['path'], 'String', true),
    builtin('resource.basename', 'resource', ['basename'], 'String', true),
    builtin('resource.namespace', 'resource', ['namespace'], 'String', true),
    builtin('resource.classification', 'resource', ['classification'], 'String', true),
    builtin('action', 'context', ['action'], 'String', false),
    builtin('environment', 'context', ['environment'], 'String', false),
    builtin('namespace', 'context', ['namespace'], 'String', true),
    builtin('command', 'context', ['command'], 'String', true),
    builtin('hour', 'context', ['hour'], 'Long', false),
    builtin('risk', 'context', ['risk'], 'String', true),
    builtin('cost.usd', 'context', ['cost', 'usd'], 'Decimal', false),
    builtin('cost.tokens', 'context', ['cost', 'tokens'], 'Long', false),
    builtin('budget.used_pct', 'context', ['budget', 'used_pct'], 'Long', false),
    builtin('budget.exceeded', 'context', ['budget', 'exceeded'], 'Boolean', false),
  ].map((f) => [f.path, f]),
);

/** Short names that mean a longer field. */
export const FIELD_ALIASES: Readonly<Record<string, string>> = { trust: 'agent.trust' };

/** Prefixes under which a policy may name its own attributes (typed by how they are used). */
export const CUSTOM_PREFIXES = { 'resource.': 'resource', 'context.': 'context' } as const;

/** The field `category` is not an attribute but the Cedar action group. */
export const CATEGORY_FIELD = 'category';

/** Cedar keywords that cannot follow a dot; such attributes are written `x["name"]`. */
export const CEDAR_RESERVED = new Set([
  'true', 'false', 'if', 'then', 'else', 'in', 'is', 'like', 'has', 'principal', 'action', 'resource', 'context',
  'permit', 'forbid', 'when', 'unless', '__cedar',
]);

export const ENVIRONMENT_ALIASES: Readonly<Record<string, string>> = {
  prod: 'production', prd: 'production', production: 'production', live: 'production',
  stage: 'staging', stg: 'staging', staging: 'staging', preprod: 'staging',
  dev: 'dev', development: 'dev', local: 'dev',
  test: 'test', testing: 'test', qa: 'test', ci: 'test',
};

export function normalizeEnvironment(name: string): string {
  const k = name.trim().toLowerCase();
  return ENVIRONMENT_ALIASES[k] ?? k;
}

export const FINDING_CLASSES = ['secret', 'pii', 'destructive', 'injection', 'evasion'] as const;
export type FindingClass = (typeof FINDING_CLASSES)[number];

/** Detector kinds and the class each belongs to. `detected: secret` matches every secret kind. */
export const FINDING_KINDS: Readonly<Record<string, FindingClass>> = {
  'aws-access-key': 'secret',
  'aws-secret-key': 'secret',
  'anthropic-api-key': 'secret',
  'openai-api-key': 'secret',
  'google-api-key': 'secret',
  'github-token': 'secret',
  'gitlab-token': 'secret',
  'slack-token': 'secret',
  'stripe-key': 'secret',
  'npm-token': 'secret',
  'jwt': 'secret',
  'private-key': 'secret',
  'connection-string': 'secret',
  'generic-secret': 'secret',
  'ssn': 'pii',
  'credit-card': 'pii',
  'email': 'pii',
  'phone-number': 'pii',
  'iban': 'pii',
  'rm-recursive': 'destructive',
  'rm-root': 'destructive',
  'disk-wipe': 'destructive',
  'chmod-recursive': 'destructive',
  'sql-drop': 'destructive',
  'sql-truncate': 'destructive',
  'sql-unbounded-write': 'destructive',
  'terraform-destroy': 'destructive',
  'kubectl-delete': 'destructive',
  'kubectl-delete-namespace': 'destructive',
  'helm-uninstall': 'destructive',
  'git-force-push': 'destructive',
  'git-force-push-protected': 'destructive',
  'git-reset-hard': 'destructive',
  'cloud-delete': 'destructive',
  'rm-system': 'destructive',
  'system-overwrite': 'destructive',
  'git-clean': 'destructive',
  'git-discard': 'destructive',
  'git-branch-force': 'destructive',
  'container-delete': 'destructive',
  'service-stop': 'destructive',
  'http-delete': 'destructive',
  'resource-delete': 'destructive',
  'sql-grant-all': 'destructive',
  'package-publish': 'destructive',
  'prompt-injection': 'injection',
  'prompt-injection-suspected': 'injection',
  // What cannot be judged as written: a path above its root, a command built at run time, a command
  // the shell parser cannot read or the detectors do not read to the end (nested too deep, too long).
  'path-traversal': 'evasion',
  'dynamic-execution': 'evasion',
  'command-unparsed': 'evasion',
};

export function isKnownFinding(name: string): boolean {
  return name in FINDING_KINDS || (FINDING_CLASSES as readonly string[]).includes(name);
}

/** Every name a policy's `detected:` may use, for "did you mean". */
export function findingNames(): string[] {
  return [...FINDING_CLASSES, ...Object.keys(FINDING_KINDS)];
}

/** The finding set Cedar sees: each kind and the class it belongs to. */
export function expandFindings(kinds: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const k of kinds) {
    out.add(k);
    const c = FINDING_KINDS[k];
    if (c) out.add(c);
  }
  return [...out].sort();
}
