import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { computeDriftReference, createBinner } from '../lib/model/reference.ts';
import { getInputCodes, type Instance } from '../lib/model/signature.ts';
import { readDataset } from '../training/dataset.ts';
import { createDriftMonitor } from './drift.ts';
import { loadServedModel } from './model.ts';

const { instances, signature } = await readDataset('training/data/telco-churn.csv');
// The reference of the first 4,800 customers; the last 1,200 play live traffic from the same population.
const training = instances.slice(0, 4800);
const live = instances.slice(4800);
const reference = computeDriftReference(signature, training);
// 1.0.0 was published before drift references existed.
const committed = await loadServedModel({ registry: 'model-registry', name: 'telco-churn', version: '1.0.0' });
const model = { ...committed, version: '1.1.0', reference };

/** The input codes of valid customers, as /predict's validation writes them. */
const toCodes = (customers: Instance[]): [Float64Array, number, number] => [getInputCodes(signature, customers), signature.inputs.length, customers.length];

function createMonitor() {
  const registry = new Registry();
  const monitor = createDriftMonitor({ registry });
  monitor.setModel(model);
  return { registry, monitor };
}

describe('createDriftMonitor', () => {
  it('keeps every input low for live traffic from the training population', () => {
    const { monitor } = createMonitor();
    monitor.count(...toCodes(live));
    const features = monitor.getHealth()!;
    expect(Object.keys(features)).toEqual(signature.inputs.map((input) => input.name));
    for (const [name, { n, psi }] of Object.entries(features)) {
      expect(n, name).toBe(live.length);
      expect(psi, name).toBeLessThan(0.05);
    }
  });

  it('moves only the shifted input above 0.25 when customers have been with the company a year longer', () => {
    const { monitor } = createMonitor();
    monitor.count(...toCodes(live.map((customer) => ({ ...customer, tenure: (customer.tenure as number) + 12 }))));
    const features = monitor.getHealth()!;
    expect(features.tenure!.psi).toBeGreaterThan(0.25);
    for (const [name, { psi }] of Object.entries(features)) if (name !== 'tenure') expect(psi, name).toBeLessThan(0.05);
  });

  it('computes the index counted by hand for a category', () => {
    const { monitor } = createMonitor();
    const mostlyLong = [...live.filter((customer) => customer.contract !== 'Month-to-month'), ...live.slice(0, 100)];
    monitor.count(...toCodes(mostlyLong));
    const contract = reference.features.find((feature) => feature.input === 'contract')!;
    const expectedPsi = contract.labels.reduce((sum, value, bin) => {
      const observed = Math.max(1e-4, mostlyLong.filter((customer) => customer.contract === value).length / mostlyLong.length);
      const expected = Math.max(1e-4, contract.frequencies[bin]!);
      return sum + (observed - expected) * Math.log(observed / expected);
    }, 0);
    expect(monitor.getHealth()!.contract).toEqual({ n: mostlyLong.length, psi: expect.closeTo(expectedPsi, 12) });
  });

  it("counts what the reference's binner counts, whatever the order of a customer's keys", async () => {
    const { registry, monitor } = createMonitor();
    const shuffled = live.slice(0, 300).map((customer, i) => {
      const entries = Object.entries(customer);
      if (i % 3 === 1) entries.reverse();
      if (i % 3 === 2) entries.splice(5, 0, ['customer_id', 'x']);
      return Object.fromEntries(entries) as Instance;
    });
    monitor.count(...toCodes(shuffled));
    const binner = createBinner(reference, signature);
    const expected = new Float64Array(binner.size);
    binner.count(...toCodes(live.slice(0, 300)), expected);
    const text = await registry.metrics();
    for (const [f, feature] of reference.features.entries()) {
      for (const [bin, label] of feature.labels.entries()) {
        expect(text).toContain(`churn_input_bin_total{version="1.1.0",feature="${feature.input}",bin="${label}"} ${expected[binner.offsets[f]! + bin]}\n`);
      }
    }
  });

  it('exports live bin counts at scrape time beside the reference shares, every bin from the start', async () => {
    const { registry, monitor } = createMonitor();
    const before = await registry.metrics();
    const bins = reference.features.reduce((sum, feature) => sum + feature.labels.length, 0);
    expect(before.match(/^churn_input_bin_total\{/gm)).toHaveLength(bins);
    expect(before.match(/^churn_input_reference_ratio\{/gm)).toHaveLength(bins);
    monitor.count(...toCodes([{ ...live[0]!, contract: 'Two year', total_charges: null } as Instance]));
    const after = await registry.metrics();
    expect(after).toContain('churn_input_bin_total{version="1.1.0",feature="contract",bin="Two year"} 1');
    expect(after).toContain('churn_input_bin_total{version="1.1.0",feature="total_charges",bin="null"} 1');
    expect(after).toContain('churn_input_bin_total{version="1.1.0",feature="contract",bin="One year"} 0');
    const twoYear = reference.features.find((feature) => feature.input === 'contract')!.frequencies[2];
    expect(after).toContain(`churn_input_reference_ratio{version="1.1.0",feature="contract",bin="Two year"} ${twoYear}`);
  });

  it('serves a version without a reference without drift figures or series', async () => {
    const registry = new Registry();
    const monitor = createDriftMonitor({ registry });
    monitor.setModel(committed);
    monitor.count(...toCodes(live.slice(0, 10)));
    expect(committed.reference).toBeUndefined();
    expect(monitor.getHealth()).toBeNull();
    expect(await registry.metrics()).not.toMatch(/^churn_input_(bin_total|reference_ratio)\{/m);
  });
});
