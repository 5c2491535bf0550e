// Destructive commands. The command is read as a shell script (see shell.ts); each simple command is
// unwrapped (sudo, env, xargs, nice, timeout, ...) and classified by the program it runs. Scripts
// handed to another shell (`bash -c`, `sh <<EOF`, `ssh host '...'`, `eval`, `$(...)`, `script -c`,
// `tmux`, `screen`, `at`, expect's `spawn`, a git pager or `!` alias, vim's `:!`) and code handed
// to an interpreter (`python -c`, `node -e`, heredocs, awk's `system`) are read too, and SQL given
// to a database client or typed as the command is classified statement by statement. Text that is only data
// (an `echo` argument, a commit message, a `cat` heredoc) is never classified.
import { lex, type SimpleCommand } from './shell.js';
import { detectSqlEmbedded, detectSqlScript } from './sql.js';
import { isBlockDevice, isRootLike, isSystemPath, isTempPath, normalizePath, remotePath } from './paths.js';
import type { Hit } from './types.js';

const MAX_DEPTH = 6;
const MAX_COMMANDS = 2000;

interface Span { start: number; end: number }

class Context {
  readonly hits: Hit[] = [];
  commands = 0;
  emit(kind: string, span: Span): void {
    this.hits.push({ kind, start: span.start, end: span.end });
  }
  /**
   * Text the detector did not read to the end: nested deeper than MAX_DEPTH, or past MAX_COMMANDS.
   * What it holds is unknown, so it is a finding of its own (an evasion: no allow covers it), never
   * a silent pass: a `rm -rf /` seven `bash -c` deep must not read as nothing.
   */
  unread(span: Span): void {
    this.emit('command-unparsed', span);
  }
}

/** Destructive findings in a shell command line (or raw SQL typed as a command). */
export function detectDestructive(command: string): Hit[] {
  const ctx = new Context();
  analyzeText(command, 0, undefined, ctx);
  // Commands that travelled through JSON or a template sometimes carry `\n` and `\t` as two
  // characters; read them as the line breaks and tabs they stand for as well.
  if (/\\[nt]/.test(command)) {
    const variant = command.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
    ctx.commands = 0;
    analyzeText(variant, 0, { start: 0, end: command.length }, ctx);
  }
  return dedupe(ctx.hits);
}

function dedupe(hits: Hit[]): Hit[] {
  const seen = new Set<string>();
  const out: Hit[] = [];
  for (const h of hits) {
    const k = `${h.kind}:${h.start}:${h.end}`;
    if (!seen.has(k)) { seen.add(k); out.push(h); }
  }
  return out.sort((a, b) => a.start - b.start || a.kind.localeCompare(b.kind));
}

const SQL_START = /^\s*(?:(?:select|insert|update|delete|drop|alter|create|grant|revoke|with|merge|upsert|vacuum)\s|truncate\s+(?!-)|replace\s+into\s|(?:flushall|flushdb)\s*(?:;|$))/i;

/** Reads `text` as a script; `outer` is the span every finding gets when the text is nested. */
function analyzeText(text: string, depth: number, outer: Span | undefined, ctx: Context): void {
  if (!text.trim()) return;
  if (depth > MAX_DEPTH || ctx.commands >= MAX_COMMANDS) { ctx.unread(outer ?? { start: 0, end: text.length }); return; }
  if (SQL_START.test(text) || /^\s*db\.[\w$]+/.test(text)) {
    for (const h of detectSqlScript(text)) ctx.emit(h.kind, outer ?? h);
    return;
  }
  if (depth === 0 && /^\s*[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+\s*\(/.test(text)) {
    // Code typed as a command: `gateway.customer.delete('id')`.
    scanCode(text, depth, outer ?? { start: 0, end: text.length }, ctx);
  }
  const script = lex(text);
  // Variables given a plain value in the script (`x=rm`), so that `$x -rf /` is read as `rm -rf /`.
  const vars = new Map<string, string>();
  for (const cmd of script.commands) {
    if (++ctx.commands > MAX_COMMANDS) { ctx.unread(outer ?? { start: cmd.start, end: text.length }); return; }
    const assigned = cmd.words.length > 0 && cmd.words.every((w) => ASSIGNMENT.test(w.value));
    if (assigned) for (const w of cmd.words) { const eq = w.value.indexOf('='); if (!w.dynamic) vars.set(w.value.slice(0, eq).replace(/\+$/, ''), w.value.slice(eq + 1)); }
    analyzeCommand(cmd, depth, outer ?? { start: cmd.start, end: cmd.end }, ctx, vars);
  }
  for (const sub of script.substitutions) {
    analyzeText(sub.body, depth + 1, outer ?? { start: sub.start, end: sub.end }, ctx);
  }
}

const DASHES = /^[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]+/;

function normWord(v: string): string {
  return DASHES.test(v) ? v.replace(DASHES, (m) => '-'.repeat(m.length)) : v;
}

export function baseName(w: string): string {
  const i = w.lastIndexOf('/');
  return (i >= 0 ? w.slice(i + 1) : w).toLowerCase();
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=/;
const KEYWORDS = new Set(['then', 'do', 'else', 'elif', 'if', 'while', 'until', '!', '{', '}', 'coproc', '[[', ']]']);

/** Where a command is being judged: its nesting depth, the span findings get, the command itself. */
interface Scope { depth: number; span: Span; ctx: Context; cmd: SimpleCommand | undefined }

/** A command name spelled at run time, when its value can be seen: `$x` after `x=rm`, `$(echo rm)`. */
function resolveName(w: { value: string; dynamic: boolean }, vars: Map<string, string>): string {
  if (!w.dynamic) return w.value;
  const v = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(w.value);
  if (v) return vars.get(v[1]!) ?? w.value;
  return expandWord(w.value).trim();
}

function analyzeCommand(cmd: SimpleCommand, depth: number, span: Span, ctx: Context, vars = new Map<string, string>()): void {
  const c: Scope = { depth, span, ctx, cmd };
  for (const r of cmd.redirects) {
    if (!r.target || !/^(?:>|>>|>\||&>|&>>|>&)$/.test(r.op)) continue;
    const t = r.target.value;
    if (isBlockDevice(t)) ctx.emit('disk-wipe', span);
    else if (isSystemPath(t) && !/^\/dev\/(?:null|zero|stdout|stderr|tty|fd\/|pts\/)/.test(normalizePath(t))) ctx.emit('system-overwrite', span);
  }
  const words = cmd.words.map((w) => normWord(w.value));
  const first = cmd.words.findIndex((w) => w.dynamic || !ASSIGNMENT.test(w.value));
  if (first >= 0 && cmd.words[first]!.dynamic) {
    const name = resolveName(cmd.words[first]!, vars);
    if (name !== cmd.words[first]!.value) words.splice(first, 1, ...name.split(/\s+/).filter(Boolean));
  }
  analyzeArgs(words, c);
}

/** Classifies one command given as words. */
function analyzeArgs(words: string[], c: Scope): void {
  const args = unwrap(words, c);
  if (!args || args.length === 0) return;
  const name = baseName(args[0]!);
  if (name === '') return;
  const handler = HANDLERS.get(name) ?? familyHandler(name);
  if (handler && handler(args, c)) return;
  generic(name, args, c);
}

const emit = (c: Scope, kind: string): void => c.ctx.emit(kind, c.span);

/** Reads `text` as a nested script. */
function script(text: string, c: Scope): void {
  analyzeText(text, c.depth + 1, c.span, c.ctx);
}

// ---------------------------------------------------------------------------------------------
// Wrappers: commands that run the command in their arguments.

const SUDO_VALUE = new Set(['-u', '-g', '-h', '-p', '-C', '-D', '-r', '-t', '-U', '-T', '--user', '--group', '--host', '--prompt', '--close-from', '--chdir', '--role', '--type', '--other-user', '--command-timeout']);
const XARGS_VALUE = new Set(['-I', '-i', '-n', '-L', '-l', '-P', '-d', '-E', '-e', '-s', '-a', '--arg-file', '--delimiter', '--max-args', '--max-lines', '--max-procs', '--max-chars', '--replace', '--eof', '--process-slot-var']);
const TIMEOUT_VALUE = new Set(['-s', '-k', '--signal', '--kill-after']);
const STRACE_VALUE = new Set(['-e', '-o', '-p', '-s', '-u', '-E', '-a', '-b', '-I', '-O', '-S', '-P', '-X']);

/** Strips assignments, keywords and wrapper commands; undefined when nothing runs. */
function unwrap(input: string[], c: Scope): string[] | undefined {
  let args = input;
  for (let round = 0; round < 16 && args.length > 0; round++) {
    const a = args[0]!;
    if (ASSIGNMENT.test(a)) { args = args.slice(1); continue; }
    if (KEYWORDS.has(a)) { args = args.slice(1); continue; }
    const name = baseName(a);
    let i = 1;
    switch (name) {
      case 'sudo': case 'doas': case 'run0': case 'pkexec': {
        while (i < args.length && args[i]!.startsWith('-')) {
          const o = args[i]!;
          i++;
          if (o === '--') break;
          if (SUDO_VALUE.has(o)) i++;
        }
        break;
      }
      case 'env': {
        while (i < args.length) {
          const o = args[i]!;
          if (o === '--') { i++; break; }
          if (o === '-u' || o === '--unset' || o === '-C' || o === '--chdir') { i += 2; continue; }
          if (o === '-S' || o === '--split-string') {
            const rest = args.slice(i + 2);
            args = [...(args[i + 1] ?? '').split(/\s+/).filter(Boolean), ...rest];
            i = 0;
            break;
          }
          if (o.startsWith('-') || ASSIGNMENT.test(o)) { i++; continue; }
          break;
        }
        break;
      }
      case 'command': {
        if (args[1] === '-v' || args[1] === '-V') return undefined;
        while (i < args.length && /^-[pvV]+$/.test(args[i]!)) i++;
        break;
      }
      case 'builtin': case 'nohup': case 'setsid': case 'unbuffer': case 'caffeinate': case 'catchsegv':
      case 'proxychains': case 'proxychains4': case 'torsocks': case 'tsocks': case 'noglob': case 'nocorrect':
        while (i < args.length && args[i]!.startsWith('-')) i++;
        break;
      case 'exec':
        while (i < args.length && args[i]!.startsWith('-')) { if (args[i] === '-a') i++; i++; }
        break;
      case 'time':
        while (i < args.length && args[i]!.startsWith('-')) { if (args[i] === '-f' || args[i] === '-o') i++; i++; }
        break;
      case 'nice': case 'renice':
        while (i < args.length && args[i]!.startsWith('-')) { if (args[i] === '-n') i++; i++; }
        break;
      case 'ionice':
        while (i < args.length && args[i]!.startsWith('-')) { if (/^-[cnp]$/.test(args[i]!)) i++; i++; }
        break;
      case 'timeout': case 'gtimeout':
        while (i < args.length && args[i]!.startsWith('-')) { if (TIMEOUT_VALUE.has(args[i]!)) i++; i++; }
        i++; // the duration
        break;
      case 'stdbuf':
        while (i < args.length && args[i]!.startsWith('-')) { if (/^-[ioe]$/.test(args[i]!)) i++; i++; }
        break;
      case 'chrt': case 'taskset':
        while (i < args.length && args[i]!.startsWith('-')) i++;
        i++;
        break;
      case 'strace': case 'ltrace':
        while (i < args.length && args[i]!.startsWith('-')) { if (STRACE_VALUE.has(args[i]!)) i++; i++; }
        break;
      case 'flock': {
        while (i < args.length && args[i]!.startsWith('-')) {
          const o = args[i]!;
          if (o === '-c' || o === '--command') { script(args[i + 1] ?? '', c); return undefined; }
          if (o === '-w' || o === '-E' || o === '--timeout' || o === '--conflict-exit-code') i++;
          i++;
        }
        i++; // the lock file
        break;
      }
      case 'watch': {
        while (i < args.length && args[i]!.startsWith('-')) { if (/^-[nd]$/.test(args[i]!) || args[i] === '--interval') i++; i++; }
        script(args.slice(i).join(' '), c);
        return undefined;
      }
      case 'xargs': {
        while (i < args.length && args[i]!.startsWith('-')) {
          const o = args[i]!;
          i++;
          if (XARGS_VALUE.has(o)) i++;
        }
        // The words piped in (`echo / | xargs rm -rf`) are the command's last arguments.
        const input = round === 0 ? pipedText(c) : undefined;
        if (input !== undefined && i < args.length) { args = [...args.slice(i), ...input.split(/\s+/).filter(Boolean)]; i = 0; }
        break;
      }
      case 'npx': case 'pnpx': case 'bunx': {
        while (i < args.length && args[i]!.startsWith('-')) { if (args[i] === '-p' || args[i] === '--package') i++; i++; }
        break;
      }
      case 'pnpm': case 'yarn': case 'bun': case 'npm':
        if (args[1] === 'dlx' || args[1] === 'exec' || args[1] === 'x') { i = 2; while (i < args.length && args[i]!.startsWith('-')) i++; break; }
        return args;
      case 'busybox':
        break;
      default:
        return args;
    }
    args = args.slice(i);
  }
  // `sudo "rm -rf /"`: a single word with spaces is read as the script it spells.
  if (args.length === 1 && /\s/.test(args[0]!) && args !== input) { script(args[0]!, c); return undefined; }
  return args;
}

// ---------------------------------------------------------------------------------------------
// Argument helpers.

interface Parsed {
  /** Options as written (`-rf`, `--force`, `--x=y`). */
  flags: string[];
  positional: string[];
  /** Values of options known to take one. */
  values: Map<string, string[]>;
  /** Everything after a bare `--`. */
  afterDashes: string[] | undefined;
}

function parse(args: string[], withValue: Set<string> = new Set(), from = 1): Parsed {
  const flags: string[] = [];
  const positional: string[] = [];
  const values = new Map<string, string[]>();
  let afterDashes: string[] | undefined;
  const add = (k: string, v: string): void => { const l = values.get(k); if (l) l.push(v); else values.set(k, [v]); };
  for (let i = from; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { afterDashes = args.slice(i + 1); positional.push(...afterDashes); break; }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const key = (eq < 0 ? a : a.slice(0, eq)).toLowerCase();
      flags.push(eq < 0 ? key : key + a.slice(eq));
      if (eq >= 0) add(key, a.slice(eq + 1));
      else if (withValue.has(key) && i + 1 < args.length) add(key, args[++i]!);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      flags.push(a);
      const key = a.slice(0, 2);
      if (withValue.has(a) && i + 1 < args.length) add(a, args[++i]!);
      else if (withValue.has(key) && a.length > 2) add(key, a.slice(2));
      continue;
    }
    positional.push(a);
  }
  return { flags, positional, values, afterDashes };
}

/** A short option letter given alone or combined (`-rf` has `r`), or one of the long names. */
function hasFlag(p: Parsed, letters: string, ...long: string[]): boolean {
  return p.flags.some((f) => {
    if (f.startsWith('--')) return long.includes(f.split('=')[0]!);
    for (const l of letters) if (f.slice(1).includes(l)) return true;
    return false;
  });
}

function hasLong(p: Parsed, ...long: string[]): boolean {
  return p.flags.some((f) => f.startsWith('--') && long.includes(f.split('=')[0]!));
}

function value(p: Parsed, ...keys: string[]): string[] {
  const out: string[] = [];
  for (const k of keys) out.push(...(p.values.get(k) ?? []));
  return out;
}

/** Text the previous command of the pipeline writes: `echo ...`, `printf ...`, `cat <<EOF`. */
function pipedText(c: Scope): string | undefined {
  const prev = c.cmd?.pipeFrom;
  if (!prev) return undefined;
  return staticOutput(prev.words.map((w) => w.value), prev);
}

function staticOutput(words: string[], cmd: SimpleCommand | undefined): string | undefined {
  if (words.length === 0) return undefined;
  const name = baseName(words[0]!);
  if (name === 'echo') {
    let i = 1;
    while (i < words.length && /^-[neE]+$/.test(words[i]!)) i++;
    return words.slice(i).join(' ');
  }
  if (name === 'printf') return words.slice(1).join(' ');
  if (name === 'cat' && cmd) {
    const t = [...cmd.heredocs, ...cmd.herestrings];
    return t.length ? t.join('\n') : undefined;
  }
  return undefined;
}

/** The known text of a word that is a `$(cat <<EOF ...)`/`$(echo ...)` substitution, or the word. */
function expandWord(w: string): string {
  const m = /^\$\(([\s\S]*)\)$/.exec(w.trim());
  if (!m) return w;
  const inner = lex(m[1]!);
  const only = inner.commands.length === 1 ? inner.commands[0]! : undefined;
  const out = only ? staticOutput(only.words.map((x) => x.value), only) : undefined;
  return out ?? w;
}

/** Texts a command reads on standard input that we can see. */
function stdinTexts(c: Scope): string[] {
  const out: string[] = [];
  if (c.cmd) out.push(...c.cmd.heredocs, ...c.cmd.herestrings.map(expandWord));
  const piped = pipedText(c);
  if (piped !== undefined) out.push(piped);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Handlers. Each returns true when it has fully judged the command (no generic rule afterwards).

type Handler = (args: string[], c: Scope) => boolean;
const HANDLERS = new Map<string, Handler>();
/** Registers a handler; one registered earlier for the same name runs when this one has not judged. */
const on = (names: string, h: Handler): void => {
  for (const n of names.split(' ')) {
    const prior = HANDLERS.get(n);
    HANDLERS.set(n, prior ? (a, c) => h(a, c) || prior(a, c) : h);
  }
};

// Shells: `-c SCRIPT`, a heredoc, a here-string, or a piped script.
on('sh bash zsh dash ksh mksh ash rbash fish tcsh csh', (args, c) => {
  const p = parse(args);
  const ci = args.findIndex((a, i) => i > 0 && /^-[A-Za-z]*c[A-Za-z]*$/.test(a));
  if (ci > 0) {
    const scriptArg = args.slice(ci + 1).find((a) => !a.startsWith('-'));
    if (scriptArg !== undefined) script(expandWord(scriptArg), c);
    return true;
  }
  if (p.positional.length === 0 || hasFlag(p, 's')) for (const t of stdinTexts(c)) script(t, c);
  return true;
});

on('busybox', (args, c) => {
  if (args.length > 1) analyzeArgs(args.slice(1), c);
  return true;
});

on('su', (args, c) => {
  const i = args.findIndex((a) => a === '-c' || a === '--command');
  if (i > 0 && args[i + 1] !== undefined) script(args[i + 1]!, c);
  else for (const t of stdinTexts(c)) script(t, c);
  return true;
});

on('eval', (args, c) => { script(args.slice(1).join(' '), c); return true; });

// `script -c CMD` runs CMD with the shell, recording the session.
on('script', (args, c) => {
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if ((a === '-c' || a === '--command') && args[i + 1] !== undefined) script(args[++i]!, c);
    else if (a.startsWith('--command=')) script(a.slice('--command='.length), c);
  }
  return true;
});

// Terminal multiplexers run a shell command given to a new session, window or pane (`tmux new
// 'cmd'`, `tmux new -d rm -rf /`, `screen -dm cmd ...`) or type keys into one (`send-keys`,
// `screen -X stuff`). The words after the options are the command; each word is read as a script
// too, which finds what a quoted command or a typed key sequence runs.
const TMUX_VALUE = new Set(['-c', '-e', '-F', '-n', '-s', '-t', '-x', '-y', '-f', '-L', '-S', '-T', '-l', '-p', '-N']);
on('tmux byobu', (args, c) => {
  let i = 1;
  while (i < args.length && args[i]!.startsWith('-')) { if (TMUX_VALUE.has(args[i]!)) i++; i++; }
  i++; // the subcommand
  while (i < args.length && args[i]!.startsWith('-')) { if (TMUX_VALUE.has(args[i]!)) i++; i++; }
  const rest = args.slice(i);
  if (rest.length > 1) script(rest.join(' '), c);
  for (const a of rest) script(a, c);
  return true;
});
const SCREEN_VALUE = new Set(['-S', '-c', '-e', '-h', '-p', '-T', '-t', '-X', '-Logfile']);
on('screen', (args, c) => {
  let i = 1;
  while (i < args.length && args[i]!.startsWith('-')) { if (SCREEN_VALUE.has(args[i]!)) i++; i++; }
  if (i < args.length) analyzeArgs(args.slice(i), c);
  for (const a of args.slice(1)) if (!a.startsWith('-')) script(a, c);
  return true;
});

// `at` and `batch` run later the script they read; `sg GROUP -c CMD` runs CMD as `su -c` does;
// `sshpass` runs the command after its options; expect's `spawn` and `exec` run a command.
on('at batch', (_args, c) => {
  for (const t of stdinTexts(c)) script(t, c);
  return true;
});
on('sg', (args, c) => {
  const i = args.indexOf('-c');
  if (i > 0 && args[i + 1] !== undefined) script(args[i + 1]!, c);
  else if (args.length > 2) script(args.slice(2).join(' '), c);
  return true;
});
on('sshpass', (args, c) => {
  let i = 1;
  while (i < args.length && args[i]!.startsWith('-')) { if (/^-[pfd]$/.test(args[i]!)) i++; i++; }
  if (i < args.length) analyzeArgs(args.slice(i), c);
  return true;
});
on('expect', (args, c) => {
  const codes: string[] = [];
  for (let i = 1; i < args.length; i++) if (args[i] === '-c' && args[i + 1] !== undefined) codes.push(args[++i]!);
  if (!codes.length) codes.push(...stdinTexts(c));
  for (const code of codes) {
    for (const stmt of code.split(/[;\n]/)) {
      const m = /^\s*(?:spawn|exec)\s+(?:-\S+\s+)*([\s\S]*)$/.exec(stmt);
      if (m) script(m[1]!, c);
    }
  }
  return true;
});
// rimraf (and npx rimraf) removes what it is given recursively, as rm -rf does.
on('rimraf', (args, c) => {
  analyzeArgs(['rm', '-rf', ...args.slice(1).filter((a) => !a.startsWith('-'))], c);
  return true;
});
// vi and vim run a shell command from `-c ':!cmd'`, `+!cmd`, `:r !cmd`, `:w !cmd` or system().
on('vi vim nvim view ex gvim', (args, c) => {
  const cmds: string[] = [];
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if ((a === '-c' || a === '--cmd') && args[i + 1] !== undefined) cmds.push(args[++i]!);
    else if (a.startsWith('+')) cmds.push(a.slice(1));
  }
  for (const cmd of cmds) {
    const m = /^\s*:?\s*(?:(?:r|read|w|write)\s*)?!([\s\S]*)$/.exec(cmd);
    if (m) script(m[1]!, c);
    scanCode(cmd, c.depth + 1, c.span, c.ctx);
  }
  return true;
});

// awk runs commands through system(), `print ... | "cmd"` and `"cmd" | getline`.
on('awk gawk mawk nawk', (args, c) => {
  let program: string | undefined;
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-F' || a === '-v' || a === '-f' || a === '--field-separator' || a === '--assign' || a === '--file') { i++; continue; }
    if (a.startsWith('-')) continue;
    program = a;
    break;
  }
  if (program === undefined) return true;
  scanCode(program, c.depth + 1, c.span, c.ctx);
  // Text printed into a pipe, or read from one, is a command too.
  if (/\|\s*(?:getline|["'(]|[A-Za-z_])/.test(program)) for (const text of literals(program)) script(text, c);
  return true;
});

const SSH_VALUE = new Set(['-b', '-c', '-D', '-E', '-e', '-F', '-I', '-i', '-J', '-L', '-l', '-m', '-O', '-o', '-p', '-Q', '-R', '-S', '-W', '-w', '-B']);
on('ssh mosh autossh', (args, c) => {
  let i = 1;
  while (i < args.length && args[i]!.startsWith('-')) { if (SSH_VALUE.has(args[i]!)) i++; i++; }
  const rest = args.slice(i + 1);
  if (rest.length) script(rest.join(' '), c);
  else for (const t of stdinTexts(c)) script(t, c);
  return true;
});

// Interpreters with inline code.
const CODE_FLAGS: Record<string, string[]> = {
  python: ['-c'], node: ['-e', '--eval', '-p', '--print'], nodejs: ['-e', '--eval', '-p', '--print'], bun: ['-e', '--eval'],
  ruby: ['-e'], perl: ['-e', '-E'], php: ['-r'], lua: ['-e'], rscript: ['-e'], deno: [], tclsh: [], irb: [], jruby: ['-e'],
  pwsh: ['-c', '-command'], powershell: ['-c', '-command'],
};

function interpreter(args: string[], c: Scope, flags: string[]): boolean {
  const codes: string[] = [];
  let i = 1;
  let firstPositional: number | undefined;
  for (; i < args.length; i++) {
    const a = args[i]!;
    const lower = a.toLowerCase();
    if (flags.includes(lower) || (/^-[a-zA-Z]*[eE]$/.test(a) && flags.some((f) => f === '-e' || f === '-E') && !a.startsWith('--'))) {
      if (args[i + 1] !== undefined) codes.push(args[i + 1]!);
      i++;
      continue;
    }
    if (lower.startsWith('--eval=')) { codes.push(a.slice(7)); continue; }
    if (!a.startsWith('-')) { firstPositional = i; break; }
  }
  if (baseName(args[0]!) === 'deno' && args[1] === 'eval' && args[2] !== undefined) codes.push(args[2]);
  if (codes.length === 0 && firstPositional !== undefined) {
    // `python manage.py flush`, `python -m ...`: a script file we cannot see, but its arguments may be a known task.
    const script_ = baseName(args[firstPositional]!);
    const rest = args.slice(firstPositional);
    if (script_ === 'manage.py' || script_ === 'django-admin.py') dbTasks('manage.py', rest, c);
    else if (script_ === 'artisan') dbTasks('artisan', rest, c);
    return true;
  }
  if (codes.length === 0) codes.push(...stdinTexts(c));
  for (const code of codes) scanCode(code, c.depth + 1, c.span, c.ctx);
  return true;
}

function familyHandler(name: string): Handler | undefined {
  const m = /^(python|pypy|ruby|perl|php|node|lua)[0-9.]*$/.exec(name);
  if (m) {
    const base = m[1] === 'pypy' ? 'python' : m[1]!;
    return (args, c) => interpreter(args, c, CODE_FLAGS[base] ?? []);
  }
  if (/^mkfs(\..+)?$/.test(name) || /^mke2fs|^mkswap$|^mkdosfs$|^mkntfs$|^newfs/.test(name)) return diskWipe;
  if (/^kubectl(-.+)?$/.test(name)) return HANDLERS.get('kubectl');
  return undefined;
}

for (const [n, flags] of Object.entries(CODE_FLAGS)) if (!HANDLERS.has(n)) HANDLERS.set(n, (args, c) => interpreter(args, c, flags));

// Framework tasks that drop or wipe a database.
const DB_TASKS: Record<string, [RegExp, string][]> = {
  rails: [[/^db:(?:drop|reset|purge|schema:load|structure:load|migrate:reset|setup)(?::.*)?$/, 'sql-drop'], [/^db:(?:truncate_all|seed:replant)$/, 'sql-truncate']],
  'manage.py': [[/^flush$/, 'sql-truncate'], [/^(?:reset_db|sqlflush)$/, 'sql-drop']],
  artisan: [[/^(?:migrate:fresh|migrate:reset|migrate:refresh|db:wipe)$/, 'sql-drop']],
  prisma: [[/^reset$/, 'sql-drop'], [/^--force-reset$/, 'sql-drop']],
  sequelize: [[/^db:drop$/, 'sql-drop']],
  typeorm: [[/^schema:drop$/, 'sql-drop']],
  flyway: [[/^clean$/, 'sql-drop']],
  liquibase: [[/^(?:drop-all|dropall)$/i, 'sql-drop']],
  supabase: [[/^reset$/, 'sql-drop']],
};

function dbTasks(kind: string, args: string[], c: Scope): boolean {
  const tasks = DB_TASKS[kind];
  if (!tasks) return false;
  let hit = false;
  for (const a of args.slice(1)) for (const [re, k] of tasks) if (re.test(a)) { emit(c, k); hit = true; }
  return hit;
}

on('rails rake', (args, c) => {
  const i = args.findIndex((a) => a === 'runner' || a === 'r');
  if (i > 0 && args[i + 1] !== undefined) { scanCode(args[i + 1]!, c.depth + 1, c.span, c.ctx); return true; }
  dbTasks('rails', args, c);
  return true;
});
on('gitlab-rails', (args, c) => {
  const i = args.findIndex((a) => a === 'runner');
  if (i > 0 && args[i + 1] !== undefined) scanCode(args[i + 1]!, c.depth + 1, c.span, c.ctx);
  return true;
});
on('django-admin', (args, c) => { dbTasks('manage.py', args, c); return true; });
on('prisma sequelize sequelize-cli typeorm flyway liquibase', (args, c) => {
  const n = baseName(args[0]!).replace(/-cli$/, '');
  dbTasks(n, args, c);
  return true;
});
on('supabase', (args, c) => dbTasks('supabase', args, c));

// Database clients.
const SQL_FLAGS: Record<string, string[]> = {
  psql: ['-c', '--command'], mysql: ['-e', '--execute'], mariadb: ['-e', '--execute'], sqlcmd: ['-q', '-Q'],
  duckdb: ['-c'], 'clickhouse-client': ['-q', '--query'], cqlsh: ['-e', '--execute'], snowsql: ['-q', '--query'],
  'spark-sql': ['-e'], hive: ['-e'], beeline: ['-e'], 'impala-shell': ['-q', '--query'], trino: ['--execute'],
  presto: ['--execute'], usql: ['-c', '--command'], mongosh: ['--eval'], mongo: ['--eval'], cockroach: ['-e', '--execute'],
  sqlite3: ['-cmd'], sqlite: ['-cmd'], vsql: ['-c'], isql: [], pgcli: [], mycli: ['-e', '--execute'],
};

function sqlText(text: string, c: Scope): void {
  for (const h of detectSqlScript(text)) emit(c, h.kind);
}

for (const [n, flags] of Object.entries(SQL_FLAGS)) {
  HANDLERS.set(n, (args, c) => {
    const withValue = new Set(flags);
    const p = parse(args, withValue);
    const texts = value(p, ...flags);
    for (const a of args) {
      // Joined forms: `-eSQL`, `-c"SQL"`.
      for (const f of flags) if (!f.startsWith('--') && a.startsWith(f) && a.length > f.length && f.length === 2) texts.push(a.slice(2));
    }
    if (n === 'sqlite3' || n === 'sqlite') texts.push(...p.positional.slice(1));
    if (n === 'cockroach' && p.positional[0] !== 'sql') return true;
    if (texts.length === 0) texts.push(...stdinTexts(c));
    for (const t of texts) sqlText(t, c);
    return true;
  });
}

on('redis-cli valkey-cli keydb-cli', (args, c) => {
  const p = parse(args, new Set(['-h', '-p', '-a', '-n', '-u', '--user', '--pass', '-s']));
  const texts = [p.positional.join(' '), ...stdinTexts(c)];
  for (const t of texts) if (/(?:^|\n)\s*(?:FLUSHALL|FLUSHDB)\b/i.test(t)) emit(c, 'sql-truncate');
  return true;
});

on('bq', (args, c) => {
  const p = parse(args);
  if (p.positional[0] === 'query') for (const t of p.positional.slice(1)) sqlText(t, c);
  else if (p.positional[0] === 'rm') emit(c, 'cloud-delete');
  return true;
});

on('mysqladmin', (args, c) => {
  const p = parse(args, new Set(['-u', '-h', '-P', '-p', '--user', '--host', '--port', '-S', '--socket']));
  if (p.positional.some((a) => a.toLowerCase() === 'drop')) emit(c, 'sql-drop');
  return true;
});

on('dropdb', (args, c) => {
  const p = parse(args);
  if (!hasLong(p, '--help', '--version')) emit(c, 'sql-drop');
  return true;
});

// Infrastructure as code.
on('terraform tofu terragrunt cdktf', (args, c) => {
  const p = parse(args);
  const pos = p.positional.map((a) => a.toLowerCase());
  const sub = pos[0];
  const destroyFlag = p.flags.some((f) => /^--?destroy$/.test(f));
  if (sub === 'destroy' || pos.slice(0, 3).includes('destroy') || pos.includes('destroy-all')) emit(c, 'terraform-destroy');
  else if (sub === 'apply' && destroyFlag) emit(c, 'terraform-destroy');
  else if ((sub === 'run-all' || sub === 'run') && pos.includes('apply') && destroyFlag) emit(c, 'terraform-destroy');
  return true;
});

// Kubernetes.
const KUBECTL_VALUE = new Set(['-n', '--namespace', '--context', '--cluster', '--user', '--kubeconfig', '-s', '--server', '--token', '--as', '--as-group', '--request-timeout', '-l', '--selector', '-f', '--filename', '-o', '--output', '-c', '--container', '--field-selector', '--grace-period', '--timeout', '--cascade', '-k', '--kustomize']);
on('kubectl oc kubecolor k', (args, c) => {
  const p = parse(args, KUBECTL_VALUE);
  const [sub, ...rest] = p.positional.map((a) => a.toLowerCase());
  if (sub === 'delete') {
    emit(c, 'kubectl-delete');
    if (rest.some((r) => r.split(',').some((t) => /^(?:ns|namespaces?)(?:\/.+)?$/.test(t)))) emit(c, 'kubectl-delete-namespace');
  } else if ((sub === 'replace' && hasLong(p, '--force')) || sub === 'drain') emit(c, 'kubectl-delete');
  else if (sub === 'apply' && hasLong(p, '--prune')) emit(c, 'kubectl-delete');
  // Scaling to zero stops the workload, as `systemctl stop` stops a service.
  else if (sub === 'scale' && args.some((a, i) => /^--replicas=0+$/.test(a) || (a === '--replicas' && /^0+$/.test(args[i + 1] ?? '')))) emit(c, 'service-stop');
  else if ((sub === 'exec' || sub === 'debug' || sub === 'run') && p.afterDashes?.length) analyzeArgs(p.afterDashes, c);
  return true;
});
on('microk8s k3s minikube', (args, c) => {
  if (args[1] === 'kubectl' || args[1] === 'helm' || args[1] === 'helm3') { analyzeArgs(args.slice(1), c); return true; }
  return false;
});

on('helm helm3', (args, c) => {
  const p = parse(args, new Set(['-n', '--namespace', '--kube-context', '--kubeconfig']));
  const sub = p.positional[0]?.toLowerCase();
  if (sub === 'uninstall' || sub === 'delete' || sub === 'del' || sub === 'un') emit(c, 'helm-uninstall');
  return true;
});

// Git.
const GIT_GLOBAL_VALUE = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--exec-path', '--super-prefix', '--config-env']);
const PROTECTED = /^(?:main|master|production|prod|trunk|release|releases?[/_-].*|prod[/_-].*|production[/_-].*)$/i;

function refTarget(ref: string): string {
  let r = ref.replace(/^\+/, '');
  const colon = r.lastIndexOf(':');
  if (colon >= 0) r = r.slice(colon + 1);
  return r.replace(/^refs\/heads\//, '');
}

on('git', (args, c) => {
  let i = 1;
  while (i < args.length && args[i]!.startsWith('-')) { if (GIT_GLOBAL_VALUE.has(args[i]!)) i++; i++; }
  // `git -c core.pager=CMD` (and the editor, ssh command, `!` aliases, ...) runs CMD with the shell.
  for (let k = 1; k < i; k++) {
    if (args[k] !== '-c' || args[k + 1] === undefined) continue;
    const m = /^([^=]+)=([\s\S]*)$/.exec(args[k + 1]!);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    if (/^(?:core\.(?:pager|editor|sshcommand|fsmonitor|askpass)|sequence\.editor|diff\.external|gpg\.program|credential\.helper|pager\..+)$/.test(key) || (key.startsWith('alias.') && m[2]!.startsWith('!'))) script(m[2]!.replace(/^!/, ''), c);
  }
  const sub = args[i]?.toLowerCase();
  const rest = args.slice(i + 1).map((a) => (a.startsWith('--') ? a.toLowerCase() : a));
  const p = parse(['git', ...rest], new Set(['--repo', '-o', '--push-option', '--receive-pack', '--exec', '-m', '--message', '-F', '--source', '-s']));
  const short = (l: string): boolean => p.flags.some((f) => !f.startsWith('--') && f.slice(1).includes(l));
  switch (sub) {
    case 'push': {
      const refs = p.positional.length > 1 ? p.positional.slice(1) : p.positional.filter((r) => PROTECTED.test(refTarget(r)) || r.startsWith('+') || r.startsWith(':'));
      const force = short('f') || p.flags.some((f) => /^--force(?:=|$)|^--force-with-lease/.test(f)) || hasLong(p, '--mirror') || refs.some((r) => r.startsWith('+'));
      const del = hasLong(p, '--delete') || short('d') || refs.some((r) => r.startsWith(':'));
      const protectedTarget = refs.some((r) => PROTECTED.test(refTarget(r)));
      if (force) emit(c, 'git-force-push');
      if (del) emit(c, 'git-branch-force');
      if ((force || del) && protectedTarget) emit(c, 'git-force-push-protected');
      break;
    }
    case 'reset':
      if (hasLong(p, '--hard')) emit(c, 'git-reset-hard');
      else if (hasLong(p, '--merge', '--keep')) emit(c, 'git-discard');
      break;
    case 'clean':
      if ((short('f') || hasLong(p, '--force')) && !short('n') && !hasLong(p, '--dry-run') && !short('i') && !hasLong(p, '--interactive')) emit(c, 'git-clean');
      break;
    case 'checkout':
      if ((p.afterDashes && p.afterDashes.length > 0) || p.positional.includes('.') || short('f') || hasLong(p, '--force')) emit(c, 'git-discard');
      break;
    case 'switch':
      if (short('f') || hasLong(p, '--force', '--discard-changes')) emit(c, 'git-discard');
      break;
    case 'restore': {
      const staged = short('S') || hasLong(p, '--staged');
      const worktree = short('W') || hasLong(p, '--worktree');
      if ((!staged || worktree) && (p.positional.length > 0 || hasLong(p, '--source'))) emit(c, 'git-discard');
      break;
    }
    case 'stash':
      if (p.positional[0] === 'drop' || p.positional[0] === 'clear') emit(c, 'git-discard');
      break;
    case 'filter-branch': case 'filter-repo':
      emit(c, 'git-discard');
      break;
    case 'reflog':
      if (p.positional[0] === 'expire' && p.flags.some((f) => /^--expire(?:-unreachable)?=(?:now|all|0)/.test(f))) emit(c, 'git-discard');
      break;
    case 'gc':
      if (p.flags.some((f) => /^--prune=(?:now|all)/.test(f))) emit(c, 'git-discard');
      break;
    case 'update-ref':
      // Deleting a ref deletes the branch, as `git branch -D` does.
      if (short('d') || hasLong(p, '--delete')) emit(c, 'git-branch-force');
      break;
    case 'branch': {
      const forceDelete = p.flags.some((f) => !f.startsWith('--') && f.includes('D'));
      const del = short('d') || hasLong(p, '--delete');
      const force = short('f') || hasLong(p, '--force');
      if (forceDelete || force) emit(c, 'git-branch-force');
      else if (del && force) emit(c, 'git-branch-force');
      break;
    }
  }
  return true;
});

// Containers.
const DOCKER_GLOBAL_VALUE = new Set(['--context', '-c', '-H', '--host', '--config', '-l', '--log-level', '--tlscacert', '--tlscert', '--tlskey']);
const DOCKER_RUN_VALUE = new Set(['-e', '--env', '-u', '--user', '-w', '--workdir', '-v', '--volume', '--name', '-p', '--publish', '--network', '--net', '--entrypoint', '--mount', '-l', '--label', '--platform', '--env-file', '-h', '--hostname', '--cpus', '-m', '--memory', '--restart', '--add-host', '--cap-add', '--cap-drop', '--device', '--gpus', '--log-driver', '--log-opt', '--dns', '--pull', '--ulimit', '--link', '--detach-keys', '--security-opt', '--tmpfs', '--shm-size', '--ipc', '--pid', '--runtime', '--group-add', '--expose', '--label-file', '--cidfile', '--health-cmd', '--stop-signal', '--stop-timeout', '--userns', '--uts', '--volumes-from', '--workdir']);
const DOCKER_GROUPS = new Set(['container', 'image', 'volume', 'network', 'system', 'builder', 'buildx', 'compose', 'stack', 'service', 'swarm', 'node', 'secret', 'config', 'plugin', 'context', 'trust', 'manifest']);

function docker(args: string[], c: Scope): boolean {
  let i = 1;
  while (i < args.length && args[i]!.startsWith('-')) { if (DOCKER_GLOBAL_VALUE.has(args[i]!)) i++; i++; }
  const program = baseName(args[0]!);
  let group = /compose$/.test(program) ? 'compose' : '';
  let op = args[i]?.toLowerCase();
  if (!group && op && DOCKER_GROUPS.has(op)) { group = op; i++; op = args[i]?.toLowerCase(); }
  const rest = args.slice(i + 1);
  if (op === 'exec' || op === 'run') {
    let j = 0;
    while (j < rest.length && rest[j]!.startsWith('-')) { if (DOCKER_RUN_VALUE.has(rest[j]!)) j++; j++; }
    const inner = rest.slice(j + 1);
    if (inner.length) analyzeArgs(inner, c);
    return true;
  }
  const p = parse(['docker', ...rest]);
  const force = hasFlag(p, 'f', '--force');
  if ((op === 'rm' || op === 'remove') && (group === '' || group === 'container' || group === 'image') && force) emit(c, 'container-delete');
  else if (op === 'rmi' && force) emit(c, 'container-delete');
  else if (op === 'prune' && (group === 'system' || group === 'container' || group === 'volume')) emit(c, 'container-delete');
  else if (op === 'prune' && group === 'image' && hasFlag(p, 'a', '--all')) emit(c, 'container-delete');
  else if ((op === 'rm' || op === 'remove') && (group === 'volume' || group === 'service' || group === 'stack' || group === 'secret' || group === 'config')) emit(c, 'container-delete');
  else if (group === 'compose' && op === 'down' && (hasFlag(p, 'v', '--volumes') || hasLong(p, '--rmi'))) emit(c, 'container-delete');
  else if (group === 'compose' && op === 'rm' && force) emit(c, 'container-delete');
  else if (group === 'stack' && op === 'down') emit(c, 'container-delete');
  else if ((op === 'stop' || op === 'kill') && (group === '' || group === 'container' || group === 'compose')) emit(c, 'service-stop');
  return true;
}
on('docker podman nerdctl finch docker-compose podman-compose', docker);

// Services.
on('systemctl', (args, c) => {
  const p = parse(args);
  const op = p.positional[0]?.toLowerCase();
  if (op && /^(?:stop|disable|mask|kill|isolate|halt|poweroff|reboot|kexec|emergency|rescue)$/.test(op)) emit(c, 'service-stop');
  return true;
});
on('service', (args, c) => {
  const p = parse(args);
  if (p.positional[1] && /^(?:stop|force-stop)$/.test(p.positional[1].toLowerCase())) emit(c, 'service-stop');
  return true;
});
on('nginx openresty', (args, c) => {
  const i = args.indexOf('-s');
  if (i > 0 && /^(?:stop|quit)$/.test(args[i + 1] ?? '')) emit(c, 'service-stop');
  return true;
});
on('apachectl apache2ctl httpd', (args, c) => {
  if (args.some((a) => a === 'stop' || a === 'graceful-stop')) emit(c, 'service-stop');
  return true;
});
on('launchctl', (args, c) => {
  if (/^(?:unload|bootout|remove|disable|kill)$/.test(args[1] ?? '')) emit(c, 'service-stop');
  return true;
});
on('supervisorctl pm2', (args, c) => {
  if (args.slice(1).some((a) => a === 'stop')) emit(c, 'service-stop');
  return false;
});
on('shutdown reboot poweroff halt', (args, c) => {
  const p = parse(args);
  if (!hasLong(p, '--help') && !hasFlag(p, 'c')) emit(c, 'service-stop');
  return true;
});

// Files.
on('rm unlink', (args, c) => {
  const p = parse(args);
  if (hasLong(p, '--help', '--version')) return true;
  const recursive = hasFlag(p, 'rR', '--recursive');
  const targets = p.positional;
  if (recursive) {
    const root = targets.some(isRootLike);
    if (root || targets.length === 0 || !targets.every(isTempPath)) emit(c, 'rm-recursive');
    if (root) emit(c, 'rm-root');
  } else if (targets.some((t) => isSystemPath(t) || isRootLike(t))) emit(c, 'rm-system');
  return true;
});
on('rmdir srm', () => true);

on('shred', (args, c) => {
  const p = parse(args, new Set(['-n', '--iterations', '-s', '--size', '--random-source']));
  if (p.positional.some(isBlockDevice)) emit(c, 'disk-wipe');
  else if (p.positional.some(isSystemPath)) emit(c, 'rm-system');
  return true;
});

on('find', (args, c) => {
  const start: string[] = [];
  let i = 1;
  while (i < args.length && !args[i]!.startsWith('-') && args[i] !== '(' && args[i] !== '!') start.push(args[i++]!);
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-delete') {
      emit(c, 'rm-recursive');
      if (start.some(isRootLike)) emit(c, 'rm-root');
    } else if (a === '-exec' || a === '-execdir' || a === '-ok' || a === '-okdir') {
      const inner: string[] = [];
      for (i++; i < args.length && args[i] !== ';' && args[i] !== '+'; i++) inner.push(args[i]!);
      // `{}` is each file found, the start folders among them.
      if (inner.length) analyzeArgs(inner.flatMap((a) => (a === '{}' ? (start.length ? start : ['.']) : [a])), c);
    }
  }
  return true;
});

function diskWipe(args: string[], c: Scope): boolean {
  const p = parse(args);
  if (!hasLong(p, '--help', '--version') && !(p.flags.includes('-V') && p.positional.length === 0)) emit(c, 'disk-wipe');
  return true;
}
on('wipefs blkdiscard mkswap', diskWipe);
on('dd', (args, c) => {
  for (const a of args.slice(1)) {
    if (!a.startsWith('of=')) continue;
    const target = a.slice(3);
    if (isBlockDevice(target)) emit(c, 'disk-wipe');
    else if (isSystemPath(target) && !/^\/dev\/(?:null|zero|stdout|stderr)$/.test(normalizePath(target))) emit(c, 'system-overwrite');
  }
  return true;
});
on('sgdisk', (args, c) => {
  if (args.some((a) => /^(?:-Z|--zap-all|-z|--zap|-o|--clear)$/.test(a))) emit(c, 'disk-wipe');
  return true;
});
on('sfdisk parted', (args, c) => {
  if (args.some(isBlockDevice) && (baseName(args[0]!) === 'sfdisk' ? !args.some((a) => /^-(?:l|d|s|V)$|^--(?:list|dump|show-size|verify)/.test(a)) : args.some((a) => /^(?:mklabel|rm|mkpart|resizepart)$/.test(a)))) emit(c, 'disk-wipe');
  return true;
});
on('cryptsetup', (args, c) => {
  if (args.some((a) => /^(?:luksFormat|erase|luksErase|luksKillSlot)$/.test(a))) emit(c, 'disk-wipe');
  return true;
});
on('diskutil', (args, c) => {
  if (/^(?:eraseDisk|eraseVolume|zeroDisk|secureErase|partitionDisk|randomDisk|reformat)$/.test(args[1] ?? '')) emit(c, 'disk-wipe');
  return true;
});
on('zpool zfs', (args, c) => {
  if (/^(?:destroy|labelclear)$/.test(args[1] ?? '')) emit(c, 'disk-wipe');
  return true;
});
on('lvremove vgremove pvremove', (args, c) => { emit(c, 'disk-wipe'); return true; });
on('hdparm', (args, c) => {
  if (args.some((a) => /^--security-erase/.test(a))) emit(c, 'disk-wipe');
  return true;
});

const PERMISSIVE = /^(?:0?777|0?666|[ugoa]*\+[rwxXst]*w[rwxXst]*|a=rwx|ugo=rwx|o=rwx)$/;
on('chmod chown chgrp', (args, c) => {
  const p = parse(args, new Set(['--reference']));
  const name = baseName(args[0]!);
  const recursive = hasFlag(p, 'R', '--recursive');
  const [first, ...targets] = p.positional;
  const paths = name === 'chmod' || name === 'chown' || name === 'chgrp' ? targets : p.positional;
  const sensitive = paths.some((t) => isRootLike(t) || isSystemPath(t));
  if (recursive && sensitive) emit(c, 'chmod-recursive');
  else if (name === 'chmod' && first !== undefined && PERMISSIVE.test(first) && sensitive) emit(c, 'chmod-recursive');
  return true;
});

/** The destination of a copy: `-t DIR` or the last argument. */
function copyTarget(p: Parsed): string | undefined {
  const t = value(p, '-t', '--target-directory');
  if (t.length) return t[t.length - 1];
  return p.positional.length > 1 ? p.positional[p.positional.length - 1] : undefined;
}

function overwrite(target: string | undefined, c: Scope): void {
  if (target === undefined) return;
  const path = remotePath(target);
  if (isBlockDevice(path)) emit(c, 'disk-wipe');
  else if (isSystemPath(path) || normalizePath(path) === '/') emit(c, 'system-overwrite');
}

/** Tools that take their sources away: moving `/` or a system folder destroys it where it stood. */
const REMOVES_SOURCES = new Set(['mv']);

on('cp mv install', (args, c) => {
  const p = parse(args, new Set(['-t', '--target-directory', '-S', '--suffix', '-m', '--mode', '-o', '--owner', '-g', '--group']));
  const target = copyTarget(p);
  overwrite(target, c);
  if (REMOVES_SOURCES.has(baseName(args[0]!))) {
    const sources = value(p, '-t', '--target-directory').length ? p.positional : p.positional.slice(0, -1);
    if (sources.some(isRootLike)) emit(c, 'rm-root');
    else if (sources.some(isSystemPath)) emit(c, 'rm-system');
  }
  return true;
});
// `ln -sf x /etc/passwd` (or -f with a hard link) replaces the file that stood there.
on('ln', (args, c) => {
  const p = parse(args, new Set(['-t', '--target-directory', '-S', '--suffix']));
  const force = p.flags.some((f) => f === '--force' || f === '--remove-destination' || (!f.startsWith('--') && f.includes('f')));
  if (force) overwrite(copyTarget(p), c);
  return true;
});
on('scp', (args, c) => {
  const p = parse(args, new Set(['-P', '-i', '-o', '-F', '-c', '-l', '-J', '-S', '-D', '-X']));
  if (p.positional.length > 1) overwrite(p.positional[p.positional.length - 1], c);
  return true;
});
on('rsync', (args, c) => {
  const p = parse(args, new Set(['-e', '--rsh', '--exclude', '--include', '--filter', '-f', '--port', '--password-file', '--log-file', '--backup-dir', '--suffix', '--chmod', '--chown', '--timeout', '--bwlimit', '--files-from', '--exclude-from', '--include-from', '--compare-dest', '--copy-dest', '--link-dest', '--partial-dir', '--temp-dir', '-T']));
  const dry = hasLong(p, '--dry-run', '--list-only') || p.flags.some((f) => !f.startsWith('--') && f.includes('n'));
  if (dry) return true;
  if (p.flags.some((f) => /^--(?:del|delete(?:-before|-during|-delay|-after|-excluded|-missing-args)?|remove-source-files)$/.test(f.split('=')[0]!))) emit(c, 'rm-recursive');
  if (p.positional.length > 1) overwrite(p.positional[p.positional.length - 1], c);
  return true;
});
on('tee', (args, c) => {
  const p = parse(args);
  for (const t of p.positional) overwrite(t, c);
  return true;
});
on('truncate', (args, c) => {
  const p = parse(args, new Set(['-s', '--size', '-r', '--reference']));
  if (p.positional.some((t) => isSystemPath(t))) emit(c, 'system-overwrite');
  return true;
});

// `kill` of pid 1 (init) or -1 (every process the user may signal) stops the whole system; a
// signal to one process is everyday work. `killall5` signals every process.
on('kill', (args, c) => {
  const rest = args.slice(1);
  let i = 0;
  while (i < rest.length) {
    const a = rest[i]!;
    if (a === '--') { i++; break; }
    if (a === '-s' || a === '-n' || a === '--signal') { i += 2; continue; }
    if (i === 0 && /^-(?:[A-Za-z][A-Za-z0-9+]*|\d+)$/.test(a) && rest.length > 1) { i++; continue; }
    if (a.startsWith('-') && !/^-\d+$/.test(a)) { i++; continue; }
    break;
  }
  if (rest.slice(i).some((pid) => pid === '1' || pid === '-1')) emit(c, 'service-stop');
  return true;
});
on('killall5', (_args, c) => {
  emit(c, 'service-stop');
  return true;
});

on('crontab', (args, c) => {
  if (args.some((a) => /^-[a-zA-Z]*r/.test(a) && !a.startsWith('--'))) emit(c, 'resource-delete');
  return true;
});

on('iptables ip6tables', (args, c) => {
  if (args.some((a) => /^(?:-F|--flush|-X|--delete-chain)$/.test(a))) emit(c, 'resource-delete');
  return true;
});
on('ansible', (args, c) => {
  const p = parse(args, new Set(['-m', '--module-name', '-a', '--args', '-i', '--inventory', '-u', '--user', '-b', '-e', '--extra-vars', '-f', '--forks', '-l', '--limit']));
  const mod = value(p, '-m', '--module-name').pop() ?? '';
  if (/(?:^|\.)(?:shell|command|raw)$/.test(mod)) for (const a of value(p, '-a', '--args')) script(a, c);
  else if (/(?:^|\.)file$/.test(mod) && value(p, '-a', '--args').some((a) => /state=absent/.test(a))) emit(c, 'rm-recursive');
  return true;
});
on('userdel groupdel deluser delgroup', (args, c) => { emit(c, 'resource-delete'); return true; });

// HTTP clients.
const CURL_VALUE = new Set(['-X', '--request', '-d', '--data', '--data-raw', '--data-binary', '--data-urlencode', '--json', '-F', '--form', '-H', '--header', '-u', '--user', '-o', '--output', '-A', '--user-agent', '-e', '--referer', '-b', '--cookie', '-c', '--cookie-jar', '--url', '-T', '--upload-file', '-w', '--write-out', '-x', '--proxy', '--cacert', '--cert', '--key', '-m', '--max-time', '--connect-timeout', '-K', '--config', '--retry', '--resolve', '-r', '--range', '-E']);
const DESTRUCTIVE_PATH = /(?:^|[/_.-])(?:do)?(?:delete|destroy|purge|truncate|wipe|erase)[a-z_-]*(?:[/?#.]|$)|\/(?:drop|_delete_by_query|delete_series|delete-batch|_close)(?:[/?#]|$)/i;
const GRAPHQL_DELETE = /mutation[\s\S]{0,200}?\b(?:delete|remove|destroy|purge|drop|truncate)\w*/i;

function httpVerdict(method: string | undefined, urls: string[], data: string[], c: Scope): void {
  const m = method?.toUpperCase();
  if (m === 'DELETE') { emit(c, 'http-delete'); return; }
  if (m === 'POST' || m === 'PUT' || m === 'PATCH') {
    if (urls.some((u) => DESTRUCTIVE_PATH.test(u.replace(/^[a-z]+:\/\/[^/]*/i, '').split('?')[0]!))) { emit(c, 'http-delete'); return; }
    if (data.some((d) => GRAPHQL_DELETE.test(d))) emit(c, 'http-delete');
  }
}

on('curl', (args, c) => {
  const p = parse(args, CURL_VALUE);
  let method = value(p, '-X', '--request').pop();
  const data = value(p, '-d', '--data', '--data-raw', '--data-binary', '--data-urlencode', '--json', '-F', '--form');
  if (!method && data.length) method = 'POST';
  httpVerdict(method, [...p.positional, ...value(p, '--url')], data, c);
  return true;
});
on('wget', (args, c) => {
  const p = parse(args, new Set(['--method', '--body-data', '--post-data', '-O', '-o', '--header', '-U']));
  let method = value(p, '--method').pop();
  if (!method && value(p, '--post-data', '--body-data').length) method = 'POST';
  httpVerdict(method, p.positional, [], c);
  return true;
});
on('http https xh xhs httpie', (args, c) => {
  const p = parse(args);
  let [first, ...rest] = p.positional;
  let method: string | undefined;
  if (first && /^(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$/i.test(first)) { method = first; first = rest.shift(); }
  if (!method) method = rest.some((r) => /[:=]/.test(r)) ? 'POST' : 'GET';
  httpVerdict(method, first ? [first] : [], rest, c);
  return true;
});

// Cloud and service CLIs whose destructive forms the generic rule does not see.
on('aws', (args, c) => {
  if (args.some((a) => /"Action"\s*:\s*"DELETE"/i.test(a))) emit(c, 'cloud-delete');
  return false;
});
on('gsutil', (args, c) => {
  const p = parse(args);
  if (p.positional[0] === 'rsync' && p.flags.some((f) => !f.startsWith('--') && f.includes('d'))) emit(c, 'cloud-delete');
  return false;
});
on('mc', (args, c) => {
  const p = parse(args);
  if (p.positional[0] === 'admin' && p.positional.slice(1, 4).some((a) => a === 'disable' || a === 'unset')) emit(c, 'cloud-delete');
  return false;
});
on('vault', (args, c) => {
  const p = parse(args, new Set(['-namespace', '--namespace', '-address', '--address']));
  if (p.positional.slice(0, 2).includes('disable')) emit(c, 'resource-delete');
  return false;
});
on('rclone', (args, c) => {
  const p = parse(args);
  if (/^(?:sync|move|moveto|bisync)$/.test(p.positional[0] ?? '') && !hasLong(p, '--dry-run')) emit(c, 'cloud-delete');
  return false;
});
on('deck', (args, c) => {
  const p = parse(args);
  if (p.positional.slice(0, 2).includes('sync') && !hasLong(p, '--dry-run')) emit(c, 'resource-delete');
  return false;
});
on('java', (args, c) => {
  const i = args.indexOf('-jar');
  if (i > 0 && args[i + 1] !== undefined) {
    const jar = baseName(args[i + 1]!).replace(/\.jar$/, '');
    generic(jar, [jar, ...args.slice(i + 2)], c);
  }
  return true;
});

// Publishing a package or a release to a registry: irreversible once others have fetched it.
const PUBLISH: Record<string, RegExp> = {
  npm: /^publish$/, yarn: /^publish$/, pnpm: /^publish$/, bun: /^publish$/, poetry: /^publish$/, uv: /^publish$/,
  flit: /^publish$/, hatch: /^publish$/, pdm: /^publish$/, twine: /^upload$/, cargo: /^publish$/, gem: /^push$/,
  mvn: /^(?:deploy|release:perform|deploy:deploy(?:-file)?)$/, mvnw: /^(?:deploy|release:perform|deploy:deploy(?:-file)?)$/,
  gradle: /^publish(?!ToMavenLocal)\w*$/, gradlew: /^publish(?!ToMavenLocal)\w*$/, nuget: /^push$/,
};
on(Object.keys(PUBLISH).join(' '), (args, c) => {
  const re = PUBLISH[baseName(args[0]!)]!;
  const p = parse(args);
  if (!hasLong(p, '--dry-run', '--help') && p.positional.some((a) => re.test(a))) emit(c, 'package-publish');
  return false;
});
on('dotnet', (args, c) => {
  const p = parse(args);
  if (p.positional[0] === 'nuget' && p.positional[1] === 'push') emit(c, 'package-publish');
  return false;
});

// Restores that overwrite live data.
on('gitlab-rake gitlab-backup', (args, c) => {
  if (args.some((a) => /(?:^|:)backup:restore$|^restore$/.test(a))) emit(c, 'resource-delete');
  return true;
});
on('pg_restore', (args, c) => {
  const p = parse(args);
  if (hasFlag(p, 'c', '--clean')) emit(c, 'sql-drop');
  return true;
});
on('mongorestore', (args, c) => {
  if (args.includes('--drop')) emit(c, 'sql-drop');
  return true;
});
on('nsupdate', (args, c) => {
  if (stdinTexts(c).some((t) => /^\s*(?:update\s+)?(?:delete|del)\s/im.test(t))) emit(c, 'resource-delete');
  return true;
});

// ---------------------------------------------------------------------------------------------
// The generic rule: a CLI whose subcommand is a destructive verb, or that is given a deleting flag
// or an HTTP DELETE.

/** Programs whose arguments are data, never a subcommand. */
const SAFE = new Set(('echo printf cat tac less more head tail grep egrep fgrep zgrep rg ag ack sed awk gawk mawk sort uniq wc cut tr ' +
  'touch mkdir ln ls ll la dir tree which type whereis hash man help info apropos test [ true false sleep cd pushd popd pwd ' +
  'date cal diff cmp comm stat file du df printenv export alias unalias read basename dirname realpath readlink xxd od ' +
  'hexdump strings base64 base32 md5sum sha1sum sha256sum sha512sum shasum cksum jq yq column fold fmt nl pr rev seq yes ' +
  'tput clear history vim vi nvim nano emacs code open xdg-open bat tldr ping dig host nslookup whoami id uname hostname ' +
  'ps top htop uptime free set unset source . local declare typeset let wait jobs fg bg disown trap shift return exit ' +
  'break continue getopts umask ulimit logger notify-send say stty script tmux screen pkill killall pgrep lsof ' +
  'netstat ss ip ifconfig traceroute mtr nc telnet gzip gunzip zip unzip tar xz unxz bzip2 zcat bc expr env printf ' +
  'git-lfs tig nl iconv cowsay figlet watch mkfifo for case select function in done fi esac').split(' '));

const CLOUD = new Set(('aws gcloud gsutil az azcopy mc doctl heroku fly flyctl wrangler vercel netlify firebase supabase eksctl ' +
  's3cmd rclone oci ibmcloud linode-cli hcloud scw exo civo aliyun tccli pulumi cdk sst serverless sls sam copilot ecs-cli ' +
  'kops railway render okteto vultr-cli upcloud cf gcloud.cmd s5cmd b2 rclone').split(' '));

const BUILD_TOOLS = new Set('make cmake ninja cargo go npm yarn pnpm bun mvn mvnw gradle gradlew dotnet pip pip3 brew apt apt-get conda bazel sbt lein mix flutter xcodebuild swift composer gem bundle poetry uv pipenv nix ant'.split(' '));

const VERBS = new Set(['delete', 'del', 'destroy', 'remove', 'rm', 'rb', 'purge', 'prune', 'terminate', 'uninstall', 'undeploy',
  'unregister', 'deregister', 'unsubscribe', 'unpublish', 'drop', 'truncate', 'wipe', 'erase', 'forget', 'flush', 'flushall',
  'clear', 'reset', 'revoke', 'kill', 'archive', 'rollback', 'cleanup', 'clean', 'dedupe', 'compact', 'untag', 'unset', 'roll',
  'break-lock', 'recreate', 'expunge', 'shred', 'nuke', 'teardown', 'deletion', 'force_reset', 'force-reset', 'deletefile',
  'deleteall', 'rmdir', 'rmdirs', 'purgeall']);
const STRONG = new Set(['delete', 'destroy', 'purge', 'terminate', 'drop', 'wipe', 'truncate', 'uninstall', 'deregister', 'unregister', 'remove']);
const READ_VERBS = new Set(['get', 'list', 'describe', 'show', 'view', 'read', 'check', 'test', 'validate', 'search', 'find', 'lookup', 'can', 'is', 'has', 'preview', 'explain', 'help', 'cancel']);
/** Subcommands that manage the tool's own local state: deleting there loses nothing remote. */
const LOCAL_STATE = new Set(['config', 'cache', 'alias', 'aliases', 'completion']);
const LOCAL_SESSION = new Set(['auth', 'login', 'logout', 'context', 'profile', 'credentials']);
const SUBCOMMAND = /^[a-z][a-z0-9]*(?:[-_:.][a-z0-9]+)*$/;
const DELETE_FLAG = /^--(?:delete|del|delete-(?:before|during|delay|after|excluded|missing-args|destination|config|removed|all)|remove|remove-all|purge|prune|cleanup|reset-offsets|force-delete|wipe|drop)$/;

function isVerb(word: string): boolean {
  const w = word.toLowerCase();
  if (VERBS.has(w)) return true;
  const parts = w.split(/[-_:.]/).filter(Boolean);
  if (parts.length < 2) return false;
  if (READ_VERBS.has(parts[0]!)) return false;
  if (VERBS.has(parts[0]!) && parts[0] !== 'deletion') return true;
  if (VERBS.has(parts[parts.length - 1]!)) return true;
  return parts.some((p) => STRONG.has(p));
}

function generic(name: string, args: string[], c: Scope): void {
  if (SAFE.has(name)) return;
  const kind = CLOUD.has(name) ? 'cloud-delete' : 'resource-delete';
  const p = parse(args);
  if (hasLong(p, '--help') || (p.positional.length === 0 && (hasLong(p, '--version') || p.flags.includes('-h') || p.flags.includes('-v')))) return;
  // HTTP DELETE through any client (`gh api -X DELETE`, `glab api --method DELETE`).
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1] ?? '';
    if (((a === '-X' || a === '--request' || a === '--method' || a === '-Method') && /^delete$/i.test(next)) || /^(?:-XDELETE|--(?:request|method)=DELETE)$/i.test(a)) {
      emit(c, 'http-delete');
      return;
    }
  }
  const dry = hasLong(p, '--dry-run', '--dryrun', '--dry_run', '--whatif', '--what-if');
  if (!dry && p.flags.some((f) => DELETE_FLAG.test(f.split('=')[0]!) && !/=(?:false|no|0)$/i.test(f))) { emit(c, kind); return; }
  const parts = name.split(/[-_]/).filter(Boolean);
  if (parts.length > 1 && parts.slice(1).some((x) => STRONG.has(x) || x === 'del')) { emit(c, kind); return; }
  // `<a --help-like subcommand>`: a destructive verb among the first subcommand words.
  const pos = p.positional.slice(0, 4);
  for (let i = 0; i < pos.length; i++) {
    const w = pos[i]!;
    if (!SUBCOMMAND.test(w.toLowerCase()) || w.length > 48) continue;
    if (!isVerb(w)) continue;
    const lw = w.toLowerCase();
    if ((lw === 'clean' || lw === 'cleanup' || lw === 'prune') && BUILD_TOOLS.has(name)) continue;
    const before = pos.slice(0, i).map((x) => x.toLowerCase());
    if (before.some((x) => LOCAL_STATE.has(x))) continue;
    if (/^(?:unset|clear|reset|revoke)$/.test(lw) && before.some((x) => LOCAL_SESSION.has(x))) continue;
    if (dry) return;
    emit(c, kind);
    return;
  }
  // `op run -- cmd`, `doppler run -- cmd`, `aws-vault exec p -- cmd`: the command after `--`.
  if (p.afterDashes?.length && /^(?:run|exec)$/.test(p.positional[0] ?? '')) analyzeArgs(p.afterDashes, c);
}

// ---------------------------------------------------------------------------------------------
// Inline code (python -c, node -e, heredocs to interpreters, rails runner).

const SHELL_OUT = /(?<![\w$])(?:os\.system|os\.popen|os\.execute|subprocess\.(?:run|call|check_call|check_output|Popen|getoutput|getstatusoutput)|child_process\.\w+|execSync|execFileSync|spawnSync|exec|spawn|execFile|system|popen|shell_exec|passthru|proc_open|Open3\.\w+|IO\.popen|Kernel\.(?:system|exec|spawn)|qx|%x)(?![\w$])\s{0,5}(?:[([{]|(?=['"`]))/g;
const RECURSIVE_DELETE = /(?:\b(?:shutil\.rmtree|rmtree|remove_tree|FileUtils\.(?:rm_rf|rm_r|remove_dir|remove_entry(?:_secure)?|rmtree)|fse?\.(?:remove|removeSync|emptyDir|emptyDirSync)|rimraf(?:\.sync)?|Directory\.Delete|deleteRecursively)|(?:\bfs(?:\.promises)?|\bfsp|\))\.(?:rmSync|rm|rmdirSync|rmdir))\s{0,5}\(/g;
const FILE_DELETE = /\b(?:os\.(?:remove|unlink|rmdir|removedirs)|File\.(?:delete|unlink)|Dir\.(?:rmdir|delete|unlink)|fs\.(?:unlinkSync|unlink)|FileUtils\.rm|unlink)\s{0,5}\(?\s{0,5}(?:glob\s{0,5}\(\s{0,5})?(['"`])([^'"`\n]{0,500})\1/g;
const PATH_DELETE = /\bPath\s{0,5}\(\s{0,5}(['"])([^'"\n]{1,500})\1\s{0,5}\)\s{0,5}\.\s{0,5}(unlink|rmdir)\b/g;
const METHOD_DELETE = /(?:\b[A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]*\.(?:delete|destroy|remove)|\b[A-Z][\w$]*\.(?:delete|destroy))\s{0,5}\(|\.(?:destroy_all|delete_all|deleteMany|deleteIndex|deleteIndices|clearObjects|clearIndex|dropDatabase|dropTable|dropCollection|deleteBucket|deleteObjects|purgeQueue|deleteAll|remove_all|truncateTable)\b/g;
const STRING_LITERAL = /'((?:[^'\\\n]|\\.){0,4000})'|"((?:[^"\\\n]|\\.){0,4000})"|`([^`]{0,4000})`/g;

function literals(region: string): string[] {
  const out: string[] = [];
  STRING_LITERAL.lastIndex = 0;
  for (let m = STRING_LITERAL.exec(region); m; m = STRING_LITERAL.exec(region)) out.push((m[1] ?? m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1'));
  return out;
}

/** The most of a call's arguments read: a call given more text than this is not read to the end. */
const MAX_CALL = 4000;

/**
 * The argument text of a call starting at `from` (up to its closing parenthesis, at most
 * MAX_CALL characters), and whether it was read to its end: a string that does not close
 * within the bound, or arguments longer than it, were not.
 */
function callRegion(code: string, from: number): { text: string; whole: boolean } {
  let depth = 0;
  const limit = Math.min(code.length, from + MAX_CALL);
  let j = from;
  let whole = true;
  for (; j < limit; j++) {
    const ch = code[j]!;
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') { if (depth <= 1) { j++; break; } depth--; }
    else if (ch === '\n' && depth === 0) break;
    else if (ch === "'" || ch === '"' || ch === '`') {
      const close = code.indexOf(ch, j + 1);
      if (close < 0 || close >= limit) { whole = false; break; }
      j = close;
    }
  }
  if (j >= limit && limit < code.length) whole = false;
  return { text: code.slice(from, j), whole };
}

function scanCode(code: string, depth: number, span: Span, ctx: Context): void {
  if (depth > MAX_DEPTH) { if (code.trim()) ctx.unread(span); return; }
  const c: Scope = { depth, span, ctx, cmd: undefined };
  // matchAll walks a copy of the expression: the code a call runs is read inside this loop, and
  // may be code again (`os.system('python3 -c ...')`), which would move a shared lastIndex back.
  for (const m of code.matchAll(SHELL_OUT)) {
    const region = callRegion(code, m.index + m[0].length - (/[([{]$/.test(m[0]) ? 1 : 0));
    const parts = literals(region.text);
    if (parts.length) analyzeText(parts.join(' '), depth + 1, span, ctx);
    // A command given to a shell that was not read to its end may hold anything.
    if (!region.whole) ctx.unread(span);
  }
  // Ruby and Perl backticks run a shell.
  for (const m of code.matchAll(/`([^`\n]{1,2000})`/g)) analyzeText(m[1]!, depth + 1, span, ctx);
  RECURSIVE_DELETE.lastIndex = 0;
  for (let m = RECURSIVE_DELETE.exec(code); m; m = RECURSIVE_DELETE.exec(code)) {
    const fn = m[0].slice(0, m[0].indexOf('(')).trim();
    const region = callRegion(code, m.index + m[0].length - 1).text;
    const nodeRm = /\.(?:rmSync|rm|rmdirSync|rmdir)$/.test(fn);
    const recursive = !nodeRm || /recursive\s*:\s*true/.test(region);
    // The target when it is a string literal; otherwise (a variable, an expression) unknown.
    const lit = /^\(\s*(['"`])([^'"`\n]{0,500})\1/.exec(region);
    const target = lit ? lit[2]! : undefined;
    if (recursive) {
      emit(c, 'rm-recursive');
      if (target !== undefined && isRootLike(target)) emit(c, 'rm-root');
    } else if (target !== undefined && (isSystemPath(target) || isRootLike(target))) emit(c, 'rm-system');
  }
  for (const re of [FILE_DELETE, PATH_DELETE]) {
    re.lastIndex = 0;
    for (let m = re.exec(code); m; m = re.exec(code)) {
      const target = m[2]!;
      if (isSystemPath(target) || isRootLike(target)) emit(c, 'rm-system');
    }
  }
  METHOD_DELETE.lastIndex = 0;
  if (METHOD_DELETE.test(code)) emit(c, 'resource-delete');
  for (const h of detectSqlEmbedded(code)) emit(c, h.kind);
}
