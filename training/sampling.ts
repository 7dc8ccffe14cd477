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

/**
 * A new 32-bit seed from a seed and further integers (a fold, a tree), each mixed in with murmur3's
 * finaliser, so the streams of neighbouring folds or trees share no obvious structure.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let hash = seed >>> 0;
  for (const part of parts) {
    hash = Math.imul(hash ^ (part >>> 0), 0x9e3779b1) >>> 0;
    hash ^= hash >>> 16;
    hash = Math.imul(hash, 0x85ebca6b) >>> 0;
    hash ^= hash >>> 13;
    hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
    hash ^= hash >>> 16;
  }
  return hash >>> 0;
}

/** Draw `count` items of `from` with replacement, each equally likely (a bootstrap sample). */
export function drawBootstrap<T>(from: readonly T[], count: number, random: Random): T[] {
  return Array.from({ length: count }, () => from[Math.floor(random() * from.length)]!);
}

/** Choose `count` of the indices `0 .. total - 1` without replacement, returned in increasing order. */
export function chooseIndices(total: number, count: number, random: Random): number[] {
  return shuffle(
    Array.from({ length: total }, (_, i) => i),
    random,
  )
    .slice(0, count)
    .sort((a, b) => a - b);
}
