// What a command line is about, for the intent router: the kind of resource its tool works on
// (`kubectl delete deploy/web` a deployment, `aws s3 rm s3://b/k` an object) and a short name of the
// operation for signals. The category itself comes from request/category.ts.
import { commandWords } from '../request/category.js';
import { CLOUD_KINDS, KUBE_KINDS, RESOURCE_NOUNS } from './intent-lexicon.js';

export interface CommandReading {
  /** `kubectl delete`, `terraform destroy`, `psql`: the tool and its subcommand. */
  summary: string;
  resourceKind: string | undefined;
}

const base = (w: string): string => w.slice(w.lastIndexOf('/') + 1).toLowerCase();
const plain = (args: string[]): string[] => args.filter((a) => !a.startsWith('-'));

/** kubectl options whose value is the next word. */
const KUBE_VALUE_FLAGS = new Set(['-n', '--namespace', '-f', '--filename', '-l', '--selector', '-o', '--output', '-c', '--container', '--context', '--since', '--tail', '-p', '--kubeconfig', '--cluster', '--type']);

function kubeKind(args: string[]): string | undefined {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) { if (KUBE_VALUE_FLAGS.has(a)) i++; continue; }
    words.push(a.toLowerCase());
  }
  const sub = words[0];
  if (sub === 'logs') return 'log';
  if (sub === 'cordon' || sub === 'uncordon' || sub === 'drain' || sub === 'taint') return 'node';
  if (sub === 'exec' || sub === 'port-forward' || sub === 'cp' || sub === 'attach') return 'pod';
  for (const w of words.slice(1)) {
    const k = KUBE_KINDS[w.split('/')[0]!.split('.')[0]!];
    if (k) return k;
  }
  return undefined;
}

function kindOf(words: string[]): string | undefined {
  const tool = base(words[0]!);
  const args = words.slice(1);
  const p = plain(args).map((a) => a.toLowerCase());
  switch (tool) {
    case 'kubectl': case 'oc': case 'k': return kubeKind(args);
    case 'helm': return 'release';
    case 'terraform': case 'tofu': case 'terragrunt': case 'pulumi': case 'ansible-playbook': case 'ansible': return 'infrastructure';
    case 'git':
      if (['branch', 'checkout', 'switch', 'push'].includes(p[0] ?? '')) return 'branch';
      if (p[0] === 'tag') return 'tag';
      return 'repository';
    case 'docker': case 'podman': case 'nerdctl': {
      if (['container', 'image', 'volume', 'network'].includes(p[0] ?? '')) return p[0];
      if (['build', 'pull', 'push', 'rmi', 'images'].includes(p[0] ?? '')) return 'image';
      if (p[0] === 'compose' || p[0] === 'stack') return 'service';
      return 'container';
    }
    case 'aws': {
      const service = p[0];
      if (service === 's3') return p.slice(1).some((a) => /^s3:\/\/[^/]+\/./.test(a)) ? 'object' : 'bucket';
      if (service === 'iam' && p[1]?.includes('access-key')) return 'secret';
      if (service === 'iam') return p[1]?.includes('user') ? 'user' : 'role';
      return service ? CLOUD_KINDS[service] : undefined;
    }
    case 'gcloud': case 'az': case 'doctl': {
      if (p[0] === 'storage' && p[1] === 'blob') return 'object';
      for (const w of p.slice(0, 3)) {
        const k = CLOUD_KINDS[w] ?? RESOURCE_NOUNS[w];
        if (k) return k;
      }
      return undefined;
    }
    case 'gsutil': return p.slice(1).some((a) => /^gs:\/\/[^/]+\/./.test(a)) ? 'object' : 'bucket';
    case 'psql': case 'mysql': case 'mariadb': case 'sqlite3': case 'sqlcmd': case 'bq': case 'clickhouse-client': case 'duckdb':
      return /\b(?:drop|create)\s+(?:database|schema)\b/i.test(args.join(' ')) ? 'database' : 'table';
    case 'mongo': case 'mongosh': return 'collection';
    case 'redis-cli': return 'cache';
    case 'mkdir': case 'rmdir': return 'directory';
    case 'rm': return args.some((a) => /^-[a-zA-Z]*[rR]/.test(a) || a === '--recursive') ? 'directory' : 'file';
    case 'cp': case 'mv': case 'touch': case 'cat': case 'chmod': case 'chown': case 'ls': case 'find': case 'sed': case 'tee': case 'head': case 'tail':
    case 'less': case 'ln': case 'du': case 'rsync': case 'scp': case 'wget': case 'shred': case 'truncate': case 'grep':
      return 'file';
    case 'systemctl': case 'service': return 'service';
    case 'journalctl': return 'log';
    case 'npm': case 'pnpm': case 'yarn': case 'pip': case 'pip3': case 'apt': case 'apt-get': case 'brew': case 'cargo': case 'gem': return 'package';
    case 'curl': case 'http': return 'api';
    case 'vault': return 'secret';
    case 'kill': case 'pkill': case 'killall': return 'process';
  }
  return undefined;
}

/** Reads a command line's first recognizable tool. */
export function readCommand(command: string): CommandReading {
  const all = commandWords(command.length > 8000 ? command.slice(0, 8000) : command);
  let summary = '';
  let resourceKind: string | undefined;
  for (const words of all) {
    const tool = base(words[0]!);
    if (tool === 'echo' || tool === 'cd' || tool === 'cat' && all.length > 1) continue;
    if (!summary) {
      const sub = plain(words.slice(1))[0];
      summary = sub && /^[a-z][\w-]*$/i.test(sub) && sub.length < 30 ? `${tool} ${sub.toLowerCase()}` : tool;
    }
    resourceKind ??= kindOf(words);
    if (resourceKind) break;
  }
  if (!summary && all[0]) summary = base(all[0][0]!);
  return { summary, resourceKind };
}
