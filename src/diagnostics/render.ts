// Renders diagnostics for people (with a code frame) and for machines (JSON, SARIF 2.1.0,
// GitHub workflow annotations). Sources are passed in so this module reads no files.
import type { Diagnostic } from './diagnostic.js';
import { countBySeverity } from './diagnostic.js';

export type Format = 'human' | 'json' | 'sarif' | 'github';

export interface Style {
  red(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export const plain: Style = { red: (s) => s, yellow: (s) => s, blue: (s) => s, dim: (s) => s, bold: (s) => s };

/** `file:line:col severity code message`, then a code frame and the help line. */
export function renderHuman(diags: Diagnostic[], sources: Map<string, string>, style: Style = plain): string {
  const out: string[] = [];
  for (const d of diags) {
    const sev = d.severity === 'error' ? style.red('error') : d.severity === 'warning' ? style.yellow('warning') : style.blue('info');
    out.push(`${style.bold(`${d.file}:${d.line}:${d.column}`)} ${sev} ${style.dim(d.code)} ${d.message}`);
    const frame = codeFrame(sources.get(d.file), d, style);
    if (frame) out.push(frame);
    if (d.help) out.push(`  ${style.blue('help:')} ${d.help}`);
    for (const r of d.related ?? []) out.push(`  ${style.dim('note:')} ${r.message} (${r.file}:${r.line}:${r.column})`);
    out.push('');
  }
  const n = countBySeverity(diags);
  out.push(summaryLine(n.error, n.warning));
  return out.join('\n') + '\n';
}

export function summaryLine(errors: number, warnings: number): string {
  if (!errors && !warnings) return 'no problems';
  const p = (k: number, w: string) => `${k} ${w}${k === 1 ? '' : 's'}`;
  return `${p(errors, 'error')}, ${p(warnings, 'warning')}`;
}

function codeFrame(source: string | undefined, d: Diagnostic, style: Style): string | undefined {
  if (source === undefined || d.line < 1) return undefined;
  const lines = source.split(/\r?\n/);
  const text = lines[d.line - 1];
  if (text === undefined || !source.trim()) return undefined;
  const width = String(d.line + 1).length;
  const gutter = (n: number | '') => style.dim(`${String(n).padStart(width)} | `);
  const rows: string[] = [];
  if (d.line >= 2 && lines[d.line - 2]!.trim()) rows.push(`${gutter(d.line - 1)}${clip(lines[d.line - 2]!)}`);
  rows.push(`${gutter(d.line)}${clip(text)}`);
  const start = Math.max(1, d.column);
  const end = d.endLine === d.line ? Math.max(d.endColumn, start + 1) : text.length + 1;
  const span = Math.max(1, Math.min(end, text.length + 1) - start);
  rows.push(`${gutter('')}${' '.repeat(Math.min(start - 1, 200))}${style.red('^'.repeat(Math.min(span, 120)))}`);
  return rows.join('\n');
}

function clip(s: string): string {
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}

export function renderJson(diags: Diagnostic[], extra: Record<string, unknown> = {}): string {
  const n = countBySeverity(diags);
  return JSON.stringify({ diagnostics: diags, summary: { errors: n.error, warnings: n.warning, ...extra } }, null, 2) + '\n';
}

/** SARIF 2.1.0, as GitHub code scanning and other CI tools read it. */
export function renderSarif(diags: Diagnostic[], tool: { name: string; version: string; uri?: string }): string {
  const ruleIds = [...new Set(diags.map((d) => d.code))].sort();
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: tool.name,
            version: tool.version,
            ...(tool.uri ? { informationUri: tool.uri } : {}),
            rules: ruleIds.map((id) => ({ id, shortDescription: { text: id } })),
          },
        },
        results: diags.map((d) => ({
          ruleId: d.code,
          ruleIndex: ruleIds.indexOf(d.code),
          level: d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warning' : 'note',
          message: { text: d.help ? `${d.message} ${d.help}` : d.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: d.file.split('\\').join('/') },
                region: { startLine: d.line, startColumn: d.column, endLine: d.endLine, endColumn: d.endColumn },
              },
            },
          ],
        })),
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}

/** GitHub Actions workflow commands: one annotation per diagnostic. */
export function renderGithub(diags: Diagnostic[]): string {
  const esc = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const prop = (s: string) => esc(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
  return diags
    .map((d) => {
      const kind = d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warning' : 'notice';
      const msg = d.help ? `${d.message} ${d.help}` : d.message;
      return `::${kind} file=${prop(d.file)},line=${d.line},col=${d.column},endLine=${d.endLine},endColumn=${d.endColumn},title=${prop(d.code)}::${esc(msg)}`;
    })
    .join('\n') + (diags.length ? '\n' : '');
}
