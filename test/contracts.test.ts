// The public contracts (DESIGN.md): what eval prints, what the ledger exports and what serve's
// tools accept are checked against the JSON Schemas in schemas/, on real output.
import { cpSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { govern, ROOT, tempTree } from './helpers.js';

const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const schema = (name: string) => JSON.parse(readFileSync(join(ROOT, 'schemas', name), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
// The record refers to the decision schema by its $id, so it is registered once and looked up.
ajv.addSchema(schema('decision.schema.json'));
const validDecision = ajv.getSchema('https://govern.dev/schemas/decision.schema.json');
const validRecord = ajv.compile(schema('decision-record.schema.json'));
const validRequest = ajv.compile(schema('request.schema.json'));

const REQUESTS = [
  { agent: 'coder', action: 'write_file', resource: 'file:tmp/x', environment: 'dev' },
  { agent: { id: 'ops', team: 'platform', trust: 30 }, command: 'sudo rm -rf /', environment: 'prod', justification: 'cleanup' },
  { agent: 'ops', action: 'delete', resource: { type: 'k8s:pod', id: 'web-1', namespace: 'payments' }, environment: 'staging', cost: { usd: 0.5, tokens: 10 }, context: { change_ticket: 'CHG-1' } },
  { agent: 'support', action: 'send_message', content: 'mail jane@example.com', environment: 'dev' },
];

describe('contracts', () => {
  const dir = tempTree({ 'govern.config.yaml': '' });
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });

  it('the example requests are valid Requests, and the schema refuses unknown fields', () => {
    for (const r of REQUESTS) expect(validRequest(r), JSON.stringify(validRequest.errors)).toBe(true);
    expect(validRequest({ agent: 'a', action: 'x', bogus: 1 })).toBe(false);
  });

  it('every decision eval prints is a valid Decision', () => {
    for (const r of REQUESTS) {
      const out = govern(['eval', '--format', 'json'], { cwd: dir, input: JSON.stringify(r) });
      const d = JSON.parse(out.stdout);
      expect(validDecision(d), JSON.stringify(validDecision.errors)).toBe(true);
    }
  });

  it('every line of ledger export is a valid decision record', () => {
    const lines = govern(['ledger', 'export'], { cwd: dir }).stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(REQUESTS.length);
    for (const l of lines) {
      const rec = JSON.parse(l);
      expect(validRecord(rec), JSON.stringify(validRecord.errors)).toBe(true);
    }
  });
});
