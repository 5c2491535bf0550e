// File-system paths as the destructive-command rules see them: normalized (`..` resolved, `~` and
// the usual variables recognized) and sorted into root-like targets, system locations, temporary
// locations and block devices.

const TOP_LEVEL = new Set([
  'bin', 'boot', 'dev', 'etc', 'home', 'lib', 'lib32', 'lib64', 'libx32', 'media', 'mnt', 'opt', 'proc', 'root',
  'run', 'sbin', 'snap', 'srv', 'sys', 'usr', 'var', 'users', 'system', 'library', 'applications', 'private', 'volumes',
]);

const SYSTEM_PREFIXES = [
  '/etc/', '/boot/', '/bin/', '/sbin/', '/lib/', '/lib32/', '/lib64/', '/libx32/', '/usr/', '/sys/', '/proc/', '/dev/',
  '/root/', '/var/', '/snap/', '/system/', '/library/', '/private/etc/', '/private/var/',
];

const TEMP_VARS = /^\$\{?(?:TMPDIR|TMP|TEMP|TEMPDIR)(?::?-[^}]*)?\}?/;
const HOME_VARS = /^(?:~(?=\/|$)|\$\{?HOME\}?(?=\/|$))/;

/** A path with `~`, `$HOME` and the temp-dir variables replaced by markers and `.`/`..` resolved. */
export function normalizePath(raw: string): string {
  let p = raw.trim();
  if (p.length > 1 && (p.startsWith('"') || p.startsWith("'")) && p.endsWith(p[0]!)) p = p.slice(1, -1);
  if (HOME_VARS.test(p)) p = '$HOME' + p.replace(HOME_VARS, '');
  else if (TEMP_VARS.test(p)) p = '/tmp' + p.replace(TEMP_VARS, '');
  let prefix = '';
  if (p.startsWith('$HOME')) { prefix = '$HOME'; p = p.slice(5); }
  if (!p.startsWith('/') && prefix === '') return p;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') { out.pop(); continue; }
    out.push(seg);
  }
  const trailing = p.endsWith('/') && out.length > 0 ? '/' : '';
  return prefix + '/' + out.join('/') + trailing;
}

/** `/`, `/*`, `~`, `$HOME`, a top-level system directory or its contents, or `$UNSET/`. */
export function isRootLike(raw: string): boolean {
  const p = normalizePath(raw);
  if (p === '/' || p === '/*' || p === '/.*') return true;
  if (p === '$HOME/' || p === '$HOME/*' || p === '$HOME/.*' || p === '$HOME') return true;
  const m = /^\/([^/]+)\/?(\*|\.\*)?$/.exec(p);
  if (m && TOP_LEVEL.has(m[1]!.toLowerCase())) return true;
  if (/^\/home\/\*$/.test(p)) return true;
  // An unknown variable followed by `/`: if it is empty, this is `/`.
  if (/^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?\/\*?$/.test(raw.trim()) && !TEMP_VARS.test(raw.trim()) && !HOME_VARS.test(raw.trim())) return true;
  return false;
}

export function isTempPath(raw: string): boolean {
  const p = normalizePath(raw);
  return p === '/tmp' || p === '/tmp/' || p.startsWith('/tmp/') || p === '/var/tmp' || p.startsWith('/var/tmp/')
    || p.startsWith('/private/tmp/') || p.startsWith('/private/var/tmp/');
}

/** Under a system directory (not a temp one). */
export function isSystemPath(raw: string): boolean {
  const p = normalizePath(raw).toLowerCase();
  if (isTempPath(p)) return false;
  const q = p.endsWith('/') ? p : p + '/';
  return SYSTEM_PREFIXES.some((d) => q.startsWith(d));
}

export function isBlockDevice(raw: string): boolean {
  const p = normalizePath(raw);
  return /^\/dev\/(?:sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|disk\d|rdisk\d|md\d|dm-\d|mapper\/|loop\d|nbd\d|zd\d|sr\d|root$|disk\/|xvd)/.test(p);
}

/** A remote copy target `user@host:/path` is its path. */
export function remotePath(arg: string): string {
  if (arg.includes('://')) return arg;
  const m = /^(?:[^@/\s]+@)?[A-Za-z0-9_.-]+:(.*)$/.exec(arg);
  return m ? (m[1] === '' ? '~' : m[1]!) : arg;
}
