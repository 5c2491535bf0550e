// One YAML rule to one Cedar policy. `allow` becomes permit, `deny` and `escalate` forbid, told
// apart by annotations; `warn` becomes a permit of the advisory set.
// Missing attributes: a condition on an attribute the request does not carry counts as met in a
// deny or escalate rule and as unmet in an allow or warn rule (flipped under `not`), so a missing
// attribute can never switch a restriction off or switch a permission on.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Cond, MatchIR, RuleIR } from '../policy/model.js';
import { sourceOf } from '../policy/model.js';
import { diag, lineText } from '../policy/source.js';
import type { Span } from '../policy/source.js';
import { BUILTIN_FIELDS, CEDAR_RESERVED, type Field } from '../policy/vocabulary.js';
import { globToCedar, hasWildcard } from './glob.js';
import { cedarString, decimalLiteral, isIdentifier } from './text.js';

export type RuleSet = 'decide' | 'warn';

export interface RuleIndexKey {
  /** null: any value. */
  category: string[] | null;
  environment: string[] | null;
  agent: string[] | null;
  /** Resource types (exact); null when the rule names none or uses a glob. */
  resource?: string[] | null;
  /** The request's action (exact verbs, as `context.action` holds them); null when the rule names none or uses a glob. Absent in bundles compiled before it was indexed. */
  action?: string[] | null;
}

export interface CompiledRule {
  id: string;
  effect: RuleIR['effect'];
  tier: number;
  message?: string;
  /** `file:line:col` of the YAML rule. */
  source: string;
  set: RuleSet;
  text: string;
  /**
   * The same policy as a `forbid`, which is how the engine evaluates every rule: Cedar then names
   * every rule that holds among its reasons, and the engine applies the order of effects itself.
   */
  matcher: string;
  index: RuleIndexKey;
  /** Each condition of the rule (match fields and `when` conjuncts) alone, for explanations. */
  parts?: RulePart[];
}

export interface RulePart {
  /** A Cedar boolean expression. */
  cedar: string;
  /** The YAML it comes from, as written. */
  label: string;
  source: string;
}

export function tierOf(effect: RuleIR['effect'], audit: boolean): number {
  return effect === 'deny' ? 3 : effect === 'escalate' ? 2 : effect === 'allow' ? (audit ? 1 : 0) : 0;
}

function access(f: Field): string {
  let e: string = f.base;
  for (const a of f.attrs) e += isIdentifier(a) && !CEDAR_RESERVED.has(a) ? `.${a}` : `[${cedarString(a)}]`;
  return e;
}

function guard(f: Field): string | undefined {
  if (!f.optional) return undefined;
  let parent: string = f.base;
  for (const a of f.attrs.slice(0, -1)) parent += isIdentifier(a) && !CEDAR_RESERVED.has(a) ? `.${a}` : `[${cedarString(a)}]`;
  const last = f.attrs[f.attrs.length - 1]!;
  return `${parent} has ${isIdentifier(last) && !CEDAR_RESERVED.has(last) ? last : cedarString(last)}`;
}

/** `if present then test else default`, in the forms Cedar's validator accepts. */
function guarded(g: string | undefined, expr: string, dflt: boolean): string {
  if (!g) return expr;
  return dflt ? `(if ${g} then ${expr} else true)` : `(${g} && ${expr})`;
}

function literal(f: Field, v: unknown): string {
  if (f.type === 'Decimal') return decimalLiteral(Number(v));
  if (typeof v === 'string') return cedarString(v);
  return String(v);
}

export class RuleCompiler {
  diagnostics: Diagnostic[] = [];

  constructor(private fields: (path: string) => Field) {}

  compile(rule: RuleIR): CompiledRule {
    const restrictive = rule.effect === 'deny' || rule.effect === 'escalate';
    const scope: string[] = [];
    const conds: string[] = [];
    const parts: RulePart[] = [];
    // Requests carry identifiers in canonical form (NFKC, lower case); so do the rules that match them.
    const m = canonicalMatch(rule.match);
    const ctx = { rule, restrictive };
    const lineOf = (span: Span) => lineText(rule.file, span.line).trim();
    const where = (span: Span) => `${rule.file.path}:${span.line}:${span.column}`;
    const matchPart = (field: string, cedar: string) => {
      const vals = (m as Record<string, string[] | undefined>)[field] ?? [];
      parts.push({ cedar, label: `match.${field}: ${vals.length === 1 ? vals[0] : `[${vals.join(', ')}]`}`, source: sourceOf(rule) });
    };

    // principal
    const agents = m.agent ?? [];
    if (agents.length === 1 && !hasWildcard(agents[0]!)) {
      scope.push(`principal == Agent::${cedarString(agents[0]!)}`);
      matchPart('agent', scope[0]!);
    } else {
      scope.push('principal');
      if (agents.length) {
        const exact = agents.filter((a) => !hasWildcard(a));
        const globs = agents.filter(hasWildcard);
        const alts = exact.length ? [`[${exact.map((a) => `Agent::${cedarString(a)}`).join(', ')}].contains(principal)`] : [];
        for (const g of globs) alts.push(this.glob(ctx, 'principal.name', g, restrictive, 'glob', rule.span));
        conds.push(alts.length === 1 ? alts[0]! : `(${alts.join(' || ')})`);
        matchPart('agent', conds[conds.length - 1]!);
      }
    }
    // action: the request's category is its Cedar action
    const cats = m.category ?? [];
    scope.push(cats.length === 0 ? 'action' : cats.length === 1 ? `action == Action::${cedarString(cats[0]!)}` : `action in [${cats.map((c) => `Action::${cedarString(c)}`).join(', ')}]`);
    if (cats.length) matchPart('category', scope[scope.length - 1]!);
    scope.push('resource');

    for (const [field, path] of [['action', 'action'], ['resource', 'resource.type'], ['environment', 'environment'], ['namespace', 'namespace']] as const) {
      if (this.patterns(ctx, conds, path, m[field])) matchPart(field, conds[conds.length - 1]!);
    }
    for (const c of rule.when) {
      conds.push(this.cond(ctx, c, restrictive));
      parts.push({ cedar: conds[conds.length - 1]!, label: `when: ${lineOf(c.span)}`, source: where(c.span) });
    }

    const tier = tierOf(rule.effect, rule.audit);
    const annotations = [
      `@id(${cedarString(rule.id)})`,
      `@effect(${cedarString(rule.effect)})`,
      `@tier(${cedarString(String(tier))})`,
      ...(rule.message !== undefined ? [`@message(${cedarString(rule.message)})`] : []),
      `@source(${cedarString(sourceOf(rule))})`,
    ];
    const head = (keyword: string) => `${keyword} (\n  ${scope.join(',\n  ')}\n)`;
    const body = conds.length ? `\nwhen {\n  ${conds.join(' &&\n  ')}\n}` : '';
    const text = `${annotations.join('\n')}\n${head(restrictive ? 'forbid' : 'permit')}${body};`;
    // What the engine hands Cedar: the logic alone. Annotations take no part in a decision, and
    // parsing them is about a third of the work of preparing a set.
    const matcher = `${head('forbid')}${body};`;
    const exactList = (xs?: string[]) => (xs && xs.length && !xs.some(hasWildcard) ? [...xs] : null);
    return {
      id: rule.id, effect: rule.effect, tier, source: sourceOf(rule), set: rule.effect === 'warn' ? 'warn' : 'decide', text, matcher,
      ...(rule.message !== undefined ? { message: rule.message } : {}),
      index: { category: cats.length ? [...cats] : null, environment: exactList(m.environment), agent: exactList(m.agent), resource: exactList(m.resource), action: exactList(m.action) },
      parts,
    };
  }

  private patterns(ctx: Ctx, conds: string[], path: string, pats: MatchIR['action']): boolean {
    if (!pats?.length) return false;
    const f = this.fields(path);
    const a = access(f);
    const exact = pats.filter((p) => !hasWildcard(p));
    const parts: string[] = [];
    if (exact.length === 1) parts.push(`${a} == ${cedarString(exact[0]!)}`);
    else if (exact.length > 1) parts.push(`[${exact.map(cedarString).join(', ')}].contains(${a})`);
    for (const g of pats.filter(hasWildcard)) parts.push(this.glob(ctx, a, g, ctx.restrictive, 'glob', ctx.rule.span));
    const expr = parts.length === 1 ? parts[0]! : `(${parts.join(' || ')})`;
    conds.push(guarded(guard(f), expr, ctx.restrictive));
    return true;
  }

  private glob(ctx: Ctx, expr: string, pattern: string, dflt: boolean, op: 'glob' | 'not_glob', span: Span): string {
    const t = globToCedar(expr, pattern);
    if (!t.exact) {
      // Broader is safe where matching more can only restrict more.
      const safe = ctx.rule.effect === 'warn' || (op === 'glob' ? dflt : !dflt);
      this.diagnostics.push(diag(ctx.rule.file, span, safe ? 'warning' : 'error', 'lint/glob-inexact',
        `glob \`${pattern}\` in rule \`${ctx.rule.id}\` has no exact Cedar translation; ${safe ? 'it is compiled to a broader match, which here can only restrict more' : 'the broader match Cedar allows would permit more than the glob says'}.`,
        'Use at most one `*` and no `?` in a pattern with no `**` (e.g. match `resource.basename` instead of a path), or split it into several patterns.'));
    }
    return t.text;
  }

  private cond(ctx: Ctx, c: Cond, dflt: boolean): string {
    switch (c.kind) {
      case 'all': return `(${c.items.map((i) => this.cond(ctx, i, dflt)).join(' && ')})`;
      case 'any': return `(${c.items.map((i) => this.cond(ctx, i, dflt)).join(' || ')})`;
      case 'not': return `!(${this.cond(ctx, c.item, !dflt)})`;
      case 'detected': return `context.findings.containsAny([${c.names.map(cedarString).join(', ')}])`;
      case 'cedar': return `(${c.text})`;
      case 'category': {
        const e = `action in [${c.values.map((v) => `Action::${cedarString(v)}`).join(', ')}]`;
        return c.op === 'in' ? e : `!(${e})`;
      }
      case 'cmp': {
        const f = this.fields(c.field);
        const a = access(f);
        const g = guard(f);
        if (c.op === 'exists') {
          const present = g ?? 'true';
          return c.value ? present : `!(${present})`;
        }
        if (typeof c.value === 'object' && c.value !== null && !Array.isArray(c.value)) {
          const other = this.fields(c.value.field);
          const gs = [g, guard(other)].filter((x): x is string => !!x);
          const e = `${a} ${c.op === 'eq' ? '==' : '!='} ${access(other)}`;
          return gs.length ? guarded(gs.join(' && '), e, dflt) : e;
        }
        const vals = ([] as unknown[]).concat(c.value);
        let e: string;
        switch (c.op) {
          case 'eq': e = `${a} == ${literal(f, vals[0])}`; break;
          case 'ne': e = `${a} != ${literal(f, vals[0])}`; break;
          case 'in': e = vals.length === 1 ? `${a} == ${literal(f, vals[0])}` : `[${vals.map((v) => literal(f, v)).join(', ')}].contains(${a})`; break;
          case 'not_in': e = vals.length === 1 ? `${a} != ${literal(f, vals[0])}` : `!([${vals.map((v) => literal(f, v)).join(', ')}].contains(${a}))`; break;
          case 'gt': case 'gte': case 'lt': case 'lte': {
            if (f.type === 'Decimal') {
              const fn = { gt: 'greaterThan', gte: 'greaterThanOrEqual', lt: 'lessThan', lte: 'lessThanOrEqual' }[c.op];
              e = `${a}.${fn}(${decimalLiteral(Number(vals[0]))})`;
            } else {
              e = `${a} ${{ gt: '>', gte: '>=', lt: '<', lte: '<=' }[c.op]} ${String(vals[0])}`;
            }
            break;
          }
          case 'glob': case 'not_glob': {
            const parts = vals.map((p) => this.glob(ctx, a, String(p), dflt, c.op as 'glob', c.span));
            const any = parts.length === 1 ? parts[0]! : `(${parts.join(' || ')})`;
            e = c.op === 'glob' ? any : `!${any.startsWith('(') ? any : `(${any})`}`;
            break;
          }
          case 'contains': e = `${a}.containsAll([${vals.map((v) => cedarString(String(v))).join(', ')}])`; break;
          case 'contains_any': e = `${a}.containsAny([${vals.map((v) => cedarString(String(v))).join(', ')}])`; break;
        }
        return guarded(g, e, dflt);
      }
    }
  }
}

interface Ctx { rule: RuleIR; restrictive: boolean }

function canonicalMatch(m: MatchIR): MatchIR {
  const c = (xs?: string[]) => xs?.map((x) => x.normalize('NFKC').trim().toLowerCase());
  const out: MatchIR = { ...m };
  for (const k of ['agent', 'action', 'resource', 'environment', 'namespace'] as const) if (m[k]) out[k] = c(m[k]);
  return out;
}

export function builtinField(path: string): Field {
  const f = BUILTIN_FIELDS.get(path);
  if (!f) throw new Error(`internal: no built-in field ${path}`);
  return f;
}
