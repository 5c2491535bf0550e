// Compiles the policy model into a bundle: Cedar policies keyed by rule id, the generated Cedar
// schema they are validated against, the attribute types the engine needs to build entities,
// and a content hash. Pure and deterministic: the same YAML gives byte-identical output.
import { createHash } from 'node:crypto';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { PolicyModel } from '../policy/model.js';
import { diag, spanOf, type SourceFile } from '../policy/source.js';
import { BUILTIN_FIELDS, CATEGORIES, UNCLASSIFIED, type Field, type FieldType } from '../policy/vocabulary.js';
import { RuleCompiler, tierOf, type CompiledRule } from './rule.js';
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

/** One annotation before a policy's effect: its value (unescaped) and where it stands in the text. */
export interface CedarAnnotation { value: string; at: number; end: number }

const LEAD_TOKEN = /\s+|\/\/[^\n]*(?:\n|$)|@(\w+)(?:\(\s*"((?:[^"\\]|\\.)*)"\s*\))?/y;

/** The annotations of a Cedar policy's text (`@id("x") @message("...")`), by name; comments are skipped. */
export function cedarAnnotations(text: string): Map<string, CedarAnnotation> {
  const out = new Map<string, CedarAnnotation>();
  const { at: end } = cedarEffect(text);
  LEAD_TOKEN.lastIndex = 0;
  for (let m; LEAD_TOKEN.lastIndex < end && (m = LEAD_TOKEN.exec(text));) {
    if (m[1] !== undefined && !out.has(m[1])) out.set(m[1], { value: unescapeCedar(m[2] ?? ''), at: m.index, end: LEAD_TOKEN.lastIndex });
  }
  return out;
}

/** A Cedar string literal's body as the text it stands for. */
function unescapeCedar(s: string): string {
  const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '0': '\0', '\\': '\\', '"': '"', "'": "'" };
  return s.replace(/\\(u\{([0-9a-fA-F]{1,6})\}|.)/g, (all, e: string, hex?: string) => (hex ? String.fromCodePoint(parseInt(hex, 16)) : simple[e] ?? all));
}

/** The effects each Cedar keyword can carry: a permit allows or warns, a forbid denies or escalates. */
const EFFECTS_OF = { permit: ['allow', 'warn'], forbid: ['deny', 'escalate'] } as const;

/** A hand-written Cedar policy as a rule: `@effect`, `@message` and `@id` read from its annotations. */
function rawRule(p: RawCedarPolicy, diagnostics: Diagnostic[]): CompiledRule {
  const keyword = cedarEffect(p.text).effect ?? 'permit';
  const ann = cedarAnnotations(p.text);
  const declared = ann.get('effect');
  let effect: CompiledRule['effect'] = keyword === 'forbid' ? 'deny' : 'allow';
  if (declared) {
    const allowed: readonly string[] = EFFECTS_OF[keyword];
    if (allowed.includes(declared.value)) {
      effect = declared.value as CompiledRule['effect'];
    } else {
      const known = ['allow', 'deny', 'escalate', 'warn'].includes(declared.value);
      diagnostics.push(diag(p.file, spanOf(p.file, p.offset + declared.at, p.offset + declared.end), 'error', 'cedar/effect-mismatch',
        known
          ? `\`@effect(${cedarString(declared.value)})\` contradicts \`${keyword}\` in policy \`${p.id}\`: a ${keyword} can only ${allowed.join(' or ')}.`
          : `\`@effect(${cedarString(declared.value)})\` in policy \`${p.id}\` is not an effect: use ${allowed.join(' or ')} on a ${keyword}.`,
        'A `permit` allows (or only warns, with @effect("warn")); a `forbid` denies (or escalates, with @effect("escalate")). Change the keyword or the annotation.'));
    }
  }
  const message = ann.get('message')?.value;
  return {
    id: p.id, effect, tier: tierOf(effect, false), source: p.source, set: effect === 'warn' ? 'warn' : 'decide', text: p.text,
    ...(message !== undefined ? { message } : {}),
    index: { category: null, environment: null, agent: null },
  };
}

export function compileBundle(model: PolicyModel, raw: RawCedarPolicy[] = []): CompileResult {
  const rc = new RuleCompiler(fieldTable(model));
  const rules = model.rules.map((r) => rc.compile(r));
  for (const p of raw) rules.push(rawRule(p, rc.diagnostics));
  const resourceAttrs = new Map<string, FieldType>();
  const contextAttrs = new Map<string, FieldType>();
  for (const f of [...model.custom.values()].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    (f.base === 'resource' ? resourceAttrs : contextAttrs).set(f.attrs[f.attrs.length - 1]!, f.type);
  }
  const schema = cedarSchema(resourceAttrs, contextAttrs);
  const hash = bundleHash(schema, rules);
  return {
    bundle: { hash, rules, byId: new Map(rules.map((r) => [r.id, r])), schema, resourceAttrs, contextAttrs },
    diagnostics: rc.diagnostics,
  };
}

/** The content hash of a bundle: its schema and every rule's id, set and Cedar text, in order. */
export function bundleHash(schema: string, rules: readonly Pick<CompiledRule, 'id' | 'set' | 'text'>[]): string {
  return createHash('sha256')
    .update(schema)
    .update('\0')
    .update(rules.map((r) => `${r.id}\0${r.set}\0${r.text}`).join('\0\0'))
    .digest('hex');
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
