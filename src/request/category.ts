// The category of a request from its verb or its shell command. A command is read with the shell
// lexer, wrappers (sudo, env, timeout, xargs, ...) are stepped over, and the tool and its
// subcommand decide: `kubectl delete` is DELETE, `git log` ACCESS, `terraform apply` MODIFY.
// A script's category is the most consequential of its commands'.
import type { Category } from '../policy/vocabulary.js';
import { lex, type SimpleCommand } from './detectors/shell.js';

const VERBS: Record<string, Category> = {};
const verbs = (c: Category, ws: string) => ws.split(' ').forEach((w) => (VERBS[w] = c));
verbs('DELETE', 'delete remove rm destroy drop terminate purge uninstall truncate wipe erase kill prune evict unlink rmdir deregister detach revoke shred wipefs mkfs');
verbs('CREATE', 'create add new make provision launch deploy install insert upload mkdir touch generate spawn clone fork init register publish post allocate mb build pull');
verbs('MODIFY', 'update modify edit change patch set configure config scale restart rename move mv apply upgrade rollback write append replace reset enable disable rotate tag label annotate commit push merge rebase exec execute run chmod chown chgrp ln cp sed tee put start stop reboot cordon drain taint import sync');
verbs('ACCESS', 'read get list ls view show describe fetch download query select cat search find inspect log logs tail open browse grep head less more diff status top explain plan output whoami env printenv wc stat file du df ps history blame');
verbs('COMPLY', 'audit report comply compliance attest review certify');

const RANK: Record<Category, number> = { DELETE: 5, MODIFY: 4, CREATE: 3, ACCESS: 2, COMPLY: 1 };

/** The category a verb usually means, from the first word of an action such as `remove_file`. */
export function categoryOfVerb(action: string): Category | undefined {
  const first = action.toLowerCase().split(/[\s_\-.:/]+/).find(Boolean);
  return first ? VERBS[first] : undefined;
}

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

const SUBCOMMANDS = new Set(['rollout', 'expose', 'port-forward', 'template', 'history', 'search', 'state', 'untaint', 'validate', 'fmt', 'graph', 'providers', 'ls-files', 'ls-remote', 'shortlog', 'reflog', 'rev-parse', 'worktree', 'container', 'image', 'volume', 'network', 'system', 'rmi', 'images', 'stats', 'list-units', 'is-active', 'i', 'cherry-pick', 'checkout', 'switch', 'stash', 'revert', 'cp']);

/** The subcommand: the first argument that is one (flag values such as `-n prod` come before it), else the first non-flag. */
function subcommandOf(args: string[]): string | undefined {
  const plain = args.filter((a) => !a.startsWith('-')).map((a) => a.toLowerCase());
  return plain.find((a) => a in VERBS || SUBCOMMANDS.has(a)) ?? plain[0];
}

function toolCategory(tool: string, args: string[]): Category | undefined {
  const sub = subcommandOf(args);
  const has = (...flags: string[]) => args.some((a) => flags.includes(a));
  switch (tool) {
    case 'kubectl': case 'oc': case 'k':
      if (sub === 'rollout') return args.includes('status') || args.includes('history') ? 'ACCESS' : 'MODIFY';
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
      if (sub === 'init' || sub === 'validate' || sub === 'fmt' || sub === 'plan' || sub === 'show' || sub === 'output' || sub === 'state' || sub === 'graph' || sub === 'providers') return 'ACCESS';
      return undefined;
    case 'git':
      if (sub === 'push' && has('--delete', '-d')) return 'DELETE';
      if (sub === 'branch' && has('-d', '-D', '--delete')) return 'DELETE';
      if (sub === 'branch' || sub === 'tag' && args.length > 1 && !has('-l', '--list')) return 'CREATE';
      if (sub === 'clean' || sub === 'rm') return 'DELETE';
      if (['status', 'log', 'diff', 'show', 'fetch', 'blame', 'grep', 'ls-files', 'ls-remote', 'describe', 'shortlog', 'reflog', 'rev-parse'].includes(sub ?? '')) return 'ACCESS';
      if (sub === 'clone' || sub === 'init' || sub === 'worktree') return 'CREATE';
      return sub ? 'MODIFY' : undefined;
    case 'docker': case 'podman': case 'nerdctl': {
      const s = sub === 'container' || sub === 'image' || sub === 'volume' || sub === 'network' || sub === 'system' ? args.filter((a) => !a.startsWith('-'))[1]?.toLowerCase() : sub;
      if (['rm', 'rmi', 'prune', 'kill'].includes(s ?? '')) return 'DELETE';
      if (['run', 'create', 'build', 'pull'].includes(s ?? '')) return 'CREATE';
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
      return op ? categoryOfVerb(op) : undefined;
    }
    case 'gcloud': case 'az': case 'doctl': case 'gsutil': case 'heroku': case 'flyctl': case 'vercel': {
      const words = args.filter((a) => !a.startsWith('-')).map((w) => w.toLowerCase());
      for (let i = words.length - 1; i >= 0; i--) {
        const c = VERBS[words[i]!];
        if (c) return c;
      }
      return undefined;
    }
    case 'systemctl': case 'service':
      return sub === 'status' || sub === 'list-units' || sub === 'show' || sub === 'is-active' ? 'ACCESS' : sub ? 'MODIFY' : undefined;
    case 'npm': case 'pnpm': case 'yarn': case 'pip': case 'pip3': case 'apt': case 'apt-get': case 'brew': case 'cargo': case 'go': case 'gem':
      if (sub === 'uninstall' || sub === 'remove' || sub === 'purge' || sub === 'rm') return 'DELETE';
      if (sub === 'install' || sub === 'add' || sub === 'i') return 'CREATE';
      if (sub === 'list' || sub === 'ls' || sub === 'show' || sub === 'view' || sub === 'search' || sub === 'info' || sub === 'audit') return sub === 'audit' ? 'COMPLY' : 'ACCESS';
      return sub === 'test' || sub === 'run' || sub === 'build' ? 'MODIFY' : undefined;
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
    const i = args.findIndex((a) => a === '-c' || a === '-e' || a === '--command' || a === '--execute');
    if (i >= 0 && args[i + 1]) return sqlCategory(args[i + 1]!);
    const inline = args.find((a) => /^--(command|execute)=/.test(a));
    if (inline) return sqlCategory(inline.slice(inline.indexOf('=') + 1));
    const last = args[args.length - 1];
    return tool === 'sqlite3' && last && !last.startsWith('-') && args.length > 1 ? sqlCategory(last) : 'ACCESS';
  }
  return VERBS[tool];
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

function commandCategory(cmd: SimpleCommand): Category | undefined {
  const words = unwrap(cmd.words.map((w) => w.value));
  if (!words.length) return undefined;
  const tool = words[0]!.slice(words[0]!.lastIndexOf('/') + 1).toLowerCase();
  if ((tool === 'bash' || tool === 'sh' || tool === 'zsh' || tool === 'dash') && words[1] === '-c' && words[2]) return categoryOfCommand(words[2]);
  return toolCategory(tool, words.slice(1));
}

/** The most consequential category among a script's commands (and raw SQL typed as a command). */
export function categoryOfCommand(command: string, depth = 0): Category | undefined {
  if (depth > 3) return undefined;
  const sql = sqlCategory(command);
  if (sql && /^\s*(select|insert|update|delete|drop|truncate|alter|create|grant|revoke|with)\s/i.test(command)) return sql;
  let best: Category | undefined;
  const script = lex(command);
  for (const c of script.commands) {
    const k = commandCategory(c);
    if (k && (!best || RANK[k] > RANK[best])) best = k;
  }
  for (const s of script.substitutions) {
    const k = categoryOfCommand(s.body, depth + 1);
    if (k && (!best || RANK[k] > RANK[best])) best = k;
  }
  return best;
}
