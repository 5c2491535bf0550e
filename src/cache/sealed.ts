// Cache files that only this user's govern can have written. The caches (the checked config, the
// compiled bundle) live in the project, under .govern/cache/, where an agent that may write
// project files could also write them: a cache file that names other policies, or holds a deny
// rule whose Cedar never matches, would turn denies into allows while the policies in git stay
// as they were. A content hash does not help, since anyone can compute one. So each file is
// sealed with an HMAC under a key kept outside every project, in a folder only this user can use
// ($XDG_CACHE_HOME/govern, else ~/.cache/govern); a file whose seal does not match is not used.
// Where no such key can be kept, nothing is cached: every command compiles again.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

let key: Buffer | null | undefined;

/** Whether a file or folder is this user's and closed to everyone else (where the platform says so). */
function isPrivate(path: string): boolean {
  if (typeof process.getuid !== 'function') return true;
  const s = lstatSync(path);
  return s.uid === process.getuid() && (s.mode & 0o077) === 0 && !s.isSymbolicLink();
}

/** The user's sealing key, made on first use; null when it cannot be kept privately here. */
function sealingKey(): Buffer | null {
  if (key !== undefined) return key;
  key = null;
  try {
    const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'govern');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!isPrivate(dir)) return key;
    const file = join(dir, 'cache-key');
    try {
      writeFileSync(file, randomBytes(32), { mode: 0o600, flag: 'wx' });
    } catch {
      // made by an earlier process
    }
    const k = readFileSync(file);
    if (k.length === 32 && isPrivate(file)) key = k;
  } catch {
    // no home, or a read-only one: no cache
  }
  return key;
}

const seal = (k: Buffer, text: string) => createHmac('sha256', k).update(text).digest();

/** The text of a sealed cache file, or undefined when it is missing, unreadable or not sealed with this user's key. */
export function readSealed(path: string): string | undefined {
  const k = sealingKey();
  if (!k) return undefined;
  try {
    const data = readFileSync(path, 'utf8');
    const nl = data.indexOf('\n');
    if (nl !== 64) return undefined;
    const mac = Buffer.from(data.slice(0, nl), 'hex');
    const text = data.slice(nl + 1);
    return mac.length === 32 && timingSafeEqual(mac, seal(k, text)) ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a sealed cache file (atomically); does nothing where no key can be kept or the folder is read-only. */
export function writeSealed(path: string, text: string): void {
  const k = sealingKey();
  if (!k) return;
  try {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    writeFileSync(tmp, `${seal(k, text).toString('hex')}\n${text}`);
    renameSync(tmp, path);
  } catch {
    // a read-only checkout still works; it only compiles each time
  }
}
