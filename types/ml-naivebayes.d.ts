// ml-naivebayes ships no type declarations; these cover the parts this project uses.
declare module 'ml-naivebayes' {
  export interface GaussianNBJSON {
    modelName: 'NaiveBayes';
    means: number[][];
    /** Per class: [log prior, [1 / (sqrt(2 pi) std), -2 std^2] per feature...]. */
    calculateProbabilities: [number, ...[number, number][]][];
  }
  export class GaussianNB {
    train(trainingSet: number[][], trainingLabels: number[]): void;
    predict(dataset: number[][]): number[];
    toJSON(): GaussianNBJSON;
    static load(model: GaussianNBJSON): GaussianNB;
  }
}
