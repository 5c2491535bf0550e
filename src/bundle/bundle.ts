// Policy bundles: one JSON file holding what a host needs to decide exactly as the policy folder
// would (the compiled Cedar policies by id, the generated Cedar schema, the rules' metadata and
// the attribute types), with a manifest, the policies' tests' results, a digest of all of it and,
// optionally, an Ed25519 signature. A bundle is refused, never partly used, when its digest, its
// policy hash or its signature does not verify. Building is deterministic: no timestamp, keys in
// a fixed order, so the same policies give the same bytes (and the same signature).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bundleHash, type Bundle } from '../compile/bundle.js';
import type { CompiledRule } from '../compile/rule.js';
import type { FieldType } from '../policy/vocabulary.js';
import { canonicalJson } from '../compile/canonical.js';
import { VERSION } from '../version.js';

export const BUNDLE_FORMAT = 'govern-bundle/1';

/** A bundle that cannot be used: unreadable, altered, unsigned where a signature is required, or signed by an unknown key. One line. */
export class BundleError extends Error {}

export interface BundleTests {
  run: number;
  passed: number;
  failed: number;
  results: { name: string; file: string; line: number; passed: boolean; expected: string; actual?: string; message?: string }[];
}

export interface BundleManifest {
  govern: string;
  /** The policy hash: the same as the folder's, and the one decisions carry. */
  hash: string;
  rules: number;
  /** The policy files the bundle was built from, relative to the policy folder, with their sha256. */
  files: { path: string; sha256: string }[];
}

/** The signed part of a bundle file. */
export interface BundleBody {
  format: string;
  manifest: BundleManifest;
  /** The decision set: Cedar policy id -> text. */
  policies: Record<string, string>;
  /** The advisory (warn) set: Cedar policy id -> text. */
  warnings: Record<string, string>;
  /** The generated Cedar schema (human-readable syntax). */
  schema: string;
  /** Each rule's metadata in evaluation order (its text is in policies or warnings). */
  rules: Omit<CompiledRule, 'text'>[];
  attributes: { resource: [string, FieldType][]; context: [string, FieldType][] };
  tests: BundleTests;
}

export interface BundleSignature {
  alg: 'Ed25519';
  /** sha256 of the signer's public key (SPKI DER), hex: tells which key to verify with. */
  key: string;
  /** base64 of the signature over the canonical JSON of the body. */
  value: string;
}

export interface BundleFile extends BundleBody {
  /** sha256 of the canonical JSON of the body, hex. */
  digest: string;
  signature?: BundleSignature;
}

const BODY_KEYS = ['format', 'manifest', 'policies', 'warnings', 'schema', 'rules', 'attributes', 'tests'] as const;

function bodyOf(f: BundleFile | BundleBody): BundleBody {
  const out: Record<string, unknown> = {};
  for (const k of BODY_KEYS) out[k] = (f as unknown as Record<string, unknown>)[k];
  return out as unknown as BundleBody;
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** The bundle file of a compiled policy folder. `files` maps each policy file (relative path) to its text. */
export function buildBundle(bundle: Bundle, files: Map<string, string>, tests: BundleTests): BundleFile {
  const policies: Record<string, string> = {};
  const warnings: Record<string, string> = {};
  for (const r of bundle.rules) (r.set === 'warn' ? warnings : policies)[r.id] = r.text;
  const body: BundleBody = {
    format: BUNDLE_FORMAT,
    manifest: {
      govern: VERSION,
      hash: bundle.hash,
      rules: bundle.rules.length,
      files: [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, text]) => ({ path, sha256: sha(text) })),
    },
    policies,
    warnings,
    schema: bundle.schema,
    rules: bundle.rules.map(({ text: _text, ...meta }) => meta),
    attributes: { resource: [...bundle.resourceAttrs], context: [...bundle.contextAttrs] },
    tests,
  };
  return { ...body, digest: sha(canonicalJson(body)) };
}

/** The file's text: stable key order, one trailing newline. */
export function bundleText(f: BundleFile): string {
  return JSON.stringify(f, null, 2) + '\n';
}

/** sha256 of a public key's SPKI DER, hex. */
export function keyId(key: KeyObject): string {
  return sha(key.export({ type: 'spki', format: 'der' }));
}

/** Reads an Ed25519 private key (PEM); `what` names it in errors (a flag or a file). */
export function readPrivateKey(path: string, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path));
  } catch (e) {
    throw new BundleError(`${what}: ${path} is not a readable PEM private key (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); make one with \`govern keygen\`.`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new BundleError(`${what}: ${path} is a ${key.asymmetricKeyType ?? 'symmetric'} key; bundles are signed with Ed25519 (\`govern keygen\` makes one).`);
  return key;
}

/** Reads an Ed25519 public key (PEM); a private key file also gives its public key. */
export function readPublicKey(path: string, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(path));
  } catch (e) {
    throw new BundleError(`${what}: ${path} is not a readable PEM public key (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new BundleError(`${what}: ${path} is a ${key.asymmetricKeyType ?? 'symmetric'} key; bundle signatures are Ed25519.`);
  return key;
}

/** The bundle with a signature by `key` over its body (replacing any earlier one). */
export function signBundle(f: BundleFile, key: KeyObject): BundleFile {
  const body = bodyOf(f);
  const value = sign(null, Buffer.from(canonicalJson(body)), key).toString('base64');
  return { ...body, digest: f.digest, signature: { alg: 'Ed25519', key: keyId(createPublicKey(key)), value } };
}

/** A new Ed25519 key pair, PEM (PKCS#8 private, SPKI public). */
export function newKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

export interface Verified {
  file: BundleFile;
  bundle: Bundle;
  /** The public key file that verified the signature, when one did. */
  signedBy?: string;
}

const isRecordOfStrings = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

function shapeProblem(f: Record<string, unknown>): string | undefined {
  if (f.format !== BUNDLE_FORMAT) return `format is ${JSON.stringify(f.format)}, expected "${BUNDLE_FORMAT}"`;
  const m = f.manifest as Record<string, unknown> | undefined;
  if (typeof m !== 'object' || m === null || typeof m.hash !== 'string' || typeof m.govern !== 'string') return 'manifest is missing or incomplete';
  if (!isRecordOfStrings(f.policies) || !isRecordOfStrings(f.warnings)) return 'policies and warnings must map ids to Cedar text';
  if (typeof f.schema !== 'string') return 'schema is missing';
  if (!Array.isArray(f.rules) || !f.rules.every((r) => typeof r === 'object' && r !== null && typeof (r as { id?: unknown }).id === 'string')) return 'rules is missing or malformed';
  const a = f.attributes as Record<string, unknown> | undefined;
  if (typeof a !== 'object' || a === null || !Array.isArray(a.resource) || !Array.isArray(a.context)) return 'attributes is missing';
  if (typeof f.digest !== 'string') return 'digest is missing';
  if (f.signature !== undefined) {
    const s = f.signature as Record<string, unknown>;
    if (typeof s !== 'object' || s === null || s.alg !== 'Ed25519' || typeof s.key !== 'string' || typeof s.value !== 'string') return 'signature is malformed';
  }
  return undefined;
}

/**
 * Parses and verifies a bundle file's text: its shape, its digest, its policy hash and, when
 * `keys` is not empty, its signature by one of them (an unsigned bundle is then refused).
 * `name` is how errors name the file. Throws BundleError.
 */
export function verifyBundle(text: string, name: string, keys: { path: string; key: KeyObject }[]): Verified {
  let f: BundleFile;
  try {
    f = JSON.parse(text) as BundleFile;
  } catch (e) {
    throw new BundleError(`${name} is not a govern bundle: not JSON (${(e as Error).message}). Build one with \`govern build\`.`);
  }
  if (typeof f !== 'object' || f === null || Array.isArray(f)) throw new BundleError(`${name} is not a govern bundle: not a JSON object. Build one with \`govern build\`.`);
  const problem = shapeProblem(f as unknown as Record<string, unknown>);
  if (problem) throw new BundleError(`${name} is not a govern bundle: ${problem}. Build one with \`govern build\`.`);
  const body = bodyOf(f);
  const canonical = canonicalJson(body);
  if (sha(canonical) !== f.digest) throw new BundleError(`${name} was altered after it was built: its digest does not match its content. Refused; rebuild it with \`govern build\`.`);
  const rules: CompiledRule[] = [];
  for (const meta of f.rules) {
    const text = meta.set === 'warn' ? f.warnings[meta.id] : f.policies[meta.id];
    if (text === undefined) throw new BundleError(`${name} is not a govern bundle: rule \`${meta.id}\` has no Cedar text. Rebuild it with \`govern build\`.`);
    rules.push({ ...meta, text });
  }
  if (rules.length !== Object.keys(f.policies).length + Object.keys(f.warnings).length) throw new BundleError(`${name} is not a govern bundle: policies without rule metadata. Rebuild it with \`govern build\`.`);
  const hash = bundleHash(f.schema, rules);
  if (hash !== f.manifest.hash) throw new BundleError(`${name} was altered after it was built: its policies hash to ${hash.slice(0, 12)}, its manifest says ${f.manifest.hash.slice(0, 12)}. Refused; rebuild it with \`govern build\`.`);
  let signedBy: string | undefined;
  if (keys.length) {
    if (!f.signature) throw new BundleError(`${name} is not signed, and the configuration's bundle.public_keys require a signature. Refused; sign it with \`govern build --sign KEY\`.`);
    const sig = Buffer.from(f.signature.value, 'base64');
    const data = Buffer.from(canonical);
    for (const k of keys) {
      if (verify(null, data, k.key, sig)) {
        signedBy = k.path;
        break;
      }
    }
    if (!signedBy) {
      const known = keys.some((k) => keyId(k.key) === f.signature!.key);
      throw new BundleError(known
        ? `${name}: the signature does not verify: the bundle was altered after it was signed. Refused.`
        : `${name} is signed by key ${f.signature.key.slice(0, 16)}, which is not among the configuration's bundle.public_keys (${keys.length}). Refused.`);
    }
  }
  const bundle: Bundle = {
    hash,
    rules,
    byId: new Map(rules.map((r) => [r.id, r])),
    schema: f.schema,
    resourceAttrs: new Map(f.attributes.resource),
    contextAttrs: new Map(f.attributes.context),
  };
  return { file: f, bundle, ...(signedBy ? { signedBy } : {}) };
}

/** Reads and verifies a bundle file against the public key files (see verifyBundle). */
export function readBundle(path: string, publicKeys: string[], name = path): Verified {
  const keys = publicKeys.map((p) => ({ path: p, key: readPublicKey(p, 'bundle.public_keys') }));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BundleError(`${name} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give an existing bundle file (\`govern build\` writes one).`);
  }
  return verifyBundle(text, name, keys);
}
