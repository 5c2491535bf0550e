// Synthetic decision records, shaped as `govern ledger export` writes them, for the distill and
// replay benchmarks: requests the default pack leaves undecided, answered by a hidden "model"
// policy (so there is something to learn), with a share of lenient noise and of one-off requests.
// Deterministic for a seed.

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const pick = (r, xs) => xs[Math.floor(r() * xs.length)];

/** The hidden policy the "model" follows. */
function oracle(q) {
  const c = q.context;
  if (c.domain === 'pastebin.com' || c.domain === 'transfer.sh') return 'deny';
  if (q.category === 'ACCESS' && q.resource.type === 'logs:app' && q.namespace && q.namespace === q.agent.team) return 'allow';
  if (q.category === 'ACCESS' && q.resource.type === 'file' && q.resource.path.startsWith('docs/') && q.environment !== 'production') return 'allow';
  if (q.category === 'MODIFY' && q.resource.type === 'k8s:configmap' && q.environment === 'staging') return c.change_ticket ? 'allow' : 'escalate';
  if (q.category === 'CREATE' && q.resource.type === 's3:bucket') return 'escalate';
  if (q.category === 'ACCESS' && q.resource.type === 'metrics:dashboard') return 'allow';
  return 'escalate';
}

const ACTIONS = { ACCESS: ['read', 'get', 'list', 'view'], MODIFY: ['update', 'patch', 'edit'], CREATE: ['create', 'provision'] };

/**
 * `n` records from `start` on, one a few seconds apart. `noise` is the share of model answers
 * flipped to a more lenient verdict; `oneOff` the share of requests on rare resource types.
 */
export function* generateRecords(n, { seed = 7, start = Date.parse('2026-10-01T00:00:00Z'), noise = 0.002, oneOff = 0.05 } = {}) {
  const r = rng(seed);
  const teams = ['alpha', 'beta', 'gamma', 'delta'];
  const agents = Array.from({ length: 24 }, (_, i) => ({ id: `agent-${i}`, team: teams[i % teams.length] }));
  const envs = ['dev', 'staging', 'production'];
  for (let i = 0; i < n; i++) {
    const agent = pick(r, agents);
    const kind = r();
    let q;
    const environment = pick(r, envs);
    const base = { agent: { id: agent.id, team: agent.team }, environment, cost: { usd: 0, tokens: 0 }, context: {} };
    if (kind < 0.3) q = { ...base, category: 'ACCESS', action: pick(r, ACTIONS.ACCESS), resource: { type: 'logs:app', id: `svc-${Math.floor(r() * 40)}` }, namespace: r() < 0.8 ? agent.team : pick(r, teams) };
    else if (kind < 0.5) {
      const path = `${pick(r, ['docs', 'docs/api', 'src', 'notes'])}/${Math.floor(r() * 500)}.md`;
      q = { ...base, category: 'ACCESS', action: pick(r, ACTIONS.ACCESS), resource: { type: 'file', id: path, path } };
    } else if (kind < 0.65) q = { ...base, category: 'MODIFY', action: pick(r, ACTIONS.MODIFY), resource: { type: 'k8s:configmap', id: `cm-${Math.floor(r() * 60)}` }, environment: 'staging', context: r() < 0.5 ? { change_ticket: `CHG-${Math.floor(r() * 9000) + 1000}` } : {} };
    else if (kind < 0.75) q = { ...base, category: 'CREATE', action: pick(r, ACTIONS.CREATE), resource: { type: 's3:bucket', id: `b-${Math.floor(r() * 300)}` }, cost: { usd: Math.round(r() * 5 * 100) / 100, tokens: 0 } };
    else if (kind < 0.85) q = { ...base, category: 'ACCESS', action: 'fetch', resource: { type: 'web:page', id: `p-${Math.floor(r() * 999)}` }, context: { domain: pick(r, ['pastebin.com', 'transfer.sh', 'docs.python.org', 'example.com']) } };
    else if (kind < 1 - oneOff) q = { ...base, category: 'ACCESS', action: pick(r, ACTIONS.ACCESS), resource: { type: 'metrics:dashboard', id: `d-${Math.floor(r() * 80)}` } };
    else q = { ...base, category: pick(r, ['ACCESS', 'MODIFY']), action: 'touch', resource: { type: `rare:${Math.floor(r() * 5000)}`, id: 'x' } };
    let verdict = oracle(q);
    if (r() < noise && verdict !== 'allow') verdict = 'allow';
    const at = new Date(start + i * 3000).toISOString();
    const trust = 40 + Math.floor(r() * 40);
    const usage = { input_tokens: 380 + Math.floor(r() * 200), output_tokens: 40 + Math.floor(r() * 30) };
    yield {
      request: q,
      decision: {
        decision: verdict,
        tier: verdict === 'allow' ? 1 : verdict === 'escalate' ? 2 : 3,
        reasons: [{ rule: null, effect: verdict, message: `openai/gpt-bench: ${verdict} by the hidden policy` }],
        warnings: [],
        facts: { category: q.category, detectors: [], trust, hour: new Date(at).getUTCHours(), budget: { used_pct: 0, exceeded: false } },
        route: 'model',
        tokens: { input: usage.input_tokens, output: usage.output_tokens },
        policy: { hash: 'bench' },
        elapsed_ms: 900,
        id: `dec_bench_${String(i).padStart(7, '0')}`,
      },
      model: 'openai/gpt-bench',
      usage,
      at,
    };
  }
}
