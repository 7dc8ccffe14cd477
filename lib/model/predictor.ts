import { createCalibrator, type Calibration } from './calibration.ts';

/** An internal node: rows with `vector[feature] < threshold` go left, all others right (ml-cart's rule). */
export interface SplitNode {
  feature: number;
  threshold: number;
  left: number;
  right: number;
}

/** A leaf: the class distribution of the training rows that reached it, one entry per class. */
export interface LeafNode {
  distribution: number[];
}

/** The nodes of one tree, node 0 the root, children after their parent. */
export type TreeNodes = (SplitNode | LeafNode)[];

/** A CART decision tree as a flat node list; node 0 is the root. */
export interface DecisionTreeParameters {
  type: 'decision-tree';
  classes: string[];
  featureCount: number;
  nodes: TreeNodes;
}

/** Bagged decision trees: the probability of a class is the mean of the trees' leaf distributions. */
export interface BaggedTreesParameters {
  type: 'bagged-trees';
  classes: string[];
  featureCount: number;
  trees: TreeNodes[];
}

/**
 * A Gaussian naive Bayes model: log priors, and per class the mean and variance of each feature
 * (variances already include the smoothing term, so none is zero).
 */
export interface GaussianNBParameters {
  type: 'gaussian-nb';
  classes: string[];
  featureCount: number;
  logPriors: number[];
  means: number[][];
  variances: number[][];
}

/** A model that ignores its input and always answers the same distribution (the baseline). */
export interface ConstantParameters {
  type: 'constant';
  classes: string[];
  featureCount: number;
  distribution: number[];
}

/** The parameters of any model this project can serve. */
export type ModelParameters = DecisionTreeParameters | BaggedTreesParameters | GaussianNBParameters | ConstantParameters;

/** Computes P(class = positive) for feature vectors stored row after row in one array. */
export interface Predictor {
  featureCount: number;
  /** Probability of the positive class for the vector at `offset` of `vectors`. */
  predictProbability(vectors: Float64Array, offset: number): number;
}

/**
 * Trees compiled into one struct-of-arrays node table, each tree laid out depth first so that a node's
 * left child is the next node: a walk is then three typed-array reads per level. `feature` is -1 at a
 * leaf, whose `value` is the positive class's share; otherwise `value` is the threshold and `right` the
 * right child. `roots` holds where each tree starts.
 */
interface CompiledTrees {
  roots: Int32Array;
  feature: Int32Array;
  value: Float64Array;
  right: Int32Array;
}

function compileTrees(trees: TreeNodes[], positive: number, featureCount: number): CompiledTrees {
  const feature: number[] = [];
  const value: number[] = [];
  const right: number[] = [];
  const roots = new Int32Array(trees.length);
  trees.forEach((nodes, t) => {
    const name = (index: number) => (trees.length === 1 ? `decision tree node ${index}` : `tree ${t} node ${index}`);
    const place = (index: number): number => {
      const node = nodes[index]!;
      const at = feature.length;
      if ('distribution' in node) {
        feature.push(-1);
        value.push(node.distribution[positive] ?? 0);
        right.push(-1);
        return at;
      }
      // Children after their parent: no cycles, and the depth-first copy ends.
      if (node.left <= index || node.right <= index || node.left >= nodes.length || node.right >= nodes.length) throw new Error(`${name(index)} points outside the tree`);
      if (!(node.feature >= 0 && node.feature < featureCount)) throw new Error(`${name(index)} reads feature ${node.feature} of ${featureCount}`);
      feature.push(node.feature);
      value.push(node.threshold);
      right.push(-1);
      place(node.left);
      right[at] = place(node.right);
      return at;
    };
    roots[t] = place(0);
  });
  return { roots, feature: Int32Array.from(feature), value: Float64Array.from(value), right: Int32Array.from(right) };
}

function createTreePredictor(params: DecisionTreeParameters, positive: number): Predictor {
  const { feature, value, right } = compileTrees([params.nodes], positive, params.featureCount);
  return {
    featureCount: params.featureCount,
    predictProbability(vectors, offset) {
      let node = 0;
      while (feature[node]! >= 0) node = vectors[offset + feature[node]!]! < value[node]! ? node + 1 : right[node]!;
      return value[node]!;
    },
  };
}

/** Bagged trees no deeper than this are walked as complete binary trees (at most 2^depth leaves each). */
export const MAX_COMPLETE_TREE_DEPTH = 8;

/** The depth of the deepest leaf of a compiled tree starting at `root`. */
function getCompiledDepth({ feature, right }: CompiledTrees, root: number): number {
  let deepest = 0;
  const visit = (node: number, depth: number): void => {
    if (feature[node]! < 0) {
      deepest = Math.max(deepest, depth);
      return;
    }
    visit(node + 1, depth + 1);
    visit(right[node]!, depth + 1);
  };
  visit(root, 0);
  return deepest;
}

/**
 * Compiled trees padded to complete binary trees of one depth, in heap order (children of n at 2n + 1
 * and 2n + 2): a leaf above that depth becomes a split whose both sides hold the same leaf, so every
 * walk takes exactly `depth` steps and no step needs to ask whether it reached a leaf.
 */
function createCompleteTreesPredictor(compiled: CompiledTrees, depth: number, featureCount: number): Predictor {
  const treeCount = compiled.roots.length;
  const internal = 2 ** depth - 1;
  const leaves = 2 ** depth;
  const feature = new Int32Array(treeCount * internal);
  const threshold = new Float64Array(treeCount * internal);
  const leaf = new Float64Array(treeCount * leaves);
  compiled.roots.forEach((root, t) => {
    const fill = (node: number, heap: number, level: number): void => {
      const isLeaf = compiled.feature[node]! < 0;
      if (level === depth) {
        leaf[t * leaves + heap - internal] = compiled.value[node]!;
        return;
      }
      feature[t * internal + heap] = isLeaf ? 0 : compiled.feature[node]!;
      threshold[t * internal + heap] = isLeaf ? -Infinity : compiled.value[node]!;
      fill(isLeaf ? node : node + 1, 2 * heap + 1, level + 1);
      fill(isLeaf ? node : compiled.right[node]!, 2 * heap + 2, level + 1);
    };
    fill(root, 0, 0);
  });
  // One step: left (2n + 1) when the value is below the threshold, as ml-cart decides, else right (2n + 2).
  // Number(boolean) keeps the step free of branches, which a CPU would mispredict half the time.
  const step = (vectors: Float64Array, offset: number, base: number, n: number) => 2 * n + 2 - Number(vectors[offset + feature[base + n]!]! < threshold[base + n]!);
  return {
    featureCount,
    predictProbability(vectors, offset) {
      let sum = 0;
      let t = 0;
      // Eight trees at a time: their walks do not depend on each other, so the CPU overlaps them.
      for (; t + 8 <= treeCount; t += 8) {
        const base = t * internal;
        let n0 = 0;
        let n1 = 0;
        let n2 = 0;
        let n3 = 0;
        let n4 = 0;
        let n5 = 0;
        let n6 = 0;
        let n7 = 0;
        for (let level = 0; level < depth; level++) {
          n0 = step(vectors, offset, base, n0);
          n1 = step(vectors, offset, base + internal, n1);
          n2 = step(vectors, offset, base + 2 * internal, n2);
          n3 = step(vectors, offset, base + 3 * internal, n3);
          n4 = step(vectors, offset, base + 4 * internal, n4);
          n5 = step(vectors, offset, base + 5 * internal, n5);
          n6 = step(vectors, offset, base + 6 * internal, n6);
          n7 = step(vectors, offset, base + 7 * internal, n7);
        }
        sum += leaf[t * leaves + n0 - internal]!;
        sum += leaf[(t + 1) * leaves + n1 - internal]!;
        sum += leaf[(t + 2) * leaves + n2 - internal]!;
        sum += leaf[(t + 3) * leaves + n3 - internal]!;
        sum += leaf[(t + 4) * leaves + n4 - internal]!;
        sum += leaf[(t + 5) * leaves + n5 - internal]!;
        sum += leaf[(t + 6) * leaves + n6 - internal]!;
        sum += leaf[(t + 7) * leaves + n7 - internal]!;
      }
      for (; t < treeCount; t++) {
        let n = 0;
        for (let level = 0; level < depth; level++) n = step(vectors, offset, t * internal, n);
        sum += leaf[t * leaves + n - internal]!;
      }
      return sum / treeCount;
    },
  };
}

function createBaggedTreesPredictor(params: BaggedTreesParameters, positive: number): Predictor {
  if (params.trees.length === 0) throw new Error('bagged trees need at least one tree');
  const compiled = compileTrees(params.trees, positive, params.featureCount);
  const depth = Math.max(...Array.from(compiled.roots, (root) => getCompiledDepth(compiled, root)));
  if (depth <= MAX_COMPLETE_TREE_DEPTH) return createCompleteTreesPredictor(compiled, depth, params.featureCount);
  const { roots, feature, value, right } = compiled;
  const treeCount = roots.length;
  return {
    featureCount: params.featureCount,
    predictProbability(vectors, offset) {
      let sum = 0;
      for (let t = 0; t < treeCount; t++) {
        let node = roots[t]!;
        while (feature[node]! >= 0) node = vectors[offset + feature[node]!]! < value[node]! ? node + 1 : right[node]!;
        sum += value[node]!;
      }
      return sum / treeCount;
    },
  };
}

function createGaussianNBPredictor(params: GaussianNBParameters, positive: number): Predictor {
  const classCount = params.classes.length;
  const width = params.featureCount;
  const means = Float64Array.from(params.means.flat());
  // log N(x; mean, var) = -0.5 * log(2 pi var) - (x - mean)^2 / (2 var); constants folded per class.
  const inverseTwoVariances = Float64Array.from(params.variances.flat(), (variance) => 1 / (2 * variance));
  const constants = params.logPriors.map(
    (logPrior, c) => logPrior - 0.5 * params.variances[c]!.reduce((sum, variance) => sum + Math.log(2 * Math.PI * variance), 0),
  );
  const logJoint = new Float64Array(classCount);
  return {
    featureCount: width,
    predictProbability(vectors, offset) {
      let max = -Infinity;
      for (let c = 0; c < classCount; c++) {
        let sum = constants[c]!;
        const base = c * width;
        for (let j = 0; j < width; j++) {
          const d = vectors[offset + j]! - means[base + j]!;
          sum -= d * d * inverseTwoVariances[base + j]!;
        }
        logJoint[c] = sum;
        if (sum > max) max = sum;
      }
      // Log-sum-exp: shift by the largest log joint so exp never underflows to 0/0.
      let total = 0;
      for (let c = 0; c < classCount; c++) total += Math.exp(logJoint[c]! - max);
      return Math.exp(logJoint[positive]! - max) / total;
    },
  };
}

function createRawPredictor(params: ModelParameters, positive: number): Predictor {
  switch (params.type) {
    case 'decision-tree':
      return createTreePredictor(params, positive);
    case 'bagged-trees':
      return createBaggedTreesPredictor(params, positive);
    case 'gaussian-nb':
      return createGaussianNBPredictor(params, positive);
    case 'constant': {
      const probability = params.distribution[positive] ?? 0;
      return { featureCount: params.featureCount, predictProbability: () => probability };
    }
  }
}

/**
 * Create the predictor for a model's parameters, answering P(`positiveClass`): the model's own
 * probability, passed through `calibration` when the version has one.
 */
export function createPredictor(params: ModelParameters, positiveClass: string, calibration?: Calibration): Predictor {
  const positive = params.classes.indexOf(positiveClass);
  if (positive < 0) throw new Error(`positive class ${positiveClass} is not one of the model's classes`);
  const raw = createRawPredictor(params, positive);
  if (calibration === undefined) return raw;
  const calibrate = createCalibrator(calibration);
  return {
    featureCount: raw.featureCount,
    predictProbability: (vectors, offset) => calibrate(raw.predictProbability(vectors, offset)),
  };
}

/** Predict P(positive) for `count` vectors of `predictor.featureCount` columns each. */
export function predictProbabilities(predictor: Predictor, vectors: Float64Array, count: number): Float64Array {
  const result = new Float64Array(count);
  for (let i = 0; i < count; i++) result[i] = predictor.predictProbability(vectors, i * predictor.featureCount);
  return result;
}
