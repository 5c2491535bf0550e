// The compiled bundle, cached by the content hash of the policy files, so that `govern eval`
// does not parse YAML, check schemas or recompile when nothing changed. A cache entry is derived
// data: a missing, unreadable or edited one (its content no longer hashes to the bundle hash it
// carries, or it was written for other policy files) is rebuilt from the policies.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '../compile/bundle.js';
import { bundleHash, cedarSchema } from '../compile/schema.js';
import type { CompiledRule } from '../compile/rule.js';
import type { FieldType } from '../policy/vocabulary.js';
import { findPolicyFiles } from '../policy/files.js';
import { sha256 } from './canonical.js';

// 3: rules carry `index.action`. 4: a rule's matcher holds its logic without annotations.
const FORMAT = 4;

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
    const s = JSON.parse(readFileSync(join(dir, `${key}.json`), 'utf8')) as Stored;
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
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${key}.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify(s));
    renameSync(tmp, join(dir, `${key}.json`));
  } catch {
    // A read-only checkout still works; it only recompiles each time.
  }
}
