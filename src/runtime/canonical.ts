// Canonical JSON and its hashes live in compile/canonical.ts; re-exported for the runtime's modules.
export { canonicalJson, sha256 } from '../compile/canonical.js';
