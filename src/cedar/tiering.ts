// How V8 tiers Cedar's WebAssembly, decided before Cedar is loaded: the command line asks for the
// tiering that suits short commands (see cedar.ts); a library user keeps V8's default.
export const tiering = { shortCommands: false };
