import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GaussianNB } from 'ml-naivebayes';
import type { EncodingSpec } from '../lib/model/encoding.ts';
import type { BaggedTreesParameters, ConstantParameters, GaussianNBParameters, ModelParameters } from '../lib/model/predictor.ts';
import { getLoosestRules, growTree, pruneTree, type StoppingRules } from './cart.ts';
import type { GrowJob, TreeGrower } from './grower.ts';
import { chooseIndices, createRandom, drawBootstrap } from './sampling.ts';

/** A model family with fixed hyper-parameters: one row of the cross-validation table. */
export interface Candidate {
  id: string;
  family: 'majority-baseline' | 'decision-tree' | 'bagged-trees' | 'gaussian-nb';
  library: string;
  hyperParameters: Record<string, number | string | string[]>;
  encoding: EncodingSpec;
}

/** What a fit sees: every encoded row and label, which of them to fit on, and the seed of any sampling. */
export interface FitInput {
  rows: number[][];
  labels: number[];
  indices: number[];
  seed: number;
}

/**
 * Candidates fitted together because they share the work: one fit on some rows returns the parameters
 * of the requested members (all by default), in that order (a tree grid cut from one grown tree, say).
 */
export interface CandidateGroup {
  candidates: Candidate[];
  fit(input: FitInput, members?: number[]): Promise<ModelParameters[]>;
}

const getAllMembers = (count: number) => Array.from({ length: count }, (_, k) => k);

const pickRows = ({ rows, labels, indices }: FitInput) => ({ rows: indices.map((i) => rows[i]!), labels: indices.map((i) => labels[i]!) });

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
export function createMajorityBaseline(classes: string[], encoding: EncodingSpec): CandidateGroup {
  const candidate: Candidate = { id: 'majority-baseline', family: 'majority-baseline', library: 'none', hyperParameters: {}, encoding };
  return {
    candidates: [candidate],
    async fit(input): Promise<ConstantParameters[]> {
      const { labels } = pickRows(input);
      const counts = classes.map((_, c) => labels.filter((label) => label === c).length);
      return [{ type: 'constant', classes, featureCount: encoding.columns.length, distribution: counts.map((count) => count / labels.length) }];
    },
  };
}

/**
 * ml-cart DecisionTreeClassifiers (Gini splits at the mean of neighbouring values), one per setting of
 * `grid`. One tree is grown with the loosest settings and each member is pruned from it: the same tree
 * ml-cart grows with the member's settings (see pruneTree and cart.test.ts), at the cost of one fit.
 */
export function createDecisionTrees(classes: string[], encoding: EncodingSpec, grid: StoppingRules[]): CandidateGroup {
  return {
    candidates: grid.map((rules) => ({
      id: `decision-tree maxDepth=${rules.maxDepth} minNumSamples=${rules.minNumSamples} gainThreshold=${rules.gainThreshold}`,
      family: 'decision-tree',
      library: 'ml-cart',
      hyperParameters: { ...rules, gainFunction: 'gini', splitFunction: 'mean' },
      encoding,
    })),
    async fit(input, members = getAllMembers(grid.length)) {
      const { rows, labels } = pickRows(input);
      const chosen = members.map((k) => grid[k]!);
      const grown = growTree(rows, labels, getLoosestRules(chosen), { classCount: classes.length });
      return chosen.map((rules) => pruneTree(grown, rules, classes, encoding.columns.length));
    },
  };
}

/** The settings of a bagged-trees grid: how many trees, the share of columns each tree sees, and the tree settings tried. */
export interface BaggedTreesGrid {
  trees: number;
  featureFraction: number;
  rules: StoppingRules[];
}

/**
 * Bagged ml-cart trees, one member per tree setting of `grid`: each tree is fitted on a bootstrap sample
 * (as many rows as the fit has, drawn with replacement) and, below a feature fraction of 1, on a random
 * subset of the columns; the forest answers the mean of its trees' leaf distributions. Samples and column
 * subsets come from the fit's seed, trees are grown by `grower` (worker threads) with the loosest
 * settings, and each member is pruned from the same trees.
 */
export function createBaggedTrees(classes: string[], encoding: EncodingSpec, grid: BaggedTreesGrid, grower: TreeGrower): CandidateGroup {
  const width = encoding.columns.length;
  const columnCount = Math.max(1, Math.round(grid.featureFraction * width));
  return {
    candidates: grid.rules.map((rules) => ({
      id: `bagged-trees trees=${grid.trees} featureFraction=${grid.featureFraction} maxDepth=${rules.maxDepth} minNumSamples=${rules.minNumSamples} gainThreshold=${rules.gainThreshold}`,
      family: 'bagged-trees',
      library: 'ml-cart',
      hyperParameters: { trees: grid.trees, featureFraction: grid.featureFraction, ...rules, gainFunction: 'gini', splitFunction: 'mean', sample: 'bootstrap' },
      encoding,
    })),
    async fit({ indices, seed }, members = getAllMembers(grid.rules.length)): Promise<BaggedTreesParameters[]> {
      const chosen = members.map((k) => grid.rules[k]!);
      const loosest = getLoosestRules(chosen);
      const random = createRandom(seed);
      const jobs: GrowJob[] = Array.from({ length: grid.trees }, () => ({
        sample: drawBootstrap(indices, indices.length, random),
        columns: columnCount < width ? chooseIndices(width, columnCount, random) : null,
        rules: loosest,
      }));
      const grown = await grower.grow(jobs);
      return chosen.map((rules) => ({
        type: 'bagged-trees',
        classes,
        featureCount: width,
        trees: grown.map((tree) => pruneTree(tree, rules, classes, width).nodes),
      }));
    },
  };
}

/**
 * An ml-naivebayes GaussianNB. The library's own predict breaks on zero variance and underflows to
 * class -1, so only its fitted means, priors and deviations are kept, and every variance gets
 * scikit-learn's smoothing term: `varSmoothing` times the largest feature variance.
 */
export function createGaussianNB(classes: string[], encoding: EncodingSpec, { varSmoothing = 1e-9, label = 'all features' } = {}): CandidateGroup {
  const candidate: Candidate = { id: `gaussian-nb ${label}`, family: 'gaussian-nb', library: 'ml-naivebayes', hyperParameters: { varSmoothing, features: label }, encoding };
  return {
    candidates: [candidate],
    async fit(input): Promise<GaussianNBParameters[]> {
      const { rows, labels } = pickRows(input);
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
      return [
        {
          type: 'gaussian-nb',
          classes,
          featureCount: width,
          logPriors: calculateProbabilities.map((perClass) => perClass[0]),
          means,
          // The library stores -2 * std^2 per feature; recover the variance it fitted.
          variances: calculateProbabilities.map((perClass) => perClass.slice(1).map((pair) => -(pair as [number, number])[1] / 2 + epsilon)),
        },
      ];
    },
  };
}
