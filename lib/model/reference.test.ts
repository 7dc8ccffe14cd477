import { mkdtemp, readFile, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestContents, TEST_SIGNATURE } from '../../tests/fixtures.ts';
import { readDataset } from '../../training/dataset.ts';
import { readArtifact, writeArtifact } from './artifact.ts';
import { computeDriftReference, createBinner, findReferenceProblem, getPopulationStabilityIndex, PSI_FLOOR, REFERENCE_FILE, type DriftReference } from './reference.ts';
import { getInputCodes, type Instance } from './signature.ts';

const { instances, signature } = await readDataset('training/data/telco-churn.csv');
const reference = computeDriftReference(signature, instances);

/** Count customers into a reference's bins through its binner, as training and the server do. */
function countInto(bins: DriftReference, customers: Instance[]) {
  const binner = createBinner(bins, signature);
  const counts = new Float64Array(binner.size);
  binner.count(getInputCodes(signature, customers), signature.inputs.length, customers.length, counts);
  return { binner, counts };
}

/** The bin of a value read off a feature's own definition, independently of the binner. */
function binByHand(feature: DriftReference['features'][number], value: unknown): number {
  if (feature.kind === 'categorical') return feature.values.indexOf(value as string | number);
  if (value === null) return feature.edges.length + 1;
  return feature.edges.filter((edge) => edge <= (value as number)).length;
}

describe('computeDriftReference', () => {
  it('gives every input of the signature its bins, in order, with shares that sum to 1', () => {
    expect(reference.features.map((feature) => feature.input)).toEqual(signature.inputs.map((input) => input.name));
    expect(findReferenceProblem(reference, signature)).toBeUndefined();
    expect(reference.rows).toBe(instances.length);
  });

  it('puts every training value into exactly the bin whose range holds it', () => {
    const tenure = reference.features.findIndex((feature) => feature.input === 'tenure');
    const bins = reference.features[tenure]!;
    if (bins.kind !== 'numeric') throw new Error('tenure should be numeric');
    for (const instance of instances.slice(0, 500)) {
      const value = instance.tenure as number;
      const { binner, counts } = countInto(reference, [instance]);
      const bin = counts.subarray(binner.offsets[tenure]!, binner.offsets[tenure]! + bins.labels.length).indexOf(1);
      if (bin > 0) expect(value).toBeGreaterThanOrEqual(bins.edges[bin - 1]!);
      if (bin < bins.edges.length) expect(value).toBeLessThan(bins.edges[bin]!);
    }
  });

  it('cuts numbers at quantiles without repeated edges, and counts the shares it reports', () => {
    for (const feature of reference.features) {
      if (feature.kind !== 'numeric') continue;
      expect(new Set(feature.edges).size).toBe(feature.edges.length);
      expect(feature.edges.length).toBeLessThanOrEqual(9);
      expect(feature.edges.length).toBeGreaterThanOrEqual(5);
    }
    // Recount one input by hand: the share of monthly charges below the first edge.
    const monthly = reference.features.find((feature) => feature.input === 'monthly_charges')!;
    if (monthly.kind !== 'numeric') throw new Error('monthly_charges should be numeric');
    const below = instances.filter((instance) => (instance.monthly_charges as number) < monthly.edges[0]!).length;
    expect(monthly.frequencies[0]).toBe(below / instances.length);
    expect(monthly.labels[0]).toBe(`<${monthly.edges[0]}`);
  });

  it('gives a nullable number a last bin for null, and null customers land in it', () => {
    const total = reference.features.find((feature) => feature.input === 'total_charges')!;
    if (total.kind !== 'numeric') throw new Error('total_charges should be numeric');
    expect(total.nullable).toBe(true);
    expect(total.labels.at(-1)).toBe('null');
    expect(total.frequencies.at(-1)).toBe(instances.filter((instance) => instance.total_charges === null).length / instances.length);
  });

  it('gives flags and categories one bin per allowed value', () => {
    const contract = reference.features.find((feature) => feature.input === 'contract')!;
    expect(contract).toMatchObject({ kind: 'categorical', values: ['Month-to-month', 'One year', 'Two year'], labels: ['Month-to-month', 'One year', 'Two year'] });
    const female = reference.features.find((feature) => feature.input === 'female')!;
    expect(female).toMatchObject({ kind: 'categorical', values: [0, 1], labels: ['0', '1'] });
  });
});

describe('createBinner', () => {
  it('counts every customer into the bin its value has by the reference, also one listing values in its own order', () => {
    // Reversed categories and features: bins follow the reference, codes the signature.
    const reordered: DriftReference = {
      ...reference,
      features: reference.features.map((feature) => (feature.kind === 'categorical' ? { ...feature, values: [...feature.values].reverse(), labels: [...feature.labels].reverse() } : feature)).reverse(),
    };
    for (const bins of [reference, reordered]) {
      const { binner, counts } = countInto(bins, instances);
      const expected = new Float64Array(binner.size);
      for (const instance of instances) bins.features.forEach((feature, f) => expected[binner.offsets[f]! + binByHand(feature, instance[feature.input])]!++);
      expect(counts).toEqual(expected);
      expect(counts.reduce((sum, count) => sum + count, 0)).toBe(instances.length * signature.inputs.length);
    }
  });

  it('refuses a reference that bins an input the signature lacks, or bins it as another kind', () => {
    const tenure = reference.features.find((feature) => feature.input === 'tenure')!;
    expect(() => createBinner({ ...reference, features: [{ ...tenure, input: 'age' }] }, signature)).toThrow('the drift reference bins age, which the signature does not have');
    expect(() => createBinner({ ...reference, features: [{ ...tenure, input: 'contract' }] }, signature)).toThrow('the drift reference bins contract as numeric, but it is a category');
  });
});

describe('getPopulationStabilityIndex', () => {
  it('is 0 for the training distribution itself and null with no observations', () => {
    const { binner, counts } = countInto(reference, instances);
    reference.features.forEach((feature, f) => {
      const observed = counts.subarray(binner.offsets[f]!, binner.offsets[f]! + feature.labels.length);
      expect(getPopulationStabilityIndex(feature.frequencies, observed)).toBeCloseTo(0, 12);
    });
    expect(getPopulationStabilityIndex([0.5, 0.5], [0, 0])).toBeNull();
  });

  it('matches the formula computed by hand, with empty bins floored', () => {
    // expected 0.5/0.5, observed 0.8/0.2: 0.3 ln(1.6) + (-0.3) ln(0.4)
    expect(getPopulationStabilityIndex([0.5, 0.5], [8, 2])).toBeCloseTo(0.3 * Math.log(1.6) - 0.3 * Math.log(0.4), 12);
    const floored = (1 - 0.5) * Math.log(1 / 0.5) + (PSI_FLOOR - 0.5) * Math.log(PSI_FLOOR / 0.5);
    expect(getPopulationStabilityIndex([0.5, 0.5], [3, 0])).toBeCloseTo(floored, 12);
  });

  it('moves above 0.25 for a shifted input and stays low for the others', () => {
    const shifted: Instance[] = instances.slice(0, 2000).map((instance) => ({ ...instance, monthly_charges: (instance.monthly_charges as number) + 30 }));
    const { binner, counts } = countInto(reference, shifted);
    const psi = Object.fromEntries(
      reference.features.map((feature, f) => [feature.input, getPopulationStabilityIndex(feature.frequencies, counts.subarray(binner.offsets[f]!, binner.offsets[f]! + feature.labels.length))!]),
    );
    expect(psi.monthly_charges).toBeGreaterThan(0.25);
    for (const [input, value] of Object.entries(psi)) if (input !== 'monthly_charges') expect(value).toBeLessThan(0.05);
  });
});

describe('the reference in an artifact', () => {
  const write = async (withReference: DriftReference | undefined) => {
    const dir = join(await mkdtemp(join(tmpdir(), 'reference-')), '1.0.0');
    const contents = createTestContents('1.0.0');
    await writeArtifact(dir, withReference === undefined ? contents : { ...contents, reference: withReference });
    return dir;
  };
  const read = (dir: string) => readArtifact((name) => readFile(join(dir, name)));

  it('is written as reference.json, hashed in the manifest and read back', async () => {
    const testReference = computeDriftReference(TEST_SIGNATURE, instances.slice(0, 300));
    const dir = await write(testReference);
    const artifact = await read(dir);
    expect(artifact.manifest.files[REFERENCE_FILE]).toMatch(/^sha256:/);
    expect(artifact.reference).toEqual(testReference);
  });

  it('is absent, not an error, for a version without one', async () => {
    expect((await read(await write(undefined))).reference).toBeUndefined();
  });

  it('is refused when it does not fit the signature, even with a matching digest', async () => {
    const broken = computeDriftReference(TEST_SIGNATURE, instances.slice(0, 300));
    broken.features.pop();
    const dir = await write(broken);
    await expect(read(dir)).rejects.toThrow(/reference\.json: does not fit the signature: has 18 inputs, the signature 19/);
  });

  it('is refused when its bytes change after publishing', async () => {
    const dir = await write(computeDriftReference(TEST_SIGNATURE, instances.slice(0, 300)));
    const path = join(dir, REFERENCE_FILE);
    await chmod(path, 0o644);
    await writeFile(path, (await readFile(path, 'utf8')).replace('"rows": 300', '"rows": 301'));
    await expect(read(dir)).rejects.toThrow(/reference\.json: digest sha256:[0-9a-f]+ does not match the manifest's/);
  });
});
