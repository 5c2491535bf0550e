// The words the intent router reads: verbs of plain English and their categories, the filler that
// comes before a verb in a polite or terse request, nouns that name an operation or a resource,
// environment names, and the cues of credentials, personal data and compliance. Tables only; the
// reading itself is in intent-text.ts.
import type { Category } from '../policy/vocabulary.js';

const table = (entries: [Category, string][]): Map<string, Category> => {
  const m = new Map<string, Category>();
  for (const [c, ws] of entries) for (const w of ws.split(/\s+/).filter(Boolean)) m.set(w, c);
  return m;
};

/** Imperative verbs (base form) and the category they usually mean. */
export const VERBS = table([
  ['DELETE', 'delete remove rm del destroy drop terminate purge uninstall truncate wipe erase kill prune evict unlink rmdir deregister revoke shred nuke trash discard clear clean cleanup tidy decommission retire expire empty flush trim unpublish deprovision offboard cull reap zap obliterate teardown unregister unset delist invalidate dequeue axe ditch scrap dispose'],
  ['CREATE', 'create add make provision launch deploy install insert upload mkdir touch generate spawn clone fork init initialize initialise register publish post allocate build scaffold bootstrap setup draft compose ship release schedule invite onboard issue buy purchase order reserve train enroll duplicate snapshot backup seed new open send produce prepare compile assemble load regenerate recreate announce notify page mirror containerize dockerize'],
  ['MODIFY', 'update modify edit change patch set configure reconfigure scale restart rename move mv apply upgrade downgrade rollback revert write append replace reset enable disable rotate tag label annotate commit push merge rebase chmod chown chgrp put start stop reboot cordon uncordon drain taint untaint import sync bump increase decrease raise lower reduce resize adjust tweak fix tune migrate pin unpin lock unlock grant attach assign swap switch toggle flip turn redeploy reload refresh renew extend shut pause resume suspend halt freeze unfreeze override overwrite correct convert reindex vacuum restore recover repair undo deallocate limit throttle activate deactivate reactivate bounce recycle snooze silence mute unmute acknowledge ack resolve close reopen escalate reassign approve reject transfer reinstall rebuild reapply reprovision reimport reupload backfill reprocess requeue replay rebalance compact optimize partition shard quarantine isolate ban unban blacklist deny authorize deauthorize hibernate wake boot relaunch respawn upsert anonymize scrub obfuscate downscale upscale autoscale consolidate dedupe deduplicate normalize format point allow block whitelist allowlist mount unmount archive cancel abort promote failover retry reschedule relabel tighten loosen harden encrypt mask redact sanitize hotfix copy cp give take roll spin stand bring double halve'],
  ['ACCESS', 'read get list ls view show describe fetch download query select cat search find inspect look check see display print tail grep browse explore investigate diagnose troubleshoot debug examine monitor watch count tell peek dump export compare diff analyze analyse summarize summarise explain verify confirm validate lint ping trace profile measure estimate calculate retrieve obtain grab track access collect gather identify determine figure provide pull scan decrypt triage stream ssh connect lookup presign'],
  ['COMPLY', 'audit report attest certify review comply'],
]);

/** Verbs that say something will be done without saying what: the object decides. */
export const GENERIC_VERBS = new Set(['run', 'rerun', 'execute', 'exec', 'do', 'perform', 'trigger', 'kick', 'invoke', 'start']);

/** Verbs too vague to trust: the category is a guess and the request stays unclear. */
export const VAGUE_VERBS = new Set(['handle', 'deal', 'sort', 'address', 'tidy', 'manage', 'process', 'work', 'care', 'take', 'bring', 'spin', 'roll', 'turn', 'fix', 'clear']);

/** Two-word verbs: the particle changes the meaning (`set up` is not `set`). */
export const PHRASES: Readonly<Record<string, Readonly<Record<string, Category>>>> = {
  clean: { up: 'DELETE', out: 'DELETE' },
  tear: { down: 'DELETE' },
  wipe: { out: 'DELETE' },
  free: { up: 'DELETE' },
  get: { rid: 'DELETE', me: 'ACCESS', us: 'ACCESS' },
  drop: { me: 'ACCESS', us: 'ACCESS' },
  shoot: { me: 'ACCESS', us: 'ACCESS', over: 'ACCESS' },
  power: { off: 'MODIFY', on: 'MODIFY', down: 'MODIFY', up: 'MODIFY', cycle: 'MODIFY' },
  point: { me: 'ACCESS', us: 'ACCESS' },
  spin: { up: 'CREATE', down: 'MODIFY', off: 'CREATE' },
  stand: { up: 'CREATE', down: 'MODIFY' },
  set: { up: 'CREATE' },
  roll: { back: 'MODIFY', out: 'CREATE', forward: 'MODIFY' },
  back: { up: 'CREATE', out: 'MODIFY' },
  look: { at: 'ACCESS', into: 'ACCESS', up: 'ACCESS', over: 'ACCESS', for: 'ACCESS', through: 'ACCESS', around: 'ACCESS' },
  pull: { up: 'ACCESS' },
  find: { out: 'ACCESS' },
  figure: { out: 'ACCESS' },
  turn: { on: 'MODIFY', off: 'MODIFY', up: 'MODIFY', down: 'MODIFY' },
  switch: { on: 'MODIFY', off: 'MODIFY', over: 'MODIFY' },
  shut: { down: 'MODIFY', off: 'MODIFY' },
  scale: { up: 'MODIFY', down: 'MODIFY', out: 'MODIFY', in: 'MODIFY' },
  take: { down: 'MODIFY', offline: 'MODIFY', out: 'MODIFY', over: 'MODIFY', look: 'ACCESS' },
  bring: { down: 'MODIFY', back: 'MODIFY', up: 'CREATE' },
  write: { up: 'CREATE' },
  put: { together: 'CREATE' },
  fail: { over: 'MODIFY' },
  kick: { off: 'MODIFY' },
  check: { on: 'ACCESS' },
  give: { me: 'ACCESS', us: 'ACCESS' },
  send: { me: 'ACCESS', us: 'ACCESS' },
};

/** Irregular forms of verbs, to their base. */
export const IRREGULAR: Readonly<Record<string, string>> = {
  ran: 'run', got: 'get', gotten: 'get', made: 'make', took: 'take', taken: 'take', built: 'build', read: 'read',
  found: 'find', shown: 'show', showed: 'show', gave: 'give', given: 'give', wrote: 'write', written: 'write',
  did: 'do', done: 'do', tore: 'tear', torn: 'tear', spun: 'spin', stood: 'stand', sent: 'send', saw: 'see',
  seen: 'see', bought: 'buy', shut: 'shut', brought: 'bring', dealt: 'deal', kept: 'keep', began: 'begin',
};

/** Words that come before the verb of a request and say nothing about it. */
export const FILLERS = new Set(`please pls plz kindly can could would will you u ya i i'd id i'll i'm im we we'd we'll we're let's lets let
  me us need needs want wants wanna like to go ahead and then also just now quickly quick first next finally asap hey hi hello ok
  okay so should must have has gotta got help try attempt maybe perhaps actually basically simply immediately urgently probably
  definitely really mind sure step task goal todo action also again going gonna able possible time later today tonight right
  yes yeah yep alright soon meanwhile additionally afterwards if yo hiya folks team all agent bot quickly plz`.split(/\s+/).filter(Boolean));

/** Words that cancel the verb after them. */
export const NEGATIONS = new Set(["don't", 'dont', 'never', 'without', 'avoid', "shouldn't", "won't", 'not', 'no', 'nothing']);

/** Words that start a question: the request asks to know something. */
export const QUESTION_WORDS = new Set(["what", "what's", 'whats', 'which', 'who', "who's", 'whom', 'whose', 'when', 'where', 'why', 'how', "how's",
  'is', "isn't", 'are', "aren't", 'was', 'were', 'does', "doesn't", 'did', "didn't", 'any', 'anything', 'has', 'have', "haven't", "hasn't"]);

/** Pronouns after `do`/`have` that make a question (`do we have backups?`). */
export const QUESTION_SUBJECTS = new Set(['we', 'you', 'i', 'they', 'it', 'the', 'our', 'any', 'all', 'this', 'that', 'these', 'those']);

/** Words that split a request into clauses, each with its own verb. */
export const CONJUNCTIONS = new Set(['and', 'then', 'but', 'also', 'after', 'before', 'once', 'so', 'plus', 'afterwards', 'next']);

/** Operations named as nouns, for `run the migration` and for requests without a verb. */
export const NOUN_OPERATIONS = table([
  ['MODIFY', 'migration migrations restart reboot upgrade update patch rotation failover rollback job jobs cron batch inference reindex vacuum sync resync import hotfix rollout redeploy tests test suite pipeline'],
  ['CREATE', 'backup backups snapshot snapshots build deploy deployment release installation install provisioning setup seed'],
  ['DELETE', 'cleanup clean-up teardown deletion removal purge prune wipe'],
  ['ACCESS', 'query queries logs log status usage metrics dashboard dashboards health stats statistics export dump trace traces graph listing diff'],
  ['COMPLY', 'audit scan assessment benchmark review report reports evidence attestation sbom gitleaks trivy checkov tfsec snyk semgrep trufflehog grype prowler pentest'],
]);

/** Compliance words: with a reading or document-making verb, the request is COMPLY. */
export const COMPLY_CUES = new Set(['audit', 'audits', 'auditing', 'auditor', 'auditors', 'compliance', 'compliant', 'noncompliant', 'comply',
  'soc', 'soc2', 'gdpr', 'hipaa', 'pci', 'sox', 'iso27001', '27001', 'attest', 'attestation', 'evidence', 'report', 'reports', 'reporting',
  'review', 'sbom', 'cis', 'prowler', 'retention', 'license', 'licenses', 'licensing', 'enforced', 'enforcement', 'encryption', 'encrypted',
  'unencrypted', 'violations', 'governance', 'regulatory', 'regulator', 'regulators', 'certification', 'mfa', '2fa', 'versioning', 'acl',
  'acls', 'hardening', 'baseline', 'least-privilege', 'cve', 'cves', 'vulnerabilities', 'vulnerability', 'vulns', 'exploits', 'sbom',
  'gitleaks', 'trivy', 'checkov', 'tfsec', 'snyk', 'semgrep', 'trufflehog', 'grype', 'kube-bench', 'pentest', 'soc1']);

/** Documents a report-making verb produces: with one of these, `generate`/`compile` is about compliance. */
export const DOCUMENTS = new Set(['report', 'reports', 'evidence', 'attestation', 'sbom', 'audit', 'audits', 'assessment', 'review', 'list',
  'summary', 'inventory', 'spreadsheet', 'csv', 'pack', 'overview', 'breakdown', 'document', 'doc', 'docs', 'export', 'snapshot', 'digest', 'scan']);

/** What `scan` looks for when the scan is an audit. */
export const SCAN_COMPLY_OBJECTS = new Set(['secrets', 'secret', 'vulnerabilities', 'vulnerability', 'vulns', 'cve', 'cves', 'misconfigurations',
  'misconfiguration', 'malware', 'leaks', 'leaked', 'compliance', 'licenses', 'license', 'security', 'credentials', 'exposures']);

/** Verbs that read or make a document: with a compliance word, the request is COMPLY. */
export const DOCUMENT_VERBS = new Set(['generate', 'produce', 'prepare', 'compile', 'create', 'draft', 'write', 'build', 'make', 'run', 'rerun',
  'export', 'collect', 'gather', 'pull', 'assemble', 'provide', 'send', 'put', 'do', 'perform', 'execute', 'kick', 'start', 'get', 'give', 'new']);

/** `remove X from Y` edits Y when Y is one of these, rather than deleting X. */
export const EDITED_CONTAINERS = new Set(['config', 'configs', 'configuration', 'settings', 'file', 'yaml', 'yml', 'json', 'toml', 'ini',
  'list', 'allowlist', 'whitelist', 'denylist', 'blocklist', 'blacklist', 'group', 'groups', 'team', 'role', 'roles', 'policy', 'manifest',
  'dockerfile', 'readme', 'crontab', 'sudoers', 'code', 'codebase', 'module', 'function', 'class', 'page', 'template', 'values', 'chart',
  'script', 'makefile', 'docs', 'documentation', 'channel', 'rota', 'schedule', 'menu', 'variables', 'vars', 'header', 'headers']);

/** `add X to Y` makes something new when Y holds things of its own (a cluster, a bucket). */
export const HOLDING_CONTAINERS = new Set(['repo', 'repository', 'bucket', 'folder', 'directory', 'dir', 'cluster', 'namespace', 'project',
  'account', 'org', 'organization', 'zone', 'vpc', 'pool', 'registry', 'workspace', 'fleet', 'region', 'subnet']);

/** Words after `make` that turn it into a change of an existing thing (`make the bucket public`). */
export const MAKE_STATES = new Set(['public', 'private', 'readonly', 'read-only', 'writable', 'default', 'primary', 'executable', 'available',
  'accessible', 'visible', 'faster', 'bigger', 'smaller', 'larger', 'work', 'so', 'it', 'them', 'sure', 'stable', 'optional', 'required']);

/** Words after `open` that make something new (`open a pull request`). */
export const OPENED_THINGS = new Set(['pr', 'prs', 'pull', 'ticket', 'issue', 'incident', 'case', 'mr', 'merge', 'jira', 'bug', 'change', 'request']);

/** Environment names and how strict each is: 3 production, 2 staging, 1 development. */
export const ENV_TIERS: Readonly<Record<string, number>> = {
  production: 3, prod: 3, prd: 3, live: 3, canary: 3, dr: 3,
  staging: 2, stage: 2, stg: 2, preprod: 2, 'pre-prod': 2, uat: 2, perf: 2, nonprod: 2, preview: 2, demo: 2, integration: 2,
  dev: 1, development: 1, local: 1, locally: 1, sandbox: 1, test: 1, testing: 1, qa: 1, ci: 1, playground: 1, scratch: 1,
};

/** The name an environment word stands for in the Intent. */
export const ENV_NAMES: Readonly<Record<string, string>> = {
  prod: 'production', prd: 'production', live: 'production', stage: 'staging', stg: 'staging', development: 'dev',
  local: 'dev', locally: 'dev', testing: 'test', qa: 'test', ci: 'test', 'pre-prod': 'preprod', nonprod: 'staging',
};

/** Environment words that are also ordinary English: they count only in an environment's place. */
export const AMBIGUOUS_ENVS = new Set(['stage', 'test', 'testing', 'live', 'local', 'ci', 'canary', 'perf', 'demo', 'preview', 'dr', 'integration', 'scratch', 'playground']);

/** Words before an environment name: `in prod`, `on staging`. */
export const ENV_PREPOSITIONS = new Set(['in', 'on', 'into', 'onto', 'against', 'from', 'at']);

/** Words after an environment name that show it is one: `the test cluster`, `live traffic`. */
export const ENV_NOUNS = new Set(['cluster', 'clusters', 'env', 'envs', 'environment', 'environments', 'namespace', 'namespaces', 'ns', 'db', 'dbs',
  'database', 'databases', 'server', 'servers', 'box', 'boxes', 'host', 'hosts', 'account', 'accounts', 'project', 'stack', 'api', 'apis',
  'instance', 'instances', 'site', 'workspace', 'region', 'node', 'nodes', 'bucket', 'vpc', 'k8s', 'kube', 'data', 'traffic', 'deploy',
  'deployment', 'deployments', 'release', 'replica', 'ingress', 'redis', 'postgres', 'mysql', 'queue', 'cache', 'web', 'app', 'apps',
  'service', 'services', 'lb', 'runners', 'runner', 'cdn', 'system', 'systems', 'infra', 'infrastructure', 'vm', 'vms', 'machines', 'users']);

/** Nouns that name a resource, and the kind reported for each. */
export const RESOURCE_NOUNS: Readonly<Record<string, string>> = {
  pod: 'pod', pods: 'pod', deployment: 'deployment', deployments: 'deployment', replicas: 'deployment', service: 'service', services: 'service',
  svc: 'service', namespace: 'namespace', namespaces: 'namespace', node: 'node', nodes: 'node', configmap: 'configmap', ingress: 'ingress',
  cronjob: 'cronjob', cron: 'cronjob', job: 'job', jobs: 'job', secret: 'secret', secrets: 'secret', password: 'secret', passwords: 'secret',
  creds: 'secret', credentials: 'secret', credential: 'secret', kubeconfig: 'secret', key: 'key', keys: 'key', token: 'token', tokens: 'token',
  database: 'database', databases: 'database', db: 'database', dbs: 'database', postgres: 'database', mysql: 'database', rds: 'database',
  replica: 'database', table: 'table', tables: 'table', index: 'index', column: 'table', row: 'table', rows: 'table', bucket: 'bucket',
  buckets: 'bucket', object: 'object', objects: 'object', file: 'file', files: 'file', folder: 'directory', directory: 'directory',
  dir: 'directory', branch: 'branch', branches: 'branch', repo: 'repository', repository: 'repository', commit: 'commit', pr: 'pull-request',
  container: 'container', containers: 'container', image: 'image', images: 'image', volume: 'volume', volumes: 'volume', vm: 'instance',
  vms: 'instance', instance: 'instance', instances: 'instance', server: 'instance', servers: 'instance', box: 'instance', host: 'instance',
  cluster: 'cluster', clusters: 'cluster', dns: 'dns-record', record: 'dns-record', user: 'user', users: 'user', account: 'user',
  role: 'role', roles: 'role', iam: 'role', permissions: 'role', access: 'role', package: 'package', packages: 'package', dependency: 'package',
  dependencies: 'package', log: 'log', logs: 'log', backup: 'backup', backups: 'backup', snapshot: 'snapshot', snapshots: 'snapshot',
  queue: 'queue', queues: 'queue', topic: 'topic', function: 'function', lambda: 'function', cert: 'certificate', certificate: 'certificate',
  certs: 'certificate', release: 'release', stack: 'infrastructure', infrastructure: 'infrastructure', cache: 'cache', process: 'process',
  processes: 'process', worker: 'process', workers: 'process', flag: 'config', config: 'config', configuration: 'config', settings: 'config',
  endpoint: 'api', endpoints: 'api', api: 'api', dashboard: 'dashboard', report: 'report', firewall: 'firewall-rule', branchs: 'branch',
  artifacts: 'file', artifact: 'file', workflow: 'pipeline', pipeline: 'pipeline', model: 'model', notebook: 'instance', spreadsheet: 'file',
};

/** Kubernetes resource names (and short names) as kubectl takes them. */
export const KUBE_KINDS: Readonly<Record<string, string>> = {
  po: 'pod', pod: 'pod', pods: 'pod', deploy: 'deployment', deployment: 'deployment', deployments: 'deployment', svc: 'service',
  service: 'service', services: 'service', ns: 'namespace', namespace: 'namespace', namespaces: 'namespace', no: 'node', node: 'node',
  nodes: 'node', cm: 'configmap', configmap: 'configmap', configmaps: 'configmap', secret: 'secret', secrets: 'secret', ing: 'ingress',
  ingress: 'ingress', ingresses: 'ingress', job: 'job', jobs: 'job', cj: 'cronjob', cronjob: 'cronjob', cronjobs: 'cronjob', pvc: 'volume',
  pv: 'volume', persistentvolumeclaim: 'volume', sts: 'statefulset', statefulset: 'statefulset', statefulsets: 'statefulset', ds: 'daemonset',
  daemonset: 'daemonset', daemonsets: 'daemonset', rs: 'replicaset', replicaset: 'replicaset', hpa: 'autoscaler', sa: 'service-account',
  serviceaccount: 'service-account', role: 'role', clusterrole: 'role', rolebinding: 'role', clusterrolebinding: 'role', route: 'route', routes: 'route',
};

/** Cloud CLI service names and the resource kind they manage. */
export const CLOUD_KINDS: Readonly<Record<string, string>> = {
  s3: 'bucket', s3api: 'bucket', ec2: 'instance', rds: 'database', iam: 'role', secretsmanager: 'secret', ssm: 'parameter', dynamodb: 'table',
  logs: 'log', cloudtrail: 'audit-log', autoscaling: 'autoscaling-group', lambda: 'function', route53: 'dns-record', eks: 'cluster', ecs: 'service',
  sqs: 'queue', sns: 'topic', kms: 'secret', cloudfront: 'cdn', elb: 'load-balancer', elbv2: 'load-balancer', compute: 'instance', sql: 'database',
  storage: 'bucket', container: 'cluster', secrets: 'secret', logging: 'log', run: 'service', functions: 'function', pubsub: 'topic', dns: 'dns-record',
  vm: 'instance', aks: 'cluster', keyvault: 'secret', group: 'resource-group', webapp: 'service', monitor: 'log', functionapp: 'function',
  redis: 'cache', cosmosdb: 'database', network: 'network', projects: 'project', droplet: 'instance', databases: 'database', kubernetes: 'cluster',
};
