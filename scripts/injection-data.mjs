// The labeled texts the injection classifier learns from and is measured on, with a deterministic
// split: each distinct text goes to `train`, `validation` (choosing the threshold) or `test` (held
// out, for bench/accuracy.mjs) by a hash of the text alone, so the split does not depend on file
// order and a text that occurs in two files lands in the same part.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Corpus files and how their labels read: 1 = injection or jailbreak, 0 = benign. */
export const INJECTION_FILES = [
  'deepset_prompt_injections_train.jsonl',
  'bipia_payloads_and_clean_emails.jsonl',
  'tensor_trust_attacks.jsonl',
  'jailbreak_llms_2023_05_07_jailbreaks.jsonl',
];

/**
 * Texts of the other corpora, none of them an injection: secrets in code and configuration, PII
 * test sentences, shell commands, SQL migrations. They stand for what agents write into files and
 * commands, the text the detector must not mistake for an injection.
 */
export const TECHNICAL_FILES = {
  'gitleaks_rules_tp_fp.jsonl': 'text',
  'presidio_recognizer_tests.jsonl': 'text',
  'dcg_destructive_command_guard.jsonl': 'command',
  'squawk_postgres_migration_lint.jsonl': 'sql',
};

/** Benign texts this project wrote (agent requests, code, mail, prose that uses the trigger words). */
export const OWN_BENIGN = join(HERE, 'injection-benign.txt');

/**
 * BIPIA's payloads are ordinary tasks ("write a script that renames the files") that are injections
 * only where they sit, inside an email the model reads. As an agent's own request they are normal
 * work, so the classifier does not learn from them; they are still measured.
 */
const MEASURED_ONLY = new Set(['bipia_payloads_and_clean_emails.jsonl:1']);

export function splitOf(text) {
  const b = createHash('sha256').update(text).digest()[0] % 10;
  return b < 2 ? 'test' : b === 2 ? 'validation' : 'train';
}

/** Every labeled text, deduplicated (a text labeled both ways counts as an injection). */
export function loadInjectionData(dir) {
  const byText = new Map();
  const add = (text, label, file, technical = false) => {
    if (typeof text !== 'string' || !text.trim()) return;
    const had = byText.get(text);
    if (had) { if (label > had.label) { had.label = label; had.trainable = had.trainable && !MEASURED_ONLY.has(`${file}:${label}`); } return; }
    byText.set(text, { text, label, file, technical, split: splitOf(text), trainable: !MEASURED_ONLY.has(`${file}:${label}`) });
  };
  for (const file of INJECTION_FILES) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line);
      add(r.text, r.label === 'benign' ? 0 : 1, file);
    }
  }
  for (const [file, field] of Object.entries(TECHNICAL_FILES)) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n')) if (line.trim()) add(JSON.parse(line)[field], 0, file, true);
  }
  for (const line of readFileSync(OWN_BENIGN, 'utf8').split('\n')) add(line.replace(/\\n/g, '\n'), 0, 'injection-benign.txt');
  return [...byText.values()];
}
