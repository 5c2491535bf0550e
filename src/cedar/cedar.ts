// The only importer of @cedar-policy/cedar-wasm. Loads it lazily (about 25 ms), validates
// policies against the generated schema, and authorizes against preparsed policy sets.
import { createRequire } from 'node:module';
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';

const require = createRequire(import.meta.url);
let wasm: typeof CedarWasm | undefined;

function cedar(): typeof CedarWasm {
  if (!wasm) {
    // Node 20's optimizer can abort the process when it inlines calls into this module and later
    // deoptimizes them (seen after a few hundred bundles in one process); keep those calls plain.
    (require('node:v8') as typeof import('node:v8')).setFlagsFromString('--no-turbo-inline-js-wasm-calls');
    wasm = require('@cedar-policy/cedar-wasm/nodejs') as typeof CedarWasm;
  }
  return wasm;
}

export function cedarVersion(): string {
  return cedar().getCedarVersion();
}

export interface CedarProblem {
  /** The policy the problem is in, when Cedar says. */
  policyId?: string;
  message: string;
  help?: string;
  /** Byte offsets into that policy's text. */
  start?: number;
  end?: number;
}

type Detailed = CedarWasm.DetailedError;

function problem(e: Detailed, policyId?: string): CedarProblem {
  const loc = e.sourceLocations?.[0];
  const label = loc?.label ? ` (${loc.label})` : '';
  return {
    ...(policyId !== undefined ? { policyId } : {}),
    message: e.message.replace(/^for policy `[^`]*`, /, '').replace(/ (in context )?for Action::"[^"]*"/, (_m, c) => (c ? ' in context' : '')).replace(/^failed to parse policy with id `[^`]*` from string: /, '') + label,
    ...(e.help ? { help: e.help } : {}),
    ...(loc ? { start: loc.start, end: loc.end } : {}),
  };
}

/** Syntax problems of each policy, checked one by one so one bad policy does not hide the others. */
export function parseProblems(policies: Record<string, string>): CedarProblem[] {
  const c = cedar();
  const all = c.checkParsePolicySet({ staticPolicies: policies });
  if (all.type === 'success') return [];
  const out: CedarProblem[] = [];
  for (const [id, text] of Object.entries(policies)) {
    const r = c.checkParsePolicySet({ staticPolicies: { [id]: text } });
    if (r.type === 'failure') for (const e of r.errors) out.push(problem(e, id));
  }
  return out.length ? out : all.errors.map((e) => problem(e));
}

export function schemaProblems(schema: string): CedarProblem[] {
  const r = cedar().checkParseSchema(schema);
  return r.type === 'success' ? [] : r.errors.map((e) => problem(e));
}

/** Strict validation of policies that parse, against the schema. */
export function validate(schema: string, policies: Record<string, string>): CedarProblem[] {
  const r = cedar().validate({ schema, policies: { staticPolicies: policies }, validationSettings: { mode: 'strict' } });
  if (r.type === 'failure') return r.errors.map((e) => problem(e));
  return [...r.validationErrors.map((v) => problem(v.error, v.policyId))];
}

/**
 * The same in one call that parses the schema and each policy once, for the usual clean case;
 * undefined when the schema or a policy does not parse, and the caller must find out which.
 */
export function validateIfParsed(schema: string, policies: Record<string, string>): CedarProblem[] | undefined {
  const r = cedar().validate({ schema, policies: { staticPolicies: policies }, validationSettings: { mode: 'strict' } });
  return r.type === 'failure' ? undefined : r.validationErrors.map((v) => problem(v.error, v.policyId));
}

/** Splits a .cedar file into its policies, with their offsets in the text. */
export function splitPolicies(text: string): { text: string; offset: number }[] | CedarProblem[] {
  const r = cedar().policySetTextToParts(text);
  if (r.type === 'failure') return r.errors.map((e) => problem(e));
  let from = 0;
  return r.policies.map((p) => {
    // Parts come back normalized; locate each by its first significant line.
    const probe = p.split('\n').find((l) => l.trim())?.trim() ?? p;
    const at = text.indexOf(probe.slice(0, 40), from);
    const offset = at >= 0 ? at : from;
    from = offset + 1;
    return { text: p, offset };
  });
}

export type EntityUid = { type: string; id: string };
export type CedarValue = CedarWasm.CedarValueJson;

export interface CedarRequest {
  principal: EntityUid;
  action: EntityUid;
  resource: EntityUid;
  context: Record<string, CedarValue>;
  entities: { uid: EntityUid; attrs: Record<string, CedarValue>; parents: EntityUid[] }[];
}

export interface CedarAnswer {
  decision: 'allow' | 'deny';
  /** Ids of the policies that determined the decision. */
  reasons: string[];
  /** Policies that failed to evaluate, with the error. */
  errors: { policyId: string; message: string }[];
}

/**
 * Evaluates requests against policy sets parsed once. A set is registered under a key (the bundle
 * hash and the candidate rules) and parsed on first use; the schema is parsed once per bundle.
 */
export class Authorizer {
  private sets = new Set<string>();
  private schemaName: string | undefined;

  /**
   * With `validate`, each request is also checked against the schema (about 30 ms more to start,
   * some microseconds a call). Evaluation does not need it: policies are validated when compiled,
   * and requests are built from the same declared types.
   */
  constructor(schema: string, schemaKey: string, validate = false) {
    if (validate) {
      this.schemaName = `schema:${schemaKey}`;
      const r = cedar().preparseSchema(this.schemaName, schema);
      if (r.type === 'failure') throw new Error(`generated Cedar schema does not parse: ${r.errors.map((e) => e.message).join('; ')}`);
    }
  }

  prepare(key: string, policies: () => Record<string, string>): void {
    if (this.sets.has(key)) return;
    const r = cedar().preparsePolicySet(key, { staticPolicies: policies() });
    if (r.type === 'failure') throw new Error(`policy set does not parse: ${r.errors.map((e) => e.message).join('; ')}`);
    this.sets.add(key);
  }

  authorize(key: string, req: CedarRequest): CedarAnswer {
    const r = cedar().statefulIsAuthorized({
      principal: req.principal,
      action: req.action,
      resource: req.resource,
      context: req.context,
      entities: req.entities,
      preparsedPolicySetId: key,
      ...(this.schemaName ? { preparsedSchemaName: this.schemaName, validateRequest: true } : {}),
    });
    if (r.type === 'failure') throw new Error(`Cedar rejected the request: ${r.errors.map((e) => e.message).join('; ')}`);
    return {
      decision: r.response.decision,
      reasons: r.response.diagnostics.reason,
      errors: r.response.diagnostics.errors.map((e) => ({ policyId: e.policyId, message: e.error.message })),
    };
  }
}
