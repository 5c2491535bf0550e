// Compiles the policy model into a bundle: Cedar policies keyed by rule id, the generated Cedar
// schema they are validated against, the attribute types the engine needs to build entities,
// and a content hash. Pure and deterministic: the same YAML gives byte-identical output.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { PolicyModel } from '../policy/model.js';
import { diag, spanOf, type SourceFile } from '../policy/source.js';
import { BUILTIN_FIELDS, type Field, type FieldType } from '../policy/vocabulary.js';
import { bundleHash, cedarSchema } from './schema.js';
import { RuleCompiler, tierOf, type CompiledRule } from './rule.js';
import { cedarString } from './text.js';

/** A policy of a `.cedar` file, as Cedar's parser read it. */
export interface RawCedarPolicy {
  id: string;
  text: string;
  source: string;
  file: SourceFile;
  /** Byte offset of this policy in its file, to map Cedar's errors back. */
  offset: number;
  /** The keyword, as Cedar reads it. */
  effect: 'permit' | 'forbid';
  /** The annotations, as Cedar reads them. */
  annotations: Record<string, string>;
  /** The policy as a forbid, printed by Cedar. */
  matcher: string;
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

/**
 * Where annotation `name` stands in a policy's text, to point a diagnostic at it. Only a place:
 * what the annotation says is read by Cedar's parser. Undefined when it cannot be found (the
 * caller points at the policy instead).
 */
export function annotationSpan(text: string, name: string): { at: number; end: number } | undefined {
  let i = 0;
  const skip = () => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (text.startsWith('//', i)) { while (i < text.length && text[i] !== '\n') i++; continue; }
      return;
    }
  };
  for (;;) {
    skip();
    if (text[i] !== '@') return undefined;
    const at = i++;
    const from = i;
    while (i < text.length && /\w/.test(text[i]!)) i++;
    const found = text.slice(from, i);
    const afterName = i;
    skip();
    if (text[i] === '(') {
      i++;
      skip();
      if (text[i] === '"') for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      i++;
      skip();
      if (text[i] === ')') i++;
    } else i = afterName;
    if (found === name) return { at, end: i };
  }
}

/** The effects each Cedar keyword can carry: a permit allows or warns, a forbid denies or escalates. */
const EFFECTS_OF = { permit: ['allow', 'warn'], forbid: ['deny', 'escalate'] } as const;

/** A hand-written Cedar policy as a rule: `@effect`, `@message` and `@id` read from its annotations. */
function rawRule(p: RawCedarPolicy, diagnostics: Diagnostic[]): CompiledRule {
  const keyword = p.effect;
  const declared = p.annotations.effect;
  let effect: CompiledRule['effect'] = keyword === 'forbid' ? 'deny' : 'allow';
  if (declared !== undefined) {
    const allowed: readonly string[] = EFFECTS_OF[keyword];
    if (allowed.includes(declared)) {
      effect = declared as CompiledRule['effect'];
    } else {
      const known = ['allow', 'deny', 'escalate', 'warn'].includes(declared);
      const where = annotationSpan(p.text, 'effect') ?? { at: 0, end: 0 };
      diagnostics.push(diag(p.file, spanOf(p.file, p.offset + where.at, p.offset + where.end), 'error', 'cedar/effect-mismatch',
        known
          ? `\`@effect(${cedarString(declared)})\` contradicts \`${keyword}\` in policy \`${p.id}\`: a ${keyword} can only ${allowed.join(' or ')}.`
          : `\`@effect(${cedarString(declared)})\` in policy \`${p.id}\` is not an effect: use ${allowed.join(' or ')} on a ${keyword}.`,
        'A `permit` allows (or only warns, with @effect("warn")); a `forbid` denies (or escalates, with @effect("escalate")). Change the keyword or the annotation.'));
    }
  }
  const message = p.annotations.message;
  return {
    id: p.id, effect, tier: tierOf(effect, false), source: p.source, set: effect === 'warn' ? 'warn' : 'decide', text: p.text, matcher: p.matcher,
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

export { bundleHash, cedarSchema } from './schema.js';
