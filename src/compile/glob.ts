// Globs of the policy language and their Cedar translation.
// Semantics: `*` matches any run of characters except `/`, `**` any run including `/`, `?` one
// character except `/`, and a leading `**/` also matches no directory at all.
// Cedar's `like` knows only one wildcard, which crosses `/`. A glob is translated exactly where
// that is possible (no `*`, or a single `*` with no other wildcard: `like P && !like P'` where P'
// puts a `/` inside the star); otherwise the translation is broader and the caller must report it.
import { cedarString } from './text.js';

type Token = { t: 'lit'; s: string } | { t: 'star' } | { t: 'dstar' } | { t: 'q' };

function tokenize(p: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*' && p[i + 1] === '*') { out.push({ t: 'dstar' }); i++; while (p[i + 1] === '*') i++; }
    else if (c === '*') out.push({ t: 'star' });
    else if (c === '?') out.push({ t: 'q' });
    else {
      const last = out[out.length - 1];
      if (last?.t === 'lit') last.s += c; else out.push({ t: 'lit', s: c });
    }
  }
  return out;
}

export function hasWildcard(p: string): boolean {
  return /[*?]/.test(p);
}

function likeText(tokens: Token[]): string {
  // The pattern is a Cedar string literal where `\*` is a literal star; our literals hold no star.
  const body = tokens.map((t) => (t.t === 'lit' ? cedarString(t.s).slice(1, -1) : '*')).join('');
  return `"${body}"`;
}

export interface GlobTranslation {
  text: string;
  /** True when the Cedar expression matches exactly the strings the glob matches. */
  exact: boolean;
}

export function globToCedar(expr: string, pattern: string): GlobTranslation {
  if (!hasWildcard(pattern)) return { text: `${expr} == ${cedarString(pattern)}`, exact: true };
  const alternatives: Token[][] = [];
  alternatives.push(tokenize(pattern));
  if (pattern.startsWith('**/')) alternatives.push(tokenize(pattern.slice(3)));
  let exact = true;
  const parts = alternatives.map((toks) => {
    const stars = toks.filter((t) => t.t === 'star').length;
    const wild = toks.filter((t) => t.t !== 'lit').length;
    if (toks.some((t) => t.t === 'q')) exact = false;
    if (toks.length === 0) return `${expr} == ""`;
    if (wild === 0) return `${expr} == ${cedarString(toks.map((t) => (t.t === 'lit' ? t.s : '')).join(''))}`;
    if (stars === 0) return `${expr} like ${likeText(toks)}`;
    if (stars === 1 && wild === 1) {
      const crossing = toks.flatMap((t): Token[] => (t.t === 'star' ? [{ t: 'star' }, { t: 'lit', s: '/' }, { t: 'star' }] : [t]));
      return `(${expr} like ${likeText(toks)} && !(${expr} like ${likeText(crossing)}))`;
    }
    exact = false;
    return `${expr} like ${likeText(toks)}`;
  });
  return { text: parts.length === 1 ? parts[0]! : `(${parts.join(' || ')})`, exact };
}

/** The reference meaning of a glob, as a regular expression. */
export function globToRegExp(pattern: string): RegExp {
  let src = '';
  let rest = pattern;
  if (rest.startsWith('**/')) { src = '(?:.*/)?'; rest = rest.slice(3); }
  for (const t of tokenize(rest)) {
    if (t.t === 'lit') src += t.s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (t.t === 'star') src += '[^/]*';
    else if (t.t === 'dstar') src += '.*';
    else src += '[^/]';
  }
  return new RegExp(`^${src}$`, 's');
}

export function globMatch(pattern: string, value: string): boolean {
  return hasWildcard(pattern) ? globToRegExp(pattern).test(value) : pattern === value;
}
