// Generates the precompiled JSON Schema validators (ajv standalone code) that src/policy/schema.ts
// loads instead of compiling a schema at run time, which costs a cold process tens of milliseconds.
// Each module records the sha256 of the schema it was made from; schema.ts compiles the schema
// itself when they differ, so a stale module is slower, never wrong. `--check` fails when one is
// out of date.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const Ajv = require('ajv').default;
const standaloneCode = require('ajv/dist/standalone').default;

/** The schemas read on a cold path: policy files by `check`, the configuration by most commands. */
export const targets = [
  { schema: 'schemas/policy.schema.json', out: 'src/policy/validators/policy.schema.cts' },
  { schema: 'schemas/config.schema.json', out: 'src/policy/validators/config.schema.cts' },
];

/** The options of schema.ts, so that the code is what ajv would compile there. */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: false };

export async function generate(schemaPath) {
  const text = await readFile(join(root, schemaPath), 'utf8');
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
  const validate = ajv.compile(JSON.parse(text));
  return [
    `/* Generated from ${schemaPath} by \`node scripts/gen-validators.mjs\`. Do not edit: change the schema. */`,
    '// @ts-nocheck',
    standaloneCode(ajv, validate),
    `module.exports.sha256 = ${JSON.stringify(createHash('sha256').update(text).digest('hex'))};`,
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const t of targets) {
    const code = await generate(t.schema);
    if (check) {
      const cur = await readFile(join(root, t.out), 'utf8').catch(() => '');
      if (cur !== code) { console.error(`${t.out} is out of date: run node scripts/gen-validators.mjs`); stale++; }
    } else {
      await mkdir(dirname(join(root, t.out)), { recursive: true });
      await writeFile(join(root, t.out), code);
      console.log(`wrote ${t.out}`);
    }
  }
  process.exit(stale ? 1 : 0);
}
