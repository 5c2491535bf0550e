// Globs of the policy language: what a pattern means, for lint, the reference interpreter and the
// compiler (compile/glob.ts translates them to Cedar).
// Semantics: `*` matches any run of characters except `/`, `**` any run including `/`, `?` one
// character except `/`, and a leading `**/` also matches no directory at all.

export type Token = { t: 'lit'; s: string } | { t: 'star' } | { t: 'dstar' } | { t: 'q' };

export function tokenize(p: string): Token[] {
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
