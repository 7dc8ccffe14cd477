import { createInstanceCheck, type Instance, type Signature } from './signature.ts';

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

/** Turns a valid instance into a feature vector written at `offset` of `out`. */
export type Encoder = (instance: Instance, out: Float64Array, offset: number) => void;

/**
 * Create the encoder of instances (training, the gate, offline checks): the signature's check turns the instance
 * into its input codes and {@link createCodeEncoder}, the encoder /predict uses, turns those into the vector, so
 * training and serving share one encoding. Throws for an instance the signature refuses.
 */
export function createEncoder(spec: EncodingSpec, signature: Signature): Encoder {
  const check = createInstanceCheck(signature);
  const encode = createCodeEncoder(spec, signature);
  const codes = new Float64Array(signature.inputs.length);
  return (instance, out, offset) => {
    if (!check(instance, codes, 0)) throw new Error('an instance to encode does not fit the signature');
    encode(codes, 0, out, offset);
  };
}

/** Turns the input codes of one customer (signature.ts) at `codeOffset` into its feature vector at `offset` of `out`. */
export type CodeEncoder = (codes: Float64Array, codeOffset: number, out: Float64Array, offset: number) => void;

/**
 * Create the encoder of a spec that reads input codes (see `createInstanceCheck`): no lookup by name or by value,
 * a category's code picks its column from a table. The one encoder of the project: {@link createEncoder} reaches it
 * through the codes of an instance.
 */
export function createCodeEncoder(spec: EncodingSpec, signature: Signature): CodeEncoder {
  const width = spec.columns.length;
  const inputIndex = (name: string) => {
    const index = signature.inputs.findIndex((input) => input.name === name);
    if (index < 0) throw new Error(`encoding column reads ${name}, which the signature does not have`);
    return index;
  };
  const valueCodes: number[] = [];
  const valueColumns: number[] = [];
  const nullValues: number[] = [];
  const categoryCodes: number[] = [];
  // Per category input: the column of each value's code, -1 for a value the spec has no column for.
  const categoryColumns: Int32Array[] = [];
  spec.columns.forEach((column, index) => {
    const at = inputIndex(column.input);
    if (column.kind === 'value') {
      if (signature.inputs[at]!.type === 'category') throw new Error(`encoding column ${column.input} copies a category as a number`);
      valueCodes.push(at);
      valueColumns.push(index);
      nullValues.push(column.nullValue ?? Number.NaN);
      return;
    }
    const input = signature.inputs[at]!;
    if (input.type !== 'category') throw new Error(`encoding column ${column.input}=${column.value} one-hot encodes an input that is not a category`);
    let group = categoryCodes.indexOf(at);
    if (group < 0) {
      group = categoryCodes.push(at) - 1;
      categoryColumns.push(new Int32Array(input.values.length).fill(-1));
    }
    const code = input.values.indexOf(column.value);
    if (code >= 0) categoryColumns[group]![code] = index;
  });
  return (codes, codeOffset, out, offset) => {
    out.fill(0, offset, offset + width);
    for (let i = 0; i < valueCodes.length; i++) {
      const value = codes[codeOffset + valueCodes[i]!]!;
      out[offset + valueColumns[i]!] = Number.isNaN(value) ? nullValues[i]! : value;
    }
    for (let i = 0; i < categoryCodes.length; i++) {
      const column = categoryColumns[i]![codes[codeOffset + categoryCodes[i]!]!]!;
      if (column >= 0) out[offset + column] = 1;
    }
  };
}
