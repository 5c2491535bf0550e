// What `govern init` reports: the files written, overwritten and kept, and the next steps.
import { relative } from 'node:path';
import type { Style } from '../diagnostics/render.js';
import type { Answers, FileResult } from './scaffold.js';

type Scaffold = typeof import('./scaffold.js');

export function report(scaffold: Scaffold, s: { dir: string; quiet: boolean; force: boolean }, answers: Answers, results: FileResult[], style: Style): string {
  const written = results.filter((r) => r.outcome === 'written');
  const overwritten = results.filter((r) => r.outcome === 'overwritten');
  const skipped = results.filter((r) => r.outcome === 'skipped');
  const rel = relative(process.cwd(), s.dir);
  const where = rel === '' ? '' : ` in ${rel.startsWith('..') ? s.dir : rel}`;
  const files = (n: number) => `${n} file${n === 1 ? '' : 's'}`;
  const list = (rs: FileResult[], note?: (r: FileResult) => string) => {
    const width = Math.max(...rs.map((r) => r.path.length));
    return rs.map((r) => `  ${note ? `${r.path.padEnd(width)}  ${note(r)}` : r.path}\n`).join('');
  };
  let out = '';
  if (!s.quiet) {
    if (written.length) out += `${style.bold(`Wrote ${files(written.length)}${where}:`)}\n${list(written)}`;
    if (overwritten.length) out += `${style.bold(`Overwrote ${files(overwritten.length)}${where}:`)}\n${list(overwritten)}`;
  }
  // Quiet, a kept file that holds what init would write is no news; one that differs is.
  const kept = s.quiet ? skipped.filter((r) => r.differs) : skipped;
  if (kept.length) {
    out += `${style.yellow(`Skipped ${files(kept.length)} that already exist${kept.length === 1 ? 's' : ''}${s.force ? '' : ` (--force overwrites ${kept.length === 1 ? 'it' : 'them'})`}:`)}\n`;
    out += list(kept, (r) => style.dim(r.differs ? 'differs from the default: yours is kept' : 'unchanged'));
    if (skipped.some((r) => r.path === '.pre-commit-config.yaml' && r.differs)) {
      out += '  To run govern from your own pre-commit config, add the govern-check hook (see govern\'s README).\n';
    }
  }
  if (s.quiet) return out;
  if (!written.length && !overwritten.length) out += 'Nothing was written.\n';
  const { checkCommand, exampleRequests, keyVariable } = scaffold;
  const example = exampleRequests(answers.environments).find((e) => e.name.startsWith('escalate-')) ?? exampleRequests(answers.environments)[0]!;
  const steps: [string, string][] = [];
  if (where) steps.push([`cd ${rel.startsWith('..') ? s.dir : rel}`, '']);
  steps.push([checkCommand(answers.policies), 'lint, validate and test the policies']);
  steps.push([`govern eval examples/requests/${example.name}.json`, 'decide an example: exit 0 allow, 2 deny, 3 escalate']);
  steps.push(['govern explain examples/requests/deny-drop-table.json', 'the facts and each rule that matched']);
  steps.push([`govern route ${scaffold.LABELED_REQUESTS}`, 'decide labeled requests and score them: exit 11 on a miss']);
  if (answers.precommit) steps.push(['pre-commit install', 'run govern check before each commit (needs pre-commit)']);
  if (answers.model) {
    const variable = keyVariable(answers.model.provider);
    steps.push([variable ? `export ${variable}=...` : 'ollama serve', variable ? 'the key stays in the environment, never in a file' : `and ollama pull ${answers.model.model}`]);
    steps.push(['govern providers check', 'check that the model answers']);
  }
  const width = Math.max(...steps.map(([c]) => c.length));
  out += `\n${style.bold('Next steps:')}\n${steps.map(([c, why]) => `  ${why ? `${c.padEnd(width)}  ${style.dim(why)}` : c}\n`).join('')}`;
  return out;
}
