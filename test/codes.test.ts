// The code catalogue is the one list: README's table is generated from it, and the codes a
// decision carries are in it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODES, codesTable, configCode, isTestCode, schemaCode } from '../src/diagnostics/codes.js';
import { RequestError } from '../src/request/normalize.js';
import { MODEL_FAILURE_CODE } from '../src/router/provider.js';
// @ts-expect-error a plain ES module without types
import { withTable } from '../scripts/gen-codes.mjs';
import { ROOT } from './helpers.js';

describe('code catalogue', () => {
  it("README's code table is the catalogue's (npm run docs:codes writes it)", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(withTable(readme, codesTable()), 'README.md is out of date: run `npm run docs:codes`').toBe(readme);
  });

  it('every code has a summary and a help text', () => {
    for (const [code, info] of Object.entries(CODES)) {
      expect(code).toMatch(/^[a-z]+\/[a-zA-Z-]+$/);
      expect(info.summary.length, code).toBeGreaterThan(10);
      expect(info.help.length, code).toBeGreaterThan(10);
    }
  });

  it('schema keywords map to catalogue codes, for policies and the config', () => {
    expect(schemaCode('schema', 'exclusiveMinimum')).toBe('schema/minimum');
    expect(schemaCode('schema', 'maxLength')).toBe('schema/maxLength');
    expect(schemaCode('config', 'contains')).toBe('config/invalid-value');
    expect(configCode('schema/unknown-field')).toBe('config/unknown-field');
    expect(isTestCode('test/failed')).toBe(true);
    expect(isTestCode('cedar/parse')).toBe(false);
  });

  it('refusals carry catalogue codes', () => {
    expect(CODES[MODEL_FAILURE_CODE].group).toBe('decision');
    expect(CODES[new RequestError('agent', 'is missing').code].group).toBe('decision');
  });
});
