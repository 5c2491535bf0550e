// Generates the TypeScript types of the public file formats from their JSON Schemas in schemas/.
// The schemas are the single source; `npm run types` rewrites the .ts files, and a test fails when
// they are out of date.
import { compileFromFile } from 'json-schema-to-typescript';
import { writeFile, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const targets = [
  { schema: 'schemas/policy.schema.json', out: 'src/policy/schema-types.ts' },
  { schema: 'schemas/config.schema.json', out: 'src/config/config-types.ts' },
  { schema: 'schemas/request.schema.json', out: 'src/request/request-types.ts' },
  { schema: 'schemas/decision.schema.json', out: 'src/engine/decision-types.ts' },
  { schema: 'schemas/model-decision.schema.json', out: 'src/router/model-decision-types.ts' },
];

export async function generate(schema) {
  const ts = await compileFromFile(join(root, schema), {
    bannerComment: `/* Generated from ${schema} by \`npm run types\`. Do not edit: change the schema. */`,
    additionalProperties: false,
    style: { singleQuote: true },
    cwd: join(root, 'schemas'),
  });
  return ts;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const t of targets) {
    const ts = await generate(t.schema);
    if (check) {
      const cur = await readFile(join(root, t.out), 'utf8').catch(() => '');
      if (cur !== ts) { console.error(`${t.out} is out of date: run npm run types`); stale++; }
    } else {
      await writeFile(join(root, t.out), ts);
      console.log(`wrote ${t.out}`);
    }
  }
  process.exit(stale ? 1 : 0);
}
