import { describe, expect, it } from 'vitest';
import { createInstanceCheck, createInstanceSchema } from '../lib/model/signature.ts';
import { TEST_SIGNATURE } from '../tests/fixtures.ts';
import { readDataset } from '../training/dataset.ts';
import { MAX_ERROR_DETAILS, allocateCodes, getDeclaredBodyBytes, validateBatch } from './batch.ts';

const schema = { instanceSchema: createInstanceSchema(TEST_SIGNATURE), checkInstance: createInstanceCheck(TEST_SIGNATURE), codeWidth: TEST_SIGNATURE.inputs.length };
const customers = (await readDataset('training/data/telco-churn.csv')).instances.slice(0, 50);

describe('allocateCodes', () => {
  it('hands out zeroed arrays that never share memory, from blocks or, when large, on their own', () => {
    const arrays = [1, 19, 19 * 100, 7, 19 * 1000, 3, ...Array.from({ length: 2000 }, (_, i) => 1 + (i % 40))].map((length) => {
      const codes = allocateCodes(length);
      expect(codes).toHaveLength(length);
      expect(codes.every((code) => code === 0)).toBe(true);
      return codes;
    });
    arrays.forEach((codes, i) => codes.fill(i + 1));
    arrays.forEach((codes, i) => expect(codes.every((code) => code === i + 1)).toBe(true));
  });
});

describe('validateBatch', () => {
  it('returns the valid customers as sent, unknown fields and all: readers take the inputs by name', () => {
    const sent = [{ ...customers[0], id: 'x' }, customers[1]];
    const result = validateBatch({ instances: sent }, schema);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.instances.every((instance, i) => instance === sent[i])).toBe(true);
  });

  it('stops checking once it knows more problems than it reports', () => {
    // Each customer records whether validation looked at it: an empty one has 19 problems.
    const looked: number[] = [];
    const instances = Array.from({ length: 1000 }, (_, i) => ({
      get female() {
        looked.push(i);
        return undefined;
      },
    }));
    const result = validateBatch({ instances }, schema);
    if (result.ok) throw new Error('expected problems');
    expect(result.error.issues).toHaveLength(MAX_ERROR_DETAILS);
    expect(result.more).toBe(true);
    // 19 problems each: the sixth customer takes the count past 100, and checking stops there.
    expect([...new Set(looked)]).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('says there are no more problems when it found them all', () => {
    const result = validateBatch({ instances: [{ ...customers[0], tenure: -1 }, customers[1]] }, schema);
    expect(result).toMatchObject({ ok: false, more: false });
    if (!result.ok) expect(result.error.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([['instances.0.tenure', 'expected an integer >= 0']]);
  });

  it.each([null, 3, 'x', [], [{}]])('refuses a body that is not an object (%j) without throwing', (body) => {
    const result = validateBatch(body, schema);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.issues[0]!.path).toEqual([]);
  });
});

describe('getDeclaredBodyBytes', () => {
  const headers = (values: Record<string, string>) => (name: string) => values[name];
  it('reads Content-Length, and knows nothing of a chunked body or one without a length', () => {
    expect(getDeclaredBodyBytes(headers({ 'content-length': '42' }))).toBe(42);
    expect(getDeclaredBodyBytes(headers({ 'content-length': '42', 'transfer-encoding': 'chunked' }))).toBeUndefined();
    expect(getDeclaredBodyBytes(headers({}))).toBeUndefined();
  });
});
