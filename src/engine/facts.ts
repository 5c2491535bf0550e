// Facts: what the policies can see of a request once detectors and state have spoken, and their
// translation into the Cedar request (principal, action, resource, context, entities).
import type { Bundle } from '../compile/bundle.js';
import type { CedarRequest, CedarValue } from '../cedar/cedar.js';
import { expandFindings, UNCLASSIFIED, type Category, type FieldType } from '../policy/vocabulary.js';
import type { Request } from '../request/normalize.js';

export const DEFAULT_TRUST = 40;

export interface Facts {
  request: Request;
  category: Category | typeof UNCLASSIFIED;
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
  const f: Facts = {
    request,
    category: request.category ?? UNCLASSIFIED,
    findings: [...new Set(inputs.findings ?? [])].sort(),
    trust,
    hour: inputs.hour ?? new Date().getUTCHours(),
    budget: { used_pct: inputs.budget?.used_pct ?? 0, exceeded: inputs.budget?.exceeded ?? false },
  };
  const team = inputs.team ?? request.agent.team;
  if (team !== undefined) f.team = team;
  if (inputs.risk !== undefined) f.risk = inputs.risk;
  return f;
}

const MAX_DECIMAL = 922337203685477;

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

export function cedarRequest(f: Facts, bundle: Bundle): CedarRequest {
  const r = f.request;
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
    action: { type: 'Action', id: f.category },
    resource,
    context,
    entities: [
      { uid: principal, attrs: agentAttrs, parents: [] },
      { uid: resource, attrs: res, parents: [] },
    ],
  };
}
