// A shell lexer for judging commands, not for running them: it splits a command line into simple
// commands (words after quote removal, redirections, heredoc bodies, here-strings) joined by
// `;`, `&&`, `||`, `&`, newlines and pipes, and collects the bodies of `$(...)`, backticks and
// `<(...)` so that the caller can look inside them. It never throws and runs in linear time:
// malformed input (an unclosed quote, a heredoc without its end) is read as far as it goes.

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
}

const SPACE = new Set([' ', '\t', '\r', '\f', '\v']);
const WORD_END = new Set([' ', '\t', '\r', '\f', '\v', '\n', ';', '&', '|', '<', '>', '(', ')']);

/** Characters that end a plain run inside a word: word ends, escapes, quotes and expansions. */
const SPECIAL = new Uint8Array(128);
for (const ch of ' \t\r\f\v\n;&|<>()\\\'"$`') SPECIAL[ch.charCodeAt(0)] = 1;
const isSpecial = (code: number): boolean => code < 128 && SPECIAL[code] === 1;

interface PendingHeredoc {
  delimiter: string;
  stripTabs: boolean;
  command: SimpleCommand;
}

/** Reads `text` as a shell script. */
export function lex(text: string): Script {
  return new Lexer(text).run();
}

class Lexer {
  private i = 0;
  private readonly commands: SimpleCommand[] = [];
  private readonly substitutions: Substitution[] = [];
  private current: SimpleCommand;
  private pending: PendingHeredoc[] = [];

  constructor(private readonly s: string) {
    this.current = this.fresh(0, undefined);
  }

  private fresh(start: number, pipeFrom: SimpleCommand | undefined): SimpleCommand {
    return { words: [], redirects: [], heredocs: [], herestrings: [], start, end: start, pipeFrom };
  }

  /** Ends the current simple command; `piped` makes the next one read its output. */
  private finish(at: number, piped: boolean): void {
    const c = this.current;
    const used = c.words.length > 0 || c.redirects.length > 0;
    if (used) this.commands.push(c);
    this.current = this.fresh(at, piped && used ? c : undefined);
  }

  run(): Script {
    const s = this.s;
    const n = s.length;
    while (this.i < n) {
      const code = s.charCodeAt(this.i);
      if (code === 32 || code === 9) { this.i++; continue; }
      const ch = s[this.i]!;
      if (SPACE.has(ch)) { this.i++; continue; }
      if (ch === '\n') {
        this.i++;
        this.finish(this.i, false);
        if (this.pending.length) this.readHeredocs();
        continue;
      }
      if (ch === '\\' && s[this.i + 1] === '\n') { this.i += 2; continue; }
      if (ch === '#' ) { this.skipComment(); continue; }
      if (ch === ';' || ch === '&' || ch === '|' || ch === '(' || ch === ')') {
        if (ch === '&' && s[this.i + 1] === '>') { this.redirect(); continue; }
        this.operator(ch);
        continue;
      }
      if (ch === '<' || ch === '>') {
        if (s[this.i + 1] === '(') { this.word(); continue; }
        this.redirect();
        continue;
      }
      // A run of digits right before `<` or `>` is a file descriptor, part of the redirection.
      if (ch >= '0' && ch <= '9') {
        let j = this.i;
        while (j < n && s[j]! >= '0' && s[j]! <= '9') j++;
        if (s[j] === '<' || s[j] === '>') { this.i = j; this.redirect(); continue; }
      }
      this.word();
    }
    this.finish(n, false);
    return { commands: this.commands, substitutions: this.substitutions };
  }

  private skipComment(): void {
    const nl = this.s.indexOf('\n', this.i);
    this.i = nl < 0 ? this.s.length : nl;
  }

  private operator(ch: string): void {
    const s = this.s;
    const next = s[this.i + 1];
    let len = 1;
    let piped = false;
    if (ch === '|') {
      if (next === '|') len = 2;
      else { piped = true; if (next === '&') len = 2; }
    } else if (ch === '&' && next === '&') len = 2;
    else if (ch === ';' && (next === ';' || next === '&')) len = 2;
    this.current.end = this.i;
    this.i += len;
    this.finish(this.i, piped);
  }

  private redirect(): void {
    const s = this.s;
    const start = this.i;
    let op: string;
    const rest = s.slice(this.i, this.i + 3);
    if (rest.startsWith('<<<')) op = '<<<';
    else if (rest.startsWith('<<-')) op = '<<-';
    else if (rest.startsWith('<<')) op = '<<';
    else if (rest.startsWith('&>>')) op = '&>>';
    else if (rest.startsWith('&>') || rest.startsWith('>&') || rest.startsWith('<&') || rest.startsWith('>>') || rest.startsWith('>|') || rest.startsWith('<>')) op = rest.slice(0, 2);
    else op = s[this.i]!;
    this.i += op.length;
    while (this.i < s.length && SPACE.has(s[this.i]!)) this.i++;
    let target: Word | undefined;
    if (this.i < s.length && !WORD_END.has(s[this.i]!)) target = this.readWord();
    if (this.current.words.length === 0 && this.current.redirects.length === 0) this.current.start = start;
    this.current.redirects.push({ op, target });
    this.current.end = this.i;
    if ((op === '<<' || op === '<<-') && target) {
      this.pending.push({ delimiter: target.value, stripTabs: op === '<<-', command: this.current });
    } else if (op === '<<<' && target) {
      this.current.herestrings.push(target.value);
    }
  }

  private readHeredocs(): void {
    const s = this.s;
    for (const h of this.pending) {
      const lines: string[] = [];
      let found = false;
      while (this.i < s.length) {
        let nl = s.indexOf('\n', this.i);
        if (nl < 0) nl = s.length;
        let line = s.slice(this.i, nl);
        this.i = Math.min(nl + 1, s.length);
        if (h.stripTabs) line = line.replace(/^\t+/, '');
        if (line.trimEnd() === h.delimiter) { found = true; break; }
        lines.push(line);
      }
      h.command.heredocs.push(lines.join('\n'));
      if (!found) break;
    }
    this.pending = [];
  }

  private word(): void {
    const w = this.readWord();
    if (this.current.words.length === 0 && this.current.redirects.length === 0) this.current.start = w.start;
    this.current.words.push(w);
    this.current.end = w.end;
  }

  /** Reads one word starting at `this.i`. */
  private readWord(): Word {
    const s = this.s;
    const n = s.length;
    const start = this.i;
    // The common case: a plain word with no quotes, escapes or expansions.
    let k = start;
    while (k < n && !isSpecial(s.charCodeAt(k))) k++;
    if (k > start && (k === n || WORD_END.has(s[k]!))) {
      this.i = k;
      return { value: s.slice(start, k), start, end: k, quoted: false, dynamic: false };
    }
    const parts: string[] = [];
    let quoted = false;
    let dynamic = false;
    while (this.i < n) {
      const ch = s[this.i]!;
      if (ch === '\\') {
        if (s[this.i + 1] === '\n') { this.i += 2; continue; }
        if (this.i + 1 < n) parts.push(s[this.i + 1]!);
        quoted = true;
        this.i += 2;
        continue;
      }
      if (ch === "'") {
        const close = s.indexOf("'", this.i + 1);
        const end = close < 0 ? n : close;
        parts.push(s.slice(this.i + 1, end));
        quoted = true;
        this.i = close < 0 ? n : close + 1;
        continue;
      }
      if (ch === '$' && s[this.i + 1] === "'") {
        this.i += 2;
        parts.push(this.readAnsiC());
        quoted = true;
        continue;
      }
      if (ch === '"' || (ch === '$' && s[this.i + 1] === '"')) {
        this.i += ch === '$' ? 2 : 1;
        const r = this.readDouble();
        parts.push(r.text);
        dynamic ||= r.dynamic;
        quoted = true;
        continue;
      }
      if (ch === '$' && s[this.i + 1] === '(') {
        parts.push(this.readDollarParen());
        dynamic = true;
        continue;
      }
      if (ch === '$' && s[this.i + 1] === '{') {
        parts.push(this.readBraced());
        dynamic = true;
        continue;
      }
      if (ch === '`') {
        parts.push(this.readBacktick());
        dynamic = true;
        continue;
      }
      if ((ch === '<' || ch === '>') && s[this.i + 1] === '(' && this.i === start) {
        const bodyStart = this.i + 2;
        const close = this.matchParen(bodyStart);
        this.substitutions.push({ body: s.slice(bodyStart, close), start: this.i, end: Math.min(close + 1, n) });
        parts.push(s.slice(this.i, Math.min(close + 1, n)));
        this.i = Math.min(close + 1, n);
        dynamic = true;
        continue;
      }
      if (WORD_END.has(ch)) break;
      if (ch === '$') dynamic = true;
      // Copy a run of ordinary characters at once.
      let j = this.i + 1;
      while (j < n && !isSpecial(s.charCodeAt(j))) j++;
      parts.push(s.slice(this.i, j));
      this.i = j;
    }
    return { value: parts.join(''), start, end: this.i, quoted, dynamic };
  }

  private readAnsiC(): string {
    const s = this.s;
    const out: string[] = [];
    while (this.i < s.length && s[this.i] !== "'") {
      const ch = s[this.i]!;
      if (ch === '\\' && this.i + 1 < s.length) {
        const e = s[this.i + 1]!;
        const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
        if (e in map) { out.push(map[e]!); this.i += 2; continue; }
        if (e === 'x') {
          const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(this.i + 2, this.i + 4));
          if (m) { out.push(String.fromCharCode(parseInt(m[0], 16))); this.i += 2 + m[0].length; continue; }
        }
        if (e >= '0' && e <= '7') {
          const m = /^[0-7]{1,3}/.exec(s.slice(this.i + 1, this.i + 4))!;
          out.push(String.fromCharCode(parseInt(m[0], 8) & 0xff));
          this.i += 1 + m[0].length;
          continue;
        }
        out.push(e);
        this.i += 2;
        continue;
      }
      out.push(ch);
      this.i++;
    }
    this.i = Math.min(this.i + 1, s.length);
    return out.join('');
  }

  private readDouble(): { text: string; dynamic: boolean } {
    const s = this.s;
    const n = s.length;
    const out: string[] = [];
    let dynamic = false;
    while (this.i < n) {
      const ch = s[this.i]!;
      if (ch === '"') { this.i++; break; }
      if (ch === '\\') {
        const e = s[this.i + 1];
        if (e === '\n') { this.i += 2; continue; }
        if (e === '$' || e === '`' || e === '"' || e === '\\') { out.push(e); this.i += 2; continue; }
        out.push('\\');
        this.i++;
        continue;
      }
      if (ch === '$' && s[this.i + 1] === '(') { out.push(this.readDollarParen()); dynamic = true; continue; }
      if (ch === '$' && s[this.i + 1] === '{') { out.push(this.readBraced()); dynamic = true; continue; }
      if (ch === '`') { out.push(this.readBacktick()); dynamic = true; continue; }
      if (ch === '$') dynamic = true;
      let j = this.i + 1;
      while (j < n) {
        const c = s[j]!;
        if (c === '"' || c === '\\' || c === '$' || c === '`') break;
        j++;
      }
      out.push(s.slice(this.i, j));
      this.i = j;
    }
    return { text: out.join(''), dynamic };
  }

  /** `$(...)` or `$((...))`; records command substitutions. Returns the source text. */
  private readDollarParen(): string {
    const s = this.s;
    const start = this.i;
    if (s[this.i + 2] === '(') {
      // Arithmetic expansion: nothing runs, skip to the matching `))`.
      const close = this.matchParen(this.i + 3);
      const end = Math.min(close + 2, s.length);
      this.i = end;
      return s.slice(start, end);
    }
    const bodyStart = this.i + 2;
    const close = this.matchParen(bodyStart);
    const end = Math.min(close + 1, s.length);
    this.substitutions.push({ body: s.slice(bodyStart, close), start, end });
    this.i = end;
    return s.slice(start, end);
  }

  private readBraced(): string {
    const s = this.s;
    const start = this.i;
    let depth = 0;
    let j = this.i + 1;
    while (j < s.length) {
      const c = s[j]!;
      if (c === '\\') { j += 2; continue; }
      if (c === '{') depth++;
      else if (c === '}') { depth--; if (depth === 0) { j++; break; } }
      else if (c === "'") { const k = s.indexOf("'", j + 1); j = k < 0 ? s.length : k + 1; continue; }
      else if (c === '\n') break;
      j++;
    }
    this.i = Math.min(j, s.length);
    return s.slice(start, this.i);
  }

  private readBacktick(): string {
    const s = this.s;
    const start = this.i;
    let j = this.i + 1;
    const body: string[] = [];
    while (j < s.length && s[j] !== '`') {
      if (s[j] === '\\' && j + 1 < s.length) {
        const e = s[j + 1]!;
        body.push(e === '`' || e === '\\' || e === '$' ? e : '\\' + e);
        j += 2;
        continue;
      }
      body.push(s[j]!);
      j++;
    }
    const end = Math.min(j + 1, s.length);
    this.substitutions.push({ body: body.join(''), start, end });
    this.i = end;
    return s.slice(start, end);
  }

  /**
   * The index of the `)` that closes a group whose body starts at `from`, skipping quotes,
   * escapes and nested parentheses; the end of the text when there is none.
   */
  private matchParen(from: number): number {
    const s = this.s;
    let depth = 1;
    let j = from;
    while (j < s.length) {
      const c = s[j]!;
      if (c === '\\') { j += 2; continue; }
      if (c === "'") { const k = s.indexOf("'", j + 1); if (k < 0) return s.length; j = k + 1; continue; }
      if (c === '"') {
        j++;
        while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
        j++;
        continue;
      }
      if (c === '(') depth++;
      else if (c === ')') { depth--; if (depth === 0) return j; }
      j++;
    }
    return s.length;
  }
}
