// Secrets on key material made here by the real tools, the preset's rules run synchronously, and
// placeholders that stay placeholders.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detect } from '../src/request/detectors/index.js';
import { PRESET_RULE_IDS, presetSecrets } from '../src/request/detectors/secretlint.js';
import { detectSecrets, isKeyMaterial } from '../src/request/detectors/secrets.js';
import { normalizeRequest } from '../src/request/normalize.js';

const dir = mkdtempSync(join(tmpdir(), 'govern-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let made = 0;
function sshKey(type: string, bits?: number): string {
  const file = join(dir, `id_${type}_${++made}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'ci@example', '-f', file], { stdio: 'ignore' });
  return readFileSync(file, 'utf8');
}

function opensslKey(algorithm: string, ...options: string[]): string {
  return execFileSync('openssl', ['genpkey', '-algorithm', algorithm, ...options.flatMap((o) => ['-pkeyopt', o])], { encoding: 'utf8' });
}

const KEYS: [string, () => string][] = [
  ['ssh-keygen -t ed25519 (OpenSSH format)', () => sshKey('ed25519')],
  ['ssh-keygen -t rsa (OpenSSH format)', () => sshKey('rsa', 2048)],
  ['ssh-keygen -t ecdsa (OpenSSH format)', () => sshKey('ecdsa')],
  ['openssl genpkey RSA (PKCS#8)', () => opensslKey('RSA', 'rsa_keygen_bits:2048')],
  ['openssl genpkey ED25519 (PKCS#8, short)', () => opensslKey('ED25519')],
  ['openssl genpkey EC P-256', () => opensslKey('EC', 'ec_paramgen_curve:P-256')],
];

const kindsIn = (text: string): string[] => detectSecrets(text).map((h) => h.kind);

describe('private keys made by ssh-keygen and openssl', () => {
  it.each(KEYS)('%s is a private-key finding', (_name, make) => {
    const key = make();
    expect(key).toContain('PRIVATE KEY-----');
    expect(kindsIn(key)).toContain('private-key');
    // Inside a file body, as JSON with escaped newlines, and cut short after a few lines.
    expect(kindsIn(`# deploy key\n${key}\n# end`)).toContain('private-key');
    expect(kindsIn(JSON.stringify({ key }))).toContain('private-key');
    expect(kindsIn(key.split('\n').slice(0, 4).join('\n'))).toContain('private-key');
  });

  it('covers the whole block with one finding, and its preview holds no key bytes', () => {
    const key = sshKey('ed25519').trim();
    const hits = detectSecrets(key);
    expect(hits).toEqual([{ kind: 'private-key', start: 0, end: key.length }]);
    const findings = detect(normalizeRequest({ agent: 'coder', action: 'write_file', content: key }));
    const body = key.split('\n')[1]!;
    for (const f of findings) expect(f.preview).not.toContain(body.slice(0, 12));
  });

  it('judges key bodies by their bytes: zero runs are key material, filler is not', () => {
    const real = sshKey('ed25519').split('\n').slice(1, -2).join('\n');
    expect(real).toMatch(/AAAAAAAA/);
    expect(isKeyMaterial(real)).toBe(true);
    expect(isKeyMaterial('A'.repeat(400))).toBe(false);
    expect(isKeyMaterial('x'.repeat(64) + '\n' + 'x'.repeat(64))).toBe(false);
    expect(isKeyMaterial('MIIEowIBAAKCAQEA...')).toBe(false);
    expect(isKeyMaterial('<your private key here>')).toBe(false);
    for (const body of ['A'.repeat(64), 'xxxx', 'MIIEpAIBAAKCAQEA' + 'X'.repeat(80), '...']) {
      expect(kindsIn(`-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----`)).toEqual([]);
    }
  });
});

describe("secretlint's recommended preset, run synchronously", () => {
  it('runs the text rules and leaves out the file and comment-filter rules', () => {
    expect(PRESET_RULE_IDS).toContain('@secretlint/secretlint-rule-privatekey');
    expect(PRESET_RULE_IDS).toContain('@secretlint/secretlint-rule-github');
    expect(PRESET_RULE_IDS).not.toContain('@secretlint/secretlint-rule-gcp');
    expect(PRESET_RULE_IDS).not.toContain('@secretlint/secretlint-rule-filter-comments');
  });

  it('reports through the preset, with this project\'s kinds, and returns at once', () => {
    const github = 'ghp_' + 'q8Zr2LkT0vXw5mN7bY3cF9hJ1sD4gP6aE8uR'.slice(0, 36);
    const hits = presetSecrets(`token: ${github}`);
    expect(hits).toEqual([{ kind: 'github-token', start: 7, end: 7 + github.length, rule: '@secretlint/secretlint-rule-github' }]);
    expect(kindsIn(`token: ${github}`)).toEqual(['github-token']);
  });

  it("the preset's private key rule sees ssh-keygen's keys too", () => {
    const key = sshKey('ed25519');
    expect(presetSecrets(key).map((h) => h.kind)).toContain('private-key');
  });

  it('a secretlint-disable comment does not hide a secret', () => {
    const github = 'ghp_' + 'q8Zr2LkT0vXw5mN7bY3cF9hJ1sD4gP6aE8uR'.slice(0, 36);
    expect(kindsIn(`// secretlint-disable-next-line\nconst t = "${github}";`)).toContain('github-token');
  });

  it.each([
    ['a filler token the preset matches by prefix', 'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    ['a bot token made of words', 'xoxb-xoxb-my-bot-token'],
    ['a short demo token', 'xoxb-12345-abcd234'],
    ['a configuration token placeholder', 'xoxe.xoxp-1-initial'],
    ['a database URL with a placeholder password', 'postgres://user:password@localhost:5432/app'],
    ['a basic-auth URL with a template password', 'https://deploy:${TOKEN}@git.example.com/repo.git'],
  ])('%s is not a finding', (_name, text) => {
    expect(kindsIn(text)).toEqual([]);
  });

  it('a database URL with a real-looking password is a connection string', () => {
    expect(kindsIn('DATABASE_URL=postgres://app:Vq7m2Lx9Tz4R@db.internal:5432/app')).toContain('connection-string');
  });
});
