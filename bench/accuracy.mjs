// Detector accuracy on labeled public corpora: precision, recall and false-positive rate per corpus
// and per finding kind. Reads the compiled detectors (run `npm run build` first).
//
//   node bench/accuracy.mjs [--corpora DIR] [--misses] [--json]
//
// DIR defaults to ../shared/corpora beside the repository. Without it the bench says so and exits 0.
// `run()` returns the rows, for a bench runner.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { INJECTION_FILES, loadInjectionData } from '../scripts/injection-data.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function args(argv) {
  const out = { corpora: resolve(ROOT, '..', 'shared', 'corpora'), misses: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--corpora') out.corpora = resolve(argv[++i] ?? '');
    else if (a.startsWith('--corpora=')) out.corpora = resolve(a.slice(10));
    else if (a === '--misses') out.misses = true;
    else if (a === '--json') out.json = true;
  }
  return out;
}

function readJsonl(path) {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

function row(corpus, kind, c, note) {
  const { tp = 0, fp = 0, fn = 0, tn = 0 } = c;
  const r = {
    corpus, kind, n: tp + fp + fn + tn, tp, fp, fn, tn,
    precision: tp + fp ? tp / (tp + fp) : null,
    recall: tp + fn ? tp / (tp + fn) : null,
    fpRate: fp + tn ? fp / (fp + tn) : null,
  };
  if (note) r.note = note;
  return r;
}

const counter = () => ({ tp: 0, fp: 0, fn: 0, tn: 0 });
const bump = (map, key) => { if (!map.has(key)) map.set(key, counter()); return map.get(key); };

// gitleaks rule id -> the kind this project reports for it. Other rule ids are not claimed.
function claimedSecretKind(rule) {
  if (rule === 'aws-access-token') return 'aws-access-key';
  if (rule === 'anthropic-api-key' || rule === 'anthropic-admin-api-key') return 'anthropic-api-key';
  if (rule === 'openai-api-key') return 'openai-api-key';
  if (rule === 'gcp-api-key') return 'google-api-key';
  if (/^github-/.test(rule)) return 'github-token';
  if (/^gitlab-/.test(rule)) return 'gitlab-token';
  if (/^slack-/.test(rule)) return 'slack-token';
  if (rule === 'stripe-access-token') return 'stripe-key';
  if (rule === 'npm-access-token') return 'npm-token';
  if (rule === 'jwt') return 'jwt';
  if (rule === 'private-key') return 'private-key';
  if (rule === 'sidekiq-sensitive-url') return 'connection-string';
  if (rule === 'generic-api-key') return 'generic-secret';
  return undefined;
}

function secretsCorpus(dir, lib, misses) {
  const path = join(dir, 'gitleaks_rules_tp_fp.jsonl');
  if (!existsSync(path)) return [];
  const records = readJsonl(path);
  // A text that some rule calls a secret is a secret, whatever another rule's test says.
  const secretTexts = new Set(records.filter((r) => r.is_secret).map((r) => r.text));
  const relabeled = records.filter((r) => !r.is_secret && secretTexts.has(r.text)).length;
  const perKind = new Map();
  const claimed = counter();
  const anyNeg = counter();
  const other = counter();
  for (const r of records) {
    const request = lib.normalizeRequest({ agent: 'coder', action: 'write_file', environment: 'dev', content: r.text });
    const found = lib.detect(request).filter((f) => lib.FINDING_KINDS[f.kind] === 'secret');
    const kinds = new Set(found.map((f) => f.kind));
    const positive = secretTexts.has(r.text);
    const kind = claimedSecretKind(r.kind);
    if (positive) {
      if (kind) {
        const c = bump(perKind, kind);
        if (kinds.has(kind)) { c.tp++; claimed.tp++; } else { c.fn++; claimed.fn++; if (misses) console.log(`  miss ${kind} [${r.kind}] ${JSON.stringify(r.text.slice(0, 160))} -> ${[...kinds].join(',')}`); }
      } else if (kinds.size) other.tp++; else other.fn++;
    } else {
      const c = bump(perKind, kind ?? 'unclaimed rules');
      if (kinds.size) { c.fp++; anyNeg.fp++; if (misses) console.log(`  false ${[...kinds].join(',')} [${r.kind}] ${JSON.stringify(r.text.slice(0, 160))}`); } else { c.tn++; anyNeg.tn++; }
    }
  }
  const rows = [...perKind.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, c]) => row('secrets', k, c));
  rows.push(row('secrets', 'claimed kinds (recall) / all negatives (fp)', { ...claimed, fp: anyNeg.fp, tn: anyNeg.tn }, `${relabeled} negative records relabeled positive: the same text is a positive of another rule`));
  rows.push(row('secrets', 'unclaimed rules: any secret found', other, 'informational'));
  const all = { tp: claimed.tp + other.tp, fn: claimed.fn + other.fn, fp: anyNeg.fp, tn: anyNeg.tn };
  rows.push({ ...row('secrets', 'every positive (any secret found) / all negatives', all), detector: 'secrets (gitleaks rule tests)' });
  const google = perKind.get('google-api-key') ?? counter();
  rows.push({ ...row('secrets', 'as above, without the gcp-api-key rule\'s negatives', { ...all, fp: all.fp - google.fp, tn: all.tn - google.tn }, 'the corpus labels the Firebase SDKs\' published example keys not secret; govern skips exactly those keys, so this row is the figure that does not rest on that list'), detector: 'secrets, without the gcp-api-key negatives' });
  return rows;
}

const PII_FILES = {
  'test_us_ssn_recognizer.py': 'ssn',
  'test_credit_card_recognizer.py': 'credit-card',
  'test_email_recognizer.py': 'email',
  'test_phone_recognizer.py': 'phone-number',
  'test_ph_mobile_number_recognizer.py': 'phone-number',
  'test_tr_phone_number_recognizer.py': 'phone-number',
};

function piiCorpus(dir, lib, misses) {
  const path = join(dir, 'presidio_recognizer_tests.jsonl');
  if (!existsSync(path)) return [];
  const perKind = new Map();
  const weak = new Map();
  const cross = counter();
  for (const r of readJsonl(path)) {
    const file = String(r.source).split('/').pop().split('::')[0];
    const kind = PII_FILES[file];
    const request = lib.normalizeRequest({ agent: 'coder', action: 'write_file', environment: 'dev', content: r.text });
    const kinds = new Set(lib.detect(request).filter((f) => lib.FINDING_KINDS[f.kind] === 'pii').map((f) => f.kind));
    if (!kind) {
      // Other identifiers (IP addresses, dates, national ids): an SSN or card finding here is a false alarm.
      if (kinds.has('ssn') || kinds.has('credit-card')) { cross.fp++; if (misses) console.log(`  false ${[...kinds].join(',')} [${file}] ${JSON.stringify(r.text.slice(0, 120))}`); } else cross.tn++;
      continue;
    }
    const c = bump(r.weak_match_only ? weak : perKind, kind);
    const hit = kinds.has(kind);
    if (r.has_pii) { if (hit) c.tp++; else { c.fn++; if (misses && !r.weak_match_only) console.log(`  miss ${kind} ${JSON.stringify(r.text.slice(0, 120))}`); } }
    else if (hit) { c.fp++; if (misses) console.log(`  false ${kind} ${JSON.stringify(r.text.slice(0, 120))}`); } else c.tn++;
  }
  const rows = [...perKind.entries()].map(([k, c]) => row('pii', k, c));
  for (const [k, c] of weak) rows.push(row('pii', `${k} (weak matches only)`, c, 'low-confidence upstream; not a target'));
  rows.push(row('pii', 'ssn/credit-card on other identifiers', cross, 'false alarms of the deny kinds on unrelated entity tests'));
  const sum = counter();
  for (const c of perKind.values()) for (const k of Object.keys(sum)) sum[k] += c[k];
  rows.push({ ...row('pii', 'ssn, credit-card, email, phone-number together', sum), detector: 'PII (Presidio recognizer tests)' });
  return rows;
}

function group(category) {
  const parts = String(category).split(/[./]/);
  return parts[0] === 'pack' ? `pack.${parts[1]}` : parts[0];
}

function destructiveCorpus(dir, lib, misses) {
  const path = join(dir, 'dcg_destructive_command_guard.jsonl');
  const rows = [];
  if (existsSync(path)) {
    const groups = new Map();
    const kinds = new Map();
    const total = counter();
    for (const r of readJsonl(path)) {
      const positive = r.label === 'deny' || Boolean(r.label_note);
      const request = lib.normalizeRequest({ agent: 'ops', action: 'shell_exec', environment: 'production', command: r.command });
      const found = lib.detect(request).filter((f) => lib.FINDING_KINDS[f.kind] === 'destructive');
      const flagged = found.length > 0;
      const g = bump(groups, group(r.category));
      for (const k of new Set(found.map((f) => f.kind))) { const c = bump(kinds, k); if (positive) c.tp++; else c.fp++; }
      const key = positive ? (flagged ? 'tp' : 'fn') : (flagged ? 'fp' : 'tn');
      g[key]++;
      total[key]++;
      if (misses && (key === 'fn' || key === 'fp')) console.log(`  ${key === 'fn' ? 'miss' : 'false'} [${r.category}] ${JSON.stringify(r.command.slice(0, 160))} ${found.map((f) => f.kind).join(',')}`);
    }
    for (const [k, c] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) rows.push(row('destructive (dcg)', k, c));
    rows.push({ ...row('destructive (dcg)', 'all commands', total), detector: 'destructive commands (destructive_command_guard)' });
    for (const [k, c] of [...kinds.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      rows.push({ ...row('destructive (dcg)', `fired: ${k}`, c, 'tp = on deny samples, fp = on allow samples'), recall: null, fpRate: null });
    }
  }
  const squawk = join(dir, 'squawk_postgres_migration_lint.jsonl');
  if (existsSync(squawk)) {
    const destructive = counter();
    const others = counter();
    for (const r of readJsonl(squawk)) {
      const request = lib.normalizeRequest({ agent: 'coder', action: 'write_file', environment: 'production', content: r.sql });
      const flagged = lib.detect(request).some((f) => lib.FINDING_KINDS[f.kind] === 'destructive');
      if (r.destructive_rule && r.label === 'violation') { if (flagged) destructive.tp++; else { destructive.fn++; if (misses) console.log(`  miss [squawk ${r.rule}] ${JSON.stringify(r.sql.slice(0, 160))}`); } }
      else if (flagged) others.fp++; else others.tn++;
    }
    rows.push(row('destructive (squawk, as file content)', 'destructive-rule violations', destructive));
    rows.push({ ...row('destructive (squawk, as file content)', 'other statements flagged', others, 'not errors as such: many hold DROP TABLE or UPDATE without WHERE under a locking rule'), precision: null });
  }
  return rows;
}

// Injection is measured on the held-out `test` split only (scripts/injection-data.mjs): the
// classifier never saw those texts. The signals were written with the deepset file in view, so its
// rows say less about unseen text than the others do. The held-out texts of the other corpora
// (secrets, PII, commands, SQL), none of them an injection, show the false alarms on what agents
// write into files and commands.
function injectionCorpus(dir, lib, misses) {
  if (!INJECTION_FILES.some((f) => existsSync(join(dir, f)))) return [];
  const judge = (text) => {
    const request = lib.normalizeRequest({ agent: 'assistant', action: 'respond', content: text });
    const hit = lib.detect(request).some((f) => f.kind === 'prompt-injection' || f.kind === 'prompt-injection-suspected');
    const signals = lib.injectionScore(text).score >= 1;
    const c = lib.injectionProbability(text);
    return { hit, signals, model: c.probability >= c.threshold };
  };
  const perFile = new Map();
  const total = counter();
  const bySignals = counter();
  const byModel = counter();
  const other = counter();
  for (const r of loadInjectionData(dir)) {
    if (r.split !== 'test') continue;
    if (r.technical) {
      if (judge(r.text).hit) { other.fp++; if (misses) console.log(`  false [${r.file}] ${JSON.stringify(r.text.slice(0, 160))}`); } else other.tn++;
      continue;
    }
    const j = judge(r.text);
    const key = (flag) => (r.label === 1 ? (flag ? 'tp' : 'fn') : (flag ? 'fp' : 'tn'));
    bump(perFile, r.file.replace(/\.jsonl$/, ''))[key(j.hit)]++;
    total[key(j.hit)]++;
    bySignals[key(j.signals)]++;
    byModel[key(j.model)]++;
    if (misses && (key(j.hit) === 'fn' || key(j.hit) === 'fp')) console.log(`  ${key(j.hit) === 'fn' ? 'miss' : 'false'} [${r.file}] ${JSON.stringify(r.text.slice(0, 160))}`);
  }
  const rows = [...perFile.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, c]) => row('injection (held-out split)', k, c));
  rows.push({ ...row('injection (held-out split)', 'all held-out injection and benign texts', total), detector: 'prompt injection (held-out split)' });
  rows.push(row('injection (held-out split)', 'signals alone', bySignals, 'informational'));
  rows.push(row('injection (held-out split)', 'classifier alone', byModel, 'informational'));
  rows.push(row('injection (held-out split)', 'held-out texts of the other corpora (none an injection)', other, 'code, commands, SQL, PII sentences'));
  return rows;
}

/** Mean detect() time over every corpus request, in microseconds. */
function timing(dir, lib) {
  const requests = [];
  const add = (file, make) => { const p = join(dir, file); if (existsSync(p)) for (const r of readJsonl(p)) requests.push(lib.normalizeRequest(make(r))); };
  add('gitleaks_rules_tp_fp.jsonl', (r) => ({ agent: 'coder', action: 'write_file', environment: 'dev', content: r.text }));
  add('presidio_recognizer_tests.jsonl', (r) => ({ agent: 'coder', action: 'write_file', environment: 'dev', content: r.text }));
  add('dcg_destructive_command_guard.jsonl', (r) => ({ agent: 'ops', action: 'shell_exec', environment: 'production', command: r.command }));
  add('deepset_prompt_injections_train.jsonl', (r) => ({ agent: 'assistant', action: 'respond', content: r.text }));
  if (requests.length === 0) return undefined;
  for (const r of requests) lib.detect(r);
  const t0 = performance.now();
  const rounds = 3;
  for (let i = 0; i < rounds; i++) for (const r of requests) lib.detect(r);
  const us = ((performance.now() - t0) * 1000) / (rounds * requests.length);
  return { requests: requests.length, meanMicros: us };
}

/** detect() on a typical 1 KB request, and on 1 MB inputs built to make regular expressions backtrack. */
function speed(lib) {
  const request = lib.normalizeRequest({
    agent: { id: 'deploy-agent', team: 'team-alpha' },
    action: 'deploy',
    resource: 'k8s:deployment/web',
    environment: 'staging',
    command: 'kubectl -n team-alpha apply -f k8s/web.yaml && kubectl rollout status deploy/web --timeout=120s',
    content: [
      'Release notes for web 2.14.0', '',
      'This release moves the session store to Redis and removes the legacy cookie fallback. The',
      'migration adds an index on sessions(user_id) and backfills created_at in batches of 5000 rows.',
      'Rollback: redeploy 2.13.4; the index can stay. Contact the on-call engineer (ops@example.com)',
      'if the error rate exceeds 1% for five minutes. Dashboards: https://grafana.internal/d/web-overview.',
      '',
      'const config = { timeout: 30_000, retries: 3, endpoint: process.env.API_URL, region: "eu-west-1" };',
      'for (const batch of chunks(rows, 5000)) await db.query("UPDATE sessions SET created_at = now() WHERE id = ANY($1)", [batch]);',
    ].join('\n'),
    request: 'Deploy web 2.14.0 to staging after the migration job finished; verify the rollout and report status.',
    justification: 'Ticket CHG-4821 approved by the release manager; staging only, backup taken at 09:00.',
    context: { change_ticket: 'CHG-4821', has_backup: true, pod_status: 'Running', notes: 'batch size tuned for the p95 latency budget' },
  });
  const size = JSON.stringify(request).length;
  for (let i = 0; i < 2000; i++) lib.detect(request);
  const n = 20000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) lib.detect(request);
  const typical = ((performance.now() - t0) * 1000) / n;
  const MB = 1 << 20;
  const inputs = {
    letters: 'a'.repeat(MB), base64ish: 'eyJ'.repeat(MB / 3), digits: '1'.repeat(MB), 'spaced digits': '1 '.repeat(MB / 2),
    'at signs': 'a.'.repeat(MB / 4) + '@'.repeat(1000), assignments: 'password='.repeat(MB / 9), quotes: '"'.repeat(MB),
    'nested substitutions': 'echo $('.repeat(MB / 7), 'caps words': 'IGNORE '.repeat(MB / 7), prose: 'ignore the previous line and '.repeat(MB / 29),
  };
  let worst = { name: '', ms: 0 };
  for (const [name, text] of Object.entries(inputs)) {
    const r = lib.normalizeRequest({ agent: 'a', action: 'x', content: text, command: text });
    const t = performance.now();
    lib.detect(r);
    const ms = performance.now() - t;
    if (ms > worst.ms) worst = { name, ms };
  }
  return { typicalMicros: typical, typicalBytes: size, worstMillisOn1MB: worst.ms, worstInput: worst.name };
}

async function load() {
  const detectors = join(ROOT, 'dist', 'request', 'detectors', 'index.js');
  if (!existsSync(detectors)) throw new Error(`${detectors} is missing: run \`npm run build\` first.`);
  const d = await import(pathToFileURL(detectors).href);
  const n = await import(pathToFileURL(join(ROOT, 'dist', 'request', 'normalize.js')).href);
  const v = await import(pathToFileURL(join(ROOT, 'dist', 'policy', 'vocabulary.js')).href);
  const i = await import(pathToFileURL(join(ROOT, 'dist', 'request', 'detectors', 'injection.js')).href);
  return { detect: d.detect, normalizeRequest: n.normalizeRequest, FINDING_KINDS: v.FINDING_KINDS, injectionScore: i.injectionScore, injectionProbability: i.injectionProbability };
}

export default async function run(options = {}) {
  const o = { ...args([]), ...options };
  if (!existsSync(o.corpora)) {
    console.log(`accuracy: no corpora at ${o.corpora}; skipped (pass --corpora DIR).`);
    return [];
  }
  const lib = await load();
  const rows = [
    ...secretsCorpus(o.corpora, lib, o.misses),
    ...piiCorpus(o.corpora, lib, o.misses),
    ...destructiveCorpus(o.corpora, lib, o.misses),
    ...injectionCorpus(o.corpora, lib, o.misses),
  ];
  const t = timing(o.corpora, lib);
  if (t) rows.timing = { ...t, ...speed(lib) };
  return rows;
}

const pct = (x) => (x === null ? '    -' : `${(x * 100).toFixed(1).padStart(5)}%`);

function print(rows) {
  const heads = rows.filter((r) => r.detector);
  if (heads.length) {
    const w = Math.max(...heads.map((r) => r.detector.length));
    console.log(`per detector\n  ${'detector'.padEnd(w)}  recall                false positives`);
    const frac = (a, b) => `${String(a).padStart(4)}/${String(b).padEnd(4)}`;
    for (const r of heads) console.log(`  ${r.detector.padEnd(w)}  ${pct(r.recall)} ${frac(r.tp, r.tp + r.fn)}   ${pct(r.fpRate)} ${frac(r.fp, r.fp + r.tn)}`);
  }
  let corpus = '';
  const w = Math.max(...rows.map((r) => r.kind.length), 10);
  for (const r of rows) {
    if (r.corpus !== corpus) {
      corpus = r.corpus;
      console.log(`\n${corpus}`);
      console.log(`  ${'kind'.padEnd(w)}  ${'n'.padStart(5)} ${'tp'.padStart(5)} ${'fp'.padStart(5)} ${'fn'.padStart(5)} ${'tn'.padStart(5)}  precision  recall  fp-rate`);
    }
    console.log(`  ${r.kind.padEnd(w)}  ${String(r.n).padStart(5)} ${String(r.tp).padStart(5)} ${String(r.fp).padStart(5)} ${String(r.fn).padStart(5)} ${String(r.tn).padStart(5)}     ${pct(r.precision)}  ${pct(r.recall)}   ${pct(r.fpRate)}${r.note ? `   (${r.note})` : ''}`);
  }
  const t = rows.timing;
  if (t) {
    console.log(`\ndetect(): ${t.meanMicros.toFixed(1)} us per request, mean over ${t.requests} corpus requests`);
    console.log(`detect(): ${t.typicalMicros.toFixed(1)} us on a typical ${t.typicalBytes}-byte request`);
    console.log(`detect(): ${t.worstMillisOn1MB.toFixed(0)} ms worst on 1 MB adversarial content and command (${t.worstInput})`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const o = args(process.argv.slice(2));
  run(o).then((rows) => {
    if (o.json) console.log(JSON.stringify({ rows, timing: rows.timing }, null, 2));
    else if (rows.length) print(rows);
  }).catch((e) => { console.error(`accuracy: ${e.message}`); process.exit(1); });
}
