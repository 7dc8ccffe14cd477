import { describe, expect, it } from 'vitest';
import { createInstanceCheck, createInstanceSchema, getBreakingChanges, getCodeValue, type Signature } from './signature.ts';

const signature: Signature = {
  inputs: [
    { name: 'senior_citizen', type: 'flag', description: '' },
    { name: 'tenure', type: 'integer', minimum: 0, observed: { min: 0, max: 72 }, description: '' },
    { name: 'contract', type: 'category', values: ['Month-to-month', 'One year'], description: '' },
    { name: 'total_charges', type: 'number', minimum: 0, nullable: true, observed: { min: 0, max: 9000 }, description: '' },
  ],
  output: { name: 'churn', classes: ['No', 'Yes'], positiveClass: 'Yes' },
};
const valid = { senior_citizen: 1, tenure: 3, contract: 'One year', total_charges: null };

describe('instance schema from a signature', () => {
  const schema = createInstanceSchema(signature);

  it('accepts a valid instance and drops unknown fields', () => {
    expect(schema.parse({ ...valid, customer_id: 'A-1' })).toEqual(valid);
  });

  it('names every offending field without echoing the value it received', () => {
    const result = schema.safeParse({ senior_citizen: 2, tenure: -1.5, contract: 'SECRET-VALUE', total_charges: 'x' });
    expect(result.success).toBe(false);
    const issues = result.error!.issues.map((issue) => [issue.path.join('.'), issue.message]);
    expect(issues).toEqual([
      ['senior_citizen', 'expected 0 or 1'],
      ['tenure', 'expected an integer >= 0'],
      ['contract', 'expected one of "Month-to-month", "One year"'],
      ['total_charges', 'expected a number >= 0 or null'],
    ]);
    expect(JSON.stringify(result.error!.issues)).not.toContain('SECRET-VALUE');
  });

  it.each([-1, 0.5, 2, '1', true, null])('refuses the flag value %j with exactly one issue, and accepts 0 and 1', (value) => {
    const result = schema.safeParse({ ...valid, senior_citizen: value });
    expect(result.error!.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([['senior_citizen', 'expected 0 or 1']]);
    expect(schema.safeParse({ ...valid, senior_citizen: 0 }).success).toBe(true);
    expect(schema.safeParse({ ...valid, senior_citizen: 1 }).success).toBe(true);
  });

  it('applies lower bounds and says which inputs are missing', () => {
    const result = schema.safeParse({ senior_citizen: 0, tenure: -1, contract: 'One year' });
    expect(result.error!.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['tenure', 'expected an integer >= 0'],
      ['total_charges', 'required'],
    ]);
  });
});

describe('breaking changes between signatures', () => {
  it('finds none when the new signature only widens what is accepted', () => {
    const wider: Signature = {
      ...signature,
      inputs: signature.inputs.map((input) => (input.type === 'category' ? { ...input, values: [...input.values, 'Two year'] } : input)),
    };
    expect(getBreakingChanges(signature, wider)).toEqual([]);
  });

  it('reports removed, added, retyped and narrowed inputs', () => {
    const next: Signature = {
      ...signature,
      inputs: [
        { name: 'senior_citizen', type: 'integer', minimum: 0, observed: { min: 0, max: 1 }, description: '' },
        { name: 'contract', type: 'category', values: ['Month-to-month'], description: '' },
        { name: 'total_charges', type: 'number', minimum: 0, nullable: false, observed: { min: 0, max: 9000 }, description: '' },
        { name: 'gender', type: 'flag', description: '' },
      ],
    };
    expect(getBreakingChanges(signature, next)).toEqual([
      { input: 'senior_citizen', reason: 'type changed from flag to integer' },
      { input: 'tenure', reason: 'input removed' },
      { input: 'contract', reason: 'values removed: One year' },
      { input: 'total_charges', reason: 'no longer accepts null' },
      { input: 'gender', reason: 'required input added' },
    ]);
  });
});

describe('the fast instance check', () => {
  it('accepts exactly what the zod schema accepts, coding the same value of every input, on generated customers', () => {
    const full: Signature = {
      inputs: [
        ...signature.inputs,
        { name: 'monthly_charges', type: 'number', minimum: 0, nullable: false, observed: { min: 18, max: 119 }, description: '' },
      ],
      output: signature.output,
    };
    const schema = createInstanceSchema(full);
    const check = createInstanceCheck(full);
    const base = { senior_citizen: 1, tenure: 3, contract: 'One year', total_charges: 12.5, monthly_charges: 20.25 };
    const oddValues = [undefined, null, 0, -0, 1, 2, -1, 0.5, 1.5, 72, 2 ** 53, -(2 ** 53), Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, '1', '', 'One year', 'one year', true, false, [], [1], {}, { value: 1 }];
    let seed = 20261202;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const candidate: Record<string, unknown> = { ...base };
      // Change zero to three inputs, sometimes add an unknown field, sometimes drop one.
      for (let k = Math.floor(random() * 4); k > 0; k--) candidate[full.inputs[Math.floor(random() * full.inputs.length)]!.name] = oddValues[Math.floor(random() * oddValues.length)];
      if (random() < 0.2) candidate.customer_id = 'x';
      if (random() < 0.1) delete candidate[full.inputs[Math.floor(random() * full.inputs.length)]!.name];
      const expected = schema.safeParse(candidate);
      const codes = new Float64Array(full.inputs.length + 2).fill(-1);
      const valid = check(candidate, codes, 1);
      expect(valid, JSON.stringify(candidate)).toBe(expected.success);
      if (expected.success) {
        accepted++;
        // The codes stand for exactly the values zod's copy holds, and nothing outside the row is written.
        full.inputs.forEach((input, i) => expect(Object.is(getCodeValue(input, codes[1 + i]!), expected.data[input.name]), input.name).toBe(true));
        expect([codes[0], codes.at(-1)]).toEqual([-1, -1]);
      }
    }
    // Both outcomes are exercised.
    expect(accepted).toBeGreaterThan(2000);
    expect(accepted).toBeLessThan(18_000);
    for (const notAnObject of [null, 3, 'x', [], [base]]) expect(check(notAnObject, new Float64Array(full.inputs.length), 0)).toBe(false);
  });

  it('codes a category by its value index whether it has few values (compared) or many (a Map)', () => {
    for (const count of [1, 3, 8, 9, 40]) {
      const values = Array.from({ length: count }, (_, i) => `plan ${i}`);
      const check = createInstanceCheck({ inputs: [{ name: 'plan', type: 'category', values, description: '' }], output: signature.output });
      const codes = new Float64Array(1);
      values.forEach((value, i) => {
        // A string built at run time, as a parsed body's are, not the signature's own.
        expect(check(JSON.parse(JSON.stringify({ plan: value })), codes, 0)).toBe(true);
        expect(codes[0]).toBe(i);
      });
      for (const wrong of [`plan ${count}`, 'plan', '', 0, null, undefined, ['plan 0'], { plan: 'plan 0' }]) expect(check({ plan: wrong }, codes, 0), String(wrong)).toBe(false);
    }
  });
});
