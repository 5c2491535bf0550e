// Text as a reader sees it: without hidden characters (zero-width spaces and joiners, soft
// hyphens, bidi marks, byte-order marks, Hangul fillers: canonical.ts) and with compatibility forms (fullwidth letters, ligatures)
// in their plain form. A secret or an address with a zero-width space inside reads, and works, as
// the plain one once the space is dropped: the detectors look for secrets and personal identifiers
// in this form too, and report them where they stand in the text as written, so that they are
// redacted there.
import { HIDDEN } from '../canonical.js';
import type { Hit } from './types.js';

export interface Folded {
  text: string;
  /** The hit found in the folded text, at its place in the text as written. */
  back(hit: Hit): Hit;
}

/** The folded form of `text`, or undefined when it is the text itself (all of ASCII is). */
export function foldText(text: string): Folded | undefined {
  if (!/[^\x00-\x7f]/.test(text)) return undefined;
  let out = '';
  // For each UTF-16 unit of the folded text: where the code point it came from starts and ends.
  const starts: number[] = [];
  const ends: number[] = [];
  let changed = false;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const ch = text.slice(i, i + width);
    const plain = HIDDEN.test(ch) ? '' : ch.normalize('NFKC');
    if (plain !== ch) changed = true;
    for (let k = 0; k < plain.length; k++) { starts.push(i); ends.push(i + width); }
    out += plain;
    i += width;
  }
  if (!changed) return undefined;
  return {
    text: out,
    back: (h) => ({ ...h, start: starts[h.start] ?? text.length, end: h.end > 0 ? ends[h.end - 1] ?? text.length : 0 }),
  };
}
