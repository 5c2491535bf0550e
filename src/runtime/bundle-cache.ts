// The compiled bundle, cached by the content of the policy files (their bytes and the paths a
// bundle names them by), so that `govern eval` does not parse YAML, check schemas or recompile
// when nothing changed, in this checkout or in any other copy of the same policies. A cache entry
// is derived data: a missing, unreadable or edited one (not sealed with this user's key, see
// cache/sealed.ts; no longer hashing to the bundle hash it carries; written for other policy
// files) is rebuilt from the policies.
import { readFileSync } from 'node:fs';
import type { Bundle } from '../compile/bundle.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { bundleHash, cedarSchema } from '../compile/schema.js';
import type { CompiledRule } from '../compile/rule.js';
import type { FieldType } from '../policy/vocabulary.js';
import { displayPath, findPolicyFiles } from '../policy/files.js';
import { sha256 } from './canonical.js';
import { cachePath, readSealed, writeSealed } from '../cache/sealed.js';

// 3: rules carry `index.action`. 4: a rule's matcher holds its logic without annotations.
// 5: sealed. 6: in the user's cache folder, keyed by the paths the bundle shows. 7: each
// file's bytes keyed by their hash.
const FORMAT = 7;

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

/**
 * The content key of a policy folder: the govern version, and every policy file's bytes and the
 * path the compiled rules name it by (relative to the working folder, as `govern check` shows it).
 * What finding the files reported goes to `problems`: after an error (a link out of the
 * repository, say) nothing compiles, and no cached bundle of the files that were found may stand in.
 */
export function policiesKey(paths: string[], version: string, problems: Diagnostic[] = []): string {
  const files = findPolicyFiles(paths, problems);
  // Each file's bytes by their own hash: the parts are joined with NUL, which a path cannot hold
  // but a file can, so that a file holding `NUL path NUL bytes` would otherwise key like two files.
  return sha256(version, ...files.flatMap((f) => [displayPath(f), sha256(readFileSync(f, 'latin1'))]));
}

/** The cache file of a policies key; undefined where nothing can be cached. */
export function bundleCachePath(key: string): string | undefined {
  return cachePath('bundles', `${key}.json`);
}

export function readCachedBundle(key: string, version: string): Bundle | undefined {
  try {
    const path = bundleCachePath(key);
    const text = path === undefined ? undefined : readSealed(path);
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

export function writeCachedBundle(key: string, version: string, b: Bundle): void {
  const path = bundleCachePath(key);
  if (path === undefined) return;
  const s: Stored = { format: FORMAT, govern: version, key, hash: b.hash, rules: b.rules, schema: b.schema, resourceAttrs: [...b.resourceAttrs], contextAttrs: [...b.contextAttrs] };
  writeSealed(path, JSON.stringify(s));
}
