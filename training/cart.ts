import { DecisionTreeClassifier, type DecisionTreeOptions, type TreeNode } from 'ml-cart';
import type { DecisionTreeParameters, LeafNode, SplitNode } from '../lib/model/predictor.ts';

/*
 * ml-cart's split search (TreeNode#bestSplit) lists a candidate threshold for every pair of
 * neighbouring sorted rows whose labels differ, so a 0/1 column yields thousands of copies of the
 * same threshold, and it scores each candidate by re-partitioning every row of the node. That is
 * O(rows^2) per column and node: about 40 s for one depth-6 tree on 4,800 rows.
 *
 * fastBestSplit returns exactly what the stock method returns, in one sort and one sweep per column:
 * - the same candidates in the same order: within a run of equal values (kept in row order, as the
 *   stock stable sort does) a label change proposes the value itself; between two runs a label
 *   change across the boundary proposes their mean;
 * - the same gain, bit for bit: ml-cart computes a class share as 1/n added once per row, not
 *   count/n, so shares come from a table of those running sums, and the Gini terms are combined in
 *   the stock order (greater side first);
 * - the same winner: the first candidate with the strictly largest gain. Repeated candidates score
 *   the same partition, so skipping them cannot change the winner.
 * Anything outside what this proof covers (non-finite or negative-zero values, labels that are not
 * small non-negative integers, other gain or split functions) falls back to the stock method.
 */

interface Matrix {
  rows: number;
  data?: Float64Array[];
  getRow(index: number): number[];
}

interface SplitResult {
  maxGain: number;
  maxColumn: number | undefined;
  maxValue: number | undefined;
  numberSamples: number | undefined;
}

interface TreeNodeInternals {
  kind: string;
  gainFunction: string;
  splitFunction: string;
  bestSplit(this: TreeNodeInternals, XTranspose: Matrix, y: number[]): SplitResult;
}

const shareTables = new Map<number, Float64Array>();

/** The class share ml-cart computes for `count` of `total` rows: 1/total added `count` times. */
function getShare(count: number, total: number): number {
  let table = shareTables.get(total);
  if (table === undefined) {
    table = new Float64Array(total + 1);
    const step = 1 / total;
    for (let i = 1; i <= total; i++) table[i] = table[i - 1]! + step;
    shareTables.set(total, table);
  }
  return table[count]!;
}

function getGiniImpurity(counts: Int32Array, total: number): number {
  if (total === 0) return 0;
  let sum = 0.0;
  for (let c = 0; c < counts.length; c++) {
    const count = counts[c]!;
    if (count > 0) {
      const share = getShare(count, total);
      sum += share * share;
    }
  }
  return 1 - sum;
}

const FEW_VALUES = 8;

/**
 * The distinct values of a column in increasing order, or null if one is not finite or is -0 (the
 * proof does not cover those). Most columns are 0/1 flags, so a short list is tried first.
 */
function getDistinctSortedValues(x: ArrayLike<number>): Float64Array | null {
  const few: number[] = [];
  for (let r = 0; r < x.length; r++) {
    const value = x[r]!;
    if (!Number.isFinite(value) || (value === 0 && 1 / value < 0)) return null;
    if (!few.includes(value)) {
      if (few.length === FEW_VALUES) {
        for (let rest = r + 1; rest < x.length; rest++) {
          const v = x[rest]!;
          if (!Number.isFinite(v) || (v === 0 && 1 / v < 0)) return null;
        }
        const sorted = Float64Array.from(x).sort();
        let count = 0;
        for (const v of sorted) if (count === 0 || v !== sorted[count - 1]) sorted[count++] = v;
        return sorted.slice(0, count);
      }
      few.push(value);
    }
  }
  return Float64Array.from(few).sort();
}

/** Map a value to its index in `values` (sorted, distinct, and known to contain it). */
function createGroupFinder(values: Float64Array): (value: number) => number {
  if (values.length <= FEW_VALUES) {
    return (value) => {
      let index = 0;
      while (values[index] !== value) index++;
      return index;
    };
  }
  return (value) => {
    let low = 0;
    let high = values.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (values[middle]! < value) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

function isSupported(node: TreeNodeInternals, XTranspose: Matrix, y: number[]): boolean {
  if (node.kind !== 'classifier' || node.gainFunction !== 'gini' || node.splitFunction !== 'mean') return false;
  return y.every((label) => Number.isInteger(label) && label >= 0 && label < 1024) && XTranspose.rows > 0;
}

function fastBestSplit(this: TreeNodeInternals, XTranspose: Matrix, y: number[], stock: TreeNodeInternals['bestSplit']): SplitResult {
  if (!isSupported(this, XTranspose, y)) return stock.call(this, XTranspose, y);
  const n = y.length;
  let classCount = 0;
  for (const label of y) if (label + 1 > classCount) classCount = label + 1;
  const all = new Int32Array(classCount);
  for (const label of y) all[label]!++;
  const parentImpurity = getGiniImpurity(all, n);

  const columns: { x: ArrayLike<number>; values: Float64Array }[] = [];
  for (let i = 0; i < XTranspose.rows; i++) {
    // ml-matrix keeps each row as a Float64Array in `data`; read it in place instead of copying.
    const x = XTranspose.data?.[i] ?? XTranspose.getRow(i);
    const values = getDistinctSortedValues(x);
    if (values === null) return stock.call(this, XTranspose, y);
    columns.push({ x, values });
  }

  let bestGain = -Infinity;
  let maxColumn: number | undefined;
  let maxValue: number | undefined;
  let numberSamples: number | undefined;
  const lesser = new Int32Array(classCount);
  const greater = new Int32Array(classCount);

  columns.forEach(({ x, values }, column) => {
    const groups = values.length;
    const findGroup = createGroupFinder(values);

    // Per run of equal values, in row order: label counts, first and last label, any label change.
    const counts = new Int32Array(groups * classCount);
    const first = new Int32Array(groups).fill(-1);
    const last = new Int32Array(groups).fill(-1);
    const changes = new Uint8Array(groups);
    for (let row = 0; row < n; row++) {
      const low = findGroup(x[row]!);
      const label = y[row]!;
      counts[low * classCount + label]!++;
      if (first[low] === -1) first[low] = label;
      else if (last[low] !== label) changes[low] = 1;
      last[low] = label;
    }

    lesser.fill(0);
    let lesserTotal = 0;
    let next = 0;
    const evaluate = (splitValue: number): void => {
      while (next < groups && values[next]! < splitValue) {
        for (let c = 0; c < classCount; c++) {
          const count = counts[next * classCount + c]!;
          lesser[c]! += count;
          lesserTotal += count;
        }
        next++;
      }
      for (let c = 0; c < classCount; c++) greater[c] = all[c]! - lesser[c]!;
      const greaterTotal = n - lesserTotal;
      let splitsImpurity = 0.0;
      splitsImpurity += (getGiniImpurity(greater, greaterTotal) * greaterTotal) / n;
      splitsImpurity += (getGiniImpurity(lesser, lesserTotal) * lesserTotal) / n;
      const gain = parentImpurity - splitsImpurity;
      if (gain > bestGain) {
        bestGain = gain;
        maxColumn = column;
        maxValue = splitValue;
        numberSamples = n;
      }
    };
    for (let g = 0; g < groups; g++) {
      if (g > 0 && last[g - 1] !== first[g]) evaluate((values[g - 1]! + values[g]!) / 2);
      if (changes[g] === 1) evaluate(values[g]!);
    }
  });

  return { maxGain: bestGain, maxColumn, maxValue, numberSamples };
}

let treeNodePrototype: TreeNodeInternals | undefined;

function getTreeNodePrototype(): TreeNodeInternals {
  // ml-cart does not export TreeNode; a loaded one-leaf tree hands us its prototype.
  treeNodePrototype ??= Object.getPrototypeOf(
    DecisionTreeClassifier.load({ name: 'DTClassifier', options: {}, root: { distribution: [[1]] } }).root,
  ) as TreeNodeInternals;
  return treeNodePrototype;
}

/** Options of {@link fitDecisionTree}; `splitSearch: 'stock'` runs ml-cart unmodified. */
export interface FitDecisionTreeOptions extends DecisionTreeOptions {
  splitSearch?: 'fast' | 'stock';
}

/**
 * Fit an ml-cart DecisionTreeClassifier. With the default fast split search the fitted tree is
 * identical to stock ml-cart's (see the proof above and cart.test.ts), only quicker.
 */
export function fitDecisionTree(rows: number[][], labels: number[], { splitSearch = 'fast', ...options }: FitDecisionTreeOptions = {}): DecisionTreeClassifier {
  const classifier = new DecisionTreeClassifier(options);
  if (splitSearch === 'stock') {
    classifier.train(rows, labels);
    return classifier;
  }
  const prototype = getTreeNodePrototype();
  const stock = prototype.bestSplit;
  prototype.bestSplit = function (this: TreeNodeInternals, XTranspose: Matrix, y: number[]) {
    return fastBestSplit.call(this, XTranspose, y, stock);
  };
  try {
    classifier.train(rows, labels);
  } finally {
    prototype.bestSplit = stock;
  }
  return classifier;
}

/** Convert a fitted ml-cart tree to this project's flat node list, padding leaf distributions to every class. */
export function toTreeParameters(classifier: DecisionTreeClassifier, classes: string[], featureCount: number): DecisionTreeParameters {
  const nodes: (SplitNode | LeafNode)[] = [];
  const visit = (node: TreeNode): number => {
    const index = nodes.length;
    if (node.left !== undefined && node.right !== undefined) {
      const split: SplitNode = { feature: node.splitColumn!, threshold: node.splitValue!, left: -1, right: -1 };
      nodes.push(split);
      split.left = visit(node.left);
      split.right = visit(node.right);
    } else {
      // ml-cart sizes a leaf's distribution by the largest label that reached it, so pad with zeros.
      const shares = node.distribution!.getRow(0);
      nodes.push({ distribution: classes.map((_, c) => shares[c] ?? 0) });
    }
    return index;
  };
  visit(classifier.root);
  return { type: 'decision-tree', classes, featureCount, nodes };
}
