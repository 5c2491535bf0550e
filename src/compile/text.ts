// Cedar literals: strings escaped the way Cedar's parser reads them.

export function cedarString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return out + '"';
}

/** A number as the argument of Cedar's `decimal()`: at most four fraction digits. */
export function decimalLiteral(n: number): string {
  const fixed = n.toFixed(4).replace(/0+$/, '').replace(/\.$/, '.0');
  return `decimal(${cedarString(fixed)})`;
}

export function isIdentifier(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);
}
