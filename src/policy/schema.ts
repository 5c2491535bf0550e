// JSON Schema checks (ajv) of govern's YAML files. The schemas in schemas/ are the single source of
// the file formats; the TypeScript types are generated from them (scripts/gen-types.mjs).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';

export type SchemaError = ErrorObject;

const require = createRequire(import.meta.url);
const validators = new Map<string, ValidateFunction>();

export const POLICY_SCHEMA = 'policy.schema.json';
export const CONFIG_SCHEMA = 'config.schema.json';

function validator(name: string): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    const Ajv = require('ajv') as typeof import('ajv').default;
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
    v = ajv.compile(JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8')));
    validators.set(name, v);
  }
  return v;
}

export function validateAgainst(name: string, data: unknown): SchemaError[] {
  const v = validator(name);
  return v(data) ? [] : [...(v.errors ?? [])];
}

export function validatePolicyFile(data: unknown): SchemaError[] {
  return validateAgainst(POLICY_SCHEMA, data);
}
