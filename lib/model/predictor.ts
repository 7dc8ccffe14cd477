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

/** A CART decision tree as a flat node list; node 0 is the root. */
export interface DecisionTreeParameters {
  type: 'decision-tree';
  classes: string[];
  featureCount: number;
  nodes: (SplitNode | LeafNode)[];
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
export type ModelParameters = DecisionTreeParameters | GaussianNBParameters | ConstantParameters;

/** Computes P(class = positive) for feature vectors stored row after row in one array. */
export interface Predictor {
  featureCount: number;
  /** Probability of the positive class for the vector at `offset` of `vectors`. */
  predictProbability(vectors: Float64Array, offset: number): number;
}

function createTreePredictor(params: DecisionTreeParameters, positive: number): Predictor {
  const count = params.nodes.length;
  // Struct-of-arrays layout keeps the walk to a few typed-array reads per level.
  const feature = new Int32Array(count);
  const threshold = new Float64Array(count);
  const left = new Int32Array(count);
  const right = new Int32Array(count);
  const probability = new Float64Array(count);
  params.nodes.forEach((node, index) => {
    if ('distribution' in node) {
      feature[index] = -1;
      probability[index] = node.distribution[positive] ?? 0;
    } else {
      if (node.left <= index || node.right <= index || node.left >= count || node.right >= count) {
        throw new Error(`decision tree node ${index} points outside the tree`);
      }
      feature[index] = node.feature;
      threshold[index] = node.threshold;
      left[index] = node.left;
      right[index] = node.right;
    }
  });
  return {
    featureCount: params.featureCount,
    predictProbability(vectors, offset) {
      let node = 0;
      while (feature[node]! >= 0) {
        node = vectors[offset + feature[node]!]! < threshold[node]! ? left[node]! : right[node]!;
      }
      return probability[node]!;
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

/** Create the predictor for a model's parameters, answering P(`positiveClass`). */
export function createPredictor(params: ModelParameters, positiveClass: string): Predictor {
  const positive = params.classes.indexOf(positiveClass);
  if (positive < 0) throw new Error(`positive class ${positiveClass} is not one of the model's classes`);
  switch (params.type) {
    case 'decision-tree':
      return createTreePredictor(params, positive);
    case 'gaussian-nb':
      return createGaussianNBPredictor(params, positive);
    case 'constant': {
      const probability = params.distribution[positive] ?? 0;
      return { featureCount: params.featureCount, predictProbability: () => probability };
    }
  }
}

/** Predict P(positive) for `count` vectors of `predictor.featureCount` columns each. */
export function predictProbabilities(predictor: Predictor, vectors: Float64Array, count: number): Float64Array {
  const result = new Float64Array(count);
  for (let i = 0; i < count; i++) result[i] = predictor.predictProbability(vectors, i * predictor.featureCount);
  return result;
}
