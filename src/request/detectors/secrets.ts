// Credentials in text. The base is secretlint's recommended preset (see secretlint.ts): provider
// tokens, private keys, basic auth and database connection strings, kept up to date upstream. This
// module adds what the preset has no rule for: provider shapes it does not know or matches more
// narrowly (AWS access key ids, Anthropic admin keys, older OpenAI `sk-` keys, Google, Slack
// configuration tokens, JWTs and others), private key blocks the preset misses (truncated,
// escaped `\n`, encrypted), connection strings of any scheme with a password, and values assigned
// to secret-looking names (password=, token:, "apiKey": ...) when the value looks random enough.
// Placeholders (`xxxx`, `<TOKEN>`, `${VAR}`, `your-api-key-here`, documentation example keys) are
// not findings; private keys are judged by their decoded bytes instead, so that the runs of `A`
// (zero bytes) in real key material never read as filler.
//
// Every regular expression here has a literal or keyword anchor and bounded repetition, so a long
// input cannot make it backtrack without end.
import { presetSecrets } from './secretlint.js';
import type { Hit } from './types.js';

/** Shannon entropy of a string, in bits per character. */
export function shannon(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** The longest run of consecutive ascending characters (`abcd`, `6789012`). */
function ascendingRun(s: string): number {
  let best = 1;
  let run = 1;
  for (let i = 1; i < s.length; i++) {
    const a = s.charCodeAt(i - 1);
    const b = s.charCodeAt(i);
    const next = b === a + 1 || (a === 57 && b === 48);
    run = next ? run + 1 : 1;
    if (run > best) best = run;
  }
  return best;
}

const PLACEHOLDER_WORDS = /example|placeholder|changeme|change_me|your[-_ ]?(?:api|secret|token|key|password|pass|access|app|client|own)|yourapikey|<[^>]*>|\$\{|\{\{|%s\b|redacted|dummy|insert[-_ ]?(?:your|key|token)|replace[-_ ]?(?:me|with)|put[-_ ]?your|xxxx|lorem|(?:token|key|secret|password|string)[-_]?here$|^(?:your|my)[-_]|todo|fixme|notreal|not[-_]a[-_]real/i;

/**
 * Obvious non-secrets: fill characters, template references, documentation words, keyboard walks.
 * `strict` adds the looser signs used for values found only by their name.
 */
export function isPlaceholder(value: string, strict = false): boolean {
  const v = value;
  if (v.length === 0) return true;
  if (PLACEHOLDER_WORDS.test(v)) return true;
  if (/([xX*#.0_-])\1{5,}/.test(v) || /([A-Za-z])\1{7,}/.test(v)) return true;
  // Elided (`abc...`, `abc…`) or a chunk repeated three times (`1234-1234-1234`).
  if (/\.\.\.|…|\.\.$/.test(v)) return true;
  if (v.length <= 512) {
    const seen = new Map<string, number>();
    for (const seg of v.split(/[^A-Za-z0-9]+/)) if (seg.length >= 3) { const n = (seen.get(seg) ?? 0) + 1; if (n >= 3) return true; seen.set(seg, n); }
  }
  const counts = new Map<string, number>();
  for (const ch of v) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  if (v.length >= 8) {
    const top = Math.max(...counts.values());
    if (top / v.length > 0.5) return true;
    if (counts.size < 4) return true;
    const xs = (counts.get('x') ?? 0) + (counts.get('X') ?? 0);
    if (xs / v.length > 0.4) return true;
  }
  if (ascendingRun(v) >= 15) return true;
  if (strict) {
    if (/fake|sample|mock|dummy|test[-_]?(?:key|token|secret)|^test$|^secret$|^password$/i.test(v)) return true;
    if (ascendingRun(v) >= 8) return true;
  }
  return false;
}

interface Rule {
  /** Literals of which one occurs in every match: the rule runs only when one is in the text. */
  needles: string[];
  kind: string;
  /** A leading part not to judge as a placeholder (a fixed run of filler in the real format). */
  placeholderFrom?: RegExp;
  re: RegExp;
  /** Which capture group is the secret (default 1). */
  group?: number;
  /** Extra acceptance test on the secret. */
  check?: (secret: string) => boolean;
}

/**
 * Keys that their vendors publish as samples, matched whole. A Google API key has no checksum or
 * structure that tells a sample from a live key, so only a published list can. These are the
 * example keys of the Firebase SDKs (their tests, e.g. firebase-js-sdk's `isValidApiKeyFormat`
 * cases), which gitleaks allowlists in its `gcp-api-key` rule (config/gitleaks.toml). Firebase keys
 * identify a project and are shipped in apps by design; a key not on this list is always a finding.
 */
const PUBLISHED_SAMPLE_KEYS: ReadonlySet<string> = new Set([
  'AIzaSyabcdefghijklmnopqrstuvwxyz1234567',
  'AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs',
  'AIzaSyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM',
  'AIzaSyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU',
  'AIzaSyD3asb-2pEZVqMkmL6M9N6nHZRR_znhrh0',
  'AIzayDNSXIbFmlXbIE6mCzDLQAqITYefhixbX4A',
  'AIzaSyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c',
  'AIzaSyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4',
  'AIzaSyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY',
  'AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM',
  'AIzaSyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ',
  'AIzaSyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g',
  'AIzaSyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU',
  'AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw',
  'AIzaSyB8qGxt4ec15vitgn44duC5ucxaOi4FmqE',
  'AIzaSyA8vmApnrHNFE0bApF4hoZ11srVL_n0nvY',
]);

const B = '(?<![A-Za-z0-9_-])';
const E = '(?![A-Za-z0-9_-])';
const rx = (src: string, flags = 'gd'): RegExp => new RegExp(src, flags);
const entropyAtLeast = (bits: number, from = 0) => (s: string): boolean => shannon(s.slice(from)) >= bits;
const mixed = (s: string): boolean => /[0-9]/.test(s) && /[A-Za-z]/.test(s);

const RULES: Rule[] = [
  // AWS access key ids: four-letter prefix and sixteen base32 characters.
  { needles: ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA', 'APKA', 'A3T'], kind: 'aws-access-key', re: rx(`(?<![A-Za-z0-9])((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|A3T[A-Z0-9])[A-Z2-7]{16})(?![A-Za-z0-9])`), check: (s) => new Set(s.slice(4)).size >= 6 },
  // Anthropic: sk-ant-<type><version>-<93 characters>AA.
  { needles: ['sk-ant-'], kind: 'anthropic-api-key', re: rx(`${B}(sk-ant-[a-z]{2,8}\\d{2}-[A-Za-z0-9_-]{80,120}AA)${E}`) },
  // OpenAI: keys carry T3BlbkFJ ("OpenAI" in base64); older keys are sk- and 48 characters.
  { needles: ['T3BlbkFJ'], kind: 'openai-api-key', re: rx(`${B}(sk-(?:(?:proj|svcacct|admin|None|service)-)?[A-Za-z0-9_-]{16,200}T3BlbkFJ[A-Za-z0-9_-]{16,200})${E}`) },
  { needles: ['sk-'], kind: 'openai-api-key', re: rx(`${B}(sk-[A-Za-z0-9]{48})${E}`), check: (s) => mixed(s) && shannon(s) >= 4 },
  { needles: ['sk-proj-', 'sk-svcacct-', 'sk-admin-'], kind: 'openai-api-key', re: rx(`${B}(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{60,250})${E}`), check: entropyAtLeast(4.5) },
  { needles: ['AIza'], kind: 'google-api-key', re: rx(`${B}(AIza[0-9A-Za-z_-]{35})${E}`), check: (s) => shannon(s.slice(4)) >= 3.5 && !PUBLISHED_SAMPLE_KEYS.has(s) },
  { needles: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], kind: 'github-token', re: rx(`(?<![A-Za-z0-9_])((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,251})(?![A-Za-z0-9_])`) },
  { needles: ['github_pat_'], kind: 'github-token', re: rx(`(?<![A-Za-z0-9_])(github_pat_[A-Za-z0-9_]{50,255})(?![A-Za-z0-9_])`) },
  { needles: ['glpat-', 'glptt-', 'glrt-', 'gldt-', 'glft-', 'glimt-', 'glagent-', 'gloas-', 'glcbt-', 'glffct-', 'glsoat-', 'glwt-', 'glcsb-'], kind: 'gitlab-token', re: rx(`${B}((?:glpat|glptt|glrt|gldt|glft|glimt|glagent|gloas|glcbt|glffct|glsoat|glwt|glcsb)-[A-Za-z0-9_.-]{20,120})(?![A-Za-z0-9_.-])`), check: entropyAtLeast(3) },
  { needles: ['GR1348941'], kind: 'gitlab-token', re: rx(`(?<![A-Za-z0-9])(GR1348941[A-Za-z0-9_-]{20})${E}`), check: entropyAtLeast(3, 9) },
  { needles: ['_gitlab_session='], kind: 'gitlab-token', re: rx(`_gitlab_session=([0-9a-z]{32})(?![0-9a-z])`) },
  // Slack: bot, user, legacy, workspace, configuration and app tokens, and webhook URLs.
  { needles: ['xoxb-'], kind: 'slack-token', re: rx(`(?<![A-Za-z0-9])(xoxb-\\d{8,14}-(?:\\d{8,14}-)?[A-Za-z0-9]{10,48})${E}`) },
  { needles: ['xoxp-', 'xoxe-'], kind: 'slack-token', re: rx(`(?<![A-Za-z0-9])(xox[pe]-\\d{8,14}-\\d{8,14}-\\d{8,14}-[A-Za-z0-9]{20,64})${E}`) },
  { needles: ['xoxo-', 'xoxs-'], kind: 'slack-token', re: rx(`(?<![A-Za-z0-9])(xox[os]-\\d{6,14}-\\d{6,14}-\\d{6,14}-[a-fA-F0-9]{10,64})${E}`) },
  { needles: ['xoxa-', 'xoxr-'], kind: 'slack-token', re: rx(`(?<![A-Za-z0-9])(xox[ar]-(?:\\d-)?[A-Za-z0-9][A-Za-z0-9-]{9,140})${E}`), check: (s) => mixed(s.slice(5)) },
  { needles: ['xoxe.xox'], kind: 'slack-token', re: rx(`(?<![A-Za-z0-9])(xoxe\\.xox[bp]-\\d-[A-Za-z0-9]{60,255})${E}`) },
  { needles: ['xoxe-'], kind: 'slack-token', re: rx(`(?<![A-Za-z0-9.])(xoxe-\\d-[A-Za-z0-9]{60,255})${E}`) },
  { needles: ['xapp-'], kind: 'slack-token', re: rx(`(?<![A-Za-z0-9])(xapp-\\d-[A-Z0-9]{8,16}-\\d{8,16}-[a-z0-9]{32,80})${E}`) },
  { needles: ['hooks.slack.com/'], kind: 'slack-token', re: rx(`(hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{30,160})`) },
  // Stripe secret and restricted keys, webhook signing secrets.
  { needles: ['sk_', 'rk_'], kind: 'stripe-key', re: rx(`(?<![A-Za-z0-9_])((?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,247})(?![A-Za-z0-9])`) },
  { needles: ['whsec_'], kind: 'stripe-key', re: rx(`(?<![A-Za-z0-9_])(whsec_[A-Za-z0-9]{32,80})(?![A-Za-z0-9])`) },
  // JSON Web Tokens: two base64url segments that start with `ey` ('{"'), and a signature.
  { needles: ['ey'], kind: 'jwt', re: rx(`(?<![A-Za-z0-9_/+-])(ey[A-Za-z0-9_-]{10,4096}\\.ey[A-Za-z0-9_\\-/\\\\+]{10,8192}\\.(?:[A-Za-z0-9_\\-/\\\\+]{0,4096}={0,2}))`) },
  // Other providers with a recognizable prefix.
  { needles: ['hf_'], kind: 'generic-secret', re: rx(`${B}(hf_[A-Za-z0-9]{34})${E}`), check: entropyAtLeast(3.5, 3) },
  { needles: ['api_org_'], kind: 'generic-secret', re: rx(`${B}(api_org_[A-Za-z0-9]{34})${E}`), check: entropyAtLeast(3.5, 8) },
  { needles: ['pypi-'], kind: 'generic-secret', re: rx(`${B}(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})`) },
  { needles: ['_v1_'], kind: 'generic-secret', re: rx(`${B}(do[por]_v1_[a-f0-9]{64})${E}`) },
  { needles: ['xkeysib-'], kind: 'generic-secret', re: rx(`${B}(xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})${E}`) },
  { needles: ['AGE-SECRET-KEY-1'], kind: 'generic-secret', re: rx(`(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})`) },
  { needles: ['pnu_'], kind: 'generic-secret', re: rx(`${B}(pnu_[A-Za-z0-9]{36})${E}`) },
  { needles: ['rdme_'], kind: 'generic-secret', re: rx(`${B}(rdme_[a-z0-9]{70})${E}`) },
  { needles: ['sntrys_eyJ'], kind: 'generic-secret', re: rx(`${B}(sntrys_eyJ[A-Za-z0-9+/=_-]{60,400})`) },
  { needles: ['sntryu_'], kind: 'generic-secret', re: rx(`${B}(sntryu_[a-f0-9]{64})${E}`) },
  { needles: ['pul-'], kind: 'generic-secret', re: rx(`${B}(pul-[a-f0-9]{40})${E}`) },
  { needles: ['lin_oauth_'], kind: 'generic-secret', re: rx(`${B}(lin_oauth_[A-Za-z0-9]{40})${E}`) },
  { needles: ['dp.'], kind: 'generic-secret', re: rx(`${B}(dp\\.(?:pt|st|sa|ct|scim|audit)\\.[A-Za-z0-9]{40,44})${E}`) },
  { needles: ['sq0atp-', 'sq0csp-'], kind: 'generic-secret', re: rx(`${B}(sq0(?:atp|csp)-[0-9A-Za-z_-]{22,43})${E}`) },
  { needles: ['pplx-'], kind: 'generic-secret', re: rx(`${B}(pplx-[A-Za-z0-9]{48})${E}`) },
  { needles: ['ops_eyJ'], kind: 'generic-secret', re: rx(`${B}(ops_eyJ[A-Za-z0-9+/=]{250,})`) },
  { needles: ['hvs.', 'hvb.'], kind: 'generic-secret', re: rx(`${B}(hv[sb]\\.[A-Za-z0-9_-]{90,})`) },
  { needles: ['ATATT3'], kind: 'generic-secret', re: rx(`${B}(ATATT3[A-Za-z0-9_\\-=]{186})${E}`) },
  { needles: ['sgp_'], kind: 'generic-secret', re: rx(`${B}(sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40})${E}`) },
  { needles: ['AKCp'], kind: 'generic-secret', re: rx(`${B}(AKCp[A-Za-z0-9]{69})${E}`) },
  { needles: ['ABSK'], kind: 'generic-secret', re: rx(`${B}(ABSK[A-Za-z0-9+/]{109,269}={0,2})`) },
  { needles: ['dt0c01.'], kind: 'generic-secret', re: rx(`${B}(dt0c01\\.[A-Z0-9]{24}\\.[A-Z0-9]{64})${E}`) },
  { needles: ['ya29.'], kind: 'generic-secret', re: rx(`${B}(ya29\\.[0-9A-Za-z_-]{30,})`) },
  { needles: ['GOCSPX-'], kind: 'generic-secret', re: rx(`${B}(GOCSPX-[A-Za-z0-9_-]{28})${E}`) },
  { needles: ['LTAI'], kind: 'generic-secret', re: rx(`${B}(LTAI[A-Za-z0-9]{20})${E}`), check: mixed },
  { needles: ['PMAK-'], kind: 'generic-secret', re: rx(`${B}(PMAK-[a-f0-9]{24}-[a-f0-9]{34})${E}`) },
  { needles: ['rubygems_'], kind: 'generic-secret', re: rx(`${B}(rubygems_[a-f0-9]{48})${E}`) },
  { needles: ['CLOJARS_'], kind: 'generic-secret', re: rx(`${B}(CLOJARS_[a-z0-9]{60})${E}`) },
  { needles: ['shippo_'], kind: 'generic-secret', re: rx(`${B}(shippo_(?:live|test)_[a-f0-9]{40})${E}`) },
  { needles: ['FLWSECK'], kind: 'generic-secret', re: rx(`${B}(FLWSECK(?:_TEST)?-[a-h0-9]{32}-X)`) },
  { needles: ['oy2'], kind: 'generic-secret', re: rx(`${B}(oy2[a-z0-9]{43})${E}`) },
  { needles: ['sha256~'], kind: 'generic-secret', re: rx(`${B}(sha256~[A-Za-z0-9_-]{43})${E}`), check: mixed },
  { needles: ['EZAK', 'EZTK'], kind: 'generic-secret', re: rx(`${B}(EZ[AT]K[A-Za-z0-9]{54})${E}`) },
  { needles: ['ico-'], kind: 'generic-secret', re: rx(`(?<![A-Za-z0-9_.-])(ico-[A-Za-z0-9]{32})${E}`), check: mixed },
  { needles: ['s-s4t2'], kind: 'generic-secret', re: rx(`${B}(s-s4t2(?:ud|af)-[a-f0-9]{64})${E}`) },
  { needles: ['-us'], kind: 'generic-secret', re: rx(`${B}([a-f0-9]{32}-us\\d{1,2})${E}`) },
  { needles: ['HRKU-'], kind: 'generic-secret', re: rx(`${B}(HRKU-[A-Za-z0-9_-]{58,60})${E}`) },
  { needles: ['p8e-'], kind: 'generic-secret', re: rx(`${B}(p8e-[A-Za-z0-9]{32})${E}`), check: mixed },
  { needles: ['EAA'], kind: 'generic-secret', re: rx(`(?<![A-Za-z0-9])(EAA[A-Za-z0-9]{90,300})${E}`), check: (s) => mixed(s) && shannon(s) >= 4 },
  { needles: ['|', '%7C'], kind: 'generic-secret', re: rx(`(?<![\\w])(\\d{15,16}(?:\\||%7C)[A-Za-z0-9_-]{27})${E}`) },
  { needles: ['FlyV1 '], kind: 'generic-secret', re: rx(`(FlyV1 fm\\d[a-z]?_[A-Za-z0-9+/=_-]{60,})`) },
  { needles: ['AAAAAAAAAAAAAAA'], kind: 'generic-secret', re: rx(`(?<![A-Za-z0-9])(A{15,30}[A-Za-z0-9%]{40,200})${E}`), placeholderFrom: /^A+/ },
  { needles: ['.webhook.office.com'], kind: 'generic-secret', re: rx(`(?<![a-z0-9-])([a-z0-9-]{1,60}\\.webhook\\.office\\.com/webhookb2/[A-Za-z0-9@/_-]{40,300})`) },
  { needles: ['duffel_'], kind: 'generic-secret', re: rx(`${B}(duffel_(?:test|live)_[A-Za-z0-9_=-]{43})${E}`) },
  // Azure AD client secrets: three characters, a digit, `Q~`, then 31 to 34 more.
  { needles: ['Q~'], kind: 'generic-secret', re: rx(`(?<![A-Za-z0-9_~.-])([A-Za-z0-9_~.]{3}\\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])`) },
];

/** A shaped token counts unless its rule's check fails or it is a placeholder (`...EXAMPLE`, `xxxx`). */
function acceptToken(rule: Rule, secret: string): boolean {
  if (rule.check && !rule.check(secret)) return false;
  return !isPlaceholder(rule.placeholderFrom ? secret.replace(rule.placeholderFrom, '') : secret);
}

// One pass over the text finds which needles occur; a rule runs only when one of its needles did.
const NEEDLES = [...new Set(RULES.flatMap((r) => r.needles))].sort((a, b) => b.length - a.length);
const NEEDLE_RE = new RegExp(NEEDLES.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');

function tokenRules(text: string, out: Hit[]): void {
  const found = new Set<string>();
  NEEDLE_RE.lastIndex = 0;
  for (let m = NEEDLE_RE.exec(text); m; m = NEEDLE_RE.exec(text)) {
    found.add(m[0]);
    NEEDLE_RE.lastIndex = m.index + 1;
  }
  if (found.size === 0) return;
  const present = [...found].join('\u0000');
  for (const rule of RULES) {
    if (!rule.needles.some((n) => present.includes(n))) continue;
    const re = rule.re;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const g = rule.group ?? 1;
      const secret = m[g];
      const idx = m.indices?.[g];
      if (secret === undefined || !idx) continue;
      if (acceptToken(rule, secret)) out.push({ kind: rule.kind, start: idx[0], end: idx[1] });
    }
  }
}

// Private key blocks.
const KEY_BEGIN = /-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;

/**
 * Whether a private key body is key material rather than filler. Judged on the decoded bytes, never
 * on the base64 text: DER and OpenSSH keys hold long runs of zero bytes, which read as `AAAA`. A key
 * of any size carries dozens of distinct byte values; `xxxx`, `AAAA…`, `<your key>` and elided
 * bodies (`MIIE...`) do not.
 */
export function isKeyMaterial(body: string): boolean {
  if (/\.\.|…|<|>|\$\{|\{\{|example|placeholder|redacted|your[-_ ]?key/i.test(body)) return false;
  // Armor headers (`Proc-Type: 4,ENCRYPTED`, `Version:`) and a PGP checksum line (`=Ab3d`) are not key bytes.
  const b64 = body.replace(/^[A-Za-z-]+:.*$/gm, '').replace(/(?:\n|\\n)=[A-Za-z0-9+/]{4}\s*$/, '').replace(/\\n|\\r|\s/g, '');
  if (b64.length < 40 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const bytes = Buffer.from(b64, 'base64');
  const distinct = new Set(bytes).size;
  return distinct >= 24 || (bytes.length < 96 && distinct >= bytes.length / 3);
}

function privateKeys(text: string, out: Hit[]): void {
  if (!text.includes('PRIVATE KEY')) return;
  KEY_BEGIN.lastIndex = 0;
  for (let m = KEY_BEGIN.exec(text); m; m = KEY_BEGIN.exec(text)) {
    const bodyStart = m.index + m[0].length;
    const endIdx = text.indexOf('-----END', bodyStart);
    let end: number;
    let body: string;
    if (endIdx >= 0 && endIdx - bodyStart < 100_000) {
      const close = text.indexOf('-----', endIdx + 8);
      end = close >= 0 ? close + 5 : endIdx + 8;
      body = text.slice(bodyStart, endIdx);
    } else {
      // A truncated block: the base64 lines that follow.
      const tail = /^(?:[\s\\n]*(?:[A-Za-z-]+:[^\n]*|[A-Za-z0-9+/=]{16,}))+/.exec(text.slice(bodyStart, bodyStart + 20_000));
      body = tail ? tail[0] : '';
      end = bodyStart + body.length;
    }
    if (isKeyMaterial(body)) out.push({ kind: 'private-key', start: m.index, end });
    KEY_BEGIN.lastIndex = Math.max(KEY_BEGIN.lastIndex, end);
  }
}

// URLs and connection strings with a password: scheme://user:password@host.
const PASSWORD_PLACEHOLDER = /^(?:pass(?:word|wd)?|pwd|secret|changeme|example|test|user|username|xxx+|\*+|root|admin|mypassword|yourpassword|your_password|your-password|p@ssw0rd|foo|bar|baz|dbpass|db_password|pw|token|apikey|api_key|key|none|null|empty|redacted|hidden|masked)$/i;

function isPasswordPlaceholder(p: string): boolean {
  if (PASSWORD_PLACEHOLDER.test(p)) return true;
  if (/^[$%{<[]|^\{\{|\}\}$|\$\{|\$\(|%\w+%|^\*+$|^x+$/i.test(p)) return true;
  return isPlaceholder(p);
}

function connectionStrings(text: string, out: Hit[]): void {
  let from = 0;
  for (;;) {
    const at = text.indexOf('://', from);
    if (at < 0) return;
    from = at + 3;
    let s = at;
    while (s > 0 && s > at - 30 && /[A-Za-z0-9+.:-]/.test(text[s - 1]!)) s--;
    const scheme = text.slice(s, at);
    if (!/^[A-Za-z][A-Za-z0-9+.:-]*$/.test(scheme)) continue;
    // user:password@ — no whitespace, no quotes, no slash before the @.
    let j = at + 3;
    const limit = Math.min(text.length, j + 512);
    let colon = -1;
    let atSign = -1;
    for (; j < limit; j++) {
      const ch = text[j]!;
      if (ch === '@') atSign = j;
      else if (ch === ':' && colon < 0 && atSign < 0) colon = j;
      else if (/[\s/'"`<>?#]/.test(ch)) break;
    }
    if (atSign < 0 || colon < 0 || colon > atSign) continue;
    const password = text.slice(colon + 1, atSign);
    const user = text.slice(at + 3, colon);
    if (password.length < 3 || isPasswordPlaceholder(password)) continue;
    if (/^[$%{<[]/.test(user) && /^[$%{<[]/.test(password)) continue;
    let end = atSign + 1;
    while (end < text.length && end < atSign + 256 && /[A-Za-z0-9.:_\-[\]%]/.test(text[end]!)) end++;
    if (end === atSign + 1) continue;
    out.push({ kind: 'connection-string', start: s, end });
    from = end;
  }
}

// Values assigned to secret-looking names.
type SecretType = 'password' | 'token' | 'aws-secret';

const SECRET_TRIGGER = /pass|pwd|secret|token|key|credential|auth|bearer|cred/gi;
/** Words that make a secret-looking name something else: `public_key`, `csrf_token`, `next_page_token`. */
const NEGATORS = new Set(['public', 'pub', 'publishable', 'csrf', 'xsrf', 'authenticity', 'example', 'sample', 'placeholder',
  'dummy', 'fake', 'mock', 'page', 'next', 'continuation', 'cursor', 'idempotency', 'correlation', 'trace', 'pagination', 'max',
  'min', 'num', 'count', 'total', 'input', 'output', 'prompt', 'completion', 'cache', 'verify', 'verification', 'non', 'not',
  'invalid', 'wrong', 'bad', 'incorrect', 'stub', 'bogus', 'expired', 'revoked', 'malformed', 'unused']);
const KEY_QUALIFIERS = new Set(['api', 'access', 'secret', 'private', 'auth', 'master', 'encryption', 'signing', 'client', 'app',
  'application', 'license', 'account', 'admin', 'deploy', 'webhook', 'session', 'x', 'service', 'integration', 'subscription',
  'consumer', 'shared', 'root', 'storage', 'sas', 'primary', 'secondary', 'developer', 'server', 'hmac', 'jwt', 'cookie', 'rest',
  'personal', 'dev', 'prod', 'live', 'test', 'bot', 'sk']);

function parts(identifier: string): string[] {
  return identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map((p) => p.replace(/\d+$/, ''))
    .filter(Boolean);
}

/** What kind of secret a name announces, if any: the name must end in the secret word. */
export function secretName(identifier: string): SecretType | undefined {
  const ps = parts(identifier);
  if (ps.length === 0 || ps.length > 8) return undefined;
  if (ps.some((p) => NEGATORS.has(p))) return undefined;
  const joined = ps.join('');
  const last = ps[ps.length - 1]!;
  const prev = ps[ps.length - 2];
  if (joined.endsWith('secretaccesskey') || (joined.includes('aws') && /(?:secret|secretkey|sk)$/.test(joined))) return 'aws-secret';
  // A name written as one word (`PGPASSWORD`, `npmtoken`): the secret word at its end, no negator before it.
  const glued = /^([a-z]{1,6}?)(password|passwd|passphrase|secret|token|apikey|accesskey|secretkey|privatekey|clientsecret|authtoken|accesstoken|apitoken)$/.exec(last);
  if (glued && !NEGATORS.has(glued[1]!)) return glued[2]!.startsWith('pass') ? 'password' : 'token';
  if (/^(?:password|passwd|passphrase|pwd|pass|passw|pword|pswd|psw|passwort|contrasena|senha)$/.test(last)) return 'password';
  if (/^(?:secret|token|apikey|accesskey|secretkey|privatekey|clientsecret|credential|credentials|creds|cred|auth|authorization|bearer|authtoken|accesstoken|refreshtoken|apitoken|signingkey|encryptionkey|masterkey|sessionkey|accountkey|appkey|apisecret|connectionstring|connstr|dsn|sas)$/.test(last)) return 'token';
  if (last === 'key' && prev && KEY_QUALIFIERS.has(prev)) return 'token';
  if (last === 'string' && prev === 'connection') return 'token';
  return undefined;
}

const AUTH_SCHEME = /^(?:Bearer|Basic|Token|Digest|Bot|Api-?Token|Key|SSWS|OAuth|JWT|Negotiate|AWS4-HMAC-SHA256|Splunk|GenieKey|DeepL-Auth-Key|Apikey|FlyV1)\s+/i;
const CODE_REFERENCE = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+(?:\(\))?$/;
const CONSTANT_NAME = /^[A-Z][A-Z0-9]*(?:[_-][A-Z0-9]+)+$/;

/** `var.db_password`, `process.env.TOKEN`: dotted identifiers, none of them a random-looking run. */
function isCodeReference(v: string): boolean {
  if (!CODE_REFERENCE.test(v)) return false;
  return !v.split('.').some((seg) => seg.length >= 12 && /\d/.test(seg) && /[A-Za-z]/.test(seg) && shannon(seg) >= 3);
}

/** `NEXUS_API_KEY`, `K8S_CRED`: a constant's name, mostly letters. */
function isConstantName(v: string): boolean {
  return CONSTANT_NAME.test(v) && (v.match(/\d/g)?.length ?? 0) / v.length < 0.2;
}
const LITERAL_WORD = /^(?:true|false|null|nil|none|undefined|required|optional|string|str|int|bool|boolean|number|object|bytes|any|secret|password|token|default|empty|redacted|hidden|masked|unknown|n\/a|tbd|value|env|auto|disabled|enabled|yes|no|on|off|self|this|key|bearer|basic|public|private|nonce|random|generated|sensitive|encrypted|base64|hex|utf-?8)$/i;

/** Whether a value assigned to a secret name looks like a real secret. */
export function plausibleSecret(value: string, type: SecretType): boolean {
  const v = value;
  const min = type === 'password' ? 6 : 10;
  if (v.length < min || v.length > 4096) return false;
  if (/\s/.test(v)) return false;
  if (/^[$%@{<[(&*!#]|\$\{|\{\{|\}\}|\$\(|%\(|%\{|<|>|^\.\.?\//.test(v)) return false;
  if (v.includes('://')) return false;
  // Encrypted at rest (SOPS, Ansible Vault, sealed secrets): not a secret in clear.
  if (/^(?:ENC\[|AgB|\$ANSIBLE_VAULT|vault:v\d:)/.test(v)) return false;
  // Resource names, not credentials: ARNs, URNs.
  if (/^(?:arn|urn):/i.test(v)) return false;
  if (isCodeReference(v) || isConstantName(v) || LITERAL_WORD.test(v)) return false;
  if (/^[A-Za-z_$][\w$.]*\(.*\)$/.test(v)) return false;
  if (/^[a-z0-9_.-]+(?:\/[a-z0-9_.-]+)+\/?$/.test(v) && !/[A-Z+=]/.test(v)) return false;
  if (/^\/|^~\/|^[A-Za-z]:\\/.test(v)) return false;
  if (/^\d+(?:\.\d+)*$/.test(v)) return false;
  if (/^(?:v?\d+\.\d+|rc\d)/.test(v) && /\d+\.\d+\.\d+/.test(v)) return false;
  if (isPlaceholder(v, true) || PUBLISHED_SAMPLE_KEYS.has(v)) return false;
  const h = shannon(v);
  if (type === 'password') return h >= 2.5;
  if (type === 'aws-secret') return h >= 3.5;
  // Tokens: random-looking, at least two character classes (hex digests count).
  const classes = (/[a-z]/.test(v) ? 1 : 0) + (/[A-Z]/.test(v) ? 1 : 0) + (/[0-9]/.test(v) ? 1 : 0) + (/[^A-Za-z0-9]/.test(v) ? 1 : 0);
  if (classes < 2) return false;
  if (/^[a-f0-9]+$/i.test(v)) return h >= 2.8;
  return h >= (v.length < 20 ? 3.0 : 3.3);
}

const IDENT_CHAR = /[A-Za-z0-9_.$-]/;
const VALUE_STOP = /[\s,;'"`<>()[\]{}|&\\]/;

interface Value { start: number; end: number }

/** Reads the value after an assignment operator at `i`; quoted or a bare token. */
function readValue(text: string, i: number, allowScheme: boolean): Value | undefined {
  let j = i;
  while (j < text.length && (text[j] === ' ' || text[j] === '\t')) j++;
  if (allowScheme) {
    const m = AUTH_SCHEME.exec(text.slice(j, j + 40));
    if (m) j += m[0].length;
  }
  const q = text[j];
  if (q === '"' || q === "'" || q === '`') {
    const close = text.indexOf(q, j + 1);
    if (close < 0 || close - j > 4096) return undefined;
    const inner = text.slice(j + 1, close);
    if (inner.includes('\n')) return undefined;
    // A quoted value may itself hold `Bearer xyz`.
    if (allowScheme) {
      const m = AUTH_SCHEME.exec(inner);
      if (m) return { start: j + 1 + m[0].length, end: close };
    }
    return { start: j + 1, end: close };
  }
  let k = j;
  while (k < text.length && k - j < 4096 && !VALUE_STOP.test(text[k]!)) k++;
  if (k === j) return undefined;
  return { start: j, end: k };
}

function assignments(text: string, out: Hit[]): void {
  SECRET_TRIGGER.lastIndex = 0;
  let doneUntil = -1;
  for (let m = SECRET_TRIGGER.exec(text); m; m = SECRET_TRIGGER.exec(text)) {
    if (m.index < doneUntil) continue;
    let s = m.index;
    let e = m.index + m[0].length;
    while (s > 0 && e - s < 120 && IDENT_CHAR.test(text[s - 1]!)) s--;
    while (e < text.length && e - s < 120 && IDENT_CHAR.test(text[e]!)) e++;
    doneUntil = e;
    let ident = text.slice(s, e);
    const flag = /^--?[A-Za-z]/.test(ident);
    ident = ident.replace(/^[-$@.]+/, '');
    // `.env`-style prefixes and property paths: judge the last dotted part.
    const dotted = ident.split('.').filter(Boolean);
    const name = dotted.length > 1 ? dotted[dotted.length - 1]! : ident;
    const type = secretName(name) ?? (dotted.length > 1 ? secretName(dotted.join('_')) : undefined);
    if (!type) continue;
    const before = text[s - 1];
    let i = e;
    if (text[i] === '"' || text[i] === "'" || text[i] === '`') i++;
    // XML element: <apiToken>value</apiToken>
    if (before === '<' && text[i] === '>') {
      const close = text.indexOf('</', i + 1);
      if (close < 0 || close - i > 4096) continue;
      const raw = text.slice(i + 1, close);
      const lead = raw.length - raw.trimStart().length;
      const v = raw.trim();
      if (plausibleSecret(v, type === 'aws-secret' ? 'token' : type)) out.push({ kind: kindOf(type, v), start: i + 1 + lead, end: i + 1 + lead + v.length });
      continue;
    }
    // <add key="Password" value="..."/>
    if ((before === '"' || before === "'") && text[i - 1] === before && /^\s{1,10}value\s{0,3}=\s{0,3}["']/i.test(text.slice(i, i + 20))) {
      const vq = text.slice(i).search(/["']/);
      const v = readValue(text, i + vq, false);
      if (v && plausibleSecret(text.slice(v.start, v.end), type === 'aws-secret' ? 'token' : type)) out.push({ kind: kindOf(type, text.slice(v.start, v.end)), start: v.start, end: v.end });
      continue;
    }
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    const op = /^(?::=|\?=|\.=|\+=|=>|===?|!=|:|=|,)/.exec(text.slice(i, i + 3));
    let valueAt: number;
    if (op) {
      if (op[0] === '!=' ) continue;
      if (op[0] === ',' && !(before === '"' || before === "'")) continue;
      valueAt = i + op[0].length;
      // `key: |` YAML block or `key:` with nothing on the line.
      if (op[0] === ':' && text[valueAt] === ':') continue;
    } else if (flag && (text[i - 1] === ' ' || text[i - 1] === '\t')) {
      valueAt = i;
    } else continue;
    const v = readValue(text, valueAt, /auth|bearer/i.test(name) || type === 'token');
    if (!v) continue;
    const value = text.slice(v.start, v.end);
    // The value is not read again for secret-looking names inside it.
    doneUntil = Math.max(doneUntil, v.end);
    const quoted = v.start > 0 && /["'`]/.test(text[v.start - 1]!);
    if (!quoted && looksLikeCode(value, text[v.end], op?.[0])) continue;
    const t = type === 'aws-secret' && !/^[A-Za-z0-9/+]{40}$/.test(value) ? 'token' : type;
    if (plausibleSecret(value, t)) {
      out.push({ kind: kindOf(t, value), start: v.start, end: v.end });
      doneUntil = Math.max(doneUntil, v.end);
    }
  }
}

/**
 * An unquoted value that is code, not a literal: a comparison with a variable, a camelCase or
 * snake_case identifier, a call (`get_key()`), a member access.
 */
function looksLikeCode(value: string, next: string | undefined, op: string | undefined): boolean {
  if (op === '==' || op === '===') return true;
  if (next === '(' || next === '.' || next === '[') return true;
  if (!/^[A-Za-z_$][A-Za-z_$]*$/.test(value)) return false;
  return /[a-z][A-Z]/.test(value) || /^[a-z]+(?:_[a-z]+)+$/.test(value);
}

function kindOf(type: SecretType, value: string): string {
  return type === 'aws-secret' && /^[A-Za-z0-9/+]{40}$/.test(value) ? 'aws-secret-key' : 'generic-secret';
}

// `curl -u user:password`, `mysql -pPASSWORD`.
const BASIC_AUTH = /(?:^|\s)(?:-u|--user|--proxy-user)(?:\s+|=)(["']?)([^\s"':]{0,128}):([^\s"']{1,256})\1(?=\s|$)/g;
const MYSQL_PASSWORD = /\b(?:mysql|mysqladmin|mysqldump|mariadb|mysqlimport)\b[^\n]{0,300}?\s-p(?!\s)(["']?)([^\s"']{4,256})\1/g;

function cliPasswords(text: string, out: Hit[]): void {
  if (text.includes('-u') || text.includes('--user')) {
    BASIC_AUTH.lastIndex = 0;
    for (let m = BASIC_AUTH.exec(text); m; m = BASIC_AUTH.exec(text)) {
      const password = m[3]!;
      if (password.length < 6 || isPasswordPlaceholder(password) || shannon(password) < 2.5) continue;
      if (m[2]!.startsWith('<') || /[<>]/.test(password)) continue;
      const start = m.index + m[0].length - m[1]!.length - password.length;
      out.push({ kind: 'generic-secret', start, end: start + password.length });
    }
  }
  if (/mysql|mariadb/.test(text)) {
    MYSQL_PASSWORD.lastIndex = 0;
    for (let m = MYSQL_PASSWORD.exec(text); m; m = MYSQL_PASSWORD.exec(text)) {
      const password = m[2]!;
      if (isPasswordPlaceholder(password)) continue;
      const start = m.index + m[0].length - m[1]!.length - password.length;
      out.push({ kind: 'generic-secret', start, end: start + password.length });
    }
  }
}

// Kubernetes Secret manifests: base64 values under `data:` and plain ones under `stringData:`.
function kubernetesSecrets(text: string, out: Hit[]): void {
  if (!/^\s*kind:\s*["']?Secret["']?\s*$/im.test(text)) return;
  // Each YAML document on its own: `kind: Secret` must be in the document that holds the data.
  const sep = /^---[^\n]*$/gm;
  let base = 0;
  for (;;) {
    const m = sep.exec(text);
    const end = m ? m.index : text.length;
    const doc = text.slice(base, end);
    if (/^\s*kind:\s*["']?Secret["']?\s*$/im.test(doc)) secretDocument(doc, base, out);
    if (!m) break;
    base = m.index + m[0].length;
  }
}

function secretDocument(text: string, base: number, out: Hit[]): void {
  const lines = text.split('\n');
  let offset = base;
  let inData: 'data' | 'stringData' | undefined;
  let indent = -1;
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!;
    const lineStart = offset;
    offset += line.length + 1;
    const m = /^(\s*)(data|stringData):\s*$/.exec(line);
    if (m) { inData = m[2] as 'data' | 'stringData'; indent = m[1]!.replace(/\t/g, '  ').length; continue; }
    if (!inData) continue;
    const ind = /^\s*/.exec(line)![0].replace(/\t/g, '  ').length;
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    if (ind <= indent) { inData = undefined; continue; }
    const kv = /^(\s*)([\w.-]+):\s*(["']?)([^"'\s|>]*)\3\s*$/.exec(line);
    if (!kv) continue;
    let value = kv[4]!;
    let start = lineStart + line.indexOf(value, kv[1]!.length + kv[2]!.length + 1);
    if (value === '' && /:\s*[|>]-?\s*$/.test(line) && li + 1 < lines.length) {
      const next = lines[li + 1]!;
      value = next.trim();
      start = offset + next.indexOf(value);
    }
    if (!value || /[{}$<]/.test(value)) continue;
    if (inData === 'data') {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) continue;
      const decoded = Math.floor((value.replace(/=+$/, '').length * 3) / 4);
      if (decoded < 6) continue;
    } else if (!plausibleSecret(value, 'password')) continue;
    out.push({ kind: 'generic-secret', start, end: start + value.length });
  }
}

const SPECIFIC_FIRST: Record<string, number> = { 'generic-secret': 2, 'connection-string': 1 };

/** Keeps, of overlapping hits, the most specific one (then the longest). */
export function resolveOverlaps(hits: Hit[], rank: (kind: string) => number): Hit[] {
  const sorted = [...hits].sort((a, b) => rank(a.kind) - rank(b.kind) || (b.end - b.start) - (a.end - a.start) || a.start - b.start);
  const kept: Hit[] = [];
  for (const h of sorted) {
    if (kept.some((k) => h.start < k.end && k.start < h.end)) continue;
    kept.push(h);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/**
 * A token the preset matched by prefix alone (`xoxb-xoxb-my-bot-token`, `xoxp-1-initial`) must also
 * look generated: long enough, letters and digits, not a few repeated characters.
 */
function randomEnough(value: string): boolean {
  const body = value.replace(/^[A-Za-z]{2,8}[-_.]/, '');
  return value.length >= 20 && mixed(body) && shannon(body) >= 3;
}

/** The preset's reports, less placeholders: `ghp_xxxx…`, `postgres://user:password@host`. */
function preset(text: string, out: Hit[]): void {
  for (const h of presetSecrets(text)) {
    const value = text.slice(h.start, h.end);
    if (h.kind === 'private-key') {
      const body = /PRIVATE KEY(?: BLOCK)?-----([\s\S]*?)-----END/.exec(value)?.[1] ?? '';
      if (!isKeyMaterial(body)) continue;
    } else if (h.kind === 'connection-string') {
      const password = /^[^:/\s]*:\/\/[^:/\s@]*:([^@\s]+)@/.exec(value)?.[1] ?? /^[^:@\s]*:([^@\s]+)$/.exec(value)?.[1] ?? value;
      if (isPasswordPlaceholder(password)) continue;
    } else if (isPlaceholder(value) || !randomEnough(value)) continue;
    out.push({ kind: h.kind, start: h.start, end: h.end });
  }
}

export function detectSecrets(text: string): Hit[] {
  const out: Hit[] = [];
  preset(text, out);
  tokenRules(text, out);
  privateKeys(text, out);
  connectionStrings(text, out);
  assignments(text, out);
  cliPasswords(text, out);
  kubernetesSecrets(text, out);
  return resolveOverlaps(out, (k) => SPECIFIC_FIRST[k] ?? 0);
}
