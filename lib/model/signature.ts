import { z } from 'zod';

/** Observed minimum and maximum of a numeric input in the training data. */
export interface ObservedRange {
  min: number;
  max: number;
}

interface InputBase {
  name: string;
  description: string;
}

/** A 0/1 integer flag. */
export interface FlagInput extends InputBase {
  type: 'flag';
}

/** A whole number with a lower bound, such as tenure in months. */
export interface IntegerInput extends InputBase {
  type: 'integer';
  minimum: number;
  observed: ObservedRange;
}

/** A real number with a lower bound; a `nullable` one accepts null (the encoding says what null means). */
export interface NumberInput extends InputBase {
  type: 'number';
  minimum: number;
  nullable: boolean;
  observed: ObservedRange;
}

/** A string taking one of a closed set of values. */
export interface CategoryInput extends InputBase {
  type: 'category';
  values: string[];
}

/** One named input column of the model's signature. */
export type InputSpec = FlagInput | IntegerInput | NumberInput | CategoryInput;

/**
 * What a model accepts and returns, in the spirit of MLflow's model signature, extended with the
 * constraints (allowed values, lower bounds, nullability) and training ranges that serving enforces
 * and monitors.
 */
export interface Signature {
  inputs: InputSpec[];
  output: {
    name: string;
    classes: string[];
    positiveClass: string;
  };
}

/** A validated customer: one value per signature input. */
export type Instance = Record<string, number | string | null>;

/** An error message that says "required" for a missing field and what is expected otherwise, never echoing the value. */
const expect = (expected: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'required' : expected);

function createInputSchema(input: InputSpec): z.ZodType {
  switch (input.type) {
    case 'flag':
      // An integer from 0 to 1, not a union of two literals: the same values and message, half the cost per
      // customer (a union tries each member and collects an issue for each miss).
      return z.int({ error: expect('expected 0 or 1') }).min(0, { error: 'expected 0 or 1' }).max(1, { error: 'expected 0 or 1' });
    case 'integer': {
      const expected = `expected an integer >= ${input.minimum}`;
      return z.int({ error: expect(expected) }).min(input.minimum, { error: expected });
    }
    case 'number': {
      const expected = `expected a number >= ${input.minimum}${input.nullable ? ' or null' : ''}`;
      const schema = z.number({ error: expect(expected) }).min(input.minimum, { error: expected });
      return input.nullable ? schema.nullable() : schema;
    }
    case 'category':
      return z.enum(input.values as [string, ...string[]], { error: expect(`expected one of ${input.values.map((v) => JSON.stringify(v)).join(', ')}`) });
  }
}

/**
 * Create the zod schema of one instance from a signature: every input required, unknown fields
 * dropped (as MLflow's schema enforcement does), and error messages that describe the expectation
 * without echoing the value received.
 */
export function createInstanceSchema(signature: Signature): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const input of signature.inputs) {
    shape[input.name] = createInputSchema(input).describe(input.description);
  }
  return z.object(shape);
}

/**
 * Checks one instance and, when it is valid, writes its input codes at `offset` of `codes` (see
 * {@link createInstanceCheck}); answers whether it was valid. Fields outside the signature are never read.
 */
export type InstanceCheck = (value: unknown, codes: Float64Array, offset: number) => boolean;

/** Categories with at most this many values are matched by comparing strings, larger ones through a Map. */
const FEW_VALUES = 8;

/** The kinds of input, as numbers for the fast paths' typed arrays. */
export const INPUT_KIND = { flag: 0, integer: 1, number: 2, category: 3 } as const;

/** The rules of each input in signature order, shared by the fast check and the JSON decoder (decode.ts). */
export interface InputRules {
  names: string[];
  kinds: Int8Array;
  /** The lower bound of an integer or number input, else 0. */
  minimums: Float64Array;
  nullable: boolean[];
  /** The allowed values of a category input, else none. */
  values: string[][];
}

/** The rules of a signature's inputs, for the fast paths. */
export function getInputRules(signature: Signature): InputRules {
  const { inputs } = signature;
  return {
    names: inputs.map((input) => input.name),
    kinds: Int8Array.from(inputs, (input) => INPUT_KIND[input.type]),
    minimums: Float64Array.from(inputs, (input) => (input.type === 'integer' || input.type === 'number' ? input.minimum : 0)),
    nullable: inputs.map((input) => input.type === 'number' && input.nullable),
    values: inputs.map((input) => (input.type === 'category' ? input.values : [])),
  };
}

/** Whether a number is a valid value of a flag, integer or number input with lower bound `minimum` (null aside). */
export function isValidNumber(kind: number, value: number, minimum: number): boolean {
  if (kind === INPUT_KIND.flag) return value === 0 || value === 1;
  if (kind === INPUT_KIND.integer) return Number.isSafeInteger(value) && value >= minimum;
  return Number.isFinite(value) && value >= minimum;
}

/**
 * Create the fast path of instance validation. It accepts exactly what {@link createInstanceSchema} accepts (tested
 * against the schema on generated customers), with a few comparisons per input and no issue objects or copy; when
 * it answers false, the zod schema says what is wrong.
 *
 * A valid instance becomes its *input codes*: one number per signature input, in signature order — a flag, integer
 * or number as itself (null as NaN), a category as the index of its value in the input's `values`. Encoding
 * (encoding.ts), drift bins (reference.ts) and range counts read these numbers, so each input is looked up by
 * name, and each category value hashed, once per customer instead of once per reader.
 */
export function createInstanceCheck(signature: Signature): InstanceCheck {
  const { names, kinds, minimums, nullable, values } = getInputRules(signature);
  const count = names.length;
  // A category's value is found by comparing strings when it has few values, by a Map otherwise. A parsed body's
  // strings are new ones: a Map must hash each before it can look it up, which costs 4x the few comparisons
  // (23 vs 5.5 ns per lookup of a parsed string among up to 4 values, measured alone).
  const positions = values.map((allowed) => (allowed.length > FEW_VALUES ? new Map<unknown, number>(allowed.map((value, index) => [value, index])) : undefined));
  return (value, codes, offset) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const source = value as Record<string, unknown>;
    for (let i = 0; i < count; i++) {
      const input = source[names[i]!];
      const kind = kinds[i]!;
      if (kind === INPUT_KIND.category) {
        const map = positions[i];
        let position: number | undefined;
        if (map === undefined) {
          const allowed = values[i]!;
          position = 0;
          while (position < allowed.length && allowed[position] !== input) position++;
          if (position === allowed.length) return false;
        } else {
          position = map.get(input);
          if (position === undefined) return false;
        }
        codes[offset + i] = position;
      } else if (input === null && nullable[i]) {
        codes[offset + i] = Number.NaN;
      } else if (typeof input === 'number' && isValidNumber(kind, input, minimums[i]!)) {
        codes[offset + i] = input;
      } else {
        return false;
      }
    }
    return true;
  };
}

/** The input codes of instances valid for `signature`, one row of `signature.inputs.length` each; throws for an invalid one. */
export function getInputCodes(signature: Signature, instances: readonly Instance[]): Float64Array {
  const check = createInstanceCheck(signature);
  const width = signature.inputs.length;
  const codes = new Float64Array(instances.length * width);
  instances.forEach((instance, i) => {
    if (!check(instance, codes, i * width)) throw new Error(`instance ${i} does not fit the signature`);
  });
  return codes;
}

/** The value an input code stands for: the category value at that index, null for a NaN number, else the number. */
export function getCodeValue(input: InputSpec, code: number): string | number | null {
  if (input.type === 'category') return input.values[code]!;
  return Number.isNaN(code) ? null : code;
}

/** A reason why a newer signature would reject requests the older one accepted. */
export interface BreakingChange {
  input: string;
  reason: string;
}

/**
 * List the changes from `previous` to `next` that break existing clients; an empty list means every
 * request valid for `previous` is valid for `next` (new allowed values, lower bounds or nullability
 * are not breaking; removed, added, retyped or narrowed inputs are).
 */
export function getBreakingChanges(previous: Signature, next: Signature): BreakingChange[] {
  const changes: BreakingChange[] = [];
  const nextByName = new Map(next.inputs.map((input) => [input.name, input]));
  const previousNames = new Set(previous.inputs.map((input) => input.name));
  for (const before of previous.inputs) {
    const after = nextByName.get(before.name);
    if (after === undefined) {
      changes.push({ input: before.name, reason: 'input removed' });
      continue;
    }
    if (after.type !== before.type) {
      changes.push({ input: before.name, reason: `type changed from ${before.type} to ${after.type}` });
      continue;
    }
    if (before.type === 'category' && after.type === 'category') {
      const removed = before.values.filter((value) => !after.values.includes(value));
      if (removed.length > 0) changes.push({ input: before.name, reason: `values removed: ${removed.join(', ')}` });
    }
    if ((before.type === 'integer' || before.type === 'number') && (after.type === 'integer' || after.type === 'number')) {
      if (after.minimum > before.minimum) changes.push({ input: before.name, reason: `minimum raised from ${before.minimum} to ${after.minimum}` });
    }
    if (before.type === 'number' && after.type === 'number' && before.nullable && !after.nullable) {
      changes.push({ input: before.name, reason: 'no longer accepts null' });
    }
  }
  for (const input of next.inputs) {
    if (!previousNames.has(input.name)) changes.push({ input: input.name, reason: 'required input added' });
  }
  if (previous.output.positiveClass !== next.output.positiveClass || previous.output.classes.join() !== next.output.classes.join()) {
    changes.push({ input: next.output.name, reason: 'output classes changed' });
  }
  return changes;
}
