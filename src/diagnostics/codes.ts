// The one catalogue of govern's codes: every diagnostic a policy, config or test can raise, and
// the refusals a decision can carry, each with what it means and what to do. Code that emits a
// code names it from here (the type `Code` rejects anything else), and README's code table is
// generated from this list (`npm run docs:codes`; a test checks that it is current). Imports nothing.

export type CodeGroup = 'yaml' | 'file' | 'policy' | 'schema' | 'lint' | 'cedar' | 'test' | 'config' | 'decision';

export interface CodeInfo {
  group: CodeGroup;
  /** What it means, in a few words. */
  summary: string;
  /** What to do about it. */
  help: string;
}

const SCHEMA = {
  'unknown-field': ['a field the schema does not know (a typo, or a field in the wrong place)', 'Use a field the schema lists; the message suggests the closest one.'],
  'missing-field': ['a required field is missing', 'Add the field the message names.'],
  'wrong-type': ['a value of the wrong type or shape', 'Write the value in one of the forms the schema allows.'],
  'invalid-value': ['a value outside the allowed set or pattern', 'Use one of the values the message lists.'],
  empty: ['an empty list, map or text where a value is needed', 'Give it a value, or remove the field.'],
  maxLength: ['a text too long', 'Shorten the text.'],
  minimum: ['a number under its range', 'Use a number within the range the message gives.'],
  maximum: ['a number over its range', 'Use a number within the range the message gives.'],
} as const;

type SchemaCodeName = keyof typeof SCHEMA;

function schemaCodes<P extends 'schema' | 'config'>(prefix: P, where: string): Record<`${P}/${SchemaCodeName}`, CodeInfo> {
  const out = {} as Record<string, CodeInfo>;
  for (const [name, [summary, help]] of Object.entries(SCHEMA)) out[`${prefix}/${name}`] = { group: prefix, summary: `${where}: ${summary}`, help };
  return out as Record<`${P}/${SchemaCodeName}`, CodeInfo>;
}

const yaml = (group: 'yaml' | 'config' | 'policy', what: string) => ({
  [`${group}/syntax`]: { group: group === 'policy' ? 'policy' : group, summary: `${what} is not valid YAML`, help: 'Fix the YAML syntax at the place shown; your editor or a YAML linter shows the structure.' },
  [`${group}/warning`]: { group: group === 'policy' ? 'policy' : group, summary: `${what} parses, with a YAML warning`, help: 'Read the warning; the YAML may not mean what it looks like.' },
}) as Record<`${typeof group}/syntax` | `${typeof group}/warning`, CodeInfo>;

export const CODES = {
  ...yaml('yaml', 'a policy file'),
  'file/encoding': { group: 'file', summary: 'a policy file is not UTF-8 text', help: 'Save the file as UTF-8.' },
  'file/unreadable': { group: 'file', summary: 'a policy file or folder cannot be read', help: 'Check that it exists and its permissions let you read it.' },
  'file/too-large': { group: 'file', summary: 'a policy file is over 4 MB', help: 'Split the file; no policy file needs to be that large.' },
  'file/not-found': { group: 'file', summary: 'a path given to check or compile does not exist', help: 'Pass an existing file or folder.' },
  'file/symlink-outside': { group: 'file', summary: 'a symbolic link under policies/ points outside the policy folder', help: 'Copy the file into the policy folder instead of linking to it.' },
  'file/symlink-broken': { group: 'file', summary: 'a symbolic link under policies/ points nowhere', help: 'Remove the link or point it at an existing file.' },
  'file/symlink-loop': { group: 'file', summary: 'symbolic links under policies/ form a loop', help: 'Remove one of the links.' },
  'file/not-regular': { group: 'file', summary: 'a policy path is neither a file nor a folder (a device, a socket)', help: 'Remove it from the policy folder.' },
  'file/duplicate': { group: 'file', summary: 'the same policy file is reached twice', help: 'Remove the second link or path.' },
  'file/skipped': { group: 'file', summary: 'a file under policies/ that is not a policy (.yaml, .yml or .cedar)', help: 'Move it out of the policy folder, or rename it if it is a policy.' },
  'policy/no-policies': { group: 'policy', summary: 'the policy folder holds no policy file', help: 'Add policies (`govern init` writes the default pack), or point --policies at the right folder.' },
  'policy/empty-file': { group: 'policy', summary: 'a policy file is empty', help: 'Add rules, or delete the file.' },
  ...yaml('policy', 'a distilled rule drafted by the model'),
  ...schemaCodes('schema', 'policy'),
  'policy/unknown-field': { group: 'policy', summary: 'a condition names a request field that does not exist', help: 'Use a field of the request (agent.trust, resource.path, context.NAME, cost.usd, ...); the message suggests the closest.' },
  'policy/bad-operator': { group: 'policy', summary: 'a condition uses an operator its field does not take', help: 'Use an operator the message lists for this field.' },
  'policy/type-conflict': { group: 'policy', summary: 'two rules use the same context attribute with different types', help: 'Give the attribute one type across all rules.' },
  'policy/type-mismatch': { group: 'policy', summary: 'a condition compares a field with a value of another type', help: 'Compare with a value of the field\'s type (a number with a number, a text with a text).' },
  'policy/duplicate-id': { group: 'policy', summary: 'two rules share an id', help: 'Rule ids are unique in the repository; rename one.' },
  'policy/too-deep': { group: 'policy', summary: 'conditions nest too deep', help: 'Flatten the all/any/not nesting, or split the rule.' },
  'policy/invalid-unicode': { group: 'policy', summary: 'a string holds half of a UTF-16 surrogate pair', help: 'Write the character itself, or its full escape.' },
  'lint/shadowed-rule': { group: 'lint', summary: 'a rule can never change a decision: another rule covers every request it matches', help: 'Remove the rule, or narrow the rule that shadows it.' },
  'lint/conflicting-rules': { group: 'lint', summary: 'rules with different effects match the same requests', help: 'Make the rules disjoint, or keep the stricter one.' },
  'lint/unconditional-allow': { group: 'lint', summary: 'an allow with no match and no condition allows everything', help: 'Add a match or a condition.' },
  'lint/glob-inexact': { group: 'lint', summary: 'a glob that Cedar can only say more broadly', help: 'Rewrite the glob with one `*`, or without wildcards; for a deny this errs on the strict side.' },
  'lint/unknown-detector': { group: 'lint', summary: 'a `detected:` condition names no detector', help: 'Use a detector name the message lists.' },
  'lint/unknown-test-rule': { group: 'lint', summary: 'a policy test expects a rule that does not exist', help: 'Name an existing rule id in the test.' },
  'lint/always-present': { group: 'lint', summary: 'a condition tests for a field that is always present', help: 'Drop the condition, or test the field\'s value.' },
  'lint/audit-not-allow': { group: 'lint', summary: '`audit: true` on a rule that is not an allow', help: 'Audit marks an allow as tier 1; remove it from deny, escalate and warn rules.' },
  'cedar/parse': { group: 'cedar', summary: 'Cedar text (a .cedar file, a cedar: condition, or compiled output) does not parse', help: 'Fix the Cedar syntax at the place shown.' },
  'cedar/not-an-expression': { group: 'cedar', summary: 'a `cedar:` condition is not exactly one Cedar expression', help: 'Write one expression, without `;` or a policy around it.' },
  'cedar/validation': { group: 'cedar', summary: 'a policy does not validate against the generated Cedar schema', help: 'Use attributes and types the schema declares (`govern compile` writes schema.cedarschema).' },
  'cedar/effect-mismatch': { group: 'cedar', summary: "a .cedar policy's @effect annotation contradicts permit or forbid", help: 'Make @effect agree with the policy (allow with permit; deny or escalate with forbid).' },
  'cedar/invalid-id': { group: 'cedar', summary: 'a .cedar policy has no usable @id', help: 'Give each policy an `@id("...")` annotation, unique in the repository.' },
  'test/failed': { group: 'test', summary: 'a policy test got another decision than it expects', help: 'Fix the rule or the test; the message shows the rules that decided.' },
  'test/bad-request': { group: 'test', summary: "a policy test's request is not a valid request", help: 'Fix the request as the message says (see the Request contract).' },
  ...yaml('config', 'govern.config.yaml'),
  'config/not-found': { group: 'config', summary: 'the configuration file given to --config does not exist or cannot be read', help: 'Pass an existing file to --config, or run `govern init`.' },
  ...schemaCodes('config', 'govern.config.yaml'),
  'decision/model-failure': { group: 'decision', summary: 'the model was asked and could not decide (timeout, provider error, invalid output): escalated, not cached, no evidence for distill', help: 'A human decides; check the provider settings and `govern providers`.' },
  'decision/invalid-request': { group: 'decision', summary: 'a request that cannot be taken as it is (unknown field, wrong type, invisible characters): refused, nothing written', help: 'Fix the field the message names; see the Request contract.' },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;

/** The code of a JSON Schema keyword's error (`exclusiveMinimum` counts as `minimum`); keywords without their own code are `invalid-value`. */
export function schemaCode<P extends 'schema' | 'config'>(prefix: P, keyword: string): `${P}/${SchemaCodeName}` {
  const k = keyword === 'exclusiveMinimum' ? 'minimum' : keyword === 'exclusiveMaximum' ? 'maximum' : keyword;
  return `${prefix}/${(k in SCHEMA ? k : 'invalid-value') as SchemaCodeName}`;
}

/** A schema code as the config reports it: the same check, on govern.config.yaml. */
export function configCode(code: Code): Code {
  return code.startsWith('schema/') ? (`config/${code.slice('schema/'.length)}` as Code) : code;
}

/** Failed policy tests are told apart from policy errors (exit 4, not 3). */
export function isTestCode(code: Code): boolean {
  return CODES[code].group === 'test';
}

const GROUP_TITLE: Record<CodeGroup, string> = {
  yaml: 'YAML', file: 'files', policy: 'policy', schema: 'policy schema', lint: 'lints', cedar: 'Cedar',
  test: 'policy tests', config: 'configuration', decision: 'decisions (on a reason or a refusal)',
};

/** README's code table, generated from the catalogue. */
export function codesTable(): string {
  const rows = Object.entries(CODES).map(([code, info]) => `| \`${code}\` | ${GROUP_TITLE[info.group]} | ${info.summary.replace(/\|/g, '\\|')} | ${info.help.replace(/\|/g, '\\|')} |`);
  return ['| code | about | meaning | what to do |', '| --- | --- | --- | --- |', ...rows].join('\n') + '\n';
}
