// Policy bundles: built from the default pack, signed with a real Ed25519 key, read back by the
// runtime; a bundle decides exactly as the folder, and one that is altered, unsigned where a
// signature is required, or signed by another key is refused whole.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError, buildBundle, bundleText, newKeyPair, readBundle, signBundle, verifyBundle, type BundleFile } from '../src/bundle/bundle.js';
import { check } from '../src/check/check.js';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { canonicalJson } from '../src/runtime/canonical.js';
import { Runtime } from '../src/runtime/runtime.js';
import { cli } from './core.js';
import { govern, ROOT, tempTree } from './helpers.js';

const DENY = { agent: 'coder', action: 'read_file', resource: 'file:secrets/db.yaml', environment: 'dev' };

let dir: string;
let keys: { privateKey: string; publicKey: string };
let other: { privateKey: string; publicKey: string };
let unsigned: BundleFile;
let signed: BundleFile;
const requests: unknown[] = [];

beforeAll(() => {
  dir = tempTree({ 'signer.pub': '', 'other.pub': '' });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  keys = newKeyPair();
  other = newKeyPair();
  writeFileSync(join(dir, 'signer.key'), keys.privateKey);
  writeFileSync(join(dir, 'signer.pub'), keys.publicKey);
  writeFileSync(join(dir, 'other.key'), other.privateKey);
  writeFileSync(join(dir, 'other.pub'), other.publicKey);
  const r = check([join(dir, 'policies')]);
  expect(r.bundle).toBeDefined();
  for (const t of r.model.tests) requests.push(t.test.request);
  const tests = { run: r.tests.length, passed: r.tests.filter((t) => t.passed).length, failed: r.tests.filter((t) => !t.passed).length, results: [] };
  unsigned = buildBundle(r.bundle!, r.sources, tests);
  signed = signBundle(unsigned, createPrivateKey(keys.privateKey));
  writeFileSync(join(dir, 'signed.json'), bundleText(signed));
  writeFileSync(join(dir, 'unsigned.json'), bundleText(unsigned));
});

const pub = (pem: string) => [{ path: 'key.pub', key: createPublicKey(pem) }];

describe('a signed bundle', () => {
  it('decides every example request of the default pack exactly as the folder, with the same policy hash', async () => {
    writeFileSync(join(dir, 'govern.config.yaml'), 'bundle:\n  public_keys: [signer.pub]\n');
    const folder = await Runtime.open({ cwd: dir, noState: true });
    const fromBundle = await Runtime.open({ cwd: dir, noState: true, bundle: 'signed.json' });
    try {
      expect(fromBundle.bundleFile).toBe(join(dir, 'signed.json'));
      expect(fromBundle.bundle.hash).toBe(folder.bundle.hash);
      expect(requests.length).toBeGreaterThan(20);
      const now = new Date('2026-12-01T12:00:00Z');
      for (const req of requests) {
        const a = (await folder.evaluate(req, { now })).decision;
        const b = (await fromBundle.evaluate(req, { now })).decision;
        const strip = ({ id: _i, elapsed_ms: _e, ...d }: typeof a) => d;
        expect(strip(b), JSON.stringify(req)).toEqual(strip(a));
      }
    } finally {
      folder.close();
      fromBundle.close();
    }
  });

  it('is taken from the configuration\'s bundle.file, and a public key that cannot be read is named', async () => {
    const cfg = tempTree({ 'govern.config.yaml': `bundle:\n  file: ${join(dir, 'signed.json')}\n  public_keys: [${join(dir, 'signer.pub')}]\n` });
    const rt = await Runtime.open({ cwd: cfg, noState: true });
    try {
      expect(rt.bundleFile).toBe(join(dir, 'signed.json'));
      expect(rt.bundle.hash).toBe(signed.manifest.hash);
      expect((await rt.evaluate(DENY)).decision.decision).toBe('deny');
    } finally {
      rt.close();
    }
    const missing = tempTree({ 'govern.config.yaml': `bundle:\n  file: ${join(dir, 'signed.json')}\n  public_keys: [nowhere.pub]\n` });
    await expect(Runtime.open({ cwd: missing, noState: true })).rejects.toThrow(/^bundle\.public_keys: .*nowhere\.pub is not a readable PEM public key \(ENOENT\)/);
  });

  it('verifies against its public key and says which key verified it', () => {
    const v = verifyBundle(bundleText(signed), 'signed.json', pub(keys.publicKey));
    expect(v.signedBy).toBe('key.pub');
    expect(v.bundle.rules.map((r) => r.id)).toEqual(check([join(dir, 'policies')], { tests: false }).bundle!.rules.map((r) => r.id));
  });

  it('is built deterministically: the same policies give the same bytes and signature', () => {
    const r = check([join(dir, 'policies')]);
    const again = signBundle(buildBundle(r.bundle!, r.sources, signed.tests), createPrivateKey(keys.privateKey));
    expect(bundleText(again)).toBe(bundleText(signed));
  });
});

describe('a bundle that does not verify is refused', () => {
  const tamper = (f: BundleFile) => {
    const text = bundleText(f);
    // One byte of one deny policy's Cedar text.
    const at = text.indexOf('forbid');
    expect(at).toBeGreaterThan(0);
    return text.slice(0, at) + 'permit' + text.slice(at + 'forbid'.length);
  };

  it('when one policy was altered, signed or not, with or without keys', () => {
    expect(() => verifyBundle(tamper(signed), 'b.json', pub(keys.publicKey))).toThrow(/b\.json was altered after it was built/);
    expect(() => verifyBundle(tamper(unsigned), 'b.json', [])).toThrow(BundleError);
  });

  it('when the digest was recomputed after the change: the policy hash or the signature fails', () => {
    const f = JSON.parse(bundleText(signed)) as BundleFile;
    const id = Object.keys(f.policies)[0]!;
    f.policies[id] = f.policies[id]!.replace('forbid', 'permit');
    const { digest: _d, signature: _s, ...body } = f;
    f.digest = createHash('sha256').update(canonicalJson(body)).digest('hex');
    expect(() => verifyBundle(JSON.stringify(f), 'b.json', pub(keys.publicKey))).toThrow(/policies hash to .* manifest says/);
  });

  it('when it is unsigned and public keys are configured', () => {
    expect(() => verifyBundle(bundleText(unsigned), 'u.json', pub(keys.publicKey))).toThrow(/u\.json is not signed.*bundle\.public_keys/);
    // Without keys the hash is still checked, and an unsigned bundle is accepted.
    expect(verifyBundle(bundleText(unsigned), 'u.json', []).bundle.hash).toBe(unsigned.manifest.hash);
  });

  it('when it is signed by a key that is not configured', () => {
    const byOther = signBundle(unsigned, createPrivateKey(other.privateKey));
    expect(() => verifyBundle(bundleText(byOther), 'o.json', pub(keys.publicKey))).toThrow(/o\.json is signed by key [0-9a-f]{16}, which is not among/);
  });

  it('when it is not a bundle at all', () => {
    expect(() => verifyBundle('{"format":"x"}', 'x.json', [])).toThrow(/x\.json is not a govern bundle: format/);
    expect(() => verifyBundle('nope', 'x.json', [])).toThrow(/not JSON/);
    expect(() => readBundle(join(dir, 'missing.json'), [], 'missing.json')).toThrow(/missing\.json cannot be read \(ENOENT\)/);
  });
});

describe('govern build, eval --bundle, check --bundle (end to end)', () => {
  let project: string;
  beforeAll(() => {
    project = tempTree({ 'govern.config.yaml': 'bundle:\n  public_keys: [keys/signer.pub]\n', 'keys/signer.pub': keys.publicKey, 'keys/signer.key': keys.privateKey });
    cpSync(join(ROOT, 'policies'), join(project, 'policies'), { recursive: true });
  });

  it('builds a signed bundle that eval decides from, and refuses it once one byte changed', async () => {
    const b = await cli(['build', '--sign', 'keys/signer.key', '-o', 'out/bundle.json'], { cwd: project });
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/^built out\/bundle\.json: \d+ rules, (\d+)\/\1 tests passed, policy hash [0-9a-f]{12}, signed by key [0-9a-f]{16}\n$/);
    const ok = await cli(['eval', '--bundle', 'out/bundle.json', '--no-state', '--format', 'json'], { cwd: project, input: JSON.stringify(DENY) });
    expect(ok.code).toBe(2);
    expect(JSON.parse(ok.stdout).decision).toBe('deny');
    const text = readFileSync(join(project, 'out/bundle.json'), 'utf8');
    writeFileSync(join(project, 'out/tampered.json'), text.replace('forbid', 'permiT'));
    const bad = govern(['eval', '--bundle', 'out/tampered.json', '--no-state'], { cwd: project, input: JSON.stringify(DENY) });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe('govern: out/tampered.json was altered after it was built: its digest does not match its content. Refused; rebuild it with `govern build`.\n');
    const serve = govern(['serve', '--stdio', '--bundle', 'out/tampered.json'], { cwd: project, input: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'governance/evaluate', params: DENY }) + '\n' });
    expect(serve.code).toBe(1);
    expect(serve.stdout).toBe('');
    expect(serve.stderr).toMatch(/^govern: out\/tampered\.json was altered after it was built/);
  });

  it('check --bundle verifies the signature and refuses an unsigned bundle when keys are configured', async () => {
    expect((await cli(['build', '-o', 'unsigned.json', '-q'], { cwd: project })).code).toBe(0);
    const r = await cli(['check', '--bundle', 'unsigned.json'], { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^govern: unsigned\.json is not signed, and the configuration's bundle\.public_keys require a signature\. Refused; sign it with `govern build --sign KEY`\.\n$/);
  });

  it('check without paths checks the config\'s bundle.file, as eval and serve decide from it', async () => {
    const dir = tempTree({ 'govern.config.yaml': 'bundle:\n  file: out/b.json\n  public_keys: [signer.pub]\n', 'signer.pub': keys.publicKey });
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    expect((await cli(['build', '-o', 'out/b.json', '-q'], { cwd: dir })).code).toBe(0);
    const r = await cli(['check'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^govern: out\/b\.json is not signed, and the configuration's bundle\.public_keys require a signature/);
    // Paths given on the command line are checked as policy files, bundle or not.
    expect((await cli(['check', 'policies'], { cwd: dir })).code).toBe(0);
  });
});
