// secretlint's recommended preset (@secretlint/secretlint-rule-preset-recommend), run synchronously.
// secretlint's own entry point (`lintSource` in @secretlint/core) is async, and the decision path is
// not; the preset's rules themselves are plain objects whose `file(source)` handler matches and calls
// `context.report` synchronously, so this module drives them with the small part of the rule context
// they use. Each report gives a rule id and a range; the message (which quotes the secret) is dropped.
// The GCP rule reads `.p12`/`.json` files from disk and is left out; so is the comment filter, which
// only honours `secretlint-disable` comments that an agent could write to hide a secret.
import { rules as presetRules } from '@secretlint/secretlint-rule-preset-recommend';
import type { Hit } from './types.js';

const SKIPPED = new Set(['@secretlint/secretlint-rule-gcp', '@secretlint/secretlint-rule-filter-comments']);

/** The finding kind each preset rule reports; rules not named here report `generic-secret`. */
const KIND_OF_RULE: Record<string, string> = {
  '@secretlint/secretlint-rule-aws': 'aws-secret-key',
  '@secretlint/secretlint-rule-privatekey': 'private-key',
  '@secretlint/secretlint-rule-npm': 'npm-token',
  '@secretlint/secretlint-rule-slack': 'slack-token',
  '@secretlint/secretlint-rule-basicauth': 'connection-string',
  '@secretlint/secretlint-rule-database-connection-string': 'connection-string',
  '@secretlint/secretlint-rule-openai': 'openai-api-key',
  '@secretlint/secretlint-rule-anthropic': 'anthropic-api-key',
  '@secretlint/secretlint-rule-github': 'github-token',
  '@secretlint/secretlint-rule-gitlab': 'gitlab-token',
  '@secretlint/secretlint-rule-stripe': 'stripe-key',
};

interface Report { range: [number, number] }
interface SourceCode {
  content: string;
  filePath: undefined;
  ext: string;
  contentType: 'text';
  indexToPosition(index: number): { line: number; column: number };
  locationToRange(): [number, number];
}
interface RuleHandlers { file?: (source: SourceCode) => unknown }
interface RuleContext {
  createTranslator(): (id: string) => string;
  report(descriptor: Report): void;
  ignore(): void;
}
interface RuleCreator {
  meta: { id: string };
  create(context: RuleContext, options: Record<string, unknown>): RuleHandlers;
}

export interface PresetHit extends Hit {
  /** The preset rule that reported it. */
  rule: string;
}

const RULES = (presetRules as unknown as RuleCreator[]).filter((r) => !SKIPPED.has(r.meta.id));

/** The ids of the preset's rules this module runs. */
export const PRESET_RULE_IDS: readonly string[] = RULES.map((r) => r.meta.id);

function sourceOf(text: string): SourceCode {
  const position = (index: number): { line: number; column: number } => {
    let line = 1;
    let last = -1;
    for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) { line++; last = i; }
    return { line, column: index - last - 1 };
  };
  return { content: text, filePath: undefined, ext: '', contentType: 'text', indexToPosition: position, locationToRange: () => [0, 0] };
}

/** Every span the preset's rules report in `text`, with the kind this project gives it. */
export function presetSecrets(text: string): PresetHit[] {
  const out: PresetHit[] = [];
  const source = sourceOf(text);
  let done = false;
  for (const rule of RULES) {
    const kind = KIND_OF_RULE[rule.meta.id] ?? 'generic-secret';
    const context: RuleContext = {
      createTranslator: () => (id: string) => id,
      report: (d) => {
        const [start, end] = d.range;
        if (!done && end > start) out.push({ kind, start, end, rule: rule.meta.id });
      },
      ignore: () => {},
    };
    const result = rule.create(context, {}).file?.(source);
    // Every text rule of the preset reports synchronously; a rule that one day returns a promise
    // would report after this call returned, so its late reports are not trusted.
    if (result instanceof Promise) result.catch(() => {});
  }
  done = true;
  return out;
}
