// Writes dist/build-id.txt: a hash of the compiled code (the bundle too), which every cache key carries beside the
// version (src/version.ts), so that a build with other code never reads what another build kept
// (compiled bundles, validations, test outcomes, sealed decision cache rows), released or not.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

// The folder is dist/, or the one given (tests).
const dist = process.argv[2] ?? join(import.meta.dirname, '..', 'dist');
const files = readdirSync(dist, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && /\.c?js$/.test(e.name))
  .map((e) => join(e.parentPath ?? e.path, e.name))
  .sort();
const h = createHash('sha256');
for (const f of files) h.update(relative(dist, f)).update('\0').update(readFileSync(f)).update('\0');
writeFileSync(join(dist, 'build-id.txt'), `${h.digest('hex').slice(0, 16)}\n`);
