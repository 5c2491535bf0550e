// Personal identifiers: US social security numbers (with the SSA's validity rules), payment card
// numbers (Luhn checksum and issuer ranges), email addresses, phone numbers and IBANs (mod-97).
// Digit runs are judged whole: a match inside a longer number is not a finding. Phone candidates
// are checked against libphonenumber's numbering plans (country codes, leading digits, lengths).
import { createRequire } from 'node:module';
import type { Hit } from './types.js';

// --- SSN ---------------------------------------------------------------------------------------

const SSN = /(?<![\d-])(\d{3})([- .])(\d{2})\2(\d{4})(?![\d-])|(?<![\d-])(\d{3})(\d{2})(\d{4})(?![\d-])/g;
const SSN_CONTEXT = /\b(?:ssn|ss#|social\s+security(?:\s+(?:number|no\.?|#))?|social\s+sec\.?|sozialversicherungsnummer)\b[^\n\d]{0,30}$/i;
const KNOWN_FAKE_SSN = new Set(['078051120', '219099999', '123456789', '457555462', '111111111', '333333333', '987654320']);

/** SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000; not a published sample. */
export function validSsn(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const area = digits.slice(0, 3);
  if (area === '000' || area === '666' || area[0] === '9') return false;
  if (digits.slice(3, 5) === '00' || digits.slice(5) === '0000') return false;
  if (KNOWN_FAKE_SSN.has(digits) || /^(\d)\1{8}$/.test(digits)) return false;
  return true;
}

function ssns(text: string, out: Hit[]): void {
  SSN.lastIndex = 0;
  for (let m = SSN.exec(text); m; m = SSN.exec(text)) {
    const separated = m[1] !== undefined;
    const digits = separated ? m[1]! + m[3]! + m[4]! : m[5]! + m[6]! + m[7]!;
    if (!validSsn(digits)) continue;
    // Nine bare digits are an SSN only when the text says so just before.
    if (!separated && !SSN_CONTEXT.test(text.slice(Math.max(0, m.index - 60), m.index))) continue;
    out.push({ kind: 'ssn', start: m.index, end: m.index + m[0].length });
  }
}

// --- Payment cards -----------------------------------------------------------------------------

export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Issuer ranges (IIN prefix ranges) and the lengths each issues. */
const ISSUERS: { from: number; to: number; digits: number; lengths: number[] }[] = [
  { from: 4, to: 4, digits: 1, lengths: [13, 16, 19] }, // Visa
  { from: 51, to: 55, digits: 2, lengths: [16] }, // Mastercard
  { from: 2221, to: 2720, digits: 4, lengths: [16] }, // Mastercard 2-series
  { from: 34, to: 34, digits: 2, lengths: [15] }, // American Express
  { from: 37, to: 37, digits: 2, lengths: [15] },
  { from: 6011, to: 6011, digits: 4, lengths: [16, 17, 18, 19] }, // Discover
  { from: 644, to: 649, digits: 3, lengths: [16, 17, 18, 19] },
  { from: 65, to: 65, digits: 2, lengths: [16, 17, 18, 19] },
  { from: 622126, to: 622925, digits: 6, lengths: [16, 17, 18, 19] },
  { from: 300, to: 305, digits: 3, lengths: [14, 15, 16, 17, 18, 19] }, // Diners Club
  { from: 3095, to: 3095, digits: 4, lengths: [14, 15, 16, 17, 18, 19] },
  { from: 36, to: 36, digits: 2, lengths: [14, 15, 16, 17, 18, 19] },
  { from: 38, to: 39, digits: 2, lengths: [14, 15, 16, 17, 18, 19] },
  { from: 3528, to: 3589, digits: 4, lengths: [16, 17, 18, 19] }, // JCB
  { from: 62, to: 62, digits: 2, lengths: [16, 17, 18, 19] }, // UnionPay
  { from: 81, to: 82, digits: 2, lengths: [16, 17, 18, 19] }, // UnionPay, RuPay
  { from: 50, to: 50, digits: 2, lengths: [12, 13, 14, 15, 16, 17, 18, 19] }, // Maestro, Dankort, Verve
  { from: 56, to: 69, digits: 2, lengths: [12, 13, 14, 15, 16, 17, 18, 19] }, // Maestro, RuPay, InstaPayment
  { from: 2200, to: 2204, digits: 4, lengths: [16, 17, 18, 19] }, // Mir
  { from: 1, to: 1, digits: 1, lengths: [15] }, // UATP
];

export function knownIssuer(digits: string): boolean {
  return ISSUERS.some((r) => {
    if (!r.lengths.includes(digits.length)) return false;
    const prefix = Number(digits.slice(0, r.digits));
    return prefix >= r.from && prefix <= r.to;
  });
}

// 12 to 19 digits, optionally grouped by single spaces or dashes (the same separator throughout).
const CARD = /(?<![\d.,-])(\d{4,6}([ -])\d{2,7}(?:\2\d{2,7}){0,4}|\d{12,19})(?![\d-]|[.,]\d)/g;

function cards(text: string, out: Hit[]): void {
  CARD.lastIndex = 0;
  for (let m = CARD.exec(text); m; m = CARD.exec(text)) {
    const raw = m[1]!;
    const digits = raw.replace(/\D/g, '');
    if (digits.length < 12 || digits.length > 19) continue;
    if (/^(\d)\1+$/.test(digits)) continue;
    if (!luhn(digits) || !knownIssuer(digits)) continue;
    out.push({ kind: 'credit-card', start: m.index, end: m.index + raw.length });
  }
}

// --- Email -------------------------------------------------------------------------------------

const LOCAL_CHAR = /[A-Za-z0-9._%+'-]/;
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9-]{2,59})(?![A-Za-z0-9-]|\.[A-Za-z0-9])/;

/** Anchored on each `@`, so a long run without one costs nothing. */
function emails(text: string, out: Hit[]): void {
  let from = 0;
  for (;;) {
    const at = text.indexOf('@', from);
    if (at < 0) return;
    from = at + 1;
    let s = at;
    while (s > 0 && at - s < 64 && LOCAL_CHAR.test(text[s - 1]!)) s--;
    while (s < at && /[.'-]/.test(text[s]!)) s++;
    if (s === at || text[at - 1] === '.') continue;
    const d = DOMAIN.exec(text.slice(at + 1, at + 256));
    if (!d) continue;
    out.push({ kind: 'email', start: s, end: at + 1 + d[0].length });
    from = at + 1 + d[0].length;
  }
}

// --- Phone numbers -----------------------------------------------------------------------------

type PhoneLib = typeof import('libphonenumber-js/min');
let phoneLib: PhoneLib | undefined;
/** libphonenumber, loaded on the first phone-shaped candidate (its metadata costs ~100 ms to load). */
function phoneNumbers(): PhoneLib {
  phoneLib ??= createRequire(import.meta.url)('libphonenumber-js/min') as PhoneLib;
  return phoneLib;
}

/** How a candidate is written, which decides the numbering plan it is checked against. */
type PhoneShape = 'international' | 'nanp' | 'national';

const PHONES: { shape: PhoneShape; re: RegExp }[] = [
  // International: +CC then groups.
  { shape: 'international', re: /(?<![\w+])\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){2,6}(?![\d-])/g },
  // North American with separators: (415) 555-0132, 415-555-0132, 415.555.0132.
  { shape: 'nanp', re: /(?<![\w-])(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w-])/g },
  // National numbers with a trunk 0: 0917 123 4567, 090-1234-5678, 0 (532) 123 45 67, 09171234567.
  { shape: 'national', re: /(?<![\w+-])0(?:[ -]?\(\d{1,4}\)|[ -]?\d{1,5})(?:[ .-]?\d{2,5}){1,4}(?![\w-])/g },
];
const PHONE_CONTEXT = /\b(?:phone|tel|telephone|mobile|cell|fax|call|whatsapp|sms|telefon|telefono|numara|cep|handy|portable|número|numero)\b[^\n\d]{0,20}$/i;
const BARE_PHONE = /(?<![\w+-])\d{10,11}(?![\w-])/g;

/**
 * Whether a candidate is a number some plan assigns. `+CC …` is checked against its country's plan;
 * `415-555-0132` against the North American plan (area and exchange codes start with 2-9), which
 * rejects `917-123-4567`. A national number with a trunk 0 names no country, so its shape alone
 * decides.
 */
export function validPhone(candidate: string, shape: PhoneShape): boolean {
  if (shape === 'national') return true;
  const lib = phoneNumbers();
  return shape === 'international' ? lib.isValidPhoneNumber(candidate) : lib.isValidPhoneNumber(candidate, 'US');
}

/** Whether some country's plan assigns this national number (for digits the text calls a phone number). */
function validSomewhere(national: string): boolean {
  const lib = phoneNumbers();
  return lib.getCountries().some((c) => lib.isValidPhoneNumber(national, c));
}

function phones(text: string, out: Hit[]): void {
  for (const { shape, re } of PHONES) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const digits = m[0].replace(/\D/g, '');
      const international = shape === 'international';
      if (international ? digits.length < 8 || digits.length > 15 : digits.length < 9 || digits.length > 12) continue;
      // A date or a version is not a phone number.
      if (/^\d{4}-\d{2}-\d{2}/.test(m[0]) || /^\d{1,2}[./]\d{1,2}[./]\d{2,4}$/.test(m[0])) continue;
      if (!international && !/[ ().-]/.test(m[0]) && !(m[0].startsWith('0') && digits.length === 11)) continue;
      if (!validPhone(m[0], shape)) continue;
      out.push({ kind: 'phone-number', start: m.index, end: m.index + m[0].length });
    }
  }
  BARE_PHONE.lastIndex = 0;
  for (let m = BARE_PHONE.exec(text); m; m = BARE_PHONE.exec(text)) {
    if (!PHONE_CONTEXT.test(text.slice(Math.max(0, m.index - 40), m.index))) continue;
    // The text says it is a phone number; some country's plan must still assign it.
    if (!m[0].startsWith('0') && !validPhone(m[0], 'nanp') && !validSomewhere(m[0])) continue;
    out.push({ kind: 'phone-number', start: m.index, end: m.index + m[0].length });
  }
}

// --- IBAN --------------------------------------------------------------------------------------

const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24,
  DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28,
  HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29,
  RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22,
  VG: 24, XK: 20,
};

export function validIban(iban: string): boolean {
  const s = iban.replace(/[\s-]/g, '').toUpperCase();
  const len = IBAN_LENGTHS[s.slice(0, 2)];
  if (!len || s.length !== len || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(s)) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const v = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) rem = (rem * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

const IBAN = /(?<![A-Za-z0-9])([A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?)(?![A-Za-z0-9])/g;

function ibans(text: string, out: Hit[]): void {
  IBAN.lastIndex = 0;
  for (let m = IBAN.exec(text); m; m = IBAN.exec(text)) {
    if (validIban(m[1]!)) out.push({ kind: 'iban', start: m.index, end: m.index + m[1]!.length });
  }
}

const PII_RANK: Record<string, number> = { 'credit-card': 0, ssn: 1, iban: 2, email: 3, 'phone-number': 4 };

export function detectPii(text: string): Hit[] {
  const out: Hit[] = [];
  if (/\d/.test(text)) {
    ssns(text, out);
    cards(text, out);
    ibans(text, out);
    phones(text, out);
  }
  if (text.includes('@')) emails(text, out);
  // Of overlapping hits keep the stronger identifier.
  const sorted = out.sort((a, b) => (PII_RANK[a.kind] ?? 9) - (PII_RANK[b.kind] ?? 9) || (b.end - b.start) - (a.end - a.start));
  const kept: Hit[] = [];
  for (const h of sorted) if (!kept.some((k) => h.start < k.end && k.start < h.end)) kept.push(h);
  return kept.sort((a, b) => a.start - b.start);
}
