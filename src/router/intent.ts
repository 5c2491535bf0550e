// The built-in intent router: a request's category, risk, environment and resource kind, read from
// its command, action and free text without a model. Each source gives a clue with a weight; the
// command wins (it is what will run), clues that disagree lower the confidence, and a request whose
// confidence stays under UNCLEAR_BELOW is marked unclear so that the pipeline can ask a model.
// Risk follows the default pack's scale: low (dev, read-only, reversible, under $10), medium
// (staging, limited blast radius, under $100), high (production writes, over $100), critical
// (delete in production, credentials or personal data, over $1000, a compliance violation).
// Deterministic and local: no network, no clock, no randomness.
import { FINDING_KINDS, normalizeEnvironment, type Category } from '../policy/vocabulary.js';
import { categoryOfCommand, categoryOfVerb } from '../request/category.js';
import { detect, type Finding } from '../request/detectors/index.js';
import type { Request } from '../request/normalize.js';
import { readCommand } from './intent-command.js';
import { CLOUD_KINDS, ENV_NAMES, ENV_TIERS, KUBE_KINDS, RESOURCE_NOUNS } from './intent-lexicon.js';
import { credentialIn, environmentsIn, moneyIn, personalDataIn, sweepingDeleteIn, violationIn, wideIn, type EnvMention } from './intent-cues.js';
import { graver, MAX_TEXT, readAction, readText, resourceIn, wordsOf, type Clue } from './intent-text.js';

export const RISKS = ['low', 'medium', 'high', 'critical'] as const;
export type Risk = (typeof RISKS)[number];

export interface Intent {
  category: Category | null;
  risk: Risk;
  environment: string | null;
  resource_kind: string | null;
  /** How much the category and risk can be trusted, 0..1. */
  confidence: number;
  /** The evidence is weak or conflicting: a model (if configured) should decide. */
  unclear: boolean;
  /** Short reasons, in the order they were found. */
  signals: string[];
}

/** Under this confidence a request is unclear. */
export const UNCLEAR_BELOW = 0.6;

/** Actions that say only that something runs, not what. */
const GENERIC_ACTIONS = new Set(['shell_exec', 'shell', 'exec', 'execute', 'run', 'request', 'bash', 'sh', 'command', 'cmd', 'tool', 'tool_call',
  'call', 'invoke', 'do', 'perform', 'task', 'action', 'agent', 'prompt', 'api_call', 'http_request', 'script', 'run_command', 'execute_command']);

/** Findings that are critical wherever they happen. */
const SEVERE_FINDINGS = new Set(['rm-root', 'disk-wipe', 'rm-system', 'system-overwrite', 'git-force-push-protected', 'chmod-recursive', 'prompt-injection']);
/** Findings that remove a whole environment, stack or namespace. */
const SWEEPING_FINDINGS = new Set(['terraform-destroy', 'kubectl-delete-namespace']);
const CRITICAL_PII = new Set(['ssn', 'credit-card', 'iban']);
/** Verbs that read names and counts, not contents. */
const METADATA_VERBS = new Set(['list', 'ls', 'count', 'describe', 'inventory', 'check', 'verify', 'confirm']);

const rankOf = (r: Risk): number => RISKS.indexOf(r);

/** Environments made for one change and thrown away after it. */
const EPHEMERAL = /\b(?:preview|ephemeral|review[\s-]app|pr[\s-]\d+|throwaway|disposable)\b/i;
/** A store removed and filled again at once. */
const RESET = /\b(?:re-?seed|reseeding|re-?create|re-?initiali[sz]e|repopulate)\b/i;
/** Verbs that change how a credential may be used, not who can read it. */
const USAGE_VERBS = new Set(['throttle', 'limit', 'tag', 'label', 'annotate']);

/** How far apart two categories are: creating and changing are close, reading and deleting are not. */
function distance(a: Category, b: Category): number {
  if (a === b) return 0;
  const pair = new Set([a, b]);
  if (pair.has('CREATE') && pair.has('MODIFY')) return 0.15;
  if (pair.has('ACCESS') && pair.has('COMPLY')) return 0.15;
  return 0.45;
}

function envTier(name: string): number | undefined {
  return ENV_TIERS[name] ?? ENV_TIERS[normalizeEnvironment(name)];
}

function kindOfResourceType(type: string): string {
  const last = type.toLowerCase().split(/[:/.]/).filter(Boolean).pop() ?? type;
  return KUBE_KINDS[last] ?? CLOUD_KINDS[last] ?? RESOURCE_NOUNS[last] ?? last;
}

/** Classifies a normalized request. `findings` are the detectors' (computed here when not given). */
export function classify(request: Request, findings?: Finding[]): Intent {
  const signals: string[] = [];
  const found = findings ?? detect(request);
  const text = request.request ?? '';
  const command = request.command ?? '';

  // --- Category: one clue per source.
  const cmdCategory = command ? categoryOfCommand(command) : undefined;
  const cmd = command ? readCommand(command) : undefined;
  let cmdClue: Clue | undefined = cmdCategory ? { category: cmdCategory, weight: 0.9, signal: `command ${cmd?.summary ?? ''}`.trim() } : undefined;
  if (command && !cmdCategory) {
    // An unknown program or script: its name may say what it does (`backup.sh`, `cleanup_old_users.py`).
    const named = cmd?.summary ? readAction(cmd.summary.split(' ')[0]!.replace(/\.\w+$/, '')) : undefined;
    if (named) cmdClue = { category: named.category, weight: 0.5, signal: `command ${cmd!.summary} (by its name)` };
    else signals.push(`command ${cmd?.summary || 'not recognized'} (category unknown)`);
  }
  const reading = text ? readText(text) : undefined;
  const actionClue = GENERIC_ACTIONS.has(request.action) ? undefined : readAction(request.action);
  // A category the normalizer inferred repeats the command or verb; only a declared one is a clue.
  const inferred = cmdCategory ?? categoryOfVerb(request.action);
  const declared: Clue | undefined = request.category && request.category !== inferred
    ? { category: request.category, weight: 0.6, signal: `declared category ${request.category}` } : undefined;

  // The command is what will run; without one, the stronger of the action and the text, and of two
  // clear clues that disagree, the more consequential reading (the safer one) at the weaker's weight.
  let primary: Clue | undefined = cmdClue ?? reading?.commandClue;
  let weight = primary?.weight ?? 0.2;
  if (!primary) {
    for (const c of [actionClue, reading?.clue, declared]) {
      if (!c) continue;
      if (!primary || c.weight > weight + 0.05 || (Math.abs(c.weight - weight) <= 0.05 && graver(primary.category, c.category) === c.category)) { primary = c; weight = c.weight; }
      else if (c.weight >= 0.6 && weight >= 0.6 && graver(primary.category, c.category) === c.category) primary = c;
    }
  }
  const others = [cmdClue, reading?.commandClue, actionClue, reading?.clue, declared].filter((c): c is Clue => c !== undefined && c !== primary);
  let confidence = weight;
  const category: Category | null = primary?.category ?? null;
  if (primary) signals.push(reading?.asked && primary === reading.clue ? `asks whether ${reading.asked.agent ?? 'an agent'} may: ${primary.signal}` : primary.signal);
  if (primary) {
    let agree = 0;
    for (const o of others) {
      if (o.category === primary.category) { agree++; continue; }
      confidence -= o.weight * distance(primary.category, o.category);
      signals.push(`conflict: ${o.signal} says ${o.category}`);
    }
    confidence += 0.05 * Math.min(agree, 2);
  } else {
    signals.push('no verb, command or action to go by');
  }
  for (const v of reading?.negated ?? []) signals.push(`negated verb '${v}'`);

  // --- Environment: the request's field, or the one its text and command name.
  const resource = request.resource;
  const mentions: EnvMention[] = [];
  for (const source of [text, command, resource.id, typeof resource.path === 'string' ? resource.path : '', request.namespace ?? '', typeof resource.namespace === 'string' ? resource.namespace : '']) {
    if (!source) continue;
    for (const m of environmentsIn(source)) if (!mentions.some((x) => x.name === m.name)) mentions.push(m);
  }
  const field = request.environment;
  const fieldTier = envTier(field);
  let environment = field;
  let tier = fieldTier ?? 2;
  if (fieldTier === undefined) {
    confidence -= 0.1;
    signals.push(`environment ${field} (unknown, taken as staging)`);
  }
  if (mentions.length) {
    const strictest = mentions.reduce((a, b) => (b.tier > a.tier ? b : a));
    if (mentions.length > 1 && new Set(mentions.map((m) => m.tier)).size > 1) confidence -= 0.05;
    if (fieldTier !== undefined && strictest.tier !== fieldTier) {
      if (fieldTier === 3 && strictest.tier < 3) {
        // Production is also the default of a request that names none: the text is more specific.
        environment = ENV_NAMES[strictest.word] ?? strictest.name;
        tier = strictest.tier;
        confidence -= 0.05;
        signals.push(`environment ${environment} (named in the request; the field says ${field})`);
      } else if (strictest.tier > fieldTier) {
        environment = ENV_NAMES[strictest.word] ?? strictest.name;
        tier = strictest.tier;
        confidence -= 0.25;
        signals.push(`environment ${environment} named, but the field says ${field}: the stricter counts`);
      } else {
        signals.push(`environment ${field}`);
      }
    } else signals.push(`environment ${field}`);
  } else if (fieldTier !== undefined) signals.push(`environment ${field}`);

  // --- Resource kind: declared type, else the command's, else the text's.
  let resourceKind: string | undefined;
  if (resource.type && resource.type !== 'none') resourceKind = kindOfResourceType(resource.type);
  resourceKind ??= cmd?.resourceKind;
  if (!resourceKind && reading) resourceKind = resourceIn(reading.words, reading.verbAt);

  // --- Risk.
  let risk: Risk;
  const mutating = category === 'CREATE' || category === 'MODIFY' || category === 'DELETE';
  if (category === 'ACCESS' || category === 'COMPLY') {
    risk = 'low';
    signals.push(category === 'ACCESS' ? 'read-only' : 'audit or report');
  } else if (category === 'DELETE') {
    risk = tier >= 3 ? 'critical' : tier === 2 ? 'medium' : 'low';
    if (tier >= 3) signals.push('delete in production');
  } else {
    risk = tier >= 3 ? 'high' : tier === 2 ? 'medium' : 'low';
    if (tier >= 3 && category) signals.push('write in production');
  }
  const raise = (to: Risk, why: string) => {
    if (rankOf(to) > rankOf(risk)) { risk = to; signals.push(why); }
  };
  const scanned = [text, command, request.action, resource.id, typeof resource.path === 'string' ? resource.path : ''].filter(Boolean).join('\n');

  const usd = Math.max(request.cost.usd, moneyIn(text) ?? 0);
  if (usd > 1000) raise('critical', `cost $${usd} over $1000`);
  else if (usd > 100) raise('high', `cost $${usd} over $100`);
  else if (usd >= 10) raise('medium', `cost $${usd} over $10`);

  // Targets taken from a listing (`docker stop $(docker ps -q)`) are every one of them.
  const listed = /\$\([^()]{0,200}\b(?:ps|get|ls|list|find)\b[^()]{0,200}\)|`[^`]{0,200}\b(?:ps|get|ls|list)\b[^`]{0,200}`/.test(command.slice(0, MAX_TEXT)) ? 'targets from a listing' : undefined;
  const wide = wideIn(`${text}\n${command}`) ?? listed;
  if (wide && mutating && tier === 2) raise('high', `wide blast radius ('${wide}')`);

  const sweeping = found.find((f) => SWEEPING_FINDINGS.has(f.kind))?.kind ?? sweepingDeleteIn(`${text}\n${command}`);
  // A preview environment of one change is made to be thrown away; a dev database wiped and seeded
  // again is a reset. Neither removes anything that was meant to last.
  const disposable = sweeping !== undefined && tier <= 2 && (EPHEMERAL.test(sweeping) || (tier === 1 && RESET.test(text)));
  if (sweeping && category === 'DELETE' && !disposable) raise(tier >= 3 ? 'critical' : tier === 2 ? 'high' : 'medium', `removes a whole environment or store (${sweeping})`);
  else if (sweeping && category === 'DELETE') signals.push(`removes a disposable environment or store (${sweeping})`);

  for (const f of found) {
    const cls = FINDING_KINDS[f.kind];
    if (SEVERE_FINDINGS.has(f.kind)) raise('critical', `finding ${f.kind}`);
    else if (cls === 'secret') raise('critical', `credential in ${f.field} (${f.kind})`);
    else if (cls === 'pii' && CRITICAL_PII.has(f.kind)) raise('critical', `personal data in ${f.field} (${f.kind})`);
    else if (cls === 'pii') signals.push(`${f.kind} in ${f.field}`);
    else if (f.kind === 'sql-grant-all') raise('high', `finding ${f.kind}`);
    else if (f.kind === 'sql-unbounded-write') raise('medium', `finding ${f.kind}`);
  }

  const classification = typeof resource.classification === 'string' ? resource.classification.toLowerCase() : undefined;
  if (classification === 'secret' || classification === 'pii') raise('critical', `resource classified ${classification}`);
  if (resourceKind === 'secret' && category !== 'COMPLY') raise('critical', 'credential access (a secret)');
  const credential = credentialIn(scanned);
  if (credential) {
    // Throttling or tagging a key changes how it may be used, not who can read it.
    if (category === 'MODIFY' && reading?.verb !== undefined && USAGE_VERBS.has(reading.verb) && !cmdClue) signals.push(`limits a credential's use ('${credential}')`);
    else if (category !== 'COMPLY') raise('critical', `credential access ('${credential}')`);
    else signals.push(`mentions credentials ('${credential}')`);
  }
  // A store of people's data counts when its content is read or changed, not when it is listed or asked about.
  const personal = personalDataIn(scanned);
  const metadataOnly = reading !== undefined && !cmdClue && (reading.question || METADATA_VERBS.has(reading.verb ?? ''));
  if (personal) {
    if (category !== 'COMPLY' && !(personal.store && metadataOnly)) raise('critical', `personal data ('${personal.what}')`);
    else signals.push(`mentions personal data ('${personal.what}')`);
  }
  const violation = violationIn(scanned);
  if (violation) raise('critical', `compliance violation: ${violation}`);

  confidence = Math.round(Math.min(0.99, Math.max(0.05, confidence)) * 100) / 100;
  const unclear = category === null || confidence < UNCLEAR_BELOW;
  return {
    category,
    risk,
    environment: environment || null,
    resource_kind: resourceKind ?? null,
    confidence,
    unclear,
    signals,
  };
}

/** What a sentence says about a request: who would act, the verb, on what, where. */
export interface Sentence {
  agent: string | null;
  action: string | null;
  /** The words naming the thing acted on (`temp files`, `db schema`). */
  resource: string | null;
  resource_kind: string | null;
  environment: string | null;
  /** A place named after `in` that is not an environment (`in my-project`). */
  namespace: string | null;
}

const STOPS = new Set(['in', 'on', 'at', 'from', 'to', 'into', 'onto', 'for', 'with', 'without', 'under', 'of', 'across', 'inside', 'within', 'and', 'or', 'so', 'if', 'when', 'because']);
const ARTICLES = new Set(['the', 'a', 'an', 'our', 'my', 'your', 'their', 'its', 'this', 'that', 'these', 'those', 'some', 'all', 'any']);
const PLACE_NOUNS = new Set(['namespace', 'ns', 'project', 'env', 'environment', 'cluster', 'account', 'workspace']);

/**
 * Reads a free-text request, above all a question in the form `Can cleanup-agent delete temp files
 * in my-project?` or `Should architect-agent modify production DB schema?`: the agent it names, the
 * verb, the thing acted on, the environment and the place. A field the sentence does not say is null.
 */
export function readSentence(text: string): Sentence {
  const t = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  const reading = readText(t);
  const out: Sentence = { agent: null, action: null, resource: null, resource_kind: null, environment: null, namespace: null };
  const asked = reading.asked;
  out.agent = asked?.agent ?? null;
  out.action = reading.verb ?? null;
  const clause = asked?.clause ?? wordsOf(t);
  const verbAt = asked ? asked.verbAt : clause.findIndex((w) => w === reading.verb);
  if (verbAt >= 0) {
    const thing: string[] = [];
    for (let i = verbAt + 1; i < clause.length && thing.length < 4; i++) {
      const w = clause[i]!;
      if (STOPS.has(w)) break;
      if (ARTICLES.has(w) || (ENV_TIERS[w] !== undefined && !thing.length)) continue;
      thing.push(w);
    }
    if (thing.length) out.resource = thing.join(' ');
    out.resource_kind = resourceIn(clause, verbAt) ?? null;
    // `in my-project`, `in the payments namespace`: a place that is not an environment.
    for (let i = verbAt + 1; i < clause.length; i++) {
      if (clause[i] !== 'in' && clause[i] !== 'on') continue;
      const rest = clause.slice(i + 1).filter((w) => !ARTICLES.has(w));
      const first = rest[0];
      if (first === undefined || ENV_TIERS[first] !== undefined) continue;
      if (PLACE_NOUNS.has(rest[1] ?? '') || /[-_]/.test(first) || rest.length === 1) { out.namespace = first; break; }
    }
  }
  const envs = environmentsIn(t);
  if (envs.length) {
    const strictest = envs.reduce((a, b) => (b.tier > a.tier ? b : a));
    out.environment = ENV_NAMES[strictest.word] ?? strictest.name;
  }
  return out;
}
