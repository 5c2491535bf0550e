/* Generated from schemas/policy.schema.json by `npm run types`. Do not edit: change the schema. */

/**
 * Agent ids or globs.
 */
export type StringOrList = string | [string, ...string[]];
export type Category = 'CREATE' | 'MODIFY' | 'DELETE' | 'ACCESS' | 'COMPLY';
/**
 * Action verbs or globs, e.g. delete, read_*.
 */
export type StringOrList1 = string | [string, ...string[]];
/**
 * Resource types or globs, e.g. k8s:pod, file, k8s:*.
 */
export type StringOrList2 = string | [string, ...string[]];
/**
 * production (prod, prd), staging (stage, stg), dev (development), test, or your own.
 */
export type StringOrList3 = string | [string, ...string[]];
export type StringOrList4 = string | [string, ...string[]];
/**
 * Conditions, all of which must hold. A list means all of its items.
 */
export type When = Condition | [Condition, ...Condition[]];
/**
 * A detector found any of these kinds or classes (secret, pii, destructive, injection, aws-access-key, ...).
 */
export type StringOrList5 = string | [string, ...string[]];
/**
 * Alias of agent.trust.
 */
export type Test = Scalar | [Scalar, ...Scalar[]] | Operators;
export type Scalar = string | number | boolean;
/**
 * '*' matches within one path segment, '**' across segments; a leading '** /' also matches no directory.
 */
export type StringOrList6 = string | [string, ...string[]];
/**
 * The field (a list) holds all of these.
 */
export type StringOrList7 = string | [string, ...string[]];
/**
 * The field (a list) holds at least one of these.
 */
export type StringOrList8 = string | [string, ...string[]];
/**
 * A value (equals), a list (is one of), or operators, all of which must hold.
 *
 * This interface was referenced by `Condition1`'s JSON-Schema definition
 * via the `patternProperty` "^(agent|resource|context|cost|budget)\.[A-Za-z_][A-Za-z0-9_]*$".
 *
 * This interface was referenced by `Condition`'s JSON-Schema definition
 * via the `patternProperty` "^(agent|resource|context|cost|budget)\.[A-Za-z_][A-Za-z0-9_]*$".
 */
export type Test1 = Scalar | [Scalar, ...Scalar[]] | Operators;
/**
 * A value (equals), a list (is one of), or operators, all of which must hold.
 */
export type Test2 = Scalar | [Scalar, ...Scalar[]] | Operators;
/**
 * A value (equals), a list (is one of), or operators, all of which must hold.
 */
export type Test3 = Scalar | [Scalar, ...Scalar[]] | Operators;

/**
 * A govern policy file: metadata, rules, and the tests that `govern check` runs.
 */
export interface PolicyFile {
  /**
   * Name of this policy set.
   */
  name?: string;
  /**
   * Version of this policy set.
   */
  version?: string | number;
  description?: string;
  /**
   * The rules, evaluated together: deny beats escalate beats allow; warn only adds warnings.
   */
  rules?: Rule[];
  /**
   * Requests with the decision they must get; run by `govern check`.
   */
  tests?: PolicyTest[];
  /**
   * Where a distilled rule came from (written by `govern distill`).
   */
  provenance?: {
    [k: string]: unknown;
  };
}
export interface Rule {
  /**
   * Unique in the repository; becomes the Cedar policy id. Lower case letters, digits, '.', '_' and '-'.
   */
  id: string;
  description?: string;
  match?: Match;
  when?: When;
  /**
   * allow (tier 0, or 1 with audit), escalate (tier 2, a human decides), deny (tier 3), warn (adds a warning only).
   */
  effect: 'allow' | 'deny' | 'escalate' | 'warn';
  /**
   * An allow that is recorded for audit: tier 1 instead of 0.
   */
  audit?: boolean;
  /**
   * Shown to the agent and the human with the decision.
   */
  message?: string;
  /**
   * The policies, controls or tickets this rule implements.
   */
  refs?: string[];
}
/**
 * Which requests the rule is about. Every field given must match; a list matches any of its items.
 */
export interface Match {
  agent?: StringOrList;
  category?: Category | [Category, ...Category[]];
  action?: StringOrList1;
  resource?: StringOrList2;
  environment?: StringOrList3;
  namespace?: StringOrList4;
}
export interface Condition {
  /**
   * Every condition holds.
   *
   * @minItems 1
   */
  all?: [Condition, ...Condition[]];
  /**
   * At least one condition holds.
   *
   * @minItems 1
   */
  any?: [Condition, ...Condition[]];
  not?: Condition1;
  detected?: StringOrList5;
  /**
   * A raw Cedar expression, for what the YAML cannot say.
   */
  cedar?: string;
  trust?: Test;
  environment?: Test1;
  namespace?: Test1;
  action?: Test1;
  category?: Test1;
  command?: Test1;
  hour?: Test2;
  risk?: Test3;
  [k: string]:
    Test1 | [Condition, ...Condition[]] | Condition1 | StringOrList5 | string | Test | Test2 | Test3 | undefined;
}
/**
 * The condition does not hold.
 */
export interface Condition1 {
  /**
   * Every condition holds.
   *
   * @minItems 1
   */
  all?: [Condition, ...Condition[]];
  /**
   * At least one condition holds.
   *
   * @minItems 1
   */
  any?: [Condition, ...Condition[]];
  not?: Condition1;
  detected?: StringOrList5;
  /**
   * A raw Cedar expression, for what the YAML cannot say.
   */
  cedar?: string;
  trust?: Test;
  environment?: Test1;
  namespace?: Test1;
  action?: Test1;
  category?: Test1;
  command?: Test1;
  hour?: Test2;
  risk?: Test3;
  [k: string]:
    Test1 | [Condition, ...Condition[]] | Condition1 | StringOrList5 | string | Test | Test2 | Test3 | undefined;
}
export interface Operators {
  eq?: Scalar | FieldRef;
  ne?: Scalar | FieldRef;
  /**
   * @minItems 1
   */
  in?: [Scalar, ...Scalar[]];
  /**
   * @minItems 1
   */
  not_in?: [Scalar, ...Scalar[]];
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  glob?: StringOrList6;
  not_glob?: StringOrList4;
  contains?: StringOrList7;
  contains_any?: StringOrList8;
  /**
   * The request carries (true) or lacks (false) the field.
   */
  exists?: boolean;
}
export interface FieldRef {
  /**
   * Another field of the request, e.g. agent.team.
   */
  field: string;
}
export interface PolicyTest {
  name: string;
  /**
   * A request as `govern eval` takes it.
   */
  request: {};
  facts?: TestFacts;
  expect: 'allow' | 'deny' | 'escalate';
  tier?: number;
  /**
   * Rules that must be among the reasons for the decision.
   */
  rules?: string[];
  /**
   * Warn rules that must fire.
   */
  warnings?: string[];
}
/**
 * Facts that state and detectors would supply at run time, fixed for this test.
 */
export interface TestFacts {
  /**
   * Detector kinds found in the request.
   */
  findings?: string[];
  trust?: number;
  team?: string;
  hour?: number;
  risk?: 'low' | 'medium' | 'high' | 'critical';
  budget?: {
    used_pct?: number;
    exceeded?: boolean;
  };
}
