// The categories of a request, derived from its verb, its shell command and its resource. A command
// is read with the shell parser, wrappers (sudo, env, timeout, xargs, ...) are stepped over, and the
// tool and its subcommand decide: `kubectl delete` is DELETE, `git log` ACCESS, `terraform apply`
// MODIFY. A script's category is the most consequential of its commands'. A request has every
// category that any of these gives, and a stated category adds to them: it never replaces them.
import type { Category } from '../policy/vocabulary.js';
import { lex, type SimpleCommand } from './detectors/shell.js';

// No prototype: `constructor` or `__proto__` as a verb is an unknown word, not a function.
const VERBS: Record<string, Category> = Object.create(null) as Record<string, Category>;
const verbs = (c: Category, ws: string) => ws.split(' ').forEach((w) => (VERBS[w] = c));
verbs('DELETE', 'delete remove rm destroy drop terminate purge uninstall truncate wipe erase kill prune evict unlink rmdir deregister detach revoke shred wipefs mkfs flush flushdb flushall');
verbs('CREATE', 'create add new make provision launch deploy install insert upload mkdir touch generate spawn clone fork init register publish post allocate mb build pull snapshot');
verbs('MODIFY', 'update modify edit change patch set configure config scale restart rename move mv apply upgrade rollback write append replace reset enable disable rotate tag label annotate commit push merge rebase exec execute run chmod chown chgrp ln cp sed tee put start stop reboot cordon drain taint import sync attach deallocate undo encrypt authorize');
verbs('ACCESS', 'read get list ls view show describe fetch download query select cat search find inspect log logs tail open browse grep head less more diff status top explain plan output whoami env printenv wc stat file du df ps history blame access scan decrypt');
verbs('COMPLY', 'audit report comply compliance attest review certify');

const RANK: Record<Category, number> = { DELETE: 5, MODIFY: 4, CREATE: 3, ACCESS: 2, COMPLY: 1 };

/** Resource types whose use exposes a credential, and classifications whose use reads sensitive data. */
const CREDENTIAL_TYPES = new Set(['secret', 'credential', 'k8s:secret', 'vault:secret', 'aws:secretsmanager', 'gcp:secretmanager']);
const SENSITIVE_CLASSES = new Set(['secret', 'pii']);

/** The categories a resource implies whatever is done with it: touching a credential reads it. */
function resourceCategories(resource: { type: string; classification?: unknown }): Category[] {
  const out: Category[] = [];
  if (CREDENTIAL_TYPES.has(resource.type) || (typeof resource.classification === 'string' && SENSITIVE_CLASSES.has(resource.classification))) out.push('ACCESS');
  return out;
}

/** Categories from most to least consequential, each once. */
export function byRank(cs: Iterable<Category>): Category[] {
  return [...new Set(cs)].sort((a, b) => RANK[b] - RANK[a]);
}

interface Categorized { action: string; command?: string; category?: Category; resource: { type: string; classification?: unknown } }

/** What the action, the command and the resource say, most consequential first (the stated category aside). */
export function derivedCategories(r: Categorized): Category[] {
  const out: Category[] = [];
  // A command says what will happen; a generic verb such as shell_exec or run does not.
  const fromCommand = r.command !== undefined ? categoryOfCommand(r.command) : undefined;
  if (fromCommand) out.push(fromCommand);
  const fromVerb = categoryOfVerb(r.action);
  if (fromVerb && !(fromCommand && GENERIC_VERBS.has(r.action.split(/[\s_\-.:/]+/)[0]!))) out.push(fromVerb);
  out.push(...resourceCategories(r.resource));
  return byRank(out);
}

/** Verbs that only say "run the command": the command's category stands for them. */
const GENERIC_VERBS = new Set(['run', 'exec', 'execute', 'shell', 'bash', 'sh', 'command', 'cmd']);

const memo = new WeakMap<object, Category[]>();

/** Every category of a request: derived ones and the stated one, most consequential first. */
export function categoriesOf(r: Categorized): Category[] {
  let cs = memo.get(r);
  if (!cs) {
    cs = byRank([...derivedCategories(r), ...(r.category ? [r.category] : [])]);
    memo.set(r, cs);
  }
  return cs;
}

/** The category a verb usually means, from the first word of an action such as `remove_file`. */
export function categoryOfVerb(action: string): Category | undefined {
  const first = action.toLowerCase().split(/[\s_\-.:/]+/).find(Boolean);
  return first && Object.hasOwn(VERBS, first) ? VERBS[first] : undefined;
}

/** Programs that only read or report. */
const READ_ONLY_TOOLS = new Set(['journalctl', 'dmesg', 'dig', 'nslookup', 'host', 'ping', 'traceroute', 'netstat', 'ss', 'lsof', 'uptime', 'free', 'hostname', 'id', 'uname', 'jq', 'yq', 'tree', 'which', 'whereis', 'date', 'vmstat', 'iostat', 'htop', 'kubectx', 'kubens', 'nc', 'openssl', 'sha256sum', 'md5sum', 'cut', 'sort', 'uniq', 'awk', 'zcat', 'zgrep', 'rg', 'ag', 'fd', 'bat']);
/** Security and compliance scanners: running one is an audit. */
const SCANNERS = new Set(['trivy', 'grype', 'checkov', 'tfsec', 'prowler', 'kube-bench', 'kube-hunter', 'lynis', 'pip-audit', 'snyk', 'semgrep', 'gitleaks', 'trufflehog', 'scout', 'syft', 'cfn-nag', 'kubescape', 'osv-scanner', 'bandit']);

const WRAPPERS = new Set(['sudo', 'doas', 'env', 'nohup', 'time', 'nice', 'ionice', 'exec', 'command', 'builtin', 'xargs', 'timeout', 'watch', 'stdbuf', 'chroot', 'runuser', 'su']);
const SQL_CLIENTS = new Set(['psql', 'mysql', 'mariadb', 'sqlite3', 'sqlcmd', 'clickhouse-client', 'cockroach', 'duckdb']);

function sqlCategory(sql: string): Category | undefined {
  const m = /^\s*(?:with\b[\s\S]*?\)\s*)?(\w+)/i.exec(sql);
  const k = m?.[1]?.toLowerCase();
  if (!k) return undefined;
  if (['select', 'show', 'explain', 'describe', 'desc', 'pragma'].includes(k)) return 'ACCESS';
  if (['insert', 'create', 'copy'].includes(k)) return 'CREATE';
  if (['delete', 'drop', 'truncate'].includes(k)) return 'DELETE';
  if (['update', 'alter', 'grant', 'revoke', 'merge', 'upsert', 'replace', 'rename', 'vacuum', 'reindex'].includes(k)) return 'MODIFY';
  return undefined;
}

/** Options of ssh that take a value, so that the host is found after them. */
const SSH_VALUE_FLAGS = new Set(['-i', '-p', '-l', '-o', '-F', '-J', '-E', '-b', '-c', '-L', '-R', '-D', '-W', '-e', '-m', '-O', '-Q', '-S', '-w', '-B', '-I']);

/** Words joined back into one command line, quoting those that need it. */
function joinWords(words: string[]): string {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The category of a MongoDB shell expression such as `db.users.deleteMany({})`. */
function mongoCategory(code: string): Category | undefined {
  let best: Category | undefined;
  for (const m of code.matchAll(/\.(\w+)\s*\(/g)) {
    const op = m[1]!.toLowerCase();
    let k: Category | undefined;
    if (/^(?:delete|remove|drop|findoneanddelete)/.test(op)) k = 'DELETE';
    else if (/^(?:update|replace|findoneandupdate|findoneandreplace|rename|createindex|bulkwrite)/.test(op)) k = 'MODIFY';
    else if (/^(?:insert|create)/.test(op)) k = 'CREATE';
    else if (/^(?:find|count|aggregate|distinct|stats|getindexes|explain)/.test(op)) k = 'ACCESS';
    if (k && (!best || RANK[k] > RANK[best])) best = k;
  }
  return best;
}

const SUBCOMMANDS = new Set(['auth', 'api-resources', 'cluster-info', 'version', 'rollout', 'expose', 'port-forward', 'template', 'history', 'search', 'state', 'untaint', 'validate', 'fmt', 'graph', 'providers', 'ls-files', 'ls-remote', 'shortlog', 'reflog', 'rev-parse', 'worktree', 'container', 'image', 'volume', 'network', 'system', 'rmi', 'images', 'stats', 'list-units', 'is-active', 'i', 'cherry-pick', 'checkout', 'switch', 'stash', 'revert', 'cp']);

/** The subcommand: the first argument that is one (flag values such as `-n prod` come before it), else the first non-flag. */
function subcommandOf(args: string[]): string | undefined {
  const plain = args.filter((a) => !a.startsWith('-')).map((a) => a.toLowerCase());
  return plain.find((a) => a in VERBS || SUBCOMMANDS.has(a)) ?? plain[0];
}

function toolCategory(tool: string, args: string[], depth: number): Category | undefined {
  const sub = subcommandOf(args);
  const has = (...flags: string[]) => args.some((a) => flags.includes(a));
  // A dry run changes nothing, whatever it would have done.
  if (args.some((a) => a === '--dry-run' || a === '--dryrun' || /^--dry-run=(?:client|server|true)$/.test(a))) return 'ACCESS';
  if (tool === 'journalctl' && args.some((a) => a.startsWith('--vacuum'))) return 'DELETE';
  if (READ_ONLY_TOOLS.has(tool)) return 'ACCESS';
  if (SCANNERS.has(tool)) return 'COMPLY';
  switch (tool) {
    case 'kubectl': case 'oc': case 'k':
      if (sub === 'exec') {
        // `kubectl exec POD -- CMD` does what CMD does.
        const i = args.indexOf('--');
        const inner = i >= 0 ? categoryOfCommand(joinWords(args.slice(i + 1)), depth + 1) : undefined;
        return inner ?? 'MODIFY';
      }
      if (sub === 'rollout') return args.includes('status') || args.includes('history') ? 'ACCESS' : 'MODIFY';
      if (sub === 'auth') return args.includes('reconcile') ? 'MODIFY' : 'ACCESS';
      if (sub === 'api-resources' || sub === 'cluster-info' || sub === 'version') return 'ACCESS';
      if (sub === 'create' || sub === 'run' || sub === 'expose') return 'CREATE';
      if (sub === 'apply' || sub === 'exec' || sub === 'cp' || sub === 'port-forward') return 'MODIFY';
      return sub ? VERBS[sub] : undefined;
    case 'helm':
      if (sub === 'install') return 'CREATE';
      if (sub === 'template' || sub === 'history' || sub === 'search') return 'ACCESS';
      return sub ? VERBS[sub] : undefined;
    case 'terraform': case 'tofu': case 'terragrunt':
      if (sub === 'destroy' || (sub === 'apply' && has('-destroy', '--destroy'))) return 'DELETE';
      if (sub === 'apply' || sub === 'import' || sub === 'taint' || sub === 'untaint' || sub === 'state' && args.includes('rm')) return sub === 'state' ? 'DELETE' : 'MODIFY';
      if (sub === 'state' && args.some((a) => a === 'mv' || a === 'push' || a === 'replace-provider')) return 'MODIFY';
      // `fmt` rewrites files unless it only checks.
      if (sub === 'fmt') return has('-check', '--check', '-diff') ? 'ACCESS' : 'MODIFY';
      if (sub === 'init' || sub === 'validate' || sub === 'plan' || sub === 'show' || sub === 'output' || sub === 'state' || sub === 'graph' || sub === 'providers') return 'ACCESS';
      return undefined;
    case 'git':
      if ((sub === 'checkout' && has('-b', '-B')) || (sub === 'switch' && has('-c', '-C', '--create'))) return 'CREATE';
      // `git push --delete`, `git push origin :branch` (an empty source deletes the target).
      if (sub === 'push' && (has('--delete', '-d') || args.some((a) => /^:[^:]/.test(a)))) return 'DELETE';
      if (sub === 'tag' && has('-d', '--delete')) return 'DELETE';
      if (sub === 'branch' && has('-d', '-D', '--delete')) return 'DELETE';
      if (sub === 'branch' || sub === 'tag' && args.length > 1 && !has('-l', '--list')) return 'CREATE';
      if (sub === 'clean' || sub === 'rm') return 'DELETE';
      if (['status', 'log', 'diff', 'show', 'fetch', 'blame', 'grep', 'ls-files', 'ls-remote', 'describe', 'shortlog', 'reflog', 'rev-parse'].includes(sub ?? '')) return 'ACCESS';
      if (sub === 'clone' || sub === 'init' || sub === 'worktree') return 'CREATE';
      return sub ? 'MODIFY' : undefined;
    case 'docker': case 'podman': case 'nerdctl': {
      const s = sub === 'container' || sub === 'image' || sub === 'volume' || sub === 'network' || sub === 'system' ? args.filter((a) => !a.startsWith('-'))[1]?.toLowerCase() : sub;
      if (['rm', 'rmi', 'prune', 'kill'].includes(s ?? '')) return 'DELETE';
      if (s === 'exec') {
        // `docker exec [options] CONTAINER CMD...`: the command decides.
        const rest = args.slice(args.findIndex((a) => a.toLowerCase() === 'exec') + 1);
        let i = 0;
        while (i < rest.length && rest[i]!.startsWith('-')) i += /^-(?:e|u|w)$|^--(?:env|user|workdir)$/.test(rest[i]!) ? 2 : 1;
        const inner = rest.slice(i + 1);
        return (inner.length ? categoryOfCommand(joinWords(inner), depth + 1) : undefined) ?? 'MODIFY';
      }
      if (['run', 'create', 'build', 'pull', 'push'].includes(s ?? '')) return 'CREATE';
      if (['ps', 'logs', 'inspect', 'images', 'ls', 'stats', 'top', 'history'].includes(s ?? '')) return 'ACCESS';
      return s ? 'MODIFY' : undefined;
    }
    case 'aws': {
      const words = args.filter((a) => !a.startsWith('-'));
      const [service, op] = [words[0]?.toLowerCase(), words[1]?.toLowerCase()];
      if (service === 's3') {
        if (op === 'rm' || op === 'rb') return 'DELETE';
        if (op === 'mb') return 'CREATE';
        if (op === 'ls' || op === 'presign') return 'ACCESS';
        if (op === 'cp' || op === 'mv' || op === 'sync') return words[words.length - 1]?.startsWith('s3://') ? 'MODIFY' : 'ACCESS';
      }
      // `run-instances`, `run-task`: something new starts.
      if (op?.startsWith('run-')) return 'CREATE';
      return op ? categoryOfVerb(op) : undefined;
    }
    case 'gcloud': case 'az': case 'doctl': {
      // `gcloud GROUP [SUBGROUP...] VERB NAME --flags`: the verb is the first verb-like word after the
      // group, before any flag (words after a flag may be its value).
      const firstFlag = args.findIndex((a) => a.startsWith('-'));
      const head = (firstFlag < 0 ? args : args.slice(0, firstFlag)).map((w) => w.toLowerCase());
      for (const w of head.slice(1)) {
        const c = VERBS[w] ?? VERBS[w.split('-')[0]!];
        if (c) return c;
      }
      const words = args.filter((a) => !a.startsWith('-')).map((w) => w.toLowerCase());
      for (let i = words.length - 1; i >= 0; i--) {
        const c = VERBS[words[i]!];
        if (c) return c;
      }
      return undefined;
    }
    case 'gsutil': case 'heroku': case 'flyctl': case 'fly': case 'vercel': case 'netlify': case 'gh': case 'glab': case 'vault': case 'bq': case 'firebase': case 'supabase': case 'wrangler': {
      for (const w of args.filter((a) => !a.startsWith('-')).slice(0, 3).map((x) => x.toLowerCase())) {
        const c = VERBS[w] ?? VERBS[w.split(/[:-]/).pop()!] ?? VERBS[w.split(/[:-]/)[0]!];
        if (c) return c;
      }
      return undefined;
    }
    case 'pulumi':
      if (sub === 'destroy') return 'DELETE';
      if (sub === 'up' || sub === 'update' || sub === 'refresh' || sub === 'import') return 'MODIFY';
      if (sub === 'preview' || sub === 'stack' || sub === 'whoami' || sub === 'about') return 'ACCESS';
      return undefined;
    case 'ansible-playbook':
      return has('--check', '-C', '--syntax-check', '--list-tasks', '--list-hosts') ? 'ACCESS' : 'MODIFY';
    case 'ansible': {
      // Ad-hoc: `-m ping` and `-m setup` only read; `-m shell -a CMD` does what CMD does.
      const i = args.findIndex((a) => a === '-m' || a === '--module-name');
      const mod = i >= 0 ? args[i + 1]?.toLowerCase() : 'command';
      if (mod === 'ping' || mod === 'setup' || mod === 'gather_facts' || mod?.endsWith('_info') || mod?.endsWith('_facts')) return 'ACCESS';
      if (mod === 'shell' || mod === 'command' || mod === 'raw') {
        const j = args.findIndex((a) => a === '-a' || a === '--args');
        return (j >= 0 && args[j + 1] ? categoryOfCommand(args[j + 1]!, depth + 1) : undefined) ?? 'MODIFY';
      }
      return 'MODIFY';
    }
    case 'crontab':
      if (has('-r')) return 'DELETE';
      if (has('-l')) return 'ACCESS';
      return 'MODIFY';
    case 'rsync':
      return args.some((a) => /^--(?:del|delete\b|remove-source-files)/.test(a)) ? 'DELETE' : 'MODIFY';
    case 'scp': {
      // Copying from a remote host to a local path reads; copying to a host writes there.
      const files = args.filter((a) => !a.startsWith('-'));
      return files.length > 1 && !files[files.length - 1]!.includes(':') ? 'ACCESS' : 'MODIFY';
    }
    case 'tar': case 'zip': case 'gzip': case '7z': {
      const mode = args[0]?.replace(/^-/, '') ?? '';
      if (tool === 'tar') return /c/.test(mode) || has('--create') ? 'CREATE' : /x/.test(mode) || has('--extract') ? 'CREATE' : 'ACCESS';
      return 'CREATE';
    }
    case 'ssh': {
      // `ssh [options] HOST CMD...`: the remote command decides.
      let i = 0;
      while (i < args.length && args[i]!.startsWith('-')) i += SSH_VALUE_FLAGS.has(args[i]!) ? 2 : 1;
      const remote = args.slice(i + 1);
      return remote.length ? categoryOfCommand(remote.length === 1 ? remote[0]! : joinWords(remote), depth + 1) : undefined;
    }
    case 'find':
      if (has('-delete')) return 'DELETE';
      {
        const i = args.findIndex((a) => a === '-exec' || a === '-execdir' || a === '-ok');
        if (i >= 0) return categoryOfCommand(joinWords(args.slice(i + 1).filter((a) => a !== ';' && a !== '+' && a !== '{}')), depth + 1) ?? 'ACCESS';
      }
      return 'ACCESS';
    case 'mongo': case 'mongosh': {
      const i = args.findIndex((a) => a === '--eval');
      return i >= 0 && args[i + 1] ? mongoCategory(args[i + 1]!) ?? 'ACCESS' : 'ACCESS';
    }
    case 'redis-cli': {
      let i = 0;
      while (i < args.length && args[i]!.startsWith('-')) i += /^-(?:h|p|n|a|u|s|r|i)$|^--(?:user|pass|tls|cacert)$/.test(args[i]!) ? 2 : 1;
      const op = args[i]?.toLowerCase();
      if (!op) return 'ACCESS';
      if (/^(?:del|unlink|flushdb|flushall|hdel|srem|zrem|lrem|expire|pexpire|getdel)$/.test(op)) return 'DELETE';
      if (/^(?:set|setex|mset|hset|hmset|incr|decr|incrby|lpush|rpush|sadd|zadd|rename|config|persist|append)$/.test(op)) return 'MODIFY';
      return 'ACCESS';
    }
    case 'systemctl': case 'service':
      if (sub?.startsWith('list-') || sub === 'cat' || sub === 'is-enabled' || sub === 'is-failed' || sub === 'get-default') return 'ACCESS';
      return sub === 'status' || sub === 'list-units' || sub === 'show' || sub === 'is-active' ? 'ACCESS' : sub ? 'MODIFY' : undefined;
    case 'npm': case 'pnpm': case 'yarn': case 'pip': case 'pip3': case 'apt': case 'apt-get': case 'brew': case 'cargo': case 'go': case 'gem':
      if (sub === 'uninstall' || sub === 'remove' || sub === 'purge' || sub === 'rm') return 'DELETE';
      if (sub === 'install' || sub === 'add' || sub === 'i' || sub === 'ci') return 'CREATE';
      if (sub === 'audit' && args.includes('fix')) return 'MODIFY';
      if (sub === 'list' || sub === 'ls' || sub === 'show' || sub === 'view' || sub === 'search' || sub === 'info' || sub === 'audit' || sub === 'outdated') return sub === 'audit' ? 'COMPLY' : 'ACCESS';
      if (sub === 'publish') return 'CREATE';
      return sub === 'test' || sub === 'run' || sub === 'build' || sub === 'update' || sub === 'upgrade' ? 'MODIFY' : undefined;
    case 'curl': case 'http': case 'wget': {
      const i = args.findIndex((a) => a === '-X' || a === '--request');
      const method = (i >= 0 ? args[i + 1] : args.find((a) => /^-X[A-Z]+$/.test(a))?.slice(2))?.toUpperCase();
      if (method === 'DELETE') return 'DELETE';
      if (method === 'POST') return 'CREATE';
      if (method === 'PUT' || method === 'PATCH') return 'MODIFY';
      return has('-d', '--data', '--data-raw', '-F', '--form', '-T', '--upload-file') ? 'CREATE' : 'ACCESS';
    }
    case 'sed': case 'perl':
      return has('-i') || args.some((a) => a.startsWith('-i')) ? 'MODIFY' : 'ACCESS';
    case 'echo': case 'printf': case 'true': case 'false': case 'test': case '[': case 'cd': case 'pwd': case 'sleep': case 'exit':
      return undefined;
  }
  if (SQL_CLIENTS.has(tool)) {
    const i = args.findIndex((a) => a === '-c' || a === '-e' || a === '--command' || a === '--execute' || a === '-Q' || a === '-q');
    if (i >= 0 && args[i + 1]) return sqlCategory(args[i + 1]!);
    const inline = args.find((a) => /^--(command|execute)=/.test(a));
    if (inline) return sqlCategory(inline.slice(inline.indexOf('=') + 1));
    const last = args[args.length - 1];
    // A script file may hold anything; running one is taken as a change.
    if (args.some((a) => a === '-f' || a === '--file' || a.startsWith('--file='))) return 'MODIFY';
    // sqlite3's dot-commands (`.tables`, `.schema`) read; `.import` and `.restore` write.
    if (tool === 'sqlite3' && last?.startsWith('.')) return /^\.(?:import|restore|load)\b/.test(last) ? 'MODIFY' : 'ACCESS';
    return tool === 'sqlite3' && last && !last.startsWith('-') && args.length > 1 ? sqlCategory(last) : 'ACCESS';
  }
  if (tool in VERBS) return VERBS[tool];
  // An unknown program: its first words often name the operation (`vault kv get`, `make deploy`).
  for (const w of args.filter((a) => !a.startsWith('-')).slice(0, 3).map((x) => x.toLowerCase())) {
    const c = VERBS[w];
    if (c) return c;
  }
  return undefined;
}

/** The words of a command after its wrappers and variable assignments. */
function unwrap(words: string[]): string[] {
  let i = 0;
  while (i < words.length) {
    const w = words[i]!;
    const base = w.slice(w.lastIndexOf('/') + 1).toLowerCase();
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) { i++; continue; }
    if (!WRAPPERS.has(base)) break;
    i++;
    // Skip the wrapper's own options (and the duration of `timeout`).
    while (i < words.length && words[i]!.startsWith('-')) i++;
    if (base === 'timeout' && i < words.length && /^\d/.test(words[i]!)) i++;
    if ((base === 'su' || base === 'runuser') && words[i] === '-c') i++;
  }
  return words.slice(i);
}

/** A redirection that writes a file (not a device such as /dev/null). */
function writesFile(cmd: SimpleCommand): boolean {
  return cmd.redirects.some((r) => (r.op === '>' || r.op === '>>' || r.op === '>|' || r.op === '&>' || r.op === '&>>') && r.target !== undefined && !r.target.value.startsWith('/dev/'));
}

function commandCategory(cmd: SimpleCommand, depth: number): Category | undefined {
  const words = unwrap(cmd.words.map((w) => w.value));
  if (!words.length) return writesFile(cmd) ? 'MODIFY' : undefined;
  const tool = words[0]!.slice(words[0]!.lastIndexOf('/') + 1).toLowerCase();
  if ((tool === 'bash' || tool === 'sh' || tool === 'zsh' || tool === 'dash') && words[1] === '-c' && words[2]) return categoryOfCommand(words[2], depth + 1);
  const k = toolCategory(tool, words.slice(1), depth);
  if (SQL_CLIENTS.has(tool) && k === 'ACCESS' && cmd.redirects.some((r) => r.op === '<')) return 'MODIFY';
  // `echo ... >> file`, `cat > file <<EOF`: the redirection is the change.
  if ((k === undefined || tool === 'cat' || tool === 'tee') && writesFile(cmd)) return 'MODIFY';
  return k;
}

/** The words of each simple command of a script after its wrappers, for callers that read tools and arguments. */
export function commandWords(command: string): string[][] {
  return lex(command).commands.map((c) => unwrap(c.words.map((w) => w.value))).filter((w) => w.length > 0);
}

/** The most consequential category among a script's commands (and raw SQL typed as a command). */
export function categoryOfCommand(command: string, depth = 0): Category | undefined {
  if (depth > 3) return undefined;
  const sql = sqlCategory(command);
  if (sql && /^\s*(select|insert|update|delete|drop|truncate|alter|create|grant|revoke|with)\s/i.test(command)) return sql;
  let best: Category | undefined;
  const script = lex(command);
  for (const c of script.commands) {
    const k = commandCategory(c, depth);
    if (k && (!best || RANK[k] > RANK[best])) best = k;
  }
  for (const s of script.substitutions) {
    const k = categoryOfCommand(s.body, depth + 1);
    if (k && (!best || RANK[k] > RANK[best])) best = k;
  }
  return best;
}
