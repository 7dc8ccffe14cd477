import type { Instance, Signature } from './signature.ts';

/** A numeric input copied as is; `nullValue` replaces null. */
export interface ValueColumn {
  input: string;
  kind: 'value';
  nullValue?: number;
}

/** 1 when a category input equals `value`, else 0. */
export interface OneHotColumn {
  input: string;
  kind: 'one-hot';
  value: string;
}

/** One column of the feature vector a model sees. */
export type EncodedColumn = ValueColumn | OneHotColumn;

/**
 * How instances become feature vectors: the ordered list of vector columns. It is stored beside
 * the model parameters, so a served version encodes inputs exactly as it was trained.
 */
export interface EncodingSpec {
  format: 'feature-vector/1';
  columns: EncodedColumn[];
}

/** Options of {@link createEncodingSpec}. */
export interface EncodingOptions {
  /** Inputs left out of the vector (still validated, never seen by the model). */
  exclude?: string[];
  /** Values that replace null, by input name. */
  nullValues?: Record<string, number>;
}

/**
 * Create the encoding of a signature: flags and numbers as one column each, categories one-hot in
 * the signature's value order.
 */
export function createEncodingSpec(signature: Signature, { exclude = [], nullValues = {} }: EncodingOptions = {}): EncodingSpec {
  const columns: EncodedColumn[] = [];
  for (const input of signature.inputs) {
    if (exclude.includes(input.name)) continue;
    if (input.type === 'category') {
      for (const value of input.values) columns.push({ input: input.name, kind: 'one-hot', value });
    } else {
      const nullValue = nullValues[input.name];
      if (input.type === 'number' && input.nullable && nullValue === undefined) {
        throw new Error(`encoding needs a null value for the nullable input ${input.name}`);
      }
      columns.push(nullValue === undefined ? { input: input.name, kind: 'value' } : { input: input.name, kind: 'value', nullValue });
    }
  }
  return { format: 'feature-vector/1', columns };
}

/** Get the human-readable name of every vector column, e.g. `contract=Two year`. */
export function getFeatureNames(spec: EncodingSpec): string[] {
  return spec.columns.map((column) => (column.kind === 'one-hot' ? `${column.input}=${column.value}` : column.input));
}

/** Turns a validated instance into a feature vector written at `offset` of `out`. */
export type Encoder = (instance: Instance, out: Float64Array, offset: number) => void;

/**
 * Create the encoder of a spec. The instance must already be valid for the signature the spec was
 * made from; an unexpected category value encodes as all zeros rather than throwing.
 */
export function createEncoder(spec: EncodingSpec): Encoder {
  type Step = (instance: Instance, out: Float64Array, offset: number) => void;
  const steps: Step[] = [];
  const width = spec.columns.length;
  const oneHotByInput = new Map<string, Map<string, number>>();
  spec.columns.forEach((column, index) => {
    if (column.kind === 'value') {
      const { input } = column;
      const nullValue = column.nullValue ?? Number.NaN;
      steps.push((instance, out, offset) => {
        const value = instance[input];
        out[offset + index] = value === null ? nullValue : (value as number);
      });
    } else {
      let positions = oneHotByInput.get(column.input);
      if (positions === undefined) {
        positions = new Map();
        oneHotByInput.set(column.input, positions);
        const input = column.input;
        const lookup = positions;
        steps.push((instance, out, offset) => {
          const position = lookup.get(instance[input] as string);
          if (position !== undefined) out[offset + position] = 1;
        });
      }
      positions.set(column.value, index);
    }
  });
  return (instance, out, offset) => {
    out.fill(0, offset, offset + width);
    for (const step of steps) step(instance, out, offset);
  };
}
