/** A seeded pseudo-random generator returning floats in [0, 1). */
export type Random = () => number;

/** Create a mulberry32 generator: tiny, fast and fully determined by its 32-bit seed. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shuffle a copy of `items` (Fisher-Yates). */
export function shuffle<T>(items: readonly T[], random: Random): T[] {
  const result = items.slice();
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

function getIndicesByClass(labels: readonly number[], indices: readonly number[]): number[][] {
  const byClass: number[][] = [];
  for (const index of indices) (byClass[labels[index]!] ??= []).push(index);
  return byClass.filter((group) => group !== undefined);
}

/** Split row indices into train and test, keeping each class's share in both (stratified). */
export function splitStratified(labels: readonly number[], testFraction: number, random: Random): { train: number[]; test: number[] } {
  const train: number[] = [];
  const test: number[] = [];
  for (const group of getIndicesByClass(labels, labels.map((_, i) => i))) {
    const shuffled = shuffle(group, random);
    const testCount = Math.round(shuffled.length * testFraction);
    test.push(...shuffled.slice(0, testCount));
    train.push(...shuffled.slice(testCount));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}

/** Deal the given row indices into `k` folds, each class spread evenly over the folds (stratified k-fold). */
export function createStratifiedFolds(labels: readonly number[], indices: readonly number[], k: number, random: Random): number[][] {
  const folds: number[][] = Array.from({ length: k }, () => []);
  let next = 0;
  for (const group of getIndicesByClass(labels, indices)) {
    for (const index of shuffle(group, random)) {
      folds[next]!.push(index);
      next = (next + 1) % k;
    }
  }
  return folds.map((fold) => fold.sort((a, b) => a - b));
}
