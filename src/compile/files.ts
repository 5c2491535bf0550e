// The files of a compiled bundle as `govern compile` writes them: the Cedar policies, the advisory
// (warn) set, the generated schema and a manifest (rule id -> YAML source, content hash).
// Byte-identical for the same bundle.
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VERSION } from '../version.js';
import type { Bundle } from './bundle.js';

export function bundleFiles(bundle: Bundle): Record<string, string> {
  const set = (s: 'decide' | 'warn') => bundle.rules.filter((r) => r.set === s).map((r) => r.text).join('\n\n') + '\n';
  const manifest = {
    govern: VERSION,
    hash: bundle.hash,
    files: { policies: 'policies.cedar', warnings: 'warnings.cedar', schema: 'schema.cedarschema' },
    rules: bundle.rules.map((r) => ({
      id: r.id, effect: r.effect, tier: r.tier, set: r.set, source: r.source,
      hash: createHash('sha256').update(r.text).digest('hex'), index: r.index,
    })),
  };
  return {
    'policies.cedar': set('decide'),
    'warnings.cedar': set('warn'),
    'schema.cedarschema': bundle.schema,
    'manifest.json': JSON.stringify(manifest, null, 2) + '\n',
  };
}

/** Writes the bundle's files into `dir`, each beside and renamed, so a reader never sees half a file. */
export function writeBundleFiles(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, join(dir, name));
  }
}
