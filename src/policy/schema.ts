// The JSON Schema check of policy files (ajv). The schema in schemas/ is the single source of the
// file format; the TypeScript types in schema-types.ts are generated from it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';

export type SchemaError = ErrorObject;

const require = createRequire(import.meta.url);
let validator: ValidateFunction | undefined;

export const POLICY_SCHEMA_PATH = new URL('../../schemas/policy.schema.json', import.meta.url);

function policyValidator(): ValidateFunction {
  if (!validator) {
    const Ajv = require('ajv') as typeof import('ajv').default;
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
    validator = ajv.compile(JSON.parse(readFileSync(POLICY_SCHEMA_PATH, 'utf8')));
  }
  return validator;
}

export function validatePolicyFile(data: unknown): SchemaError[] {
  const v = policyValidator();
  return v(data) ? [] : [...(v.errors ?? [])];
}
