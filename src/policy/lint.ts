// Semantic lints over the whole policy model: what is valid YAML and valid Cedar but almost
// certainly not what the author meant.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { globMatch, hasWildcard } from './glob.js';
import type { Cond, MatchIR, PolicyModel, RuleIR } from './model.js';
import { sourceOf } from './model.js';
import { diag } from './source.js';

function canonical(c: Cond): string {
  return JSON.stringify(c, (k, v) => (k === 'span' ? undefined : v));
}

const FIELDS: (keyof MatchIR)[] = ['agent', 'category', 'action', 'resource', 'environment', 'namespace'];

/** Every request `b` matches, `a` matches too (on the `match` block). */
export function matchCovers(a: MatchIR, b: MatchIR): boolean {
  for (const k of FIELDS) {
    const as = a[k] as string[] | undefined;
    if (!as) continue;
    const bs = b[k] as string[] | undefined;
    if (!bs) return false;
    for (const v of bs) {
      const ok = as.some((p) => p === v || (!hasWildcard(v) && hasWildcard(p) && globMatch(p, v)) || p === '**');
      if (!ok) return false;
    }
  }
  return true;
}

function sameMatch(a: MatchIR, b: MatchIR): boolean {
  return matchCovers(a, b) && matchCovers(b, a);
}

/** How strongly a rule decides: a rule is shadowed by a broader one at least as strong. */
function outranks(a: RuleIR, b: RuleIR): boolean {
  const rank = { deny: 3, escalate: 2, allow: 1, warn: 0 } as const;
  if (a.effect === 'warn' || b.effect === 'warn') return false;
  if (rank[a.effect] !== rank[b.effect]) return rank[a.effect] > rank[b.effect];
  return a.effect !== 'allow' || a.audit || !b.audit;
}

export function lint(model: PolicyModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const rules = model.rules;
  const whenKeys = rules.map((r) => new Set(r.when.map(canonical)));
  const seen = new Map<string, RuleIR>();

  for (const r of rules) {
    const first = seen.get(r.id);
    if (first) {
      out.push({
        ...diag(r.file, r.span, 'error', 'policy/duplicate-id', `rule id \`${r.id}\` is already used at ${sourceOf(first)}.`, 'Rule ids are unique across the repository: they name the Cedar policy and the decision reasons. Rename one.'),
        related: [{ message: 'first defined here', file: first.file.path, line: first.span.line, column: first.span.column }],
      });
    } else seen.set(r.id, r);

    if (r.effect === 'allow' && r.when.length === 0) {
      const envs = r.match.environment;
      if (!envs || envs.some((e) => e === 'production' || (hasWildcard(e) && globMatch(e, 'production')))) {
        out.push(diag(r.file, r.span, 'warning', 'lint/unconditional-allow',
          `rule \`${r.id}\` allows ${envs ? 'in production' : 'in every environment, production included,'} with no condition at all.`,
          'Add a `when:` condition (trust, path, namespace, cost, ...), or limit `match.environment` to non-production environments.'));
      }
    }
  }

  // Pairs: conflicting effects on the same requests, and rules that can never change a decision.
  const reported = new Set<string>();
  for (let i = 0; i < rules.length; i++) {
    const b = rules[i]!;
    if (b.effect === 'warn' || b.invalid) continue;
    for (let j = 0; j < rules.length; j++) {
      if (i === j) continue;
      const a = rules[j]!;
      if (a.effect === 'warn' || a.invalid || a.id === b.id) continue;
      const aw = whenKeys[j]!;
      const bw = whenKeys[i]!;
      if (aw.size > bw.size) continue;
      let subset = true;
      for (const k of aw) if (!bw.has(k)) { subset = false; break; }
      if (!subset || !matchCovers(a.match, b.match)) continue;
      const identical = aw.size === bw.size && sameMatch(a.match, b.match);
      if (identical && a.effect !== b.effect && (a.effect === 'allow' || b.effect === 'allow')) {
        const allow = a.effect === 'allow' ? a : b;
        const other = a.effect === 'allow' ? b : a;
        const key = `conflict:${allow.id}`;
        if (!reported.has(key)) {
          reported.add(key);
          out.push({
            ...diag(allow.file, allow.span, 'warning', 'lint/conflicting-rules', `rule \`${allow.id}\` allows exactly the requests that rule \`${other.id}\` ${other.effect === 'deny' ? 'denies' : 'escalates'} (${sourceOf(other)}); the ${other.effect} always wins, so this allow never applies.`, 'Delete one of the rules, or narrow the allow with a condition the other lacks.'),
            related: [{ message: `the ${other.effect} rule`, file: other.file.path, line: other.span.line, column: other.span.column }],
          });
        }
        continue;
      }
      if (!outranks(a, b)) continue;
      // Identical rules of the same strength: report only the later one.
      if (identical && a.effect === b.effect && j > i) continue;
      const key = `shadow:${b.id}`;
      if (reported.has(key)) continue;
      reported.add(key);
      out.push({
        ...diag(b.file, b.span, 'warning', 'lint/shadowed-rule', `rule \`${b.id}\` can never change a decision: ${identical ? 'the identical' : 'the broader'} rule \`${a.id}\` (${sourceOf(a)}) matches every request it matches and ${a.effect === b.effect ? 'decides the same' : `${a.effect === 'deny' ? 'denies' : 'escalates'} them`}.`, 'Delete this rule, or make it narrower than, or different from, the other.'),
        rule: b.id,
        related: [{ message: `the ${identical ? 'identical' : 'broader'} rule`, file: a.file.path, line: a.span.line, column: a.span.column, rule: a.id }],
      });
    }
  }
  return out;
}
