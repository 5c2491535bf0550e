// Writing a bundle file and a signing key pair, and verifying a bundle file: beside and renamed, so a reader never sees half a
// file, and a key file that exists is kept unless forced.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { UsageError } from '../diagnostics/usage.js';
import { newKeyPair, readBundle, type Verified } from './bundle.js';

/** Writes beside and renames, so a reader never sees half a file. */
export function writeAtomically(path: string, text: string, mode?: number): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  const tmp = join(dirname(resolve(path)), `.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(tmp, text, mode !== undefined ? { mode } : {});
  renameSync(tmp, path);
}

/** Writes PREFIX.key (private, mode 600) and PREFIX.pub; returns their paths. */
export function writeKeyPair(prefix: string, force: boolean): { priv: string; pub: string } {
  const priv = `${prefix}.key`;
  const pub = `${prefix}.pub`;
  for (const f of [priv, pub]) if (existsSync(f) && !force) throw new UsageError(`keygen: ${f} exists; choose another --out or pass --force to replace it.`);
  const pair = newKeyPair();
  writeAtomically(priv, pair.privateKey, 0o600);
  writeAtomically(pub, pair.publicKey);
  return { priv, pub };
}

/** The bundle at `path` verified against `publicKeys`, and how its signature stands, in words. */
export function verifyBundleFile(path: string, publicKeys: string[]): { verified: Verified; signed: string } {
  const v = readBundle(resolve(path), publicKeys, path);
  const signed = v.signedBy ? `signature verified with ${relative(process.cwd(), v.signedBy) || v.signedBy}` : v.file.signature ? 'signed, not verified (no bundle.public_keys configured)' : 'unsigned';
  return { verified: v, signed };
}
