// Reading a request's free text for its category: the verbs of its clauses (skipping politeness,
// negated verbs, conditions, reasons and words that only look like verbs), questions, commands typed
// into the text, the action name, and the resource the text is about. Everything here is a linear
// scan over words or a regular expression with bounded repetition, so long or hostile text stays cheap.
import type { Category } from '../policy/vocabulary.js';
import { categoryOfCommand } from '../request/category.js';
import {
  COMPLY_CUES, CONJUNCTIONS, DOCUMENT_VERBS, DOCUMENTS, EDITED_CONTAINERS, ENV_TIERS, FILLERS, GENERIC_VERBS, HOLDING_CONTAINERS, IRREGULAR, MAKE_STATES, NEGATIONS, NOUN_OPERATIONS, OPENED_THINGS, PHRASES,
  QUESTION_SUBJECTS, QUESTION_WORDS, RESOURCE_NOUNS, SCAN_COMPLY_OBJECTS, VAGUE_VERBS, VERBS,
} from './intent-lexicon.js';

/** Only this much of a text is read: a request's intent is stated near its start. */
export const MAX_TEXT = 4000;

const RANK: Record<Category, number> = { DELETE: 5, MODIFY: 4, CREATE: 3, ACCESS: 2, COMPLY: 1 };

/** The more consequential of two categories. */
export function graver(a: Category | undefined, b: Category | undefined): Category | undefined {
  if (!a) return b;
  if (!b) return a;
  return RANK[b] > RANK[a] ? b : a;
}

/** One piece of evidence about the category, with how much it can be trusted (0..1). */
export interface Clue {
  category: Category;
  weight: number;
  signal: string;
}

export interface TextReading {
  /** The category the text states, if any, with its weight. */
  clue: Clue | undefined;
  /** A command inside the text (typed as the text, in backticks, or after `run`), read as a command. */
  commandClue: Clue | undefined;
  /** Verbs that were there but negated (`don't delete`). */
  negated: string[];
  /** The base form of the main verb, for resource lookup and signals. */
  verb: string | undefined;
  /** Index of the main verb's token, to find its object. */
  verbAt: number;
  /** The text asks a question rather than for an action. */
  question: boolean;
  /** The text asks whether someone may do something (`Can cleanup-agent delete temp files?`). */
  asked: Asked | undefined;
  words: string[];
}

/** A question in the form `Can X do Y in Z?` / `Should X do Y?`: who would act, and where its verb is. */
export interface Asked {
  /** The agent the question is about, as named (`cleanup-agent`), when it names one. */
  agent: string | undefined;
  /** The words of the clause that asks, and the index of its verb among them. */
  clause: string[];
  verbAt: number;
}

// ---------------------------------------------------------------------------------------------
// Words

/**
 * Lower-case words of a text. Apostrophes stay inside words (`don't`), and so do the joints of an
 * identifier (`build-runner-2`, `config/flags.yaml`): a host named build-runner is not a verb.
 */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().replace(/’/g, "'").match(/[a-z0-9]+(?:'[a-z]+|[-_./][a-z0-9]+)*/g) ?? [];
}

/** The parts of an identifier word (`acme-prod-uploads` -> acme, prod, uploads). */
const partsOf = (word: string): string[] => word.split(/[-_./']+/).filter(Boolean);

const inflections = new Map<string, string>();
{
  const add = (form: string, base: string) => { if (!VERBS.has(form) && !inflections.has(form)) inflections.set(form, base); };
  const bases = [...VERBS.keys(), ...GENERIC_VERBS, ...VAGUE_VERBS];
  for (const b of bases) {
    const stem = b.endsWith('e') ? b.slice(0, -1) : b;
    const doubled = /[^aeiou][aeiou][bdgklmnprt]$/.test(b) && b.length <= 5 ? b + b.slice(-1) : b;
    add(b + 's', b); add(b + 'es', b);
    add(stem + 'ing', b); add(doubled + 'ing', b);
    add(stem + 'ed', b); add(doubled + 'ed', b);
    if (/[^aeiou]y$/.test(b)) { add(b.slice(0, -1) + 'ies', b); add(b.slice(0, -1) + 'ied', b); }
  }
  for (const [form, base] of Object.entries(IRREGULAR)) if (!VERBS.has(form)) inflections.set(form, base);
}

/** The base form of a verb form, or undefined when the word is not a known verb. */
function baseOf(word: string): string | undefined {
  if (VERBS.has(word) || GENERIC_VERBS.has(word) || VAGUE_VERBS.has(word) || word in PHRASES) return word;
  return inflections.get(word);
}

const isGerund = (word: string): boolean => word.endsWith('ing') && inflections.has(word);

/** `access keys`, `access logs`: nouns, not access itself. */
const ACCESS_COMPOUNDS = /^(?:keys?|tokens?|logs?|points?|lists?|polic(?:y|ies)|groups?|requests?|reviews?|patterns?)$/;

/**
 * The words after `give`/`provide` hand out access (`give the auditors read access`), rather than
 * describe a document (`provide a list of users with admin access`).
 */
function grantsAccess(after: string[]): boolean {
  const first = after.find((w) => !DETERMINERS.has(w));
  if (first !== undefined && DOCUMENTS.has(first)) return false;
  return after.some((w, j) => /^(?:access|permissions?|rights|roles?|admin|owner)$/.test(w) && !ACCESS_COMPOUNDS.test(after[j + 1] ?? '') && !after.slice(Math.max(0, j - 3), j).some((p) => /^(?:with|have|has|had|who|that|without)$/.test(p)));
}

/** Where the verb of a request put as a question starts (`any chance you could ADD ...`), or -1. */
function politeAt(clause: string[]): number {
  for (let i = 0; i + 1 < clause.length; i++) {
    const [a, b] = [clause[i]!, clause[i + 1]!];
    if ((a === 'you' || a === 'u') && /^(?:could|can|would|will|mind|please|pls)$/.test(b)) return i;
    if ((a === 'possible' || a === 'able') && b === 'to') return i + 2;
    if (a === 'could' && (b === 'you' || b === 'u')) return i;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Questions about what an agent may do

/** Words that open a question about permission: `can`, `should`, `may`. */
const MODALS = new Set(['can', 'could', 'may', 'might', 'should', 'shall', 'must']);
/** Words that open one only with a word of permission after the subject (`is deploy-bot allowed to`). */
const PERMISSION_OPENERS = new Set(['is', 'are', 'does', 'do', 'will', 'would']);
const GRANTS = new Set(['allowed', 'permitted', 'able', 'authorized', 'authorised']);
/** Nouns that name who acts: `the deploy agent`, `our ci bot`. */
const AGENT_HEADS = /^(?:agent|agents|bot|bots|assistant|assistants|copilot|operator|automation|runner|worker|pipeline|service|account)$/;
/** Words between the subject and its verb that say the question is about permission. */
const PERMISSION_WORDS = new Set(['allowed', 'permitted', 'able', 'authorized', 'authorised', 'be', 'to', 'safely', 'really', 'now', 'also', 'still', 'go', 'ahead', 'and']);

const agentLike = (w: string): boolean => /[-_]/.test(w) && /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)+$/.test(w) && partsOf(w).some((p) => AGENT_HEADS.test(p));

/**
 * A clause that asks whether an agent may do something (`can cleanup-agent delete temp files in
 * my-project`, `should the architect agent modify the schema`, `is deploy-bot allowed to restart
 * web`): the agent named, and the index of the verb in the clause. Pronouns (`can you ...`) are
 * polite requests, read as such elsewhere.
 */
function permissionAsked(clause: string[]): { agent: string | undefined; verbAt: number } | undefined {
  const opener = clause[0] ?? '';
  if (!MODALS.has(opener) && !PERMISSION_OPENERS.has(opener)) return undefined;
  let j = 1;
  while (j < clause.length && DETERMINERS.has(clause[j]!)) j++;
  const start = j;
  let agent: string | undefined;
  // `cleanup-agent`, `deploy_bot`, or any identifier (`build-runner-2`) followed by a verb.
  if (agentLike(clause[j] ?? '') || (/[-_]/.test(clause[j] ?? '') && /^[a-z]/.test(clause[j] ?? '') && !baseOf(clause[j]!))) { agent = clause[j]; j++; }
  else {
    // `the deploy agent`, `our ci bot`: up to three words ending in a noun that names who acts.
    for (let h = j; h < Math.min(clause.length, j + 3); h++) {
      if (AGENT_HEADS.test(clause[h]!)) { agent = clause.slice(start, h + 1).join('-'); j = h + 1; break; }
    }
    if (!agent) return undefined;
  }
  // `agent deploy-bot`: the name after the noun.
  if (agent && AGENT_HEADS.test(agent) && /[-_]/.test(clause[j] ?? '')) { agent = clause[j]; j++; }
  const subjectEnd = j;
  while (j < clause.length && PERMISSION_WORDS.has(clause[j]!)) j++;
  // `does the worker restart on failure?` asks how something behaves, not whether it may act.
  if (PERMISSION_OPENERS.has(opener) && !clause.slice(subjectEnd, j).some((x) => GRANTS.has(x))) return undefined;
  const w = clause[j];
  if (w === undefined) return undefined;
  const base = baseOf(w);
  if (!base || base !== w) return undefined;
  return { agent, verbAt: j };
}

// ---------------------------------------------------------------------------------------------
// Clauses

/** Clause breaks: sentence punctuation, a dash between spaces, brackets, line breaks. */
const CLAUSE_BREAK = /[,;!?()[\]{}\n]+|[.:](?=\s|$)|\s[-–—]+\s|[–—]/;

interface Clause { words: string[]; purpose: boolean; lead: string | undefined }

/** Words that make a clause a condition, not a request (`before you delete anything, ...`). */
const CONDITIONS = new Set(['if', 'when', 'whenever', 'unless', 'until', 'before', 'after', 'once', 'while']);
const SUBJECTS = new Set(['i', 'we', 'you', 'u', 'they', 'it', 'he', 'she', 'that', 'this', 'there']);

/** Subjects after `so` that make a purpose clause (`so I can test it`, `so the bot can log in`). */
const PURPOSE_SUBJECTS = new Set(['i', 'we', 'you', 'they', 'he', 'she', 'it', 'that', 'the', 'our', 'my', 'their', 'people', 'users', 'everyone']);

/**
 * The clauses of a text. A clause that only gives the reason (`... so I can fix the label`,
 * `... in order to save money`) is marked: what it says will not be done by this request.
 */
function clausesOf(text: string): Clause[] {
  const out: Clause[] = [];
  for (const part of text.split(CLAUSE_BREAK)) {
    let clause: string[] = [];
    let purpose = false;
    let lead: string | undefined;
    const words = wordsOf(part);
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      const why = (w === 'so' && PURPOSE_SUBJECTS.has(words[i + 1] ?? '')) || (w === 'in' && words[i + 1] === 'order' && words[i + 2] === 'to');
      if ((CONJUNCTIONS.has(w) && !(w === 'and' && clause.length === 0 && lead === undefined && out.length === 0 && i === 0)) || why) {
        if (clause.length) out.push({ words: clause, purpose, lead });
        clause = [];
        lead = w === 'and' && words[i + 1] === 'then' ? 'then' : w;
        if (why) { purpose = true; if (w === 'in') i += 2; }
        continue;
      }
      if (clause.length === 0 && lead === undefined && CONDITIONS.has(w)) { lead = w; continue; }
      clause.push(w);
    }
    if (clause.length) out.push({ words: clause, purpose, lead });
  }
  return out;
}

/** Nouns that make the word before them part of a compound noun (`deploy frequency`, `release notes`). */
const COMPOUND_HEADS = new Set(['rate', 'rates', 'frequency', 'failure', 'failures', 'notes', 'history', 'cadence', 'calendar', 'freeze',
  'window', 'windows', 'ticket', 'tickets', 'management', 'latency', 'duration', 'durations', 'metrics', 'count', 'counts']);

/** Fillers that say the request wants something: with a noun and no verb, it wants to see it. */
const WANTING = new Set(['need', 'needs', 'want', 'wants', 'wanna', 'like']);

const DETERMINERS = new Set(['the', 'a', 'an', 'our', 'my', 'your', 'their', 'this', 'that', 'these', 'those', 'some', 'all', 'any', 'its', 'his', 'her']);

/** The first few content words after `from` / `to` in a clause, skipping determiners and environment names. */
function objectAfter(clause: string[], from: number, preps: string[]): string[] {
  for (let i = from; i < clause.length; i++) {
    // `pointing to`, `according to`, `next to`: the preposition belongs to another word.
    if (!preps.includes(clause[i]!) || /ing$|^(?:next|due|close|similar|related|according|up)$/.test(clause[i - 1] ?? '')) continue;
    const out: string[] = [];
    for (let j = i + 1; j < clause.length && out.length < 3; j++) {
      const w = clause[j]!;
      if (DETERMINERS.has(w) || w in ENV_TIERS) continue;
      out.push(w);
    }
    return out;
  }
  return [];
}

const within = (clause: string[], from: number, n: number, set: ReadonlySet<string>): string | undefined =>
  clause.slice(from, from + n).find((w) => set.has(w));

interface VerbRead { category: Category; weight: number; verb: string; phrase: string }

/** The category of the verb at `clause[i]` (base form `base`), reading the words around it. */
function readVerb(clause: string[], i: number, base: string): VerbRead | undefined {
  const next = clause[i + 1];
  const grants = (base === 'give' || base === 'provide') && grantsAccess(clause.slice(i + 1));
  const phrase = next !== undefined && !grants ? PHRASES[base]?.[next] : undefined;
  if (phrase) return { category: phrase, weight: 0.8, verb: base, phrase: `${base} ${next}` };
  const after = clause.slice(i + 1);
  switch (base) {
    case 'remove': case 'delete': case 'drop': case 'rm': case 'strip': {
      // Removing someone's access is a change of permissions, not a deletion of a resource.
      if (after.slice(0, 5).some((w, j) => /^(?:access|permissions?|rights|privileges?)$/.test(w) && !ACCESS_COMPOUNDS.test(after[j + 1] ?? ''))) return { category: 'MODIFY', weight: 0.75, verb: base, phrase: `${base} access` };
      // `remove the flag from config.yaml` edits the file; `remove backups from last month` deletes.
      const obj = objectAfter(clause, i + 1, ['from', 'out']);
      // A file name with an extension is a file being edited; a directory is a place things are deleted from.
      const edited = obj.find((w) => EDITED_CONTAINERS.has(w) || partsOf(w).some((p) => EDITED_CONTAINERS.has(p)) || /[a-z0-9]\.[a-z][a-z0-9]{0,4}$/.test(w));
      if (edited) return { category: 'MODIFY', weight: 0.75, verb: base, phrase: `${base} ... from ${edited}` };
      break;
    }
    case 'add': case 'append': {
      const obj = objectAfter(clause, i + 1, ['to', 'into', 'onto']);
      if (obj.length && !obj.some((w) => HOLDING_CONTAINERS.has(w) || partsOf(w).some((p) => HOLDING_CONTAINERS.has(p)))) return { category: 'MODIFY', weight: 0.75, verb: base, phrase: `${base} ... to ${obj[0]}` };
      return { category: 'CREATE', weight: 0.8, verb: base, phrase: base };
    }
    case 'make':
      if (next === 'sure') return { category: 'ACCESS', weight: 0.65, verb: base, phrase: 'make sure' };
      if (within(clause, i + 1, 6, MAKE_STATES)) return { category: 'MODIFY', weight: 0.7, verb: base, phrase: 'make ... ' + within(clause, i + 1, 6, MAKE_STATES) };
      return { category: 'CREATE', weight: 0.7, verb: base, phrase: base };
    case 'give': case 'provide': case 'grant':
      // Giving someone access or a role is a change of permissions, not a read.
      if (grantsAccess(after)) return { category: 'MODIFY', weight: 0.75, verb: base, phrase: `${base} access` };
      if (base === 'give') return { category: 'MODIFY', weight: 0.6, verb: base, phrase: base };
      break;
    case 'release':
      // Releasing addresses or capacity gives them back; releasing a lock changes it; releasing a version ships it.
      if (after.slice(0, 5).some((w) => /^(?:ips?|addresses|address|eips?|reservations?|capacity|resources|instances?|volumes?|leases?|hosts?|licen[cs]es?)$/.test(w))) return { category: 'DELETE', weight: 0.75, verb: base, phrase: 'release resources' };
      if (after.slice(0, 4).some((w) => /^(?:locks?|hold|holds|mutex|semaphore)$/.test(w))) return { category: 'MODIFY', weight: 0.75, verb: base, phrase: 'release a lock' };
      break;
    case 'get': case 'have': {
      // `get a read replica`, `get another runner`: asking for a new resource.
      if (base === 'get' && /^(?:a|an|another|new|one|two|second|extra)$/.test(next ?? '')) {
        const head = after.slice(1, 5).find((w) => RESOURCE_NOUNS[w] !== undefined || DOCUMENTS.has(w));
        if (head && !DOCUMENTS.has(head) && RESOURCE_NOUNS[head] !== 'log') return { category: 'CREATE', weight: 0.7, verb: base, phrase: `get a new ${head}` };
      }
      // `get the service deployed`, `have the pods restarted`: the participle is the action.
      for (let j = 0; j < Math.min(after.length, 6); j++) {
        const w = after[j]!;
        if (w === 'rid') break;
        const b = inflections.get(w);
        // After a noun, not as an adjective before one (`get the deployed version` reads).
        if (b && j > 0 && !DETERMINERS.has(after[j - 1]!) && (w.endsWith('ed') || w.endsWith('en') || w in IRREGULAR) && !w.endsWith('ing')) {
          const inner = VERBS.get(b);
          if (inner) return { category: inner, weight: 0.7, verb: b, phrase: `${base} ... ${w}` };
        }
      }
      if (base === 'have') return undefined;
      break;
    }
    case 'generate': case 'create':
      // A (presigned) link to something lets it be read.
      if (after.slice(0, 4).some((w) => /^(?:presigned|signed|share|sharing)$/.test(w)) && after.slice(0, 5).some((w) => /^(?:url|urls|link|links)$/.test(w))) return { category: 'ACCESS', weight: 0.7, verb: base, phrase: `${base} a link` };
      break;
    case 'write':
      if (next === 'a' || next === 'an' || next === 'new' || clause[i + 2] === 'new') return { category: 'CREATE', weight: 0.75, verb: base, phrase: `write a new thing` };
      break;
    case 'up':
      return { category: 'MODIFY', weight: 0.65, verb: base, phrase: 'up (raise)' };
    case 'send':
      return { category: 'CREATE', weight: 0.6, verb: base, phrase: base };
    case 'take': {
      if (after.slice(0, 3).some((w) => /^(?:snapshot|snapshots|backup|backups|copy|dump)$/.test(w))) return { category: 'CREATE', weight: 0.75, verb: base, phrase: 'take a snapshot' };
      if (after.slice(0, 3).includes('look')) return { category: 'ACCESS', weight: 0.75, verb: base, phrase: 'take a look' };
      if (after.includes('out') || after.includes('offline') || after.includes('down')) return { category: 'MODIFY', weight: 0.7, verb: base, phrase: 'take ... out' };
      break;
    }
    case 'open':
      if (within(clause, i + 1, 4, OPENED_THINGS)) return { category: 'CREATE', weight: 0.8, verb: base, phrase: 'open ' + within(clause, i + 1, 4, OPENED_THINGS) };
      if (within(clause, i + 1, 4, new Set(['port', 'ports', 'firewall', 'access']))) return { category: 'MODIFY', weight: 0.7, verb: base, phrase: 'open port' };
      return { category: 'ACCESS', weight: 0.7, verb: base, phrase: base };
    case 'promote': {
      // Promoting a build to an environment deploys it; promoting a replica changes its role.
      const to = objectAfter(clause, i + 1, ['to']);
      const env = clause.slice(i + 1).some((w, k, a) => w === 'to' && a[k + 1] !== undefined && (a[k + 1]! in ENV_TIERS || (a[k + 1] === 'the' && a[k + 2] !== undefined && a[k + 2]! in ENV_TIERS)));
      if (env || to.length === 0 && clause.some((w) => w in ENV_TIERS)) return { category: 'CREATE', weight: 0.7, verb: base, phrase: 'promote to an environment' };
      return { category: 'MODIFY', weight: 0.7, verb: base, phrase: base };
    }
    case 'scan': {
      // A scan for vulnerabilities or leaked secrets is an audit.
      const target = after.find((w) => SCAN_COMPLY_OBJECTS.has(w));
      if (target) return { category: 'COMPLY', weight: 0.75, verb: base, phrase: `scan for ${target}` };
      break;
    }
  }
  if (GENERIC_VERBS.has(base)) {
    // `run the migration`, `kick off a backup`: the operation named after the verb decides.
    for (const w of after) {
      const c = NOUN_OPERATIONS.get(w);
      if (c) return { category: c, weight: 0.7, verb: base, phrase: `${base} ${w}` };
    }
    // `start a new task` makes something; `start the worker` changes its state.
    if (base === 'start') return next === 'new' || (/^(?:a|an)$/.test(next ?? '') && clause[i + 2] === 'new') ? { category: 'CREATE', weight: 0.7, verb: base, phrase: 'start a new thing' } : { category: 'MODIFY', weight: 0.65, verb: base, phrase: base };
    return { category: 'MODIFY', weight: 0.45, verb: base, phrase: base };
  }
  const c = VERBS.get(base) ?? (VAGUE_VERBS.has(base) ? 'MODIFY' : undefined);
  if (!c) return undefined;
  const weight = VAGUE_VERBS.has(base) ? (base === 'fix' || base === 'clear' ? 0.65 : 0.45) : 0.8;
  return { category: c, weight, verb: base, phrase: base };
}

// ---------------------------------------------------------------------------------------------
// Commands inside text

/** Programs whose name at the start of a text means the text is a command. */
const TEXT_TOOLS = new Set(['kubectl', 'oc', 'helm', 'terraform', 'tofu', 'terragrunt', 'pulumi', 'git', 'docker', 'podman', 'aws', 'gcloud',
  'gsutil', 'az', 'doctl', 'psql', 'mysql', 'sqlite3', 'mongosh', 'redis-cli', 'rm', 'cp', 'mv', 'chmod', 'chown', 'mkdir', 'curl', 'wget',
  'npm', 'pnpm', 'yarn', 'pip', 'pip3', 'apt', 'apt-get', 'brew', 'systemctl', 'journalctl', 'sudo', 'ssh', 'rsync', 'ansible-playbook', 'bq', 'vault', 'gh',
  'trivy', 'grype', 'checkov', 'tfsec', 'prowler', 'kube-bench', 'pip-audit', 'snyk', 'semgrep', 'gitleaks', 'trufflehog', 'crontab']);

/** SQL that looks like SQL, not an English sentence starting with `update` or `drop`. */
const SQL_TEXT = /^\s*(?:select\s[\s\S]*?\bfrom\b|select\s+(?:count|now|version|\d)|insert\s+into\s|update\s+[\w."`]+\s+set\s|delete\s+from\s|drop\s+(?:table|database|schema|index|view)\s|truncate\s+(?:table\s+)?[\w."`]+\s*;?\s*$|alter\s+(?:table|database)\s|create\s+(?:table|index|database|schema|view|unique)\s|grant\s+\w+\s+on\s)/i;

function commandInText(text: string): Clue | undefined {
  const trimmed = text.trim();
  const first = /^[\w.-]+/.exec(trimmed)?.[0]?.toLowerCase();
  if ((first && TEXT_TOOLS.has(first)) || SQL_TEXT.test(trimmed.slice(0, 400))) {
    const c = categoryOfCommand(trimmed);
    if (c) return { category: c, weight: 0.85, signal: `command in text: ${trimmed.split(/\s+/).slice(0, 3).join(' ')}` };
  }
  let best: Clue | undefined;
  for (const m of text.matchAll(/`([^`\n]{1,400})`/g)) {
    const c = categoryOfCommand(m[1]!);
    if (c && (!best || graver(best.category, c) === c)) best = { category: c, weight: 0.85, signal: `command in text: ${m[1]!.split(/\s+/).slice(0, 3).join(' ')}` };
  }
  if (best) return best;
  const run = /\b(?:run|execute|exec)\s+((?:sudo\s+)?([\w.-]+)[^\n;]{0,300})/i.exec(text);
  if (run && TEXT_TOOLS.has(run[2]!.toLowerCase())) {
    const c = categoryOfCommand(run[1]!);
    if (c) return { category: c, weight: 0.85, signal: `command in text: ${run[1]!.split(/\s+/).slice(0, 3).join(' ')}` };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The text's category

/** Reads the category a free-text request states. */
export function readText(raw: string): TextReading {
  const text = raw.length > MAX_TEXT ? raw.slice(0, MAX_TEXT) : raw;
  const words = wordsOf(text);
  const reading: TextReading = { clue: undefined, commandClue: commandInText(text), negated: [], verb: undefined, verbAt: -1, question: false, asked: undefined, words };
  const clauses = clausesOf(text);
  const reads: (VerbRead & { at: number })[] = [];
  let weak: (VerbRead & { at: number }) | undefined;
  // A question asks to know: `how many pods ...`, `is the api healthy?`, `do we have backups?`.
  const asks = text.includes('?');
  const isQuestion = (c: string[]) => c.length > 1 && (QUESTION_WORDS.has(c[0]!) || (/^(?:do|does|did)$/.test(c[0]!) && QUESTION_SUBJECTS.has(c[1]!)));
  let question = false;
  let offset = 0;
  let wanted: VerbRead | undefined;
  for (let ci = 0; ci < clauses.length; ci++) {
    const { words: clause, purpose, lead } = clauses[ci]!;
    const at = (k: number) => offset + k;
    offset += clause.length;
    if (purpose) continue;
    // `before you delete anything, ...`, `if it fails, ...`: a condition, not something to do.
    if (lead !== undefined && CONDITIONS.has(lead) && SUBJECTS.has(clause[0]!)) continue;
    // `can cleanup-agent delete temp files?`: whether an agent may act; the verb is what it would do.
    const permission = ci === 0 || asks ? permissionAsked(clause) : undefined;
    if (permission && !reading.asked) reading.asked = { agent: permission.agent, clause, verbAt: permission.verbAt };
    // `any chance you could add ...`, `is it possible to restart ...`: a request put as a question.
    const polite = permission ? permission.verbAt : politeAt(clause);
    if (polite < 0 && (ci === 0 || asks) && isQuestion(clause)) { question = true; continue; }
    let k = polite < 0 ? 0 : polite;
    let negated = false;
    let wants = false;
    while (k < clause.length) {
      const w = clause[k]!;
      if (NEGATIONS.has(w) || (w === 'do' && clause[k + 1] === 'not') || (w === 'no' && clause[k + 1] === 'need')) { negated = true; k++; continue; }
      if (FILLERS.has(w) || /^\d+$/.test(w) || (w.length > 5 && w.endsWith('ly') && !VERBS.has(w))) {
        if (WANTING.has(w)) wants = true;
        k++;
        continue;
      }
      break;
    }
    let w = clause[k];
    // `spot-check`, `force-delete`, `re-run`: the verb is the last part.
    if (w !== undefined && w.includes('-') && !baseOf(w)) {
      const last = partsOf(w).pop()!;
      if (baseOf(last) === last) w = last;
    }
    let read: VerbRead | undefined;
    if (w !== undefined) {
      const base = w === 'up' && DETERMINERS.has(clause[k + 1] ?? '') ? 'up' : baseOf(w);
      // After `and`, a verb that heads a compound noun (`... and change failure rate`) is part of a list of things.
      const nounLike = lead !== undefined && k === 0 && COMPOUND_HEADS.has(clause[k + 1] ?? '');
      if (base && (base === w || isGerund(w)) && !nounLike) {
        read = readVerb(clause, k, base);
        if (read && base !== w) read = { ...read, weight: Math.min(read.weight, 0.7) };
      }
      // `I need the db password`, `want a new bucket`: asking for a thing without a verb.
      if (!read && wants && !negated && !wanted && DETERMINERS.has(w)) {
        wanted = clause[k + 1] === 'new' || w === 'a' || w === 'an'
          ? { category: 'CREATE', weight: 0.55, verb: 'need', phrase: `need ${w} ...` }
          : { category: 'ACCESS', weight: 0.6, verb: 'need', phrase: `need ${w} ...` };
      }
    }
    if (read) {
      if (negated) reading.negated.push(read.verb);
      else reads.push({ ...read, at: at(k) });
    } else if (!weak) {
      // No verb where one belongs: a verb later in the clause (`the pods need to be deleted`) is weak evidence.
      for (let j = k; j < clause.length; j++) {
        const cw = clause[j]!;
        if (NEGATIONS.has(cw)) break;
        const base = baseOf(cw);
        if (!base || (DETERMINERS.has(clause[j - 1] ?? '') && base === cw)) continue;
        const r = readVerb(clause, j, base);
        if (r) { weak = { ...r, weight: Math.min(r.weight, 0.5), at: at(j) }; break; }
      }
    }
  }
  // Of several clear verbs the most consequential counts, as for a script's commands; a vague verb
  // counts only when nothing clearer was said.
  const clear = reads.filter((r) => r.weight >= 0.6);
  const pool = clear.length ? clear : reads;
  let strong: (VerbRead & { at: number }) | undefined;
  for (const r of pool) {
    if (!strong || RANK[r.category] > RANK[strong.category] || (r.category === strong.category && r.weight > strong.weight)) strong = r;
  }
  let clue: Clue | undefined;
  if (strong) {
    clue = { category: strong.category, weight: strong.weight, signal: `verb '${strong.phrase}'` };
    reading.verb = strong.verb;
    reading.verbAt = strong.at;
  }
  reading.question = question;
  if (question && (!clue || clue.category === 'ACCESS' || clue.category === 'COMPLY')) {
    clue = clue?.category === 'COMPLY' ? clue : { category: 'ACCESS', weight: 0.7, signal: 'a question' };
  }
  if (!clue && wanted) clue = { category: wanted.category, weight: wanted.weight, signal: `asks for a thing ('${wanted.phrase}')` };
  if (!clue && weak) {
    clue = { category: weak.category, weight: weak.weight, signal: `verb '${weak.phrase}' (not in the imperative)` };
    reading.verb = weak.verb;
    reading.verbAt = weak.at;
  }
  if (!clue) {
    // No verb at all (`disk usage on runner-2`, `quarterly access report`): a noun naming an operation.
    for (const w of words) {
      const c = NOUN_OPERATIONS.get(w);
      if (c) { clue = { category: c, weight: 0.45, signal: `operation '${w}' (no verb)` }; break; }
    }
  }
  // Terse notation for a change: `replicas 3 -> 6`, `web=5`.
  if (!clue && /(?:->|→|=>)|\b[a-z][\w-]*=[\w.-]+/i.test(text)) clue = { category: 'MODIFY', weight: 0.5, signal: 'a value being set (no verb)' };
  // Reading or making a document about compliance is a COMPLY request (`generate the SOC 2 report`).
  // Making a document needs the document to be one (`generate a report`, not `create a bucket with versioning`).
  if (clue && (clue.category === 'ACCESS' || (clue.category === 'CREATE' && reading.verb !== undefined && DOCUMENT_VERBS.has(reading.verb) && words.some((w) => DOCUMENTS.has(w))) || clue.weight < 0.5)) {
    const cue = complianceCue(words);
    if (cue) clue = { category: 'COMPLY', weight: Math.max(clue.weight, 0.7), signal: `${clue.signal}, about '${cue}'` };
  }
  reading.clue = clue;
  return reading;
}

const BY_LENGTH = [...VERBS.keys()].filter((v) => v.length >= 3).sort((a, b) => b.length - a.length);
const ACTION_OBJECTS = /^(?:object|item|record|entry|entries|message|value|parameter|polic|stack|function|table|key|version|alias|group|rule|tag|instance|snapshot|image|volume|bucket|cluster|service|task|event|stream|queue|topic|user|role|secret|file|database|db|pod|deployment|node|namespace|branch|repo|release|job|log|metric|alarm|trail|vpc|subnet|route|zone|record|certificate|access|login|account)/;

/** `getobject` -> `get`, `terminateinstances` -> `terminate`: a verb glued to the object's name. */
function verbPrefix(word: string): string | undefined {
  for (const v of BY_LENGTH) if (word.length > v.length && word.startsWith(v) && ACTION_OBJECTS.test(word.slice(v.length))) return v;
  return undefined;
}

/** A word (or pair of words) that makes a request about compliance. */
function complianceCue(words: string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (COMPLY_CUES.has(w)) return w;
    if (w === 'public' && /^(?:access|exposure|exposed)$/.test(words[i + 1] ?? '')) return `public ${words[i + 1]}`;
    if (w === 'publicly' && /^(?:accessible|readable|exposed)$/.test(words[i + 1] ?? '')) return `publicly ${words[i + 1]}`;
    if (w === 'least' && words[i + 1] === 'privilege') return 'least privilege';
    if (w === 'change' && /^(?:tickets?|management|approvals?|records?)$/.test(words[i + 1] ?? '')) return `change ${words[i + 1]}`;
    if (w === 'without' && /^(?:approvals?|review|a|an)$/.test(words[i + 1] ?? '') && /^(?:approvals?|review|ticket|change)/.test(words[i + 2] ?? words[i + 1] ?? '')) return 'without approval';
  }
  return undefined;
}

/** The category of an action name such as `read_file`, `s3:GetObject` or `generate_report`. */
export function readAction(action: string): Clue | undefined {
  const parts = action.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  let clue: Clue | undefined;
  for (const p of parts) {
    // `RunInstances`, `run_task`: something new starts.
    const c = VERBS.get(p) ?? VERBS.get(verbPrefix(p) ?? '') ?? (/^run(?:instances?|tasks?|jobs?)$/.test(p) || (p === 'run' && parts.length > 1) ? 'CREATE' : undefined);
    if (c) { clue = { category: c, weight: 0.75, signal: `action '${action}'` }; break; }
  }
  if (!clue) {
    for (const p of parts) {
      const c = NOUN_OPERATIONS.get(p);
      if (c) { clue = { category: c, weight: 0.5, signal: `action '${action}'` }; break; }
    }
  }
  if (clue && clue.category !== 'COMPLY' && parts.some((p) => COMPLY_CUES.has(p)) && clue.category !== 'DELETE' && clue.category !== 'MODIFY') {
    clue = { category: 'COMPLY', weight: 0.75, signal: `action '${action}'` };
  }
  return clue;
}

// ---------------------------------------------------------------------------------------------
// Resource

/** The resource a text is about: the first resource noun after the verb, else anywhere. */
export function resourceIn(words: string[], from: number): string | undefined {
  const kindOf = (w: string): string | undefined => {
    if (RESOURCE_NOUNS[w]) return RESOURCE_NOUNS[w];
    const parts = partsOf(w);
    return parts.length > 1 ? RESOURCE_NOUNS[parts[parts.length - 1]!] : undefined;
  };
  for (let i = Math.max(0, from + 1); i < words.length; i++) {
    const k = kindOf(words[i]!);
    if (k) return k;
  }
  for (let i = 0; i < words.length; i++) {
    const k = kindOf(words[i]!);
    if (k) return k;
  }
  return undefined;
}
