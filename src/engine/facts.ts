// Facts: what the policies can see of a request once detectors and state have spoken, and their
// translation into the Cedar request (principal, action, resource, context, entities). The request
// is already canonical (request/canonical.ts); the facts add what is derived from it: every
// category it has (the action, the command, the resource and the stated one) and the findings the
// canonical form carries by itself (`path-traversal`).
import type { Bundle } from '../compile/bundle.js';
import type { CedarRequest, CedarValue } from '../cedar/cedar.js';
import { expandFindings, UNCLASSIFIED, type Category, type FieldType } from '../policy/vocabulary.js';
import { identifier, isTraversal } from '../request/canonical.js';
import { categoriesOf } from '../request/category.js';
import type { Request } from '../request/normalize.js';

export const DEFAULT_TRUST = 40;

export interface Facts {
  request: Request;
  /** The most consequential of `categories`; UNCLASSIFIED when there is none. */
  category: Category | typeof UNCLASSIFIED;
  /**
   * Every category the request has, most consequential first. A deny or escalate rule on any of
   * them applies; an allow rule applies only when it matches all of them. Empty (or absent) means
   * `[category]`.
   */
  categories?: Category[];
  /** Detector kinds found in the request. */
  findings: string[];
  trust: number;
  team?: string;
  hour: number;
  risk?: string;
  budget: { used_pct: number; exceeded: boolean };
}

export interface FactInputs {
  findings?: string[];
  trust?: number;
  team?: string;
  hour?: number;
  risk?: string;
  budget?: { used_pct?: number; exceeded?: boolean };
}

/** Facts from a request and what detectors and state supplied. A request may lower its trust, never raise it. */
export function factsOf(request: Request, inputs: FactInputs = {}): Facts {
  const stateTrust = inputs.trust ?? DEFAULT_TRUST;
  const trust = request.agent.trust !== undefined ? Math.min(request.agent.trust, stateTrust) : stateTrust;
  const categories = categoriesOf(request);
  const findings = new Set(inputs.findings ?? []);
  if (typeof request.resource.path === 'string' && isTraversal(request.resource.path)) findings.add('path-traversal');
  const f: Facts = {
    request,
    category: categories[0] ?? UNCLASSIFIED,
    categories,
    findings: [...findings].sort(),
    trust,
    hour: inputs.hour ?? new Date().getUTCHours(),
    // A share of a budget is a whole percentage; past a million percent it says nothing more.
    budget: { used_pct: Math.min(Math.max(Math.trunc(inputs.budget?.used_pct ?? 0), 0), MAX_PCT), exceeded: inputs.budget?.exceeded ?? false },
  };
  // A team from the registry is compared as the request's namespace is: in canonical form.
  const team = inputs.team ?? request.agent.team;
  if (team !== undefined) f.team = identifier(team, 'agent.team');
  if (inputs.risk !== undefined) f.risk = inputs.risk;
  return f;
}

const MAX_DECIMAL = 922337203685477;
const MAX_PCT = 1_000_000;

/** The categories the rules are asked about: every one the facts have, or their single category. */
export function categoriesFor(f: Facts): string[] {
  return f.categories?.length ? f.categories : [f.category];
}

/** A path or basename with upper-case letters: deny and escalate rules are also tried on its lower case. */
export function hasUpperPath(f: Facts): boolean {
  const p = f.request.resource.path;
  return typeof p === 'string' && p !== p.toLowerCase();
}

/** A value in the Cedar type the schema declares, or undefined when it does not fit (then it counts as missing). */
function coerce(v: unknown, t: FieldType): CedarValue | undefined {
  switch (t) {
    case 'String': return typeof v === 'string' ? v : undefined;
    case 'Long': return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
    case 'Boolean': return typeof v === 'boolean' ? v : undefined;
    case 'Decimal': return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) < MAX_DECIMAL ? decimal(v) : undefined;
    case 'Set<String>': return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  }
}

function decimal(n: number): CedarValue {
  return { __extn: { fn: 'decimal', arg: n.toFixed(4) } };
}

function basename(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? '';
}

/**
 * The Cedar request for the facts, asked about one `category` (default: the facts' own). With
 * `lowerPath`, the resource's path, basename and id are given in lower case: the form deny and
 * escalate rules are matched on too, so that `SECRETS/db.yaml` meets a rule on `secrets/**`.
 */
export function cedarRequest(f: Facts, bundle: Bundle, opts: { category?: string; lowerPath?: boolean } = {}): CedarRequest {
  const r = opts.lowerPath ? lowerPathRequest(f.request) : f.request;
  const agentAttrs: Record<string, CedarValue> = { name: r.agent.id, trust: f.trust };
  if (f.team !== undefined) agentAttrs.team = f.team;
  const res: Record<string, CedarValue> = { type: r.resource.type, id: r.resource.id };
  for (const k of ['path', 'namespace', 'classification'] as const) {
    const v = r.resource[k];
    if (typeof v === 'string') res[k] = v;
  }
  if (typeof r.resource.path === 'string') res.basename = basename(r.resource.path);
  for (const [k, t] of bundle.resourceAttrs) {
    if (k in res && ['type', 'id', 'path', 'namespace', 'classification', 'basename'].includes(k)) continue;
    const v = coerce(r.resource[k], t);
    if (v !== undefined) res[k] = v;
  }
  const attrs: Record<string, CedarValue> = {};
  for (const [k, t] of bundle.contextAttrs) {
    const v = coerce(r.context[k], t);
    if (v !== undefined) attrs[k] = v;
  }
  const context: Record<string, CedarValue> = {
    action: r.action,
    environment: r.environment,
    hour: f.hour,
    cost: { usd: decimal(Math.min(r.cost.usd, MAX_DECIMAL - 1)), tokens: Math.min(r.cost.tokens, Number.MAX_SAFE_INTEGER) },
    budget: { used_pct: f.budget.used_pct, exceeded: f.budget.exceeded },
    findings: expandFindings(f.findings),
    attrs,
  };
  if (r.namespace !== undefined) context.namespace = r.namespace;
  if (r.command !== undefined) context.command = r.command;
  if (f.risk !== undefined) context.risk = f.risk;
  const principal = { type: 'Agent', id: r.agent.id };
  const resource = { type: 'Resource', id: `${r.resource.type}/${r.resource.id}` };
  return {
    principal,
    action: { type: 'Action', id: opts.category ?? f.category },
    resource,
    context,
    entities: [
      { uid: principal, attrs: agentAttrs, parents: [] },
      { uid: resource, attrs: res, parents: [] },
    ],
  };
}

function lowerPathRequest(r: Request): Request {
  const resource = { ...r.resource };
  if (typeof resource.path === 'string') resource.path = resource.path.toLowerCase();
  if (resource.type === 'file') resource.id = resource.id.toLowerCase();
  return { ...r, resource };
}

/**
 * A stable key of everything the rules can see of the facts: the Cedar request of each category
 * the facts have, and the lower-case path form. Two facts with the same key get the same decision.
 */
export function factsKey(f: Facts, bundle: Bundle): string {
  return JSON.stringify({ categories: categoriesFor(f), request: cedarRequest(f, bundle) });
}
