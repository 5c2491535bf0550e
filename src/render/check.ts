// What `govern check`, `compile` and `build` print about policies: diagnostics in the chosen
// format with a summary line, and the report of a bundle built or verified.
import type { CheckResult } from '../check/check.js';
import type { BundleFile, Verified } from '../bundle/bundle.js';
import { isTestCode } from '../diagnostics/codes.js';
import { countBySeverity } from '../diagnostics/diagnostic.js';
import { renderGithub, renderHuman, renderJson, renderSarif, summaryLine, type Style } from '../diagnostics/render.js';
import { VERSION } from '../version.js';

/** The figures of a check that decide its exit code. */
export interface CheckCounts { policyErrors: number; failed: number; warnings: number }

export function checkCounts(r: CheckResult): CheckCounts {
  return { policyErrors: r.diagnostics.filter((d) => d.severity === 'error' && !isTestCode(d.code)).length, failed: r.tests.filter((t) => !t.passed).length, warnings: countBySeverity(r.diagnostics).warning };
}

/** `govern check`'s report: JSON, SARIF, GitHub annotations, or diagnostics and a summary line. */
export function checkReport(r: CheckResult, format: string, style: Style, quiet: boolean): string {
  const n = countBySeverity(r.diagnostics);
  const { policyErrors, failed } = checkCounts(r);
  const rules = r.model.rules.length + (r.bundle ? r.bundle.rules.length - r.model.rules.length : 0);
  const summary = { files: r.files, rules, tests: { run: r.tests.length, passed: r.tests.length - failed, failed } };
  switch (format) {
    case 'json': return renderJson(r.diagnostics, summary);
    case 'sarif': return renderSarif(r.diagnostics, { name: 'govern', version: VERSION });
    case 'github': return renderGithub(r.diagnostics);
  }
  const body = r.diagnostics.length ? renderHuman(r.diagnostics, r.sources, style).replace(/\n[^\n]*\n$/, '\n') : '';
  const tests = r.bundle ? `, ${summary.tests.passed}/${summary.tests.run} tests passed` : '';
  const line = `${r.files} file${r.files === 1 ? '' : 's'}, ${rules} rule${rules === 1 ? '' : 's'}${tests}; ${summaryLine(n.error, n.warning)}`;
  return quiet && !r.diagnostics.length ? '' : `${body}${policyErrors || failed ? style.red(line) : line}\n`;
}

/** The diagnostics of policies that did not compile, as JSON or for a person. */
export function policyErrors(r: CheckResult, format: string, style: Style): string {
  return format === 'json' ? renderJson(r.diagnostics) : renderHuman(r.diagnostics, r.sources, style);
}

/** `govern build`'s report of the bundle written to `out`. */
export function builtReport(out: string, file: BundleFile, tests: { run: number; passed: number }, failed: number, format: string): string {
  if (format === 'json') return JSON.stringify({ out, hash: file.manifest.hash, digest: file.digest, rules: file.manifest.rules, tests: { run: tests.run, passed: tests.passed, failed }, signed: file.signature ? file.signature.key : null }, null, 2) + '\n';
  const n = file.manifest.rules;
  return `built ${out}: ${n} rule${n === 1 ? '' : 's'}, ${tests.passed}/${tests.run} tests passed, policy hash ${file.manifest.hash.slice(0, 12)}${file.signature ? `, signed by key ${file.signature.key.slice(0, 16)}` : ', unsigned'}\n`;
}

/** `govern check --bundle`'s report: the bundle's rules, hash, signature and its tests' results when built. */
export function bundleReport(path: string, v: Verified, signed: string, format: string, quiet: boolean): string {
  const t = v.file.tests;
  if (format === 'json') return JSON.stringify({ bundle: path, hash: v.bundle.hash, govern: v.file.manifest.govern, rules: v.bundle.rules.length, signature: v.file.signature ? { key: v.file.signature.key, verified: v.signedBy !== undefined } : null, tests: { run: t.run, passed: t.passed, failed: t.failed } }, null, 2) + '\n';
  if (quiet && !t.failed) return '';
  const failures = t.results.filter((x) => !x.passed).map((x) => `${x.file}:${x.line} test \`${x.name}\` failed: ${x.message ?? `expected ${x.expected}, got ${x.actual}`}\n`).join('');
  return `${failures}${path}: ${v.bundle.rules.length} rules, policy hash ${v.bundle.hash.slice(0, 12)}, ${signed}; ${t.passed}/${t.run} tests passed when built\n`;
}
