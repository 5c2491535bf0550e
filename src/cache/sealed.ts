// The user's cache of derived files: the checked config and the compiled policy bundles, keyed by
// their content, in one folder per user ($XDG_CACHE_HOME/govern, else ~/.cache/govern), as Go
// keeps its build cache. Every clone, worktree and temporary copy of the same policies shares one
// compile. The folder must be this user's own and closed to everyone else, and each file is sealed
// with an HMAC under a key kept in it: a cache file that names other policies, or holds a deny
// rule whose Cedar never matches, would otherwise turn denies into allows while the policies in
// git stay as they were, and a content hash does not help, since anyone can compute one. A file
// whose seal does not match is not used. Where no such folder can be kept, nothing is cached:
// every command compiles again.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';

let store: { dir: string; key: Buffer } | null | undefined;

/** Whether a file or folder is this user's and closed to everyone else (where the platform says so). */
function isPrivate(path: string): boolean {
  if (typeof process.getuid !== 'function') return true;
  const s = lstatSync(path);
  return s.uid === process.getuid() && (s.mode & 0o077) === 0 && !s.isSymbolicLink();
}

/** The user's cache folder and sealing key, the key made on first use; null when they cannot be kept privately here. */
function userStore(): { dir: string; key: Buffer } | null {
  if (store !== undefined) return store;
  store = null;
  try {
    const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'govern');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!isPrivate(dir)) return store;
    const file = join(dir, 'cache-key');
    try {
      writeFileSync(file, randomBytes(32), { mode: 0o600, flag: 'wx' });
    } catch {
      // made by an earlier process
    }
    const k = readFileSync(file);
    if (k.length === 32 && isPrivate(file)) store = { dir, key: k };
  } catch {
    // no home, or a read-only one: no cache
  }
  return store;
}

/** Where a cache file of this name lives (`kind` is its subfolder); undefined when nothing can be cached here. */
export function cachePath(kind: string, name: string): string | undefined {
  const s = userStore();
  return s ? join(s.dir, kind, name) : undefined;
}

const seal = (k: Buffer, text: string) => createHmac('sha256', k).update(text).digest();

/** Keys derived from the user's key for one use each, so that no seal made for one use is good for another. */
const derived = new Map<string, Buffer | null>();
function derivedKey(use: string): Buffer | null {
  let k = derived.get(use);
  if (k === undefined) {
    const base = userStore()?.key;
    derived.set(use, (k = base ? seal(base, use) : null));
  }
  return k;
}

/** The key rows are sealed with: no row's seal is a cache file's. */
const rowSealKey = () => derivedKey('govern: rows kept outside the cache folder');

/**
 * The seal (hex) of a row this process writes somewhere anyone with the file may edit (the state
 * file's decision cache): an HMAC under this user's key. Undefined where no key can be kept.
 */
export function sealRow(text: string): string | undefined {
  const k = rowSealKey();
  return k ? seal(k, text).toString('hex') : undefined;
}

/** Whether a row read back carries the seal this user's key gives its text (never, where no key can be kept). */
export function rowSealed(text: string, mac: string | null | undefined): boolean {
  const k = rowSealKey();
  if (!k || typeof mac !== 'string' || mac.length !== 64) return false;
  const got = Buffer.from(mac, 'hex');
  return got.length === 32 && timingSafeEqual(got, seal(k, text));
}

/**
 * Where a cache file sits (its subfolder and name), which its seal covers with its content: the
 * name is the key of what the file answers for, and a sealed file copied to another key's place
 * (a validation of other policies, the outcomes of other tests, the config of another text) is
 * not read there.
 */
const placeOf = (path: string) => `${basename(dirname(path))}/${basename(path)}\0`;

/** The text of a sealed cache file, or undefined when it is missing, unreadable or not sealed with this user's key at its place. */
export function readSealed(path: string): string | undefined {
  const k = userStore()?.key;
  if (!k) return undefined;
  try {
    const data = readFileSync(path, 'utf8');
    const nl = data.indexOf('\n');
    if (nl !== 64) return undefined;
    const mac = Buffer.from(data.slice(0, nl), 'hex');
    const text = data.slice(nl + 1);
    if (mac.length !== 32 || !timingSafeEqual(mac, seal(k, placeOf(path) + text))) return undefined;
    touch(path);
    return text;
  } catch {
    return undefined;
  }
}

/** The JSON value of a sealed cache file; undefined as for readSealed, or when the text is not JSON. */
export function readSealedJson(path: string): unknown {
  const text = readSealed(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The key binary cache files are sealed with: no text file's seal is theirs. */
const bytesSealKey = () => derivedKey('govern: binary cache files');

const MAC_BYTES = 32;

/** The bytes of a sealed binary cache file (see writeSealedBytes), or undefined as for readSealed. */
export function readSealedBytes(path: string): Buffer | undefined {
  const k = bytesSealKey();
  if (!k) return undefined;
  try {
    const data = readFileSync(path);
    if (data.length < MAC_BYTES) return undefined;
    const body = data.subarray(MAC_BYTES);
    if (!timingSafeEqual(data.subarray(0, MAC_BYTES), createHmac('sha256', k).update(placeOf(path)).update(body).digest())) return undefined;
    touch(path);
    return body;
  } catch {
    return undefined;
  }
}

/** Writes a binary cache file, its HMAC first, as writeSealed writes a text one. */
export function writeSealedBytes(path: string, bytes: Buffer): void {
  const k = bytesSealKey();
  if (!k) return;
  writeAtomically(path, Buffer.concat([createHmac('sha256', k).update(placeOf(path)).update(bytes).digest(), bytes]));
}

/** Marks a cache file recently used: the last to go when its folder is trimmed. */
function touch(path: string): void {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // a read-only cache folder is still read
  }
}

/** What one cache subfolder may hold; the least recently used files go first. */
export const CACHE_LIMITS = { files: 256, bytes: 256 * 1024 * 1024 };

/** Writes a sealed cache file (atomically) and trims its folder; does nothing where no key can be kept or the folder is read-only. */
export function writeSealed(path: string, text: string): void {
  const k = userStore()?.key;
  if (!k) return;
  writeAtomically(path, `${seal(k, placeOf(path) + text).toString('hex')}\n${text}`);
}

/** Writes a cache file atomically and trims its folder; a read-only folder is left as it is. */
function writeAtomically(path: string, data: string | Buffer): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = join(dirname(path), `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, path);
    trim(dirname(path));
  } catch {
    // a read-only cache folder: every command compiles again
  }
}

/** Deletes the least recently used files of a cache folder beyond CACHE_LIMITS. */
function trim(dir: string): void {
  // Not the temporary files of writes under way (their names start with a dot).
  const files = readdirSync(dir).filter((f) => !f.startsWith('.')).flatMap((f) => {
    try {
      const s = statSync(join(dir, f));
      return [{ path: join(dir, f), used: s.mtimeMs, size: s.size }];
    } catch {
      return [];
    }
  });
  files.sort((a, b) => b.used - a.used);
  let bytes = 0;
  files.forEach((f, i) => {
    bytes += f.size;
    if (i < CACHE_LIMITS.files && bytes <= CACHE_LIMITS.bytes) return;
    try {
      unlinkSync(f.path);
    } catch {
      // removed by another process
    }
  });
}
