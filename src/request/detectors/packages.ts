// The packages whose code the detectors run. Some are loaded from node_modules even by the bundled
// command line (the shell parser, the phone number library), and the library API loads them all
// from there: an upgrade of one changes what the detectors find without changing govern's build.
// Whatever keeps findings across processes (Runtime.scanOf) keys them by these versions too.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** Every package a detector imports (a test reads the detectors' imports against this list). */
export const DETECTOR_PACKAGES = ['@secretlint/secretlint-rule-preset-recommend', 'libphonenumber-js', 'tree-sitter', 'tree-sitter-bash'] as const;

/**
 * The installed version of a package, from its package.json: looked for in each node_modules folder
 * up from this module's, as node resolves a bare name (about 0.3 ms a package; resolving the name
 * itself costs five times that), else found up from the file node resolves it to. Undefined when
 * there is none.
 */
export function installedVersion(name: string): string | undefined {
  const read = (file: string): string | undefined => {
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      return pkg.name === name && typeof pkg.version === 'string' ? pkg.version : undefined;
    } catch {
      return undefined;
    }
  };
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(file)) return read(file);
    if (dirname(dir) === dir) break;
  }
  let dir: string;
  try {
    dir = dirname(require.resolve(name));
  } catch {
    return undefined;
  }
  for (; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    const version = existsSync(file) ? read(file) : undefined;
    if (version !== undefined) return version;
    if (dirname(dir) === dir) return undefined;
  }
}

let versions: string | undefined;

/** `name@version` of each detector package, as installed (`name@?` when it cannot be read); read once a process. */
export function detectorVersions(): string {
  versions ??= DETECTOR_PACKAGES.map((name) => `${name}@${installedVersion(name) ?? '?'}`).join(' ');
  return versions;
}
