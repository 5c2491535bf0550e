// The compiled bundle, cached by the content hash of the policy files, so that `govern eval`
// does not parse YAML, check schemas or recompile when nothing changed. A cache entry is derived
// data: a missing, unreadable or edited one (not sealed with this user's key, see cache/sealed.ts;
// no longer hashing to the bundle hash it carries; written for other policy files) is rebuilt
// from the policies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '../compile/bundle.js';
import { bundleHash, cedarSchema } from '../compile/schema.js';
import type { CompiledRule } from '../compile/rule.js';
import type { FieldType } from '../policy/vocabulary.js';
import { findPolicyFiles } from '../policy/files.js';
import { sha256 } from './canonical.js';
import { readSealed, writeSealed } from '../cache/sealed.js';

// 3: rules carry `index.action`. 4: a rule's matcher holds its logic without annotations.
// 5: sealed.
const FORMAT = 5;

interface Stored {
  format: number;
  govern: string;
  /** The policies key it was compiled for (the file name, repeated inside). */
  key: string;
  hash: string;
  rules: CompiledRule[];
  schema: string;
  resourceAttrs: [string, FieldType][];
  contextAttrs: [string, FieldType][];
}

/** The content key of a policy folder: every policy file's path and bytes, and the govern version. */
export function policiesKey(paths: string[], version: string): string {
  const files = findPolicyFiles(paths, []);
  return sha256(version, ...files.flatMap((f) => [f, readFileSync(f, 'latin1')]));
}

export function readCachedBundle(dir: string, key: string, version: string): Bundle | undefined {
  try {
    const text = readSealed(join(dir, `${key}.json`));
    if (text === undefined) return undefined;
    const s = JSON.parse(text) as Stored;
    if (s.format !== FORMAT || s.govern !== version || s.key !== key) return undefined;
    if (typeof s.schema !== 'string' || !Array.isArray(s.rules) || bundleHash(s.schema, s.rules) !== s.hash) return undefined;
    // The attribute types build the requests; they are what the schema declares, no more.
    if (cedarSchema(new Map(s.resourceAttrs), new Map(s.contextAttrs)) !== s.schema) return undefined;
    return { hash: s.hash, rules: s.rules, byId: new Map(s.rules.map((r) => [r.id, r])), schema: s.schema, resourceAttrs: new Map(s.resourceAttrs), contextAttrs: new Map(s.contextAttrs) };
  } catch {
    return undefined;
  }
}

export function writeCachedBundle(dir: string, key: string, version: string, b: Bundle): void {
  const s: Stored = { format: FORMAT, govern: version, key, hash: b.hash, rules: b.rules, schema: b.schema, resourceAttrs: [...b.resourceAttrs], contextAttrs: [...b.contextAttrs] };
  writeSealed(join(dir, `${key}.json`), JSON.stringify(s));
}
