// Writes dist/govern.cjs: the command line (dist/cli/program.js and everything it imports, lazily
// loaded commands included) as one CommonJS file, which bin/govern compiles with a V8 code cache;
// dist/boot.cjs, which does that (src/boot.ts and the little it imports, as one file too); and
// dist/early.cjs, what `govern eval` needs to be answered by a daemon (src/serve/early.ts).
// A short command then neither resolves and reads some seventy modules one by one nor, once it
// has run before, parses them: a fifth of what `govern eval` costs on top of `node` itself.
// Each module keeps its own place: `import.meta.url` in a module of dist/ becomes that module's own
// file URL, so that the files it finds beside itself (schemas, prompts, validators, the pg worker,
// package.json) are found from the bundle too. Native and WebAssembly modules, and what only some
// commands load (a model's SDK, prompts, the MCP transport, the JSON Schema validator where no
// precompiled one fits), stay outside and load from node_modules as before. The YAML parser is in:
// `check` after an edit spends 60 ms less loading it.
import { build } from 'esbuild';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

const root = join(import.meta.dirname, '..');
// The folder is dist/, or the one given (tests).
const dist = process.argv[2] ?? join(root, 'dist');

const external = [
  // native or WebAssembly
  '@cedar-policy/cedar-wasm', 'tree-sitter', 'tree-sitter-bash', 'pg', 'synckit',
  // better-sqlite3's finder of its addon, which state.ts names instead (bundled, it would look beside the bundle)
  'bindings',
  // loaded only by some commands
  '@anthropic-ai/sdk', 'openai', 'ollama', '@inquirer/prompts', '@modelcontextprotocol/sdk', 'ajv', 'ajv-formats',
];

/** `import.meta.url` of each module of dist/, as the URL of its own file beside the bundle. */
const ownUrl = {
  name: 'own-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      const rel = relative(dist, args.path);
      if (rel.startsWith('..') || rel.split(sep).includes('node_modules')) return undefined;
      const text = await readFile(args.path, 'utf8');
      return { contents: text.replaceAll('import.meta.url', `__governModuleUrl(${JSON.stringify(rel.split(sep).join('/'))})`), loader: 'js' };
    });
  },
};

/** Bundles `entry` (in dist/) into `out`, as one CommonJS file all in ASCII. */
async function bundle(entry, out, { dynamicImports = false } = {}) {
  await build({
    entryPoints: [join(dist, entry)],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external,
    plugins: [ownUrl],
    // A dependency that reads import.meta.url gets the bundle's own.
    define: { 'import.meta.url': '__governBundleUrl' },
    banner: {
      js: [
        '// Built by scripts/bundle.mjs from dist/; do not edit.',
        "const __governBundleUrl = require('node:url').pathToFileURL(__filename).href;",
        "const __governModuleUrl = (p) => require('node:url').pathToFileURL(require('node:path').join(__dirname, p)).href;",
      ].join('\n'),
    },
    legalComments: 'eof',
    minifyWhitespace: true,
    logLevel: 'warning',
  });
  // All ASCII, so that node reads it as it is, without decoding it. esbuild escapes what is
  // outside ASCII in strings but not in regular expression literals; a \u escape means the same
  // there, and in comments and identifiers too. Only in a raw template, or after a backslash,
  // would it not: either stops the build.
  const text = await readFile(out, 'utf8');
  if (/\\[^\x00-\x7f]/.test(text)) throw new Error(`${out}: a character outside ASCII after a backslash`);
  for (const m of text.matchAll(/String\.raw`[^`]*`/g)) if (/[^\x00-\x7f]/.test(m[0])) throw new Error(`${out}: a raw template outside ASCII: ${m[0].slice(0, 80)}`);
  let ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  // What the command line's bundle still imports dynamically (a model's SDK, prompts, some of
  // node's own modules) it imports through boot.ts: node loses the dynamic import callback of a
  // script compiled from a code cache, and `import()` would throw there. The others are loaded
  // by node's own require, where `import()` works.
  if (dynamicImports) ascii = ascii.replace(/\bimport\(("[^"]+")\)/g, '__governImport($1)');
  await writeFile(out, ascii);
}

await bundle(join('cli', 'program.js'), join(dist, 'govern.cjs'), { dynamicImports: true });
await bundle('boot.js', join(dist, 'boot.cjs'));
await bundle(join('serve', 'early.js'), join(dist, 'early.cjs'));
