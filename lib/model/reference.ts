import { z } from 'zod';
import { getInputCodes, type Instance, type Signature } from './signature.ts';

/** Identifier of the drift reference layout; a reader refuses any other. */
export const REFERENCE_FORMAT = 'drift-reference/1';
/** The file of a version that holds its drift reference (absent in versions published before it existed). */
export const REFERENCE_FILE = 'reference.json';
/** Most bins a numeric input is cut into (fewer when its training values repeat). */
export const MAX_NUMERIC_BINS = 10;
/** Shares below this count as this in the population stability index, so an empty bin adds a finite term. */
export const PSI_FLOOR = 1e-4;

/**
 * The bins of a number: bin 0 holds values below `edges[0]`, bin i values in `[edges[i-1], edges[i])`, bin
 * `edges.length` values from the last edge up; a nullable input has one more bin, last, for null.
 */
export interface NumericFeatureBins {
  input: string;
  kind: 'numeric';
  edges: number[];
  nullable: boolean;
  /** One readable name per bin, e.g. `<12`, `[12,29)`, `>=70`, `null`: the `bin` label of the metrics. */
  labels: string[];
  /** Share of the training rows in each bin; they sum to 1. */
  frequencies: number[];
}

/** The bins of a flag or a category: one per allowed value, in the signature's order. */
export interface CategoricalFeatureBins {
  input: string;
  kind: 'categorical';
  values: (string | number)[];
  labels: string[];
  frequencies: number[];
}

/** The bins of one input. */
export type FeatureBins = NumericFeatureBins | CategoricalFeatureBins;

/**
 * How the training rows were distributed over per-input bins: the yardstick live inputs are compared with
 * (population stability index). One entry per signature input, in signature order.
 */
export interface DriftReference {
  format: typeof REFERENCE_FORMAT;
  /** Training rows the frequencies were computed on. */
  rows: number;
  features: FeatureBins[];
}

const formatNumber = (value: number) => String(Number(value.toPrecision(6)));

function getNumericLabels(edges: number[], nullable: boolean): string[] {
  const labels = [`<${formatNumber(edges[0]!)}`];
  for (let i = 1; i < edges.length; i++) labels.push(`[${formatNumber(edges[i - 1]!)},${formatNumber(edges[i]!)})`);
  labels.push(`>=${formatNumber(edges.at(-1)!)}`);
  if (nullable) labels.push('null');
  return labels;
}

/** Index of the first edge greater than `value` (a binary search): the bin of `value` among `edges`. */
function findBin(edges: ArrayLike<number>, value: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (value < edges[middle]!) high = middle;
    else low = middle + 1;
  }
  return low;
}

/**
 * Quantile cut points of sorted values: the value at every `1/maxBins` of the rows, without repeats and
 * above the smallest value (so no bin is empty by construction). A constant input gets one edge, its value.
 */
function getQuantileEdges(sorted: number[], maxBins: number): number[] {
  const edges: number[] = [];
  for (let k = 1; k < maxBins; k++) {
    const edge = sorted[Math.floor((k * sorted.length) / maxBins)]!;
    if (edge > sorted[0]! && edge !== edges.at(-1)) edges.push(edge);
  }
  return edges.length > 0 ? edges : [sorted[0]!];
}

/**
 * Compute the drift reference of training instances: quantile bins for numbers, one bin per allowed value
 * for flags and categories, and the share of the instances in every bin.
 */
export function computeDriftReference(signature: Signature, instances: Instance[], { maxNumericBins = MAX_NUMERIC_BINS } = {}): DriftReference {
  if (instances.length === 0) throw new Error('a drift reference needs at least one instance');
  const features: FeatureBins[] = signature.inputs.map((input) => {
    if (input.type === 'flag' || input.type === 'category') {
      const values = input.type === 'flag' ? [0, 1] : [...input.values];
      return { input: input.name, kind: 'categorical', values, labels: values.map(String), frequencies: values.map(() => 0) };
    }
    const present = instances.map((instance) => instance[input.name]).filter((value): value is number => typeof value === 'number');
    if (present.length === 0) throw new Error(`input ${input.name} has no numeric value to cut into bins`);
    const edges = getQuantileEdges(present.sort((a, b) => a - b), maxNumericBins);
    const nullable = input.type === 'number' && input.nullable;
    const labels = getNumericLabels(edges, nullable);
    return { input: input.name, kind: 'numeric', edges, nullable, labels, frequencies: labels.map(() => 0) };
  });
  const binner = createBinner({ format: REFERENCE_FORMAT, rows: instances.length, features }, signature);
  const counts = new Float64Array(binner.size);
  binner.count(getInputCodes(signature, instances), signature.inputs.length, instances.length, counts);
  for (const [f, feature] of features.entries()) {
    feature.frequencies = feature.labels.map((_, bin) => counts[binner.offsets[f]! + bin]! / instances.length);
  }
  return { format: REFERENCE_FORMAT, rows: instances.length, features };
}

/** Counts customers, given as input codes (see `createInstanceCheck`), into the bins of a reference. */
export interface Binner {
  /** Bins of all inputs together: the length of a count array. */
  size: number;
  /** Where each input's bins start in a count array, in reference order. */
  offsets: number[];
  /** Add one to the count of every input's bin for each of `count` customers of `width` codes each, from `codes[0]`. */
  count(codes: Float64Array, width: number, count: number, counts: Float64Array): void;
}

/**
 * Create the binner of a reference: the one that computes a reference's shares at training and counts live
 * inputs in the server. It reads input codes, a category's bin taken from a table by its code, a number's found
 * among the edges. Every reference input must be one of the signature's; a value the reference has no bin for
 * lands in none.
 */
export function createBinner(reference: DriftReference, signature: Signature): Binner {
  const offsets: number[] = [];
  let size = 0;
  for (const feature of reference.features) {
    offsets.push(size);
    size += feature.labels.length;
  }
  const codeAt = Int32Array.from(reference.features, (feature) => {
    const index = signature.inputs.findIndex((input) => input.name === feature.input);
    if (index < 0) throw new Error(`the drift reference bins ${feature.input}, which the signature does not have`);
    return index;
  });
  // Categorical features: the bin of each code (a category's value index, or a flag's 0 and 1); -1 for none.
  const codeBins = reference.features.map((feature, f) => {
    const input = signature.inputs[codeAt[f]!]!;
    const binsByValue = input.type === 'category' || input.type === 'flag';
    if ((feature.kind === 'categorical') !== binsByValue) throw new Error(`the drift reference bins ${feature.input} as ${feature.kind}, but it is a ${input.type}`);
    if (feature.kind !== 'categorical') return new Int32Array(0);
    const values: (string | number)[] = input.type === 'category' ? input.values : [0, 1];
    return Int32Array.from(values.map((value) => feature.values.indexOf(value)));
  });
  const categorical = reference.features.map((feature) => feature.kind === 'categorical');
  const edges = reference.features.map((feature) => Float64Array.from(feature.kind === 'categorical' ? [] : feature.edges));
  const nullBins = Int32Array.from(reference.features, (feature) => (feature.kind === 'numeric' && feature.nullable ? feature.edges.length + 1 : -1));
  const features = reference.features.length;
  return {
    size,
    offsets,
    count(codes, width, count, counts) {
      for (let f = 0; f < features; f++) {
        const base = offsets[f]!;
        const at = codeAt[f]!;
        if (categorical[f]) {
          const bins = codeBins[f]!;
          for (let row = 0; row < count; row++) {
            const bin = bins[codes[row * width + at]!] ?? -1;
            if (bin >= 0) counts[base + bin]!++;
          }
        } else {
          const cuts = edges[f]!;
          const nullBin = nullBins[f]!;
          for (let row = 0; row < count; row++) {
            const code = codes[row * width + at]!;
            const bin = Number.isNaN(code) ? nullBin : findBin(cuts, code);
            if (bin >= 0) counts[base + bin]!++;
          }
        }
      }
    },
  };
}

/**
 * Population stability index of observed bin counts against expected shares:
 * sum over bins of (observed − expected) × ln(observed / expected), with shares below {@link PSI_FLOOR}
 * raised to it. 0 means the same distribution; above 0.25 is the usual sign of a significant shift.
 * Null when nothing was observed.
 */
export function getPopulationStabilityIndex(expected: ArrayLike<number>, counts: ArrayLike<number>): number | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return null;
  let psi = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]!, PSI_FLOOR);
    const o = Math.max(counts[i]! / total, PSI_FLOOR);
    psi += (o - e) * Math.log(o / e);
  }
  return psi;
}

const binsBase = { input: z.string(), labels: z.array(z.string()).min(1), frequencies: z.array(z.number().min(0).max(1)) };
/** The zod schema of a drift reference file. */
export const driftReferenceSchema = z.object({
  format: z.literal(REFERENCE_FORMAT),
  rows: z.int().positive(),
  features: z.array(
    z.discriminatedUnion('kind', [
      z.object({ ...binsBase, kind: z.literal('numeric'), edges: z.array(z.number()).min(1), nullable: z.boolean() }),
      z.object({ ...binsBase, kind: z.literal('categorical'), values: z.array(z.union([z.string(), z.number()])).min(1) }),
    ]),
  ),
});

/**
 * Check that a reference fits a signature: one entry per input in order, a label and a share per bin,
 * ascending edges, shares summing to 1. Returns the first problem, or undefined.
 */
export function findReferenceProblem(reference: DriftReference, signature: Signature): string | undefined {
  if (reference.features.length !== signature.inputs.length) return `has ${reference.features.length} inputs, the signature ${signature.inputs.length}`;
  for (const [index, feature] of reference.features.entries()) {
    const input = signature.inputs[index]!;
    if (feature.input !== input.name) return `input ${index} is ${feature.input}, the signature says ${input.name}`;
    const bins = feature.kind === 'categorical' ? feature.values.length : feature.edges.length + 1 + (feature.nullable ? 1 : 0);
    if (feature.labels.length !== bins || feature.frequencies.length !== bins) return `${feature.input}: expected ${bins} labels and frequencies`;
    if (feature.kind === 'numeric' && feature.edges.some((edge, i) => i > 0 && edge <= feature.edges[i - 1]!)) return `${feature.input}: edges are not ascending`;
    const sum = feature.frequencies.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-9) return `${feature.input}: frequencies sum to ${sum}, not 1`;
  }
  return undefined;
}
