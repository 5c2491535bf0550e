// Trains the prompt-injection classifier and writes src/request/detectors/injection-model.ts.
//
//   npm run build && node scripts/train-injection.mjs [--corpora DIR] [--bits 16] [--fp 0.02]
//
// DIR defaults to ../shared/corpora beside the repository. Logistic regression over the hashed
// features of src/request/detectors/classifier.ts (read from dist/, so build first), fitted by
// AdaGrad on the `train` split with the two classes weighted alike; the threshold is the lowest
// probability whose false-positive rate stays at or under --fp on the benign texts the model was not
// fitted on (the `validation` split and five-fold out-of-fold scores of `train`), prose and
// technical texts each. The `test` split is never read here. Deterministic: same data, same weights.
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadInjectionData } from './injection-data.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function args(argv) {
  const o = { corpora: resolve(ROOT, '..', 'shared', 'corpora'), bits: 16, fp: 0.02, epochs: 12, l2: 1e-6, out: join(ROOT, 'src', 'request', 'detectors', 'injection-model.ts') };
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = argv[i].includes('=') ? argv[i].split(/=(.*)/s) : [argv[i], argv[i + 1]];
    const take = () => { if (!argv[i].includes('=')) i++; return v; };
    if (k === '--corpora') o.corpora = resolve(take());
    else if (k === '--bits') o.bits = Number(take());
    else if (k === '--fp') o.fp = Number(take());
    else if (k === '--epochs') o.epochs = Number(take());
    else if (k === '--out') o.out = resolve(take());
    else { console.error(`train-injection: unknown option ${argv[i]}; see the header of this script`); process.exit(2); }
  }
  return o;
}

/** A small deterministic generator for the shuffle order. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
}

async function main() {
  const o = args(process.argv.slice(2));
  const lib = join(ROOT, 'dist', 'request', 'detectors', 'classifier.js');
  if (!existsSync(lib)) { console.error(`train-injection: ${lib} is missing: run \`npm run build\` first`); process.exit(2); }
  if (!existsSync(o.corpora)) { console.error(`train-injection: no corpora at ${o.corpora}: pass --corpora DIR`); process.exit(2); }
  const { features, normalizeText, WINDOW, FEATURE_VERSION } = await import(pathToFileURL(lib).href);

  const data = loadInjectionData(o.corpora);
  const vec = (text) => { const f = features(normalizeText(text.slice(0, WINDOW)), o.bits); return [...f.buckets].map((b, i) => [b, f.values[i]]); };
  const train = data.filter((d) => d.split === 'train' && d.trainable).map((d) => ({ ...d, x: vec(d.text) }));
  const validation = data.filter((d) => d.split === 'validation' && d.trainable).map((d) => ({ ...d, x: vec(d.text) }));
  // Half the weight on injections; the other half split between benign prose (questions, mail,
  // requests) and technical text (code, commands, configuration), so neither kind of benign text
  // drowns the other.
  const pos = train.filter((d) => d.label === 1).length;
  const prose = train.filter((d) => d.label === 0 && !d.technical).length;
  const technical = train.filter((d) => d.label === 0 && d.technical).length;
  const neg = prose + technical;
  const weightOf = (d) => (d.label === 1 ? train.length / (2 * pos) : d.technical ? train.length / (4 * technical) : train.length / (4 * prose));

  const n = 1 << o.bits;
  /** AdaGrad over `rows`; returns the weights and the bias. */
  const fit = (rows) => {
    const w = new Float64Array(n);
    const g2 = new Float64Array(n).fill(1e-8);
    let bias = 0;
    let bg2 = 1e-8;
    const lr = 0.5;
    const next = rng(15);
    const order = rows.map((_, i) => i);
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(next() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
      for (const i of order) {
        const d = rows[i];
        let z = bias;
        for (const [b, v] of d.x) z += w[b] * v;
        const p = 1 / (1 + Math.exp(-z));
        const err = (p - d.label) * weightOf(d);
        for (const [b, v] of d.x) {
          const g = err * v + o.l2 * w[b];
          g2[b] += g * g;
          w[b] -= (lr * g) / Math.sqrt(g2[b]);
        }
        bg2 += err * err;
        bias -= (lr * err) / Math.sqrt(bg2);
      }
    }
    return { w, bias };
  };
  const { w, bias } = fit(train);

  // Out-of-fold probabilities of the training texts (five folds), so that the threshold is chosen on
  // every benign text the model was not fitted on, not only on the small validation split.
  const FOLDS = 5;
  const outOfFold = [];
  for (let k = 0; k < FOLDS; k++) {
    const m = fit(train.filter((_, i) => i % FOLDS !== k));
    for (const [i, d] of train.entries()) {
      if (i % FOLDS !== k) continue;
      let z = m.bias;
      for (const [b, v] of d.x) z += m.w[b] * v;
      outOfFold.push({ ...d, p: 1 / (1 + Math.exp(-z)) });
    }
  }

  // Quantize to int8 with one scale.
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(w[i]));
  const scale = max / 127 || 1;
  const q = Buffer.alloc(n);
  for (let i = 0; i < n; i++) q.writeInt8(Math.max(-127, Math.min(127, Math.round(w[i] / scale))), i);
  const wq = (b) => q.readInt8(b) * scale;
  const prob = (x) => { let z = bias; for (const [b, v] of x) z += wq(b) * v; return 1 / (1 + Math.exp(-z)); };

  // Threshold: the lowest that keeps validation false positives at or under the target.
  // Judged on prose and technical benign texts apart: the threshold must hold for both.
  const rank = (xs) => xs.map((d) => d.p ?? prob(d.x)).sort((a, b) => b - a);
  const at = (ps) => (ps.length > Math.floor(o.fp * ps.length) ? ps[Math.floor(o.fp * ps.length)] + 1e-6 : 0.5);
  const held = [...validation, ...outOfFold];
  const benignProse = rank(held.filter((d) => d.label === 0 && !d.technical));
  const benignTechnical = rank(held.filter((d) => d.label === 0 && d.technical));
  const benign = [...benignProse, ...benignTechnical];
  const threshold = Math.max(0.5, at(benignProse), at(benignTechnical));
  const vp = validation.filter((d) => d.label === 1);
  const vb = validation.filter((d) => d.label === 0);
  const recall = vp.filter((d) => prob(d.x) >= threshold).length / (vp.length || 1);
  const fpRate = vb.filter((d) => prob(d.x) >= threshold).length / (vb.length || 1);

  const model = {
    version: FEATURE_VERSION, bits: o.bits, bias: Number(bias.toFixed(6)), scale: Number(scale.toPrecision(8)), threshold: Number(threshold.toFixed(6)),
    trainedOn: { files: [...new Set(data.map((d) => d.file))].sort(), train: { injection: pos, benign: prose, technical }, validation: { injection: vp.length, benign: vb.length }, folds: FOLDS, epochs: o.epochs },
    weights: q.toString('base64'),
  };
  const text = `// Generated by scripts/train-injection.mjs from labeled public samples: do not edit by hand.\nexport const INJECTION_MODEL = ${JSON.stringify(model)};\n`;
  writeFileSync(o.out, text);
  console.log(`train-injection: ${train.length} training texts (${pos} injection, ${prose} benign prose, ${technical} technical); validation recall ${(recall * 100).toFixed(1)}% at ${(fpRate * 100).toFixed(1)}% false positives, threshold ${threshold.toFixed(3)}; wrote ${o.out} (${(text.length / 1024).toFixed(0)} KB)`);
}

main().catch((e) => { console.error(`train-injection: ${e.message}`); process.exit(1); });
