import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WORKER_EXIT_CODES } from './classify.js';
import { RETRY_RULES } from './retry-policy.js';
import { FailureKindSchema } from './worker-events.js';

// contract/failure-kinds.json is the one list of the worker's failure kinds and exit codes;
// python/tests/test_failure_kinds.py holds the worker's errors.py to the same file.
const contract = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../contract/failure-kinds.json', import.meta.url)), 'utf8'),
) as {
  kinds: { kind: string; exit_code: number; retry: string }[];
};

describe('contract/failure-kinds.json', () => {
  it('names exactly the failure kinds the launcher parses', () => {
    expect(contract.kinds.map((k) => k.kind).sort()).toEqual([...FailureKindSchema.options].sort());
  });

  it('gives the exit codes the launcher classifies by (1 means "other": the kind comes from the error file)', () => {
    const byCode = Object.fromEntries(
      contract.kinds.filter((k) => k.exit_code !== 1).map((k) => [k.exit_code, k.kind]),
    );
    expect(WORKER_EXIT_CODES).toEqual(byCode);
    expect(contract.kinds.find((k) => k.exit_code === 1)?.kind).toBe('other');
    expect(new Set(contract.kinds.map((k) => k.exit_code)).size).toBe(contract.kinds.length);
  });

  it('says what each kind leads to, as the retry rules do', () => {
    for (const k of contract.kinds) expect(RETRY_RULES[k.kind as keyof typeof RETRY_RULES], k.kind).toBe(k.retry);
  });
});
