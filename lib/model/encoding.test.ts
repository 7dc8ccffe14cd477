import { describe, expect, it } from 'vitest';
import { createEncoder, createEncodingSpec, getFeatureNames } from './encoding.ts';
import type { Signature } from './signature.ts';

const signature: Signature = {
  inputs: [
    { name: 'partner', type: 'flag', description: '' },
    { name: 'tenure', type: 'integer', minimum: 0, observed: { min: 0, max: 72 }, description: '' },
    { name: 'contract', type: 'category', values: ['Month-to-month', 'One year', 'Two year'], description: '' },
    { name: 'total_charges', type: 'number', minimum: 0, nullable: true, observed: { min: 0, max: 9000 }, description: '' },
  ],
  output: { name: 'churn', classes: ['No', 'Yes'], positiveClass: 'Yes' },
};

describe('feature encoding', () => {
  it('lays out numbers as they are and categories one-hot, in signature order', () => {
    const spec = createEncodingSpec(signature, { nullValues: { total_charges: 0 } });
    expect(getFeatureNames(spec)).toEqual(['partner', 'tenure', 'contract=Month-to-month', 'contract=One year', 'contract=Two year', 'total_charges']);
    const out = new Float64Array(8).fill(9);
    createEncoder(spec)({ partner: 1, tenure: 12, contract: 'Two year', total_charges: 850.5 }, out, 1);
    expect(Array.from(out)).toEqual([9, 1, 12, 0, 0, 1, 850.5, 9]);
  });

  it('encodes null as the null value the training data implies (a new customer, not billed yet)', () => {
    const spec = createEncodingSpec(signature, { nullValues: { total_charges: 0 } });
    const out = new Float64Array(6);
    createEncoder(spec)({ partner: 0, tenure: 0, contract: 'One year', total_charges: null }, out, 0);
    expect(Array.from(out)).toEqual([0, 0, 0, 1, 0, 0]);
  });

  it('leaves excluded inputs out of the vector and refuses a nullable input without a null value', () => {
    expect(getFeatureNames(createEncodingSpec(signature, { exclude: ['total_charges', 'contract'] }))).toEqual(['partner', 'tenure']);
    expect(() => createEncodingSpec(signature)).toThrow('encoding needs a null value for the nullable input total_charges');
  });
});
