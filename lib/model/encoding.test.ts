import { describe, expect, it } from 'vitest';
import { readDataset } from '../../training/dataset.ts';
import { createCodeEncoder, createEncoder, createEncodingSpec, getFeatureNames } from './encoding.ts';
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
    createEncoder(spec, signature)({ partner: 1, tenure: 12, contract: 'Two year', total_charges: 850.5 }, out, 1);
    expect(Array.from(out)).toEqual([9, 1, 12, 0, 0, 1, 850.5, 9]);
  });

  it('encodes null as the null value the training data implies (a new customer, not billed yet)', () => {
    const spec = createEncodingSpec(signature, { nullValues: { total_charges: 0 } });
    const out = new Float64Array(6);
    createEncoder(spec, signature)({ partner: 0, tenure: 0, contract: 'One year', total_charges: null }, out, 0);
    expect(Array.from(out)).toEqual([0, 0, 0, 1, 0, 0]);
  });

  it('leaves excluded inputs out of the vector and refuses a nullable input without a null value', () => {
    expect(getFeatureNames(createEncodingSpec(signature, { exclude: ['total_charges', 'contract'] }))).toEqual(['partner', 'tenure']);
    expect(() => createEncodingSpec(signature)).toThrow('encoding needs a null value for the nullable input total_charges');
  });

  it('encodes every customer of the data set as its spec says, column by column', async () => {
    const dataset = await readDataset('training/data/telco-churn.csv');
    for (const options of [{ nullValues: { total_charges: 0 } }, { nullValues: { total_charges: -1 }, exclude: ['female', 'contract'] }]) {
      const spec = createEncodingSpec(dataset.signature, options);
      const encode = createEncoder(spec, dataset.signature);
      const actual = new Float64Array(spec.columns.length + 2).fill(7);
      for (const instance of dataset.instances) {
        encode(instance, actual, 1);
        // The spec read by hand: a number as itself (null as its null value), a one-hot column 1 for its value.
        const expected = spec.columns.map((column) =>
          column.kind === 'one-hot' ? Number(instance[column.input] === column.value) : (instance[column.input] ?? column.nullValue),
        );
        expect(Array.from(actual.subarray(1, -1))).toEqual(expected);
      }
      expect([actual[0], actual.at(-1)]).toEqual([7, 7]);
    }
    // The data set holds customers with a null total.
    expect(dataset.instances.some((instance) => instance.total_charges === null)).toBe(true);
  });

  it('refuses to encode an instance the signature refuses', () => {
    const encode = createEncoder(createEncodingSpec(signature, { nullValues: { total_charges: 0 } }), signature);
    expect(() => encode({ partner: 1, tenure: 12, contract: 'Three year', total_charges: 1 }, new Float64Array(6), 0)).toThrow('does not fit the signature');
  });

  it('refuses a spec that reads an input the signature lacks, or codes a category as a number', () => {
    const spec = createEncodingSpec(signature, { nullValues: { total_charges: 0 } });
    expect(() => createCodeEncoder({ ...spec, columns: [...spec.columns, { input: 'gender', kind: 'value' }] }, signature)).toThrow('encoding column reads gender, which the signature does not have');
    expect(() => createCodeEncoder({ ...spec, columns: [{ input: 'contract', kind: 'value' }] }, signature)).toThrow('encoding column contract copies a category as a number');
  });
});
