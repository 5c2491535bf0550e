// How V8 tiers Cedar's WebAssembly, decided before Cedar is loaded: the command line asks for the
// tiering that suits short commands (see cedar.ts); a library user keeps V8's default.
// `beforeFlags` runs just before cedar.ts changes V8's flags: V8 refuses a code cache made under
// other flags, so the command line takes its code cache there (src/boot.ts).
export const tiering: { shortCommands: boolean; beforeFlags?: () => void } = { shortCommands: false };
