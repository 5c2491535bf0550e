// A raw request (JSON from an agent, a file or flags) to the normalized Request: shorthand
// expanded, defaults filled, every identifier and path in canonical form (canonical.ts), the
// category inferred from the verb and the command, and any field the contract does not know
// rejected with its name. The request is written by the agent being governed: every field is
// adversarial input, and a bad one gets a one-line RequestError, never an exception of another kind.
import { CATEGORIES, type Category } from '../policy/vocabulary.js';
import { canonicalPath, checkedCopy, environmentName, identifier, RequestError, wellFormed } from './canonical.js';
import { derivedCategories } from './category.js';

export { RequestError } from './canonical.js';

export interface Agent { id: string; team?: string; trust?: number }
export interface Resource { type: string; id: string; path?: string; namespace?: string; classification?: string; [attr: string]: unknown }

export interface Request {
  id?: string;
  agent: Agent;
  action: string;
  category?: Category;
  resource: Resource;
  environment: string;
  namespace?: string;
  command?: string;
  content?: string;
  request?: string;
  cost: { usd: number; tokens: number };
  justification?: string;
  context: Record<string, unknown>;
}

const TOP_LEVEL = ['id', 'agent', 'action', 'category', 'resource', 'environment', 'namespace', 'command', 'content', 'request', 'cost', 'justification', 'context'];

/** An environment the request does not name is treated as production: the strictest rules apply. */
export const DEFAULT_ENVIRONMENT = 'production';

function str(v: unknown, field: string, optional = true): string | undefined {
  if (v === undefined || (optional && v === null)) return undefined;
  if (typeof v !== 'string') throw new RequestError(field, `must be a string, not ${typeName(v)}.`);
  return wellFormed(v, field);
}

/** An identifier field in canonical form (NFKC, lower case), or undefined when absent. */
function ident(v: unknown, field: string): string | undefined {
  const s = str(v, field);
  return s === undefined ? undefined : identifier(s, field);
}

/** Costs above this are not estimates; they would overflow the decimal arithmetic of the rules. */
const MAX_USD = 1e12;

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `k8s:pod/web-1` is {type: "k8s:pod", id: "web-1"}; `file:src/a.ts` is a file with that path. */
export function parseResource(s: string): Resource {
  if (s.startsWith('file:')) {
    const path = s.slice(5);
    return { type: 'file', id: path, path };
  }
  const slash = s.indexOf('/');
  return slash < 0 ? { type: s, id: '' } : { type: s.slice(0, slash), id: s.slice(slash + 1) };
}

/** The resource with its type, namespace and classification canonical and a file's path resolved. */
function canonicalResource(r: Resource): Resource {
  const out: Resource = { ...r, type: identifier(r.type, 'resource.type') || 'none', id: wellFormed(r.id, 'resource.id') };
  for (const k of ['namespace', 'classification'] as const) if (typeof r[k] === 'string') out[k] = identifier(r[k], `resource.${k}`);
  // A file is named by its path; `{type: file, id: P}` means the file at P.
  if (out.type === 'file' && out.path === undefined && out.id) out.path = out.id;
  if (typeof out.path === 'string') {
    const p = canonicalPath(out.path, 'resource.path').path;
    if (out.type === 'file' && out.id === out.path) out.id = p;
    out.path = p;
  }
  return out;
}

export function normalizeRequest(given: unknown): Request {
  if (!isObject(given)) throw new RequestError('request', `must be a JSON object, not ${typeName(given)}.`);
  for (const k of Object.keys(given)) {
    if (!TOP_LEVEL.includes(k)) throw new RequestError(wellFormed(k, 'request (a field name)'), `is not a request field. Fields: ${TOP_LEVEL.join(', ')}; put your own attributes under "context".`);
  }
  // From here on, a copy read once: every later reader sees the same values (checkedCopy). Its
  // fields are checked again: a proxy or a toJSON may show other fields than it showed above.
  const raw = checkedCopy(given, '');
  if (!isObject(raw)) throw new RequestError('request', `must be a JSON object, not ${typeName(raw)}.`);
  for (const k of Object.keys(raw)) {
    if (!TOP_LEVEL.includes(k)) throw new RequestError(k, `is not a request field. Fields: ${TOP_LEVEL.join(', ')}; put your own attributes under "context".`);
  }
  let agent: Agent;
  if (typeof raw.agent === 'string' && raw.agent.trim()) agent = { id: identifier(raw.agent, 'agent') };
  else if (isObject(raw.agent)) {
    for (const k of Object.keys(raw.agent)) if (!['id', 'team', 'trust'].includes(k)) throw new RequestError(`agent.${k}`, 'is not an agent field (id, team, trust).');
    const id = ident(raw.agent.id, 'agent.id');
    if (!id) throw new RequestError('agent.id', 'is required.');
    agent = { id };
    const team = ident(raw.agent.team, 'agent.team');
    if (team !== undefined) agent.team = team;
    if (raw.agent.trust !== undefined) {
      const t = raw.agent.trust;
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 100) throw new RequestError('agent.trust', 'must be a whole number from 0 to 100.');
      agent.trust = t;
    }
  } else if (raw.agent === undefined) throw new RequestError('agent', 'is required: the id of the agent that asks.');
  else throw new RequestError('agent', 'must be an agent id or {"id": ..., "team": ..., "trust": ...}.');
  if (!agent.id) throw new RequestError('agent', 'is required: the id of the agent that asks.');

  const command = str(raw.command, 'command');
  const text = str(raw.request, 'request');
  let action = ident(raw.action, 'action');
  if (!action && command === undefined && text === undefined) throw new RequestError('action', 'one of action, command or request is required.');
  action ||= command !== undefined ? 'shell_exec' : 'request';

  let stated: Category | undefined;
  if (raw.category !== undefined) {
    const c = identifier(str(raw.category, 'category')!, 'category').toUpperCase();
    if (!(CATEGORIES as readonly string[]).includes(c)) throw new RequestError('category', `must be one of ${CATEGORIES.join(', ')}.`);
    stated = c as Category;
  }

  let resource: Resource;
  if (raw.resource === undefined || raw.resource === null) resource = { type: 'none', id: '' };
  else if (typeof raw.resource === 'string') resource = parseResource(raw.resource);
  else if (isObject(raw.resource)) {
    const type = str(raw.resource.type, 'resource.type') ?? 'none';
    const id = scalarId(raw.resource.id, 'resource.id') ?? '';
    resource = { ...raw.resource, type, id };
    for (const k of ['path', 'namespace', 'classification'] as const) str(raw.resource[k], `resource.${k}`);
  } else throw new RequestError('resource', 'must be "type/id" or an object with type, id and attributes.');
  resource = canonicalResource(resource);

  const environment = environmentName(str(raw.environment, 'environment') ?? DEFAULT_ENVIRONMENT);
  let cost = { usd: 0, tokens: 0 };
  if (raw.cost !== undefined) {
    if (!isObject(raw.cost)) throw new RequestError('cost', 'must be {"usd": number, "tokens": number}.');
    for (const k of Object.keys(raw.cost)) if (k !== 'usd' && k !== 'tokens') throw new RequestError(`cost.${k}`, 'is not a cost field (usd, tokens).');
    const usd = raw.cost.usd ?? 0;
    const tokens = raw.cost.tokens ?? 0;
    if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0 || usd > MAX_USD) throw new RequestError('cost.usd', `must be a number of dollars from 0 to ${MAX_USD.toExponential()}.`);
    if (typeof tokens !== 'number' || !Number.isSafeInteger(tokens) || tokens < 0) throw new RequestError('cost.tokens', `must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}.`);
    cost = { usd, tokens };
  }
  if (raw.context !== undefined && !isObject(raw.context)) throw new RequestError('context', 'must be an object of attributes.');

  const out: Request = { agent, action, resource, environment, cost, context: (raw.context as Record<string, unknown>) ?? {} };
  const id = scalarId(raw.id, 'id');
  if (id !== undefined) out.id = id;
  // Derived from the action, the command and the resource; a stated category adds to them, never
  // replaces them (category.ts). The field keeps the stated one, else the most consequential.
  const category = stated ?? derivedCategories({ action, resource, ...(command !== undefined ? { command } : {}) })[0];
  if (category) out.category = category;
  const namespace = ident(raw.namespace, 'namespace') ?? (typeof resource.namespace === 'string' ? resource.namespace : undefined);
  if (namespace !== undefined) out.namespace = namespace;
  if (command !== undefined) out.command = command;
  const content = str(raw.content, 'content');
  if (content !== undefined) out.content = content;
  if (text !== undefined) out.request = text;
  const justification = str(raw.justification, 'justification');
  if (justification !== undefined) out.justification = justification;
  return out;
}

/** A request's `id` as normalizeRequest gives it (undefined when absent); RequestError when it is not one. */
export function requestId(raw: Record<string, unknown>): string | undefined {
  return scalarId(raw.id, 'id');
}

/** An id given as a string or a number; anything else (an object whose toString is a trap) is refused. */
function scalarId(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return wellFormed(v, field);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new RequestError(field, `must be a string or a number, not ${typeName(v)}.`);
}
