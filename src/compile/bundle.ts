// Compiles the policy model into a bundle: Cedar policies keyed by rule id, the generated Cedar
// schema they are validated against, the attribute types the engine needs to build entities,
// and a content hash. Pure and deterministic: the same YAML gives byte-identical output.
import { createHash } from 'node:crypto';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { PolicyModel } from '../policy/model.js';
import type { SourceFile } from '../policy/source.js';
import { BUILTIN_FIELDS, CATEGORIES, UNCLASSIFIED, type Field, type FieldType } from '../policy/vocabulary.js';
import { RuleCompiler, type CompiledRule } from './rule.js';
import { cedarString } from './text.js';

export interface RawCedarPolicy {
  id: string;
  text: string;
  source: string;
  file: SourceFile;
  /** Byte offset of this policy in its file, to map Cedar's errors back. */
  offset: number;
}

export interface Bundle {
  /** sha256 of everything that can change a decision. */
  hash: string;
  rules: CompiledRule[];
  byId: Map<string, CompiledRule>;
  schema: string;
  /** Attribute types below `resource` and `context.attrs`, as the schema declares them. */
  resourceAttrs: Map<string, FieldType>;
  contextAttrs: Map<string, FieldType>;
}

export interface CompileResult {
  bundle: Bundle;
  diagnostics: Diagnostic[];
}

export function fieldTable(model: PolicyModel): (path: string) => Field {
  return (path) => {
    const f = BUILTIN_FIELDS.get(path) ?? model.custom.get(path);
    if (!f) throw new Error(`internal: field ${path} was not declared by the model`);
    return f;
  };
}

/** Comments and annotations (on any line) before a policy's effect. */
const LEAD = /^((?:\s+|\/\/[^\n]*(?:\n|$)|@\w+(?:\(\s*"(?:[^"\\]|\\.)*"\s*\))?)*)(permit|forbid)\b/;

/** The effect of a Cedar policy's text, and where the word stands (after comments and annotations). */
export function cedarEffect(text: string): { effect: 'permit' | 'forbid' | undefined; at: number } {
  const m = LEAD.exec(text);
  return m ? { effect: m[2] as 'permit' | 'forbid', at: m[1]!.length } : { effect: undefined, at: -1 };
}

export function compileBundle(model: PolicyModel, raw: RawCedarPolicy[] = []): CompileResult {
  const rc = new RuleCompiler(fieldTable(model));
  const rules = model.rules.map((r) => rc.compile(r));
  for (const p of raw) {
    const forbid = cedarEffect(p.text).effect === 'forbid';
    const effect = /@effect\(\s*"escalate"\s*\)/.test(p.text) ? 'escalate' : forbid ? 'deny' : 'allow';
    rules.push({ id: p.id, effect, tier: effect === 'deny' ? 3 : effect === 'escalate' ? 2 : 0, source: p.source, set: 'decide', text: p.text, index: { category: null, environment: null, agent: null } });
  }
  const resourceAttrs = new Map<string, FieldType>();
  const contextAttrs = new Map<string, FieldType>();
  for (const f of [...model.custom.values()].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    (f.base === 'resource' ? resourceAttrs : contextAttrs).set(f.attrs[f.attrs.length - 1]!, f.type);
  }
  const schema = cedarSchema(resourceAttrs, contextAttrs);
  const hash = createHash('sha256')
    .update(schema)
    .update('\0')
    .update(rules.map((r) => `${r.id}\0${r.set}\0${r.text}`).join('\0\0'))
    .digest('hex');
  return {
    bundle: { hash, rules, byId: new Map(rules.map((r) => [r.id, r])), schema, resourceAttrs, contextAttrs },
    diagnostics: rc.diagnostics,
  };
}

const CEDAR_TYPE: Record<FieldType, string> = {
  String: 'String', Long: 'Long', Decimal: '__cedar::decimal', Boolean: 'Bool', 'Set<String>': 'Set<String>',
};

function attrLines(fields: [string, FieldType, boolean][], indent: string): string {
  return fields
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([name, t, opt]) => `${indent}${cedarString(name)}${opt ? '?' : ''}: ${CEDAR_TYPE[t]},`)
    .join('\n');
}

function builtins(base: Field['base'], depth: number, parent?: string): [string, FieldType, boolean][] {
  return [...BUILTIN_FIELDS.values()]
    .filter((f) => f.base === base && f.attrs.length === depth + 1 && (parent === undefined || f.attrs[0] === parent))
    .map((f) => [f.attrs[depth]!, f.type, f.optional]);
}

/** The Cedar schema every compiled policy is validated against, and requests with it. */
export function cedarSchema(resourceAttrs: Map<string, FieldType>, contextAttrs: Map<string, FieldType>): string {
  const custom = (m: Map<string, FieldType>) => [...m].map(([k, t]): [string, FieldType, boolean] => [k, t, true]);
  const resource = [...builtins('resource', 0), ...custom(resourceAttrs).filter(([k]) => !builtins('resource', 0).some(([b]) => b === k))];
  const record = (name: string, fields: [string, FieldType, boolean][]) => `  ${cedarString(name)}: {\n${attrLines(fields, '    ')}\n  },`;
  const context = [
    attrLines(builtins('context', 0), '  '),
    record('attrs', custom(contextAttrs)).replace('{\n\n  }', '{}'),
    record('budget', builtins('context', 1, 'budget')),
    record('cost', builtins('context', 1, 'cost')),
    '  "findings": Set<String>,',
  ];
  const actions = [...CATEGORIES, UNCLASSIFIED].map((a) => cedarString(a)).join(', ');
  return [
    '// Generated by govern from the policies. Do not edit: it changes with them.',
    `entity Agent = {\n${attrLines(builtins('principal', 0), '  ')}\n};`,
    `entity Resource = {\n${attrLines(resource, '  ')}\n};`,
    `type Context = {\n${context.join('\n')}\n};`,
    `action ${actions} appliesTo {\n  principal: [Agent],\n  resource: [Resource],\n  context: Context,\n};`,
    '',
  ].join('\n');
}
