// Destructive SQL: statements that drop tables, databases, schemas or columns, truncate tables, or
// delete or update every row (no WHERE). Reads a SQL script statement by statement with comments and
// string literals set aside, or finds such statements embedded in other text (a migration in a
// file body, a query string in code). Also knows the few document-store and cache commands that
// wipe a whole collection or database.
import type { Hit } from './types.js';

/** Replaces comments and the insides of string literals with spaces, keeping offsets. */
function mask(sql: string): string {
  const out = sql.split('');
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      while (i < n && sql[i] !== '\n') out[i++] = ' ';
      continue;
    }
    if (c === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      const end = close < 0 ? n : close + 2;
      for (; i < end; i++) if (out[i] !== '\n') out[i] = ' ';
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      // Quoted identifiers keep their text (they name tables); string literals are blanked.
      let j = i + 1;
      while (j < n) {
        if (sql[j] === c) { if (sql[j + 1] === c) { j += 2; continue; } break; }
        if (sql[j] === '\\' && c === "'") { j += 2; continue; }
        j++;
      }
      if (c === "'") for (let k = i + 1; k < j && k < n; k++) out[k] = ' ';
      i = j + 1;
      continue;
    }
    if (c === '$') {
      const m = /^\$[A-Za-z_]*\$/.exec(sql.slice(i, i + 40));
      if (m) {
        const close = sql.indexOf(m[0], i + m[0].length);
        const end = close < 0 ? n : close + m[0].length;
        for (let k = i; k < end; k++) if (out[k] !== '\n') out[k] = ' ';
        i = end;
        continue;
      }
    }
    i++;
  }
  return out.join('');
}

const DROP_OBJECT = /^\s*DROP\s+(?:TEMPORARY\s+|TEMP\s+)?(TABLE|DATABASE|SCHEMA|KEYSPACE|COLLECTION)\b/i;
const ALTER_TABLE = /^\s*ALTER\s+TABLE\b/i;
const TRUNCATE = /^\s*TRUNCATE\b/i;
const DELETE = /^\s*(?:WITH\b[\s\S]{0,4000}?\)\s*)?DELETE\b/i;
const UPDATE = /^\s*(?:WITH\b[\s\S]{0,4000}?\)\s*)?UPDATE\s+[^\s;]+[\s\S]{0,4000}?\bSET\b/i;
const WHERE = /\bWHERE\b/i;
const TRIVIAL_WHERE = /\bWHERE\s+(?:1\s*=\s*1|TRUE|1|'1'\s*=\s*'1')\s*(?:LIMIT\b|RETURNING\b|$)/i;
const FLUSH = /^\s*(?:FLUSHALL|FLUSHDB)\b/i;
const GRANT_ALL = /^\s*GRANT\s+ALL(?:\s+PRIVILEGES)?\s+ON\s+\*\.\*|^\s*ALTER\s+(?:USER|ROLE)\s+\S+\s+(?:WITH\s+)?SUPERUSER\b/i;
const NOT_A_COLUMN = new Set(['CONSTRAINT', 'INDEX', 'KEY', 'DEFAULT', 'NOT', 'PRIMARY', 'FOREIGN', 'CHECK', 'IDENTITY', 'EXPRESSION', 'TRIGGER', 'UNIQUE', 'FULLTEXT', 'SPATIAL', 'SYSTEM', 'POLICY', 'RULE', 'STATISTICS', 'ROW']);

/** The destructive kind of one masked statement, if any. */
function classify(stmt: string): string | undefined {
  if (DROP_OBJECT.test(stmt)) return 'sql-drop';
  if (TRUNCATE.test(stmt) || FLUSH.test(stmt)) return 'sql-truncate';
  if (ALTER_TABLE.test(stmt) && dropsColumn(stmt)) return 'sql-drop';
  if (GRANT_ALL.test(stmt)) return 'sql-grant-all';
  if (DELETE.test(stmt) || UPDATE.test(stmt)) {
    if (!WHERE.test(stmt) || TRIVIAL_WHERE.test(stmt)) return 'sql-unbounded-write';
  }
  return undefined;
}

/** `ALTER TABLE t DROP [COLUMN] c` (or DROP PARTITION), not DROP CONSTRAINT / DEFAULT / NOT NULL. */
function dropsColumn(stmt: string): boolean {
  const re = /\bDROP\s+(?:IF\s+EXISTS\s+)?([A-Za-z_]+)/gi;
  for (let m = re.exec(stmt); m; m = re.exec(stmt)) {
    const next = m[1]!.toUpperCase();
    if (next === 'COLUMN' || next === 'PARTITION') return true;
    if (!NOT_A_COLUMN.has(next)) return true;
  }
  return false;
}

const MONGO: { re: RegExp; kind: string }[] = [
  { re: /\bdb\.dropDatabase\s{0,5}\(/g, kind: 'sql-drop' },
  { re: /\bdb\.(?:getCollection\s{0,5}\([^)]{0,200}\)|[\w$]{1,100})\.drop\s{0,5}\(\s{0,5}\)/g, kind: 'sql-drop' },
  { re: /\bdb\.(?:getCollection\s{0,5}\([^)]{0,200}\)|[\w$]{1,100})\.(?:deleteMany|remove)\s{0,5}\(\s{0,5}\{\s{0,5}\}\s{0,5}\)/g, kind: 'sql-unbounded-write' },
];

function mongo(text: string, base: number, out: Hit[]): void {
  if (!text.includes('db.')) return;
  for (const { re, kind } of MONGO) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) out.push({ kind, start: base + m.index, end: base + m.index + m[0].length });
  }
}

/** Destructive statements in a text that is SQL (a script, a `psql -c` argument). */
export function detectSqlScript(sql: string, base = 0): Hit[] {
  const out: Hit[] = [];
  const masked = mask(sql);
  let start = 0;
  const n = masked.length;
  for (let i = 0; i <= n; i++) {
    if (i === n || masked[i] === ';') {
      const stmt = masked.slice(start, i);
      if (/\S/.test(stmt)) {
        const kind = classify(stmt);
        if (kind) {
          const lead = stmt.length - stmt.trimStart().length;
          out.push({ kind, start: base + start + lead, end: base + start + stmt.trimEnd().length });
        }
      }
      start = i + 1;
    }
  }
  mongo(sql, base, out);
  return out;
}

// A statement start inside other text: at the start of a line, after `;` or `(`, or right after a quote.
const EMBEDDED = /(?:^|[;\n(]|["'`])[ \t]{0,40}(?=(?:DROP|TRUNCATE|DELETE|UPDATE|ALTER|WITH|GRANT|FLUSHALL|FLUSHDB)\b)/gi;
const EMBEDDED_START = /(?:DROP\s+(?:TEMPORARY\s+|TEMP\s+)?(?:TABLE|DATABASE|SCHEMA|KEYSPACE|COLLECTION)\s+(?:IF\s+EXISTS\s+)?[\w."`\[\]$-]+\s*(?:;|,|$|\n|CASCADE|RESTRICT|["'`)])|TRUNCATE\s+(?:TABLE\s+)?[\w."`\[\]$-]+\s*(?:;|,|$|\n|CASCADE|RESTRICT|RESTART|CONTINUE|["'`)])|DELETE\s+FROM\s+[\w."`\[\]$-]+\s*(?:;|$|\n|WHERE\b|USING\b|AS\b|RETURNING\b|LIMIT\b|["'`)])|UPDATE\s+[\w."`\[\]$-]+\s+SET\s+[\w."`\[\]$-]+\s*=|ALTER\s+(?:TABLE|USER|ROLE)\s+[\w."`\[\]$-]+|GRANT\s+ALL\b|WITH\s+[\w"`]+\s+AS\s*\(|FLUSH(?:ALL|DB)\s*(?:;|$|\n))/iy;

/** Destructive statements embedded in other text: prose, a file body, code with query strings. */
export function detectSqlEmbedded(text: string, base = 0): Hit[] {
  const out: Hit[] = [];
  EMBEDDED.lastIndex = 0;
  for (let m = EMBEDDED.exec(text); m; m = EMBEDDED.exec(text)) {
    const at = m.index + m[0].length;
    if (m[0].length === 0) EMBEDDED.lastIndex++;
    EMBEDDED_START.lastIndex = at;
    if (!EMBEDDED_START.test(text)) continue;
    const quote = /["'`]$/.test(m[0].trimEnd()) ? m[0].trimEnd().slice(-1) : '';
    // The statement runs to `;`, the closing quote of a literal, or a blank line.
    let end = text.length;
    const limit = Math.min(text.length, at + 4000);
    for (let j = at; j < limit; j++) {
      const c = text[j]!;
      if (c === ';' || (quote && c === quote) || (c === '\n' && text[j + 1] === '\n')) { end = j; break; }
      if (j === limit - 1) end = limit;
    }
    const stmt = mask(text.slice(at, end));
    const kind = classify(stmt);
    if (kind) out.push({ kind, start: base + at, end: base + at + stmt.trimEnd().length });
  }
  mongo(text, base, out);
  return out;
}

/** True when a text holds a statement worth reading as SQL. */
export function mentionsSql(text: string): boolean {
  return /\b(?:DROP|TRUNCATE|DELETE|UPDATE|ALTER|GRANT|FLUSHALL|FLUSHDB)\b/i.test(text) || text.includes('db.');
}
