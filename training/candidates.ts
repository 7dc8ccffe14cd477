import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GaussianNB } from 'ml-naivebayes';
import type { EncodingSpec } from '../lib/model/encoding.ts';
import type { ConstantParameters, GaussianNBParameters, ModelParameters } from '../lib/model/predictor.ts';
import { fitDecisionTree, toTreeParameters } from './cart.ts';

/** A model family with fixed hyper-parameters, ready to be fitted on encoded rows. */
export interface Candidate {
  id: string;
  family: 'majority-baseline' | 'decision-tree' | 'gaussian-nb';
  library: string;
  hyperParameters: Record<string, number | string | string[]>;
  encoding: EncodingSpec;
  fit(rows: number[][], labels: number[]): ModelParameters;
}

const require = createRequire(import.meta.url);

/** Get the installed version of a package, read from its own package.json. */
export function getPackageVersion(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === name && manifest.version !== undefined) return manifest.version;
    } catch {
      // not the package root yet
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package.json of ${name}`);
    dir = parent;
  }
}

/** A model that always answers the class shares of its training rows: the bar every candidate must clear. */
export function createMajorityBaseline(classes: string[], encoding: EncodingSpec): Candidate {
  return {
    id: 'majority-baseline',
    family: 'majority-baseline',
    library: 'none',
    hyperParameters: {},
    encoding,
    fit(_rows, labels): ConstantParameters {
      const counts = classes.map((_, c) => labels.filter((label) => label === c).length);
      return { type: 'constant', classes, featureCount: encoding.columns.length, distribution: counts.map((count) => count / labels.length) };
    },
  };
}

/** Hyper-parameters of one ml-cart tree candidate (ml-cart's own option names). */
export interface TreeSettings {
  maxDepth: number;
  minNumSamples: number;
  gainThreshold: number;
}

/** An ml-cart DecisionTreeClassifier with Gini splits at the mean of neighbouring values. */
export function createDecisionTree(classes: string[], encoding: EncodingSpec, settings: TreeSettings): Candidate {
  return {
    id: `decision-tree maxDepth=${settings.maxDepth} minNumSamples=${settings.minNumSamples} gainThreshold=${settings.gainThreshold}`,
    family: 'decision-tree',
    library: 'ml-cart',
    hyperParameters: { ...settings, gainFunction: 'gini', splitFunction: 'mean' },
    encoding,
    fit(rows, labels) {
      return toTreeParameters(fitDecisionTree(rows, labels, settings), classes, encoding.columns.length);
    },
  };
}

/**
 * An ml-naivebayes GaussianNB. The library's own predict breaks on zero variance and underflows to
 * class -1, so only its fitted means, priors and deviations are kept, and every variance gets
 * scikit-learn's smoothing term: `varSmoothing` times the largest feature variance.
 */
export function createGaussianNB(classes: string[], encoding: EncodingSpec, { varSmoothing = 1e-9, label = 'all features' } = {}): Candidate {
  return {
    id: `gaussian-nb ${label}`,
    family: 'gaussian-nb',
    library: 'ml-naivebayes',
    hyperParameters: { varSmoothing, features: label },
    encoding,
    fit(rows, labels): GaussianNBParameters {
      const model = new GaussianNB();
      model.train(rows, labels);
      const { means, calculateProbabilities } = model.toJSON();
      const width = encoding.columns.length;
      let largestVariance = 0;
      for (let j = 0; j < width; j++) {
        let sum = 0;
        for (const row of rows) sum += row[j]!;
        const mean = sum / rows.length;
        let squares = 0;
        for (const row of rows) squares += (row[j]! - mean) ** 2;
        largestVariance = Math.max(largestVariance, squares / rows.length);
      }
      const epsilon = Math.max(varSmoothing * largestVariance, Number.MIN_VALUE);
      return {
        type: 'gaussian-nb',
        classes,
        featureCount: width,
        logPriors: calculateProbabilities.map((perClass) => perClass[0]),
        means,
        // The library stores -2 * std^2 per feature; recover the variance it fitted.
        variances: calculateProbabilities.map((perClass) => perClass.slice(1).map((pair) => -(pair as [number, number])[1] / 2 + epsilon)),
      };
    },
  };
}
