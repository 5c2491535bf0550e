// The version of govern, from package.json: shown by --version. BUILD, the version and a hash of
// the compiled code (dist/build-id.txt, written by `npm run build`), is part of every cache key, so
// that no build reads what another kept, even one with the same version.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../package.json') as { version: string }).version;

function buildId(): string {
  try {
    return readFileSync(new URL('../dist/build-id.txt', import.meta.url), 'utf8').trim();
  } catch {
    return 'unbuilt';
  }
}

export const BUILD = `${VERSION}+${buildId()}`;
