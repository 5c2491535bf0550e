// Import rules for src/: no cycle between modules, and none between folders (the stages of
// DESIGN.md point one way). `npx depcruise src` checks them; test/architecture.test.ts runs it.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-module-cycle',
      severity: 'error',
      comment: 'Modules import each other in a circle. Move what both need into the module that owns it.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      severity: 'error',
      comment:
        'Folders of src/ import each other in a circle. Move the shared type or function into the folder that owns it, so dependencies point one way.',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'cli-is-a-leaf',
      severity: 'error',
      comment: 'src/cli is the command line; nothing else imports it.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    // TypeScript 7 has no compiler API for dependency-cruiser; swc parses the sources, type-only imports included.
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^src/policy/validators/' },
  },
};
