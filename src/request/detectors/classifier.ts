// The prompt-injection classifier the project ships: logistic regression over hashed features
// (words, word pairs, and character 4-grams of the lower-cased text), trained by
// scripts/train-injection.mjs from labeled public samples, its weights committed in
// injection-model.ts as int8 values with one scale. Features are computed here and nowhere else, so
// training and detection cannot drift apart. No network, no native code: loading decodes one base64
// string into an Int8Array, a fraction of a millisecond once the module is parsed.
import { INJECTION_MODEL } from './injection-model.js';

export interface ModelFile {
  /** Bumped when the features change; a model of another version is refused. */
  version: number;
  /** log2 of the number of hashed feature buckets. */
  bits: number;
  bias: number;
  /** A weight is `int8 * scale`. */
  scale: number;
  /** Probability at or above which a text is an injection (chosen on benign texts the model was not fitted on). */
  threshold: number;
  /** base64 of the int8 weights, `2 ** bits` of them. */
  weights: string;
  /** How the weights were made: files, split, counts. Informational. */
  trainedOn?: unknown;
}

export const FEATURE_VERSION = 1;

/** The model is trained on the first WINDOW characters of a text; a longer text is also read in spans. */
export const WINDOW = 4000;
export const SPAN = 400;
/** Spans and sentences are read over this many leading characters, and the last SPAN. */
const CHAR_LIMIT = 32_000;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over UTF-16 code units, the salt mixed into the offset. */
function hash(s: string, salt: number): number {
  return hashUnits(s, (FNV_OFFSET ^ salt) >>> 0);
}

/** FNV-1a continued over `s` from the state `h`. */
function hashUnits(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

export function normalizeText(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

const WORD = /[\p{L}\p{N}']+|[^\s\p{L}\p{N}]/gu;

/**
 * Hashed features of one window of normalized text: sorted distinct buckets and their values
 * (1 + log of the count), the vector scaled to unit length.
 */
let scratch: Float64Array | undefined;

export function features(normalized: string, bits: number): { buckets: Int32Array; values: Float64Array } {
  const mask = (1 << bits) - 1;
  if (scratch?.length !== mask + 1) scratch = new Float64Array(mask + 1);
  const counts = scratch;
  const words = normalized.match(WORD) ?? [];
  const padded = ` ${normalized} `;
  const grams = Math.max(0, padded.length - 3);
  const touched = new Int32Array(words.length * 2 + grams);
  let n = 0;
  const bump = (b: number): void => {
    if (counts[b] === 0) touched[n++] = b;
    counts[b]!++;
  };
  for (let i = 0; i < words.length; i++) {
    bump(hash(words[i]!, 1) & mask);
    // The hash of `${previous} ${word}` (a space is code unit 32), without building the string.
    if (i > 0) bump(hashUnits(words[i]!, Math.imul(hashUnits(words[i - 1]!, (FNV_OFFSET ^ 2) >>> 0) ^ 32, FNV_PRIME)) & mask);
  }
  // Character 4-grams, hashed from the code units without building the substrings.
  for (let i = 0; i < grams; i++) {
    let h = (FNV_OFFSET ^ 3) >>> 0;
    for (let k = 0; k < 4; k++) h = Math.imul(h ^ padded.charCodeAt(i + k), FNV_PRIME);
    bump((h >>> 0) & mask);
  }
  const buckets = touched.slice(0, n).sort();
  const values = new Float64Array(n);
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const b = buckets[i]!;
    const v = 1 + Math.log(counts[b]!);
    counts[b] = 0;
    values[i] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < n; i++) values[i] = values[i]! / norm;
  return { buckets, values };
}

export interface Model {
  bits: number;
  bias: number;
  threshold: number;
  /** Quantized weights; a weight is `weights[b] * scale`. */
  weights: Int8Array;
  scale: number;
}

export function decodeModel(file: ModelFile): Model {
  if (file.version !== FEATURE_VERSION) throw new Error(`injection model version ${file.version}; this build reads version ${FEATURE_VERSION}: run scripts/train-injection.mjs`);
  const raw = Buffer.from(file.weights, 'base64');
  const n = 1 << file.bits;
  if (raw.length !== n) throw new Error(`injection model holds ${raw.length} weights, expected ${n}`);
  const weights = new Int8Array(raw.buffer, raw.byteOffset, n);
  return { bits: file.bits, bias: file.bias, threshold: file.threshold, weights, scale: file.scale };
}

let shipped: Model | undefined;

/** The committed model, decoded on first use. */
export function shippedModel(): Model {
  return (shipped ??= decodeModel(INJECTION_MODEL as ModelFile));
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Probability that one window of text is an injection. */
export function scoreWindow(model: Model, normalized: string): number {
  const { buckets, values } = features(normalized, model.bits);
  let z = 0;
  for (let i = 0; i < buckets.length; i++) z += model.weights[buckets[i]!]! * values[i]!;
  return sigmoid(model.bias + z * model.scale);
}

const LETTER = /\p{L}/u;

/** Whether `s` holds at least `n` letters (counted only until there are enough). */
function hasLetters(s: string, n: number): boolean {
  let seen = 0;
  for (const ch of s) if (LETTER.test(ch) && ++seen >= n) return true;
  return false;
}

/** Sentences (or lines) of `text` within its first `limit` characters, as [start, end) offsets. */
function sentences(text: string, limit: number): [number, number][] {
  const out: [number, number][] = [];
  // A sentence ends at punctuation followed by a space or the end, or at a line break (not in `2.14.0`).
  const re = /(?:[^.!?。！？\n]|[.!?](?![\s"')\]]|$))*(?:[.!?。！？]+["')\]]?|\n|$)/g;
  for (let m = re.exec(text); m && m.index < limit; m = re.exec(text)) {
    if (m[0].length === 0) { re.lastIndex++; continue; }
    if (/\S/.test(m[0])) out.push([m.index, m.index + m[0].length]);
  }
  return out;
}

/**
 * The highest probability over the text, and where it came from: its first WINDOW characters as one
 * piece (as the model was trained), then single sentences and pairs of them over its first CHAR_LIMIT
 * characters and its end, and beyond WINDOW windows of SPAN characters, half overlapping, so that a short
 * instruction inside a long ordinary document is not diluted by the text around it.
 */
export function classify(text: string, model: Model = shippedModel()): { probability: number; start: number; end: number } {
  const head = Math.min(text.length, WINDOW);
  let best = { probability: scoreWindow(model, normalizeText(text.slice(0, head))), start: 0, end: head };
  if (text.length <= SPAN) return best;
  const pieces: [number, number][] = [];
  if (text.length > WINDOW) {
    for (let s = 0; s + SPAN < Math.min(text.length, CHAR_LIMIT); s += SPAN / 2) pieces.push([s, s + SPAN]);
    // The end of a long text is where an appended instruction sits.
    pieces.push([text.length - SPAN, text.length]);
  }
  const tail = Math.max(0, text.length - SPAN);
  const ss = [...sentences(text, CHAR_LIMIT), ...(tail > CHAR_LIMIT ? sentences(text.slice(tail), SPAN).map(([a, b]): [number, number] => [a + tail, b + tail]) : [])];
  for (let i = 0; i < ss.length; i++) {
    for (let k = 0; k < 2 && i + k < ss.length; k++) {
      const [a, b] = [ss[i]![0], ss[i + k]![1]];
      if (b - a > SPAN) break;
      pieces.push([a, b]);
    }
  }
  for (const [a, b] of pieces) {
    const slice = text.slice(a, b);
    if (b - a < 24 || !hasLetters(slice, 20)) continue;
    const p = scoreWindow(model, normalizeText(slice));
    if (p > best.probability) best = { probability: p, start: a, end: b };
  }
  return best;
}
