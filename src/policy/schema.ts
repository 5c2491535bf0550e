// JSON Schema checks (ajv) of govern's YAML files. The schemas in schemas/ are the single source of
// the file formats; the TypeScript types are generated from them (scripts/gen-types.mjs).
// Compiling a schema costs a cold process tens of milliseconds, so the ones read on every run are
// precompiled (scripts/gen-validators.mjs, in validators/) and used while they match the schema.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';

export type SchemaError = ErrorObject;

const require = createRequire(import.meta.url);
const validators = new Map<string, ValidateFunction>();

export const POLICY_SCHEMA = 'policy.schema.json';
export const CONFIG_SCHEMA = 'config.schema.json';

/** The precompiled validator of this schema text, if there is one made from the same text. */
function precompiled(name: string, text: string): ValidateFunction | undefined {
  let m: ValidateFunction & { sha256?: string };
  try {
    m = require(`./validators/${name.replace(/\.json$/, '')}.cjs`) as typeof m;
  } catch {
    return undefined;
  }
  return m.sha256 === createHash('sha256').update(text).digest('hex') ? m : undefined;
}

function validator(name: string): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    const text = readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8');
    v = precompiled(name, text);
    if (!v) {
      const Ajv = require('ajv') as typeof import('ajv').default;
      const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
      v = ajv.compile(JSON.parse(text));
    }
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
