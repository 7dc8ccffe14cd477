import { Gauge, type Registry } from 'prom-client';
import { createBinner, getPopulationStabilityIndex, type Binner, type DriftReference } from '../lib/model/reference.ts';
import type { ServedModel } from './model.ts';
import { registerScrapedCounter } from './scraped.ts';

/** Drift of one input since the process started: inputs counted and their population stability index against training. */
export interface FeatureDrift {
  n: number;
  psi: number | null;
}

/** Live input distributions of the served version against its training reference. */
export interface DriftMonitor {
  setModel(model: ServedModel): void;
  /** Count `count` accepted /predict customers, given as input codes (`width` each), into the reference's bins; nothing for a version without a reference. */
  count(codes: Float64Array, width: number, count: number): void;
  /** PSI since start by input; null when the served version has no reference (published before references existed). */
  getHealth(): Record<string, FeatureDrift> | null;
}

interface VersionDrift {
  version: string;
  reference: DriftReference;
  binner: Binner;
  /** One count per bin of every input, laid out as `binner.offsets` says. */
  counts: Float64Array;
}

/**
 * Create the drift monitor and register its metrics. The request path only adds one to a typed array per
 * input; the `churn_input_bin_total` samples are built when Prometheus scrapes.
 */
export function createDriftMonitor({ registry }: { registry: Registry }): DriftMonitor {
  let current: VersionDrift | undefined;

  // Consumed by the churn:input_bin:increase1h recording rule (live shares, then churn:input_psi:1h).
  registerScrapedCounter({
    registry,
    name: 'churn_input_bin_total',
    help: "Accepted /predict inputs by version, input feature and bin of the version's training reference.",
    labelNames: ['version', 'feature', 'bin'],
    collect(add) {
      if (current === undefined) return;
      const { version, reference, binner, counts } = current;
      for (const [f, feature] of reference.features.entries()) {
        for (const [bin, label] of feature.labels.entries()) add({ version, feature: feature.input, bin: label }, counts[binner.offsets[f]! + bin]!);
      }
    },
  });
  // Consumed by churn:input_reference_ratio, the expected shares churn:input_psi:1h compares with.
  const referenceRatio = new Gauge({
    name: 'churn_input_reference_ratio',
    help: "Share of the served version's training rows in each bin of each input feature (its drift reference).",
    labelNames: ['version', 'feature', 'bin'] as const,
    registers: [registry],
  });

  return {
    setModel(model) {
      referenceRatio.reset();
      const reference = model.reference;
      if (reference === undefined) {
        current = undefined;
        return;
      }
      const binner = createBinner(reference, model.manifest.signature);
      current = { version: model.version, reference, binner, counts: new Float64Array(binner.size) };
      for (const feature of reference.features) {
        for (const [bin, label] of feature.labels.entries()) referenceRatio.labels(model.version, feature.input, label).set(feature.frequencies[bin]!);
      }
    },
    count(codes, width, count) {
      current?.binner.count(codes, width, count, current.counts);
    },
    getHealth() {
      if (current === undefined) return null;
      const { reference, binner, counts } = current;
      return Object.fromEntries(
        reference.features.map((feature, f) => {
          const observed = counts.subarray(binner.offsets[f]!, binner.offsets[f]! + feature.labels.length);
          return [feature.input, { n: observed.reduce((sum, count) => sum + count, 0), psi: getPopulationStabilityIndex(feature.frequencies, observed) }];
        }),
      );
    },
  };
}
