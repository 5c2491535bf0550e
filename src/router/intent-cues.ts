// The cues of risk in a request's text and command: the environments named in it, money amounts,
// credentials, personal data, compliance violations, a wide blast radius and the removal of a whole
// environment or store. Regular expressions here have bounded repetition and read at most MAX_TEXT
// characters, so that long or hostile input stays cheap.
import { AMBIGUOUS_ENVS, ENV_NAMES, ENV_NOUNS, ENV_PREPOSITIONS, ENV_TIERS } from './intent-lexicon.js';
import { MAX_TEXT } from './intent-text.js';

// ---------------------------------------------------------------------------------------------
// Environment and cost

export interface EnvMention { name: string; tier: number; word: string }

/** Environments named in a text: `in prod`, `the staging db`, `acme-prod-uploads`, `-n dev`. */
export function environmentsIn(text: string): EnvMention[] {
  const words = (text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text).replace(/\/dev\/[\w/]*/g, ' ').toLowerCase().match(/[a-z0-9]+/g) ?? [];
  const out: EnvMention[] = [];
  for (let i = 0; i < words.length; i++) {
    let w = words[i]!;
    if (w === 'non' && (words[i + 1] === 'prod' || words[i + 1] === 'production')) { w = 'nonprod'; i++; }
    const tier = ENV_TIERS[w];
    if (tier === undefined) continue;
    const prev = words[i - 1];
    const next = words[i + 1];
    if (AMBIGUOUS_ENVS.has(w)) {
      const placed = (prev !== undefined && ENV_PREPOSITIONS.has(prev)) || (next !== undefined && ENV_NOUNS.has(next)) || (w === 'live' && prev === 'go');
      if (!placed) continue;
    }
    if (w === 'dev' && (prev === 'save' || prev === 'no')) continue;
    if (!out.some((e) => e.word === w)) out.push({ name: ENV_NAMES[w] ?? w, tier, word: w });
  }
  return out;
}

/** The largest amount of money named in a text (`$1,800 a day`, `about $60`, `2k USD`), in dollars. */
export function moneyIn(text: string): number | undefined {
  let best: number | undefined;
  const t = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  const scale = (s: string | undefined) => (!s ? 1 : /^k|thousand/i.test(s) ? 1_000 : /^m|million/i.test(s) ? 1_000_000 : 1);
  for (const m of t.matchAll(/\$\s?(\d{1,3}(?:,\d{3})+|\d{1,12})(\.\d{1,2})?\s?(k\b|m\b|thousand|million)?/gi)) {
    const v = Number(m[1]!.replace(/,/g, '') + (m[2] ?? '')) * scale(m[3]);
    if (Number.isFinite(v)) best = Math.max(best ?? 0, v);
  }
  for (const m of t.matchAll(/\b(\d{1,3}(?:,\d{3})+|\d{1,12})(\.\d{1,2})?\s?(k|thousand|million)?\s?(?:usd|dollars)\b/gi)) {
    const v = Number(m[1]!.replace(/,/g, '') + (m[2] ?? '')) * scale(m[3]);
    if (Number.isFinite(v)) best = Math.max(best ?? 0, v);
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Cues of risk

const CREDENTIAL = /(?:\b(?:secrets?|credentials?|creds|passwords?|(?<!\/etc\/)passwd|passphrases?|api[\s_-]?keys?|access[\s_-]?keys?|secret[\s_-]?keys?|private[\s_-]?keys?|ssh[\s_-]?keys?|signing[\s_-]?(?:keys?|secrets?)|kubeconfig|keyvault|key[\s_-]vault|keychain|keystore|id_rsa|id_ed25519|id_ecdsa|htpasswd|secretsmanager|(?:access|auth|bearer|api|oauth|session|refresh|github|gitlab|slack|personal[\s_-]access|service[\s_-]account)[\s_-]?tokens?)\b|(?:^|[\s/'"=])\.env(?:\.[\w-]+)?\b|\b[\w-]{1,100}\.pem\b|\/etc\/shadow\b|\b(?:kms|encryption|decryption|master|root|gpg|pgp|age)[\s_-]?keys?\b|\bservice[\s_-]accounts?[\s_-]keys?\b|\bkeys\s+create\b|\bvault\s+(?:kv|read|write)\b|\b(?:from|in|into|to)\s+(?:the\s+)?vault\b|\b(?:print|dump|show|list|read|get|cat|export|display|echo)\b[^.;\n]{0,40}?\b(?:environment\s+variables|env\s+vars)\b|(?:^|[;&|]\s*)(?:printenv|env)\s*(?:$|[;&|])|\/proc\/(?:self|\d+)\/environ\b)/i;

/** Personal fields: naming one is reading personal data. */
const PERSONAL = /\b(?:pii|ssns?|social[\s_-]security|credit[\s_-]?cards?|card[\s_-]?numbers?|cardholders?|personal[\s_-](?:data|information|info|details)|personally[\s_-]identifiable|date[\s_-]?of[\s_-]?birth|dob|passports?|salar(?:y|ies)|medical[\s_-]records?|health[\s_-]records?|phi|tax[\s_-]ids?|national[\s_-]ids?|home[\s_-]addresses|bank[\s_-]accounts?|ibans?)\b|\b(?:customer|customers|user|users|client|clients|employee|employees|member|members|patient|people|person|subscriber|subscribers)(?:'s|s')?\s+(?:(?:home|shipping|billing|mailing|postal|email|personal|full|legal|contact)\s+)?(?:e-?mails?|e-?mail\s+addresses|phone(?:\s+numbers?)?|phones|addresses|address|names?|contact\s+(?:info|details))\b|\b(?:phone\s+numbers?|(?:home|shipping|billing|mailing|postal)\s+addresse?s?|e-?mail\s+addresses|dates?\s+of\s+birth)\b/i;
/** Places that hold personal data: reading their content is reading personal data, listing them is not. */
const PERSONAL_STORES = /\b(?:payroll|patients?)\b|\b(?:customer|customers|user|users|client|clients|patient|patients)[-_](?:data|exports?|dumps?|records|pii|profiles?|emails?|addresses|phones?)\b|\b(?:customer|customers|user|users|client|clients|employee|employees|member|members|patient|people|subscriber|subscribers)(?:'s|s')?\s+(?:records|data|details|pii|profiles?|files?|exports?|dumps?)\b/i;

const NAMED_PERSON = /\b(?:user|customer|subscriber|member|client|patient|employee|person|contact|recipient)\s+<?[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,4}\b/i;

const PERSONAL_COLUMNS = /\b(?:email|e_mail|phone|phone_number|ssn|address|dob|date_of_birth|birth_date|birthdate|first_name|last_name|full_name|salary|card_number|iban|passport)\b/i;
const PEOPLE_TABLE = /(?:\bfrom|--table-name|--table|\btable)[\s=]+["'`]?(?:\w+\.)?(?:users|customers|patients|employees|members|people|persons|contacts|clients|subscribers)\b/i;
const WHOLE_ROWS = /\bselect\s+\*|\b(?:scan|dump|export|pg_dump|mysqldump|mongoexport)\b/i;

/** Personal data a text or command names or reads: a personal field, or a store of people's data. */
export function personalDataIn(text: string): { what: string; store: boolean } | undefined {
  const t = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  const named = PERSONAL.exec(t);
  if (named) return { what: named[0].toLowerCase(), store: false };
  const sel = /\bselect\b/i.exec(t);
  if (sel) {
    const from = t.slice(sel.index).search(/\bfrom\b/i);
    const columns = from > 0 ? t.slice(sel.index, sel.index + from) : '';
    const col = PERSONAL_COLUMNS.exec(columns);
    if (col) return { what: `column ${col[0].toLowerCase()}`, store: false };
  }
  // `the user jane.doe@example.com`: a person, named by their address.
  if (NAMED_PERSON.test(t)) return { what: "a person's email address", store: false };
  const table = PEOPLE_TABLE.exec(t);
  if (table && WHOLE_ROWS.test(t)) return { what: `rows of ${table[0].split(/[\s=.'"`]+/).pop()!.toLowerCase()}`, store: false };
  const store = PERSONAL_STORES.exec(t);
  if (store) return { what: store[0].toLowerCase(), store: true };
  return undefined;
}

export function credentialIn(text: string): string | undefined {
  const m = CREDENTIAL.exec(text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text);
  return m ? m[0].trim().toLowerCase() : undefined;
}

/** Turning off a control that compliance depends on. */
const DISABLE_CONTROL = /\b(?:disable|disabling|turn(?:ing)?\s+off|switch(?:ing)?\s+off|stop|stopping|pause|suspend|delete|deleting|remove|removing|bypass|bypassing|circumvent|skip|skipping|ignore|ignoring|deactivate|purge|wipe|erase|tamper(?:\s+with)?|get\s+around|override)\b(?:\s+[\w'-]+){0,4}?\s+(?:audit(?:ing)?(?:\s+logs?|\s+trail)?|cloudtrail|mfa|2fa|two[\s-]factor|encryption|(?:security|code|peer|compliance|change)\s+(?:reviews?|scans?|checks?|approvals?)|approvals?|branch\s+protection|guardrails?|(?:compliance|policy)\s+checks?)\b/i;
const DISABLE_CONTROL_COMMAND = /\bcloudtrail\s+(?:stop-logging|delete-trail)\b|\blogging\s+sinks\s+delete\b|\bdiagnostic-settings\s+delete\b/i;
/** Opening a port or service to the whole internet. */
const OPEN_TO_WORLD = /(?:0\.0\.0\.0\/0|::\/0|\ball\s+ips\b|\bthe\s+(?:whole\s+)?internet\b)/i;
const OPENING = /\b(?:open|opening|allow|allowing|expose|exposing|authorize-security-group-ingress|ingress|inbound|whitelist|allowlist)\b/i;
/** Making data public. */
const PUBLIC_EXPOSURE = /\b(?:public-read(?:-write)?|allusers|allauthenticatedusers)\b|--acl[\s=]+public|\b(?:make|makes|making|set|open|expose|share)\b[^.;\n]{0,60}?\bpublic(?:ly)?\b/i;
const DATA_NOUNS = /\b(?:buckets?|data|uploads|database|db|s3|blobs?|storage|datasets?|customers?|records|files|backups|exports|users|acl)\b/i;
/** `aws s3 cp s3://acme-prod-db-backups/latest.dump .`: a production dump copied to where the caller sits. */
const LOCAL_COPY = /\b(?:cp|scp|rsync|sync|get|download)\s+(?:-\S{1,40}\s+){0,6}["']?(?:s3|gs|az|https?):\/\/[^\s'"]{0,200}?\b(?:prod|production)\b[^\s'"]{0,200}?(?:backup|dump|\.sql|\.dump|\bdb\b|database|export)[^\s'"]{0,200}["']?\s+(?:\.|~|\.\/\S{0,200}|\/tmp\/\S{0,200}|[\w.-]{1,200})\s*$/im;
/** Moving production or personal data somewhere less protected. */
const EXFILTRATION = /\b(?:copy|copying|dump|dumping|export|exporting|download|downloading|move|send|transfer|upload|sync|replicate|mirror|clone|share|email|forward|load)\b[^.;\n]{0,80}?\b(?:prod|production|live|customer|customers|user\s+data|users\s+table|pii|personal\s+data|patients?)\b[^.;\n]{0,60}?\b(?:to|into|onto|with)\s+(?:(?:a|an|the|my|our|your|their|some)\s+)?(?:(?:new|fresh|separate|personal|shared|throwaway)\s+)?(?:laptop|local|personal|dev|development|test|qa|sandbox|staging|external|partners?|vendors?|third[\s-]party|home|machine|desktop|gmail|dropbox|pastebin|public|slack)\b/i;

/** A compliance violation the text or command asks for, described in a few words. */
export function violationIn(text: string): string | undefined {
  const t = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  const d = DISABLE_CONTROL.exec(t) ?? DISABLE_CONTROL_COMMAND.exec(t);
  if (d) return `turning off a control: ${d[0].replace(/\s+/g, ' ').toLowerCase()}`;
  if (PUBLIC_EXPOSURE.test(t) && DATA_NOUNS.test(t)) return 'making data public';
  if (OPEN_TO_WORLD.test(t) && OPENING.test(t)) return 'opening access to the whole internet';
  const e = EXFILTRATION.exec(t);
  if (e) return 'moving production or personal data out';
  if (LOCAL_COPY.test(t)) return 'copying a production database dump to a local path';
  return undefined;
}

/** A request on everything rather than one thing. */
export function wideIn(text: string): string | undefined {
  const m = /\b(?:all|every|everything|entire|whole|fleet|cluster-wide|everywhere)\b|(?:^|\s)(?:--all|--all-namespaces|-A)(?=\s|$)/i.exec(text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text);
  return m ? m[0].trim().toLowerCase() : undefined;
}

/** A whole environment, database or namespace removed at once. */
export function sweepingDeleteIn(text: string): string | undefined {
  const cli = /\b(?:delete|destroy)-(?:stack|cluster|db-cluster|environment|namespace|database|project|account|vpc)\b|\b(?:clusters|stacks|databases|namespaces|projects)\s+(?:delete|destroy)\b/i.exec(text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text);
  if (cli) return cli[0].toLowerCase();
  const m = /\b(?:drop|delete|remove|destroy|tear\s+down|teardown|nuke|wipe|decommission)\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?(?:database|databases|schema|db|namespace|namespaces|environment|env|stack|cluster|account|vpc|project)\b(?!\s+(?:backups?|snapshots?|tables?|records?|rows?|entries|logs?|dumps?|users?|connections?|credentials|creds|passwords?|indexes|index|replicas?|migrations?|files?|objects?|nodes?|pods?|members?|secrets?|keys?))/i.exec(text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text);
  return m ? m[0].replace(/\s+/g, ' ').toLowerCase() : undefined;
}
