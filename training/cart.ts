import { DecisionTreeClassifier, type DecisionTreeOptions, type TreeNode } from 'ml-cart';
import type { DecisionTreeParameters, LeafNode, SplitNode } from '../lib/model/predictor.ts';

/*
 * ml-cart's split search (TreeNode#bestSplit) lists a candidate threshold for every pair of
 * neighbouring sorted rows whose labels differ, so a 0/1 column yields thousands of copies of the
 * same threshold, and it scores each candidate by re-partitioning every row of the node. That is
 * O(rows^2) per column and node: about 40 s for one depth-6 tree on 4,800 rows.
 *
 * fastBestSplit returns exactly what the stock method returns, in one pass over the rows and one
 * sweep over the distinct values per column (a sort of the values only for columns with many):
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
 * The runs of equal values of one column, values ascending: per value its label counts, the first and
 * last label in row order, and whether the label changes within the run.
 */
interface ColumnRuns {
  values: Float64Array;
  counts: Int32Array;
  first: Int32Array;
  last: Int32Array;
  changes: Uint8Array;
}

const isOutsideProof = (value: number) => !Number.isFinite(value) || (value === 0 && 1 / value < 0);

function createRuns(groups: number, classCount: number): ColumnRuns {
  return {
    values: new Float64Array(groups),
    counts: new Int32Array(groups * classCount),
    first: new Int32Array(groups).fill(-1),
    last: new Int32Array(groups).fill(-1),
    changes: new Uint8Array(groups),
  };
}

function addToRun(runs: ColumnRuns, group: number, label: number, classCount: number): void {
  runs.counts[group * classCount + label]!++;
  if (runs.first[group] === -1) runs.first[group] = label;
  else if (runs.last[group] !== label) runs.changes[group] = 1;
  runs.last[group] = label;
}

/** Runs of a column with more than {@link FEW_VALUES} values: one sort of the values, then a binary search per row. */
function getManyColumnRuns(x: ArrayLike<number>, y: number[], classCount: number): ColumnRuns | null {
  for (let row = 0; row < x.length; row++) if (isOutsideProof(x[row]!)) return null;
  const sorted = Float64Array.from(x).sort();
  let groups = 0;
  for (const v of sorted) if (groups === 0 || v !== sorted[groups - 1]) sorted[groups++] = v;
  const runs = createRuns(groups, classCount);
  runs.values.set(sorted.subarray(0, groups));
  const { values } = runs;
  for (let row = 0; row < y.length; row++) {
    const value = x[row]!;
    let low = 0;
    let high = groups - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (values[middle]! < value) low = middle + 1;
      else high = middle;
    }
    addToRun(runs, low, y[row]!, classCount);
  }
  return runs;
}

/**
 * The runs of a column, or null if a value is not finite or is -0 (the proof does not cover those).
 * Most columns are 0/1 flags, so each row's value is first looked up among the few seen so far, in one
 * pass, and the runs sorted by value afterwards.
 */
function getColumnRuns(x: ArrayLike<number>, y: number[], classCount: number): ColumnRuns | null {
  const seen = createRuns(FEW_VALUES, classCount);
  let groups = 0;
  for (let row = 0; row < y.length; row++) {
    const value = x[row]!;
    let group = 0;
    while (group < groups && seen.values[group] !== value) group++;
    if (group === groups) {
      if (isOutsideProof(value)) return null;
      if (groups === FEW_VALUES) return getManyColumnRuns(x, y, classCount);
      seen.values[groups++] = value;
    } else if (value === 0 && 1 / value < 0) {
      return null;
    }
    addToRun(seen, group, y[row]!, classCount);
  }
  const order = Array.from({ length: groups }, (_, g) => g).sort((a, b) => seen.values[a]! - seen.values[b]!);
  const runs = createRuns(groups, classCount);
  order.forEach((from, to) => {
    runs.values[to] = seen.values[from]!;
    runs.counts.set(seen.counts.subarray(from * classCount, (from + 1) * classCount), to * classCount);
    runs.first[to] = seen.first[from]!;
    runs.last[to] = seen.last[from]!;
    runs.changes[to] = seen.changes[from]!;
  });
  return runs;
}

function isSupported(node: TreeNodeInternals, XTranspose: Matrix, y: number[]): boolean {
  if (node.kind !== 'classifier' || node.gainFunction !== 'gini' || node.splitFunction !== 'mean') return false;
  return y.every((label) => Number.isInteger(label) && label >= 0 && label < 1024) && XTranspose.rows > 0;
}

/** The best split so far of a node, updated by {@link sweepColumn}. */
interface BestSplit {
  gain: number;
  column: number | undefined;
  value: number | undefined;
}

/** Score a column's candidate thresholds in the stock order, keeping the first strictly best in `best`. */
function sweepColumn(runs: ColumnRuns, column: number, all: Int32Array, parentImpurity: number, best: BestSplit, lesser: Int32Array, greater: Int32Array): void {
  const { values, counts, first, last, changes } = runs;
  const groups = values.length;
  const classCount = all.length;
  let n = 0;
  for (let c = 0; c < classCount; c++) n += all[c]!;
  lesser.fill(0);
  let lesserTotal = 0;
  let next = 0;
  for (let g = 0; g < groups; g++) {
    // A label change across the boundary of two runs proposes their mean; one within a run, the value itself.
    for (let kind = 0; kind < 2; kind++) {
      if (kind === 0 ? !(g > 0 && last[g - 1] !== first[g]) : changes[g] !== 1) continue;
      const splitValue = kind === 0 ? (values[g - 1]! + values[g]!) / 2 : values[g]!;
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
      if (gain > best.gain) {
        best.gain = gain;
        best.column = column;
        best.value = splitValue;
      }
    }
  }
}

function fastBestSplit(this: TreeNodeInternals, XTranspose: Matrix, y: number[], stock: TreeNodeInternals['bestSplit']): SplitResult {
  if (!isSupported(this, XTranspose, y)) return stock.call(this, XTranspose, y);
  const n = y.length;
  let classCount = 0;
  for (const label of y) if (label + 1 > classCount) classCount = label + 1;
  const all = new Int32Array(classCount);
  for (const label of y) all[label]!++;
  const parentImpurity = getGiniImpurity(all, n);

  // Every column is checked before any is scored: one value outside the proof hands the node to stock ml-cart.
  const columns: ColumnRuns[] = [];
  for (let i = 0; i < XTranspose.rows; i++) {
    // ml-matrix keeps each row as a Float64Array in `data`; read it in place instead of copying.
    const runs = getColumnRuns(XTranspose.data?.[i] ?? XTranspose.getRow(i), y, classCount);
    if (runs === null) return stock.call(this, XTranspose, y);
    columns.push(runs);
  }

  const best: BestSplit = { gain: -Infinity, column: undefined, value: undefined };
  const lesser = new Int32Array(classCount);
  const greater = new Int32Array(classCount);
  columns.forEach((runs, column) => sweepColumn(runs, column, all, parentImpurity, best, lesser, greater));
  return { maxGain: best.gain, maxColumn: best.column, maxValue: best.value, numberSamples: best.column === undefined ? undefined : n };
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

/** The three ml-cart options that decide where a tree stops growing. */
export interface StoppingRules {
  maxDepth: number;
  minNumSamples: number;
  gainThreshold: number;
}

/** The loosest of some stopping rules: a tree grown with them can be pruned to each of them. */
export function getLoosestRules(rules: StoppingRules[]): StoppingRules {
  return {
    maxDepth: Math.max(...rules.map((r) => r.maxDepth)),
    minNumSamples: Math.min(...rules.map((r) => r.minNumSamples)),
    gainThreshold: Math.min(...rules.map((r) => r.gainThreshold)),
  };
}

/** A node of a grown tree, with what pruning needs: its depth, ml-cart's gain and the class counts that reached it. */
export interface GrownNode {
  depth: number;
  /** Training rows of each class that reached the node. */
  counts: number[];
  /** Present on internal nodes: ml-cart's split and its gain. */
  split?: { feature: number; threshold: number; gain: number; left: number; right: number };
}

/** An ml-cart tree fitted with some stopping rules, kept whole so stricter rules can be applied afterwards. */
export interface GrownTree {
  rules: StoppingRules;
  classCount: number;
  /** Node 0 is the root; children follow their parent. */
  nodes: GrownNode[];
}

/**
 * Fit an ml-cart tree and record, for every node, its depth, gain and the class counts of the rows that
 * reached it (routed again with ml-cart's own `value < threshold` rule).
 */
export function growTree(rows: number[][], labels: number[], rules: StoppingRules, { classCount = 2 } = {}): GrownTree {
  const classifier = fitDecisionTree(rows, labels, rules);
  const nodes: GrownNode[] = [];
  const visit = (node: TreeNode, depth: number, members: number[]): number => {
    const index = nodes.length;
    const counts = new Array<number>(classCount).fill(0);
    for (const row of members) counts[labels[row]!]!++;
    const grown: GrownNode = { depth, counts };
    nodes.push(grown);
    if (node.left !== undefined && node.right !== undefined) {
      const feature = node.splitColumn!;
      const threshold = node.splitValue!;
      const lesser = members.filter((row) => rows[row]![feature]! < threshold);
      const greater = members.filter((row) => !(rows[row]![feature]! < threshold));
      const split = { feature, threshold, gain: node.gain!, left: -1, right: -1 };
      grown.split = split;
      split.left = visit(node.left, depth + 1, lesser);
      split.right = visit(node.right, depth + 1, greater);
    }
    return index;
  };
  visit(
    classifier.root,
    0,
    labels.map((_, i) => i),
  );
  return { rules, classCount, nodes };
}

/**
 * The tree ml-cart would have grown on the same rows with stricter `rules`, cut out of a tree grown with
 * looser ones. ml-cart decides every split from the node's rows alone and stops a node when it holds at
 * most `minNumSamples` rows, sits at `maxDepth`, or gains no more than `gainThreshold` (or exactly its
 * parent's gain, or leaves a side empty, which stricter rules cannot undo); so a node of the stricter tree
 * is split exactly when it is split in the grown tree and passes the stricter rules. A leaf's distribution
 * is computed as ml-cart computes it: 1/n added once per row of the class.
 */
export function pruneTree(grown: GrownTree, rules: StoppingRules, classes: string[], featureCount: number): DecisionTreeParameters {
  if (rules.maxDepth > grown.rules.maxDepth || rules.minNumSamples < grown.rules.minNumSamples || rules.gainThreshold < grown.rules.gainThreshold) {
    throw new Error(`cannot prune a tree grown with ${JSON.stringify(grown.rules)} to the looser ${JSON.stringify(rules)}`);
  }
  const nodes: (SplitNode | LeafNode)[] = [];
  const visit = (index: number): number => {
    const node = grown.nodes[index]!;
    const position = nodes.length;
    const rows = node.counts.reduce((sum, count) => sum + count, 0);
    const { split } = node;
    if (split !== undefined && rows > rules.minNumSamples && node.depth < rules.maxDepth && split.gain > rules.gainThreshold) {
      const kept: SplitNode = { feature: split.feature, threshold: split.threshold, left: -1, right: -1 };
      nodes.push(kept);
      kept.left = visit(split.left);
      kept.right = visit(split.right);
    } else {
      nodes.push({ distribution: classes.map((_, c) => getShare(node.counts[c] ?? 0, rows)) });
    }
    return position;
  };
  visit(0);
  return { type: 'decision-tree', classes, featureCount, nodes };
}
