// Shell commands as govern judges them, not as a shell runs them. The text is parsed with
// tree-sitter-bash (a maintained grammar, loaded on the first command so that requests without
// one never pay for it) and flattened into simple commands (words after quote removal,
// redirections, heredoc bodies, here-strings) with the pipeline each reads from, and the bodies of
// `$(...)`, backticks and `<(...)` that the caller reads as scripts of their own. Text the parser
// cannot read is marked `incomplete`; what it could read is still returned.
// `detectCommandShape` flags what cannot be judged statically: a command name built at run time,
// `eval`, a script piped into a shell, a shell reading a substitution, `xargs` or `find -exec`
// running a destructive tool.
import { createRequire } from 'node:module';
import type { Finding } from './types.js';

export interface Word {
  /** The word after quote removal; substitutions are kept as their source text. */
  value: string;
  start: number;
  end: number;
  /** Some part of it was quoted or escaped. */
  quoted: boolean;
  /** It holds an unquoted or double-quoted expansion (`$X`, `${X}`, `$(...)`, backticks). */
  dynamic: boolean;
}

export interface Redirect {
  op: string;
  target: Word | undefined;
}

export interface SimpleCommand {
  words: Word[];
  redirects: Redirect[];
  /** Bodies of `<<` heredocs, in order. */
  heredocs: string[];
  /** Values of `<<<` here-strings. */
  herestrings: string[];
  start: number;
  end: number;
  /** The command before this one in the same pipeline, whose output this one reads. */
  pipeFrom: SimpleCommand | undefined;
}

export interface Substitution {
  body: string;
  start: number;
  end: number;
}

export interface Script {
  commands: SimpleCommand[];
  /** Command and process substitutions anywhere in the script, outermost only. */
  substitutions: Substitution[];
  /** The parser could not read all of it (an unclosed quote, a stray keyword), or is unavailable. */
  incomplete: boolean;
}


interface TsNode {
  type: string;
  text: string;
  startIndex: number;
  endIndex: number;
  isNamed: boolean;
  childCount: number;
  hasError: boolean;
  childForFieldName(name: string): TsNode | null;
  walk(): { gotoFirstChild(): boolean; gotoNextSibling(): boolean; currentNode: TsNode };
}

/** A node's children. Through a cursor: the binding's `children` getter is quadratic in their number. */
function kids(n: TsNode): TsNode[] {
  if (n.childCount === 0) return [];
  const out: TsNode[] = [];
  const c = n.walk();
  if (c.gotoFirstChild()) do out.push(c.currentNode); while (c.gotoNextSibling());
  return out;
}

function named(n: TsNode): TsNode[] {
  return kids(n).filter((c) => c.isNamed);
}
interface TsParser { parse(text: string): { rootNode: TsNode } }

let parser: TsParser | null | undefined;

/** The bash parser, loaded once on first use; null when the native module cannot load here. */
function bashParser(): TsParser | null {
  if (parser !== undefined) return parser;
  try {
    const require = createRequire(import.meta.url);
    const Parser = require('tree-sitter') as new () => TsParser & { setLanguage(l: unknown): void };
    const p = new Parser();
    p.setLanguage(require('tree-sitter-bash'));
    parser = p;
  } catch {
    parser = null;
  }
  return parser;
}

/** Scripts longer than this are read in part (the rest is `incomplete`). */
const MAX_SCRIPT = 1 << 20;

/** Nodes read per script at most; a larger script is read in part (and marked `incomplete`). */
const MAX_NODES = 20_000;

/** The last scripts read: the category, the destructive detector and the shape each read the same command. */
const recent = new Map<string, Script>();

/** Reads `text` as a shell script. Never throws. */
export function lex(text: string): Script {
  let s = recent.get(text);
  if (!s) {
    s = parse(text);
    if (recent.size >= 16) recent.delete(recent.keys().next().value!);
    recent.set(text, s);
  }
  return s;
}

function parse(text: string): Script {
  const p = bashParser();
  if (!p) return { commands: [], substitutions: [], incomplete: true };
  const src = text.length > MAX_SCRIPT ? text.slice(0, MAX_SCRIPT) : text;
  let root: TsNode;
  try {
    // tree-sitter reads the text in chunks; a callback is not needed for a string under 1 MB.
    root = p.parse(src).rootNode;
  } catch {
    return { commands: [], substitutions: [], incomplete: true };
  }
  const f = new Flattener();
  f.statement(root, undefined);
  return { commands: f.commands, substitutions: f.substitutions, incomplete: root.hasError || src !== text || f.truncated };
}

const SUBSTITUTIONS = new Set(['command_substitution', 'process_substitution']);
const EXPANSIONS = new Set(['simple_expansion', 'expansion', 'command_substitution', 'process_substitution']);
const REDIRECTS = new Set(['file_redirect', 'heredoc_redirect', 'herestring_redirect']);

function unescapeUnquoted(s: string): string {
  return s.replace(/\\(\n|.)/gs, (_, c: string) => (c === '\n' ? '' : c));
}

function unescapeDouble(s: string): string {
  return s.replace(/\\([$`"\\\n])/g, (_, c: string) => (c === '\n' ? '' : c));
}

const ANSI: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };

function unescapeAnsiC(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|.)/gs, (all, e: string) => {
    if (Object.hasOwn(ANSI, e)) return ANSI[e]!;
    if (/^x/.test(e)) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    if (/^[uU]/.test(e)) { const n = parseInt(e.slice(1), 16); return n <= 0x10ffff ? String.fromCodePoint(n) : all; }
    return e;
  });
}

class Flattener {
  readonly commands: SimpleCommand[] = [];
  readonly substitutions: Substitution[] = [];
  private count = 0;
  private nodes = 0;
  truncated = false;

  /** Counts nodes read; false once the budget is spent. */
  private budget(n: number): boolean {
    this.nodes += n;
    if (this.nodes > MAX_NODES) this.truncated = true;
    return !this.truncated;
  }

  /** Collects the outermost substitutions below `n` (their commands are the caller's to read). */
  private scan(n: TsNode): void {
    const stack = [n];
    while (stack.length) {
      const x = stack.pop()!;
      if (SUBSTITUTIONS.has(x.type)) { this.substitution(x); continue; }
      if (x.childCount === 0 || !this.budget(x.childCount)) continue;
      const k = kids(x);
      for (let i = k.length - 1; i >= 0; i--) stack.push(k[i]!);
    }
  }

  private substitution(x: TsNode): void {
    const t = x.text;
    const body = t.startsWith('`') ? t.slice(1, t.endsWith('`') && t.length > 1 ? -1 : undefined).replace(/\\([`\\$])/g, '$1') : t.slice(2, t.endsWith(')') ? -1 : undefined);
    this.substitutions.push({ body, start: x.startIndex, end: x.endIndex });
  }

  /** A word's value after quote removal, with expansions kept as their source text. */
  word(n: TsNode): Word {
    const w: Word = { value: '', start: n.startIndex, end: n.endIndex, quoted: false, dynamic: false };
    w.value = this.value(n, w);
    this.scan(n);
    return w;
  }

  private value(n: TsNode, w: Word): string {
    switch (n.type) {
      case 'word': {
        if (n.text.includes('\\')) w.quoted = true;
        return unescapeUnquoted(n.text);
      }
      case 'raw_string': w.quoted = true; return n.text.slice(1, n.text.endsWith("'") && n.text.length > 1 ? -1 : undefined);
      case 'ansi_c_string': w.quoted = true; return unescapeAnsiC(n.text.slice(2, n.text.endsWith("'") ? -1 : undefined));
      case 'string': case 'translated_string': {
        w.quoted = true;
        if (named(n).some((c) => EXPANSIONS.has(c.type))) w.dynamic = true;
        const t = n.type === 'translated_string' ? n.text.slice(1) : n.text;
        return unescapeDouble(t.slice(1, t.endsWith('"') && t.length > 1 ? -1 : undefined));
      }
      case 'concatenation': {
        if (!this.budget(n.childCount)) { w.dynamic = true; return n.text; }
        return kids(n).map((c) => this.value(c, w)).join('');
      }
      case 'simple_expansion': case 'expansion': case 'command_substitution': case 'process_substitution':
        w.dynamic = true;
        return n.text;
      case 'variable_assignment': {
        const name = n.childForFieldName('name');
        const v = n.childForFieldName('value');
        return `${name?.text ?? ''}${n.text.includes('+=') ? '+=' : '='}${v ? this.value(v, w) : ''}`;
      }
      default:
        return n.text;
    }
  }

  private redirect(n: TsNode, cmd: SimpleCommand): void {
    if (n.type === 'herestring_redirect') {
      const target = named(n).pop();
      const word = target ? this.word(target) : undefined;
      cmd.redirects.push({ op: '<<<', target: word });
      if (word) cmd.herestrings.push(word.value);
      return;
    }
    if (n.type === 'heredoc_redirect') {
      const op = kids(n).find((c) => c.type === '<<' || c.type === '<<-')?.type ?? '<<';
      const start = kids(n).find((c) => c.type === 'heredoc_start');
      const body = kids(n).find((c) => c.type === 'heredoc_body');
      cmd.redirects.push({ op, target: start ? { value: start.text.replace(/^['"]|['"]$/g, ''), start: start.startIndex, end: start.endIndex, quoted: /['"\\]/.test(start.text), dynamic: false } : undefined });
      let text = body?.text ?? '';
      if (op === '<<-') text = text.replace(/^\t+/gm, '');
      cmd.heredocs.push(text.replace(/\n[\t ]*$/, ''));
      if (body) this.scan(body);
      return;
    }
    const dest = n.childForFieldName('destination');
    const op = kids(n).find((c) => !c.type.match(/^[a-z_]+$/))?.type ?? '>';
    cmd.redirects.push({ op, target: dest ? this.word(dest) : undefined });
  }

  private fresh(n: TsNode, pipeFrom: SimpleCommand | undefined): SimpleCommand {
    return { words: [], redirects: [], heredocs: [], herestrings: [], start: n.startIndex, end: n.endIndex, pipeFrom };
  }

  private push(cmd: SimpleCommand): SimpleCommand | undefined {
    if (cmd.words.length === 0 && cmd.redirects.length === 0) return undefined;
    if (++this.count > 100_000) return undefined;
    this.commands.push(cmd);
    return cmd;
  }

  /** A simple command; `redirects` come from an enclosing redirected statement. */
  private command(n: TsNode, pipeFrom: SimpleCommand | undefined, redirects: TsNode[] = []): SimpleCommand | undefined {
    const cmd = this.fresh(n, pipeFrom);
    for (const c of kids(n)) {
      if (!this.budget(1)) break;
      if (REDIRECTS.has(c.type)) this.redirect(c, cmd);
      else if (c.type === 'command_name') { const inner = named(c)[0]; if (inner) cmd.words.push(this.word(inner)); }
      else if (c.type === 'variable_assignment' || c.type === 'variable_assignments') {
        for (const a of c.type === 'variable_assignments' ? named(c) : [c]) cmd.words.push(this.word(a));
      } else if (c.isNamed && c.type !== 'comment' && c.type !== 'ERROR') cmd.words.push(this.word(c));
      else if (c.type === 'ERROR') this.statement(c, undefined);
    }
    for (const r of redirects) this.redirect(r, cmd);
    if (redirects.length) cmd.end = Math.max(cmd.end, ...redirects.map((r) => r.endIndex));
    return this.push(cmd);
  }

  /** Flattens a statement; returns the last simple command it ran (the one a pipe reads from). */
  statement(n: TsNode, pipeFrom: SimpleCommand | undefined): SimpleCommand | undefined {
    if (!this.budget(1)) return undefined;
    switch (n.type) {
      case 'command':
        return this.command(n, pipeFrom);
      case 'declaration_command': case 'unset_command': {
        const cmd = this.fresh(n, pipeFrom);
        for (const c of kids(n)) {
          if (REDIRECTS.has(c.type)) this.redirect(c, cmd);
          else if (c.type !== 'comment') cmd.words.push(this.word(c));
        }
        return this.push(cmd);
      }
      case 'variable_assignment': case 'variable_assignments': {
        const cmd = this.fresh(n, pipeFrom);
        for (const a of n.type === 'variable_assignments' ? named(n) : [n]) cmd.words.push(this.word(a));
        return this.push(cmd);
      }
      case 'redirected_statement': {
        const body = n.childForFieldName('body');
        const redirects = kids(n).filter((c) => REDIRECTS.has(c.type));
        if (body?.type === 'command') return this.command(body, pipeFrom, redirects);
        const last = body ? this.statement(body, pipeFrom) : undefined;
        const cmd = this.fresh(n, undefined);
        for (const r of redirects) this.redirect(r, cmd);
        this.push(cmd);
        return last;
      }
      case 'pipeline': {
        let prev = pipeFrom;
        for (const c of named(n)) prev = this.statement(c, prev) ?? prev;
        return prev;
      }
      case 'comment': case 'heredoc_body':
        return undefined;
      case 'test_command': case 'arithmetic_expansion':
        this.scan(n);
        return undefined;
      case 'for_statement': case 'case_statement': case 'c_style_for_statement': {
        // The loop's values and the case's subject run nothing but their substitutions.
        let last: SimpleCommand | undefined;
        for (const c of named(n)) {
          if (['do_group', 'case_item', 'compound_statement'].includes(c.type)) last = this.statement(c, undefined) ?? last;
          else this.scan(c);
        }
        return last;
      }
      case 'case_item': {
        let last: SimpleCommand | undefined;
        for (const c of named(n)) {
          if (c.type === 'word' || c.type === 'extglob_pattern' || c.type === 'concatenation' || c.type === 'string' || c.type === 'raw_string') this.scan(c);
          else last = this.statement(c, undefined) ?? last;
        }
        return last;
      }
      default: {
        if (SUBSTITUTIONS.has(n.type) || EXPANSIONS.has(n.type)) { this.scan(n); return undefined; }
        // program, list, subshell, compound statements, if/while/until, functions, negation, ERROR.
        let last: SimpleCommand | undefined;
        let first = true;
        for (const c of named(n)) {
          last = this.statement(c, first ? pipeFrom : undefined) ?? last;
          first = false;
        }
        return last;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The shape of a command: what it runs that cannot be read before it runs.

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'rbash', 'fish', 'tcsh', 'csh', 'busybox']);
const INTERPRETERS = /^(?:python[0-9.]*|pypy[0-9.]*|perl[0-9.]*|ruby[0-9.]*|php[0-9.]*|node|nodejs|deno|bun|lua[0-9.]*|tclsh|pwsh|powershell)$/;
/** Commands that run the rest of their words as a command (their own options aside). */
const WRAPPERS = new Set(['sudo', 'doas', 'run0', 'pkexec', 'env', 'nohup', 'time', 'nice', 'ionice', 'exec', 'command', 'builtin', 'timeout', 'gtimeout', 'stdbuf', 'setsid', 'chroot', 'runuser', 'unbuffer', 'strace', 'ltrace', 'flock', 'watch', 'chrt', 'taskset', 'caffeinate', 'torsocks', 'proxychains', 'proxychains4']);
/** Tools that destroy or overwrite what they are given: run by `xargs` or `find -exec`, the targets are unknown until run time. */
const DESTRUCTIVE_TOOLS = new Set(['rm', 'rmdir', 'unlink', 'shred', 'srm', 'dd', 'mv', 'cp', 'truncate', 'chmod', 'chown', 'chgrp', 'wipefs', 'mkfs', 'kubectl', 'oc', 'helm', 'terraform', 'docker', 'podman', 'git', 'aws', 'gcloud', 'az', 'gsutil', 'kill', 'pkill', 'killall', 'dropdb', 'psql', 'mysql', 'redis-cli', 'curl', 'tee', 'sed', 'perl', 'install', 'rsync', 'find', 'xargs', 'parallel']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=/;
const KEYWORDS = new Set(['then', 'do', 'else', 'elif', 'if', 'while', 'until', '!', '{', '}', 'coproc', 'time']);

function base(w: string): string {
  return w.slice(w.lastIndexOf('/') + 1).toLowerCase();
}

/** The words of a command after assignments, keywords and wrappers (with their options). */
function runWords(words: Word[]): Word[] {
  let i = 0;
  for (let round = 0; round < 32 && i < words.length; round++) {
    const w = words[i]!;
    if (!w.dynamic && (ASSIGNMENT.test(w.value) || KEYWORDS.has(w.value))) { i++; continue; }
    const b = base(w.value);
    if (w.dynamic || !WRAPPERS.has(b)) break;
    i++;
    while (i < words.length && words[i]!.value.startsWith('-') && !words[i]!.dynamic) i++;
    if ((b === 'timeout' || b === 'gtimeout' || b === 'chrt' || b === 'taskset' || b === 'flock') && i < words.length) i++;
    while (b === 'env' && i < words.length && ASSIGNMENT.test(words[i]!.value)) i++;
  }
  return words.slice(i);
}

export interface Shape { kind: 'dynamic-execution' | 'command-unparsed'; start: number; end: number; why: string }

/** What in a script cannot be judged before it runs; nested scripts (`$(...)`, `bash -c`, `eval`) are read too. */
export function commandShape(text: string, depth = 0): Shape[] {
  const out: Shape[] = [];
  if (!text.trim()) return out;
  // What is nested deeper is not read, so it cannot be judged: a finding, not a silent pass.
  if (depth > 6) return [{ kind: 'command-unparsed', start: 0, end: text.length, why: 'scripts nested more than 6 levels deep are not read' }];
  const script = lex(text);
  if (script.incomplete) out.push({ kind: 'command-unparsed', start: 0, end: text.length, why: 'the shell parser could not read all of the command' });
  const flag = (c: { start: number; end: number }, why: string) => out.push({ kind: 'dynamic-execution', start: c.start, end: c.end, why });
  for (const cmd of script.commands) {
    const words = runWords(cmd.words);
    const name = words[0];
    if (!name) continue;
    if (name.dynamic) { flag(cmd, 'the command name is built at run time'); continue; }
    const b = base(name.value);
    const args = words.slice(1);
    if (b === 'eval') { flag(cmd, '`eval` runs text as a command'); out.push(...nested(args.map((a) => a.value).join(' '), cmd, depth)); continue; }
    if ((b === 'source' || b === '.') && (args[0]?.dynamic || /^(?:\/dev\/(?:stdin|fd\/)|-$)/.test(args[0]?.value ?? ''))) { flag(cmd, 'a script is sourced from a stream or a substitution'); continue; }
    const shell = SHELLS.has(b) || INTERPRETERS.test(b);
    if (shell) {
      const ci = args.findIndex((a) => /^-[A-Za-z]*c[A-Za-z]*$/.test(a.value) || a.value === '-e' || a.value === '--eval' || a.value === '-command');
      if (ci >= 0) {
        const code = args[ci + 1];
        if (code?.dynamic) flag(cmd, 'a shell runs a script built at run time');
        else if (code && SHELLS.has(b)) out.push(...nested(code.value, cmd, depth));
        continue;
      }
      const file = args.find((a) => !a.value.startsWith('-'));
      if (file?.dynamic) flag(cmd, 'a shell runs a script from a substitution');
      else if (!file && (cmd.pipeFrom || cmd.herestrings.length || cmd.heredocs.length || cmd.redirects.some((r) => r.op === '<'))) flag(cmd, 'a script is piped into a shell');
      continue;
    }
    if (b === 'xargs' || b === 'parallel') {
      const inner = runWords(args.filter((a, i) => !a.value.startsWith('-') || i > args.findIndex((x) => !x.value.startsWith('-'))));
      const tool = inner[0];
      if (tool && (tool.dynamic || DESTRUCTIVE_TOOLS.has(base(tool.value)) || SHELLS.has(base(tool.value)))) flag(cmd, `\`${b}\` runs \`${tool.value}\` on input known only at run time`);
      continue;
    }
    if (b === 'find') {
      const i = args.findIndex((a) => /^-(?:exec|execdir|ok|okdir)$/.test(a.value));
      const tool = i >= 0 ? args[i + 1] : undefined;
      if (tool && (tool.dynamic || DESTRUCTIVE_TOOLS.has(base(tool.value)) || SHELLS.has(base(tool.value)))) flag(cmd, `\`find -exec\` runs \`${tool.value}\` on every file found`);
    }
  }
  for (const sub of script.substitutions) for (const s of commandShape(sub.body, depth + 1)) out.push({ ...s, start: sub.start, end: sub.end });
  return out;
}

function nested(text: string, at: { start: number; end: number }, depth: number): Shape[] {
  return commandShape(text, depth + 1).map((s) => ({ ...s, start: at.start, end: at.end }));
}

/** The shape findings of a request's command. */
export function detectCommandShape(command: string): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const s of commandShape(command)) {
    const key = `${s.kind}:${s.start}:${s.end}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // The reason, not an excerpt: the command may hold a secret, and the reason is what a reader needs.
    out.push({ kind: s.kind, field: 'command', span: { start: s.start, end: s.end }, preview: s.why });
  }
  return out;
}
