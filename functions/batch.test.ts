import { describe, expect, it } from 'vitest';
import { createInstanceDecoder } from '../lib/model/decode.ts';
import { createInstanceCheck, createInstanceSchema } from '../lib/model/signature.ts';
import { TEST_SIGNATURE } from '../tests/fixtures.ts';
import { readDataset } from '../training/dataset.ts';
import { MAX_ERROR_DETAILS, allocateCodes, decodeBatch, getBodyText, getDeclaredBodyBytes, joinBody, validateBatch } from './batch.ts';

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

describe('decodeBatch', () => {
  const decoder = { decodeInstance: createInstanceDecoder(TEST_SIGNATURE), codeWidth: TEST_SIGNATURE.inputs.length };
  const encode = (text: string) => new TextEncoder().encode(text);
  /** The usual path's verdict on the same bytes: parse the text, then validate. */
  const validate = (bytes: Uint8Array) => {
    try {
      return validateBatch(JSON.parse(getBodyText(bytes)), schema);
    } catch {
      return undefined;
    }
  };

  it('decodes a batch, laid out in any JSON whitespace, to the codes validation writes', () => {
    for (const text of [JSON.stringify({ instances: customers }), JSON.stringify({ instances: customers }, null, 2), ` {"instances" :\r\n[ ${customers.map((c) => JSON.stringify(c)).join(' ,\t')} ] }\n`]) {
      const decoded = decodeBatch(encode(text), decoder, 1000);
      const validated = validate(encode(text));
      expect(decoded?.count).toBe(customers.length);
      expect(validated?.ok && Buffer.from(decoded!.codes.buffer, decoded!.codes.byteOffset, decoded!.codes.byteLength).equals(Buffer.from(validated.codes.buffer, validated.codes.byteOffset, validated.codes.byteLength))).toBe(true);
    }
  });

  it('declines every body outside its subset, valid JSON or not, so that the usual path answers it', () => {
    const one = JSON.stringify(customers[0]);
    const bodies = [
      '', '{}', '[]', 'null', '{"instances":[]}', '{"instances":{}}', `{"instances":[${one}],"id":1}`, `{"id":1,"instances":[${one}]}`, `{"instances":[${one},]}`,
      `{"instances":[${one}]}x`, `{"instances":[${one}]`, `{"instances":[${one}}`, `{"instances":[${one} ${one}]}`, `{"instances":[${one},null]}`,
      `{"instances":[${one},[${one}]]}`, `{"instances":[${one}]}{}`, `{"\\u0069nstances":[${one}]}`, `{"instances":[${one.replace('{', '{"x":1,')}]}`,
    ];
    for (const text of bodies) expect(decodeBatch(encode(text), decoder, 1000), text).toBeUndefined();
  });

  it('declines a batch over the limit, which the usual path refuses with 413', () => {
    const text = JSON.stringify({ instances: customers.slice(0, 11) });
    expect(decodeBatch(encode(text), decoder, 10)).toBeUndefined();
    expect(decodeBatch(encode(text), decoder, 11)?.count).toBe(11);
  });

  it('hands every batch codes of its own, however large the batches before it', () => {
    const big = decodeBatch(encode(JSON.stringify({ instances: Array.from({ length: 1000 }, (_, i) => customers[i % customers.length]) })), decoder, 1000)!;
    const small = decodeBatch(encode(JSON.stringify({ instances: [customers[1]] })), decoder, 1000)!;
    const again = decodeBatch(encode(JSON.stringify({ instances: [customers[2]] })), decoder, 1000)!;
    expect([big.count, small.count, again.count]).toEqual([1000, 1, 1]);
    expect(small.codes).not.toEqual(again.codes);
    const first = validate(encode(JSON.stringify({ instances: [customers[0]] })));
    expect(first?.ok && Array.from(big.codes.subarray(0, first.codes.length))).toEqual(first?.ok && Array.from(first.codes));
  });
});

describe('joinBody', () => {
  it('hands back a lone chunk as it is and puts several together, growing its buffer for a larger body', () => {
    const lone = new TextEncoder().encode('{"instances":[]}');
    expect(joinBody([lone])).toBe(lone);
    expect(getBodyText(joinBody([]))).toBe('');
    const text = JSON.stringify({ instances: customers });
    const pieces = (size: number) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => new TextEncoder().encode(text.slice(i * size, (i + 1) * size)));
    expect(getBodyText(joinBody(pieces(1000)))).toBe(text);
    const large = `${text}${' '.repeat(200_000)}`;
    expect(getBodyText(joinBody([new TextEncoder().encode(large.slice(0, 7)), new TextEncoder().encode(large.slice(7))]))).toBe(large);
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
