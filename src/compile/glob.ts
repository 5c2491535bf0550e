// The Cedar translation of the policy language's globs (their meaning is in policy/glob.ts).
// Cedar's `like` knows only one wildcard, which crosses `/`. A glob is translated exactly where
// that is possible (no `*`, or a single `*` with no other wildcard: `like P && !like P'` where P'
// puts a `/` inside the star); otherwise the translation is broader and the caller must report it.
import { hasWildcard, tokenize, type Token } from '../policy/glob.js';
import { cedarString } from './text.js';

export { globMatch, globToRegExp, hasWildcard } from '../policy/glob.js';

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

