// ml-cart ships no type declarations; these cover the parts this project uses.
declare module 'ml-cart' {
  export interface DecisionTreeOptions {
    gainFunction?: 'gini';
    splitFunction?: 'mean';
    minNumSamples?: number;
    maxDepth?: number;
    gainThreshold?: number;
  }
  /** A node of a trained tree: internal nodes have left/right, leaves a 1 x classes distribution. */
  export interface TreeNode {
    splitColumn?: number;
    splitValue?: number;
    gain?: number;
    left?: TreeNode;
    right?: TreeNode;
    distribution?: { getRow(index: number): number[] };
  }
  export interface DecisionTreeJSON {
    name: 'DTClassifier';
    options: Record<string, unknown>;
    root: unknown;
  }
  export class DecisionTreeClassifier {
    constructor(options?: DecisionTreeOptions);
    root: TreeNode;
    train(trainingSet: number[][], trainingLabels: number[]): void;
    predict(toPredict: number[][]): number[];
    toJSON(): DecisionTreeJSON;
    static load(model: DecisionTreeJSON): DecisionTreeClassifier;
  }
}
