import { getInputRules, INPUT_KIND, isValidNumber, type Signature } from './signature.ts';

/**
 * Reads one customer, a JSON object starting at `position` of `bytes` (UTF-8), and writes its input codes at
 * `offset` of `codes`, as {@link createInstanceCheck} writes them for the parsed object. Answers the position
 * after the object, or -1 when it declines: then the caller parses the text and checks it the usual way.
 */
export type InstanceDecoder = (bytes: Uint8Array, position: number, codes: Float64Array, offset: number) => number;

/** Whether a byte is JSON's insignificant whitespace (RFC 8259, section 2). */
export const isJsonSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** 10^k for k = 0..22: every one is a double exactly, which the fast path of number reading relies on. */
const POWERS_OF_TEN = Float64Array.from({ length: 23 }, (_, k) => 10 ** k);

/** Significant digits up to which a decimal's digits, read as one integer, are an exact double (< 2^53). */
const EXACT_DIGITS = 15;

/**
 * Create the JSON decoder of one customer for a signature: the bytes of a request straight into input codes,
 * without building the object, its strings and its numbers first (what JSON.parse and then the check do).
 *
 * It accepts a subset of JSON and a subset of the valid customers, and for those writes exactly the codes that
 * `JSON.parse` followed by {@link createInstanceCheck} would (tested against that path on generated and mutated
 * bodies): an object of every signature input once, in any order and with any whitespace; a category as its value's
 * exact JSON text; a number in JSON's grammar, read by the correctly rounded fast path of decimal conversion (at most
 * 15 significant digits and no exponent, so the digits and the power of ten are exact doubles and one division rounds
 * once, as JSON.parse does) or by `Number` otherwise; null where the input is nullable. Anything else —
 * an unknown or repeated key, an escape sequence, an invalid value, a byte outside that grammar — makes it decline,
 * and the slow path answers, 422 naming the field included. So the decoder can be faster than JSON.parse, but never
 * more permissive.
 */
export function createInstanceDecoder(signature: Signature): InstanceDecoder {
  const { kinds, minimums, nullable, values } = getInputRules(signature);
  const count = kinds.length;
  const encoder = new TextEncoder();
  // The exact bytes of each key with its quotes, and of each category value with its closing quote.
  const keys = signature.inputs.map((input) => encoder.encode(JSON.stringify(input.name)));
  const valueBytes = values.map((allowed) => allowed.map((value) => encoder.encode(JSON.stringify(value).slice(1))));
  // Which inputs the current customer has given: stamped with the customer's number, so nothing is reset per customer.
  const seenIn = new Int32Array(count);
  let customer = 0;

  /** The position after `expected` if `bytes` hold it at `position`, else -1. */
  const match = (bytes: Uint8Array, position: number, expected: Uint8Array): number => {
    const length = expected.length;
    if (position + length > bytes.length) return -1;
    for (let k = 0; k < length; k++) if (bytes[position + k] !== expected[k]) return -1;
    return position + length;
  };

  /** A JSON number's value as `Number` reads its text (the slow, always correct path). */
  const readNumberText = (bytes: Uint8Array, start: number, end: number): number => {
    let text = '';
    for (let k = start; k < end; k++) text += String.fromCharCode(bytes[k]!);
    return Number(text);
  };

  return (bytes, position, codes, offset) => {
    let p = position;
    if (bytes[p] !== 0x7b) return -1; // {
    if (++customer === 0x40000000) {
      seenIn.fill(0);
      customer = 1;
    }
    let given = 0;
    let input = 0;
    p++;
    for (;;) {
      while (isJsonSpace(bytes[p])) p++;
      // The key: most clients send the inputs in signature order, so the one after the last is tried first.
      let next = match(bytes, p, keys[input]!);
      if (next < 0) {
        for (input = 0; input < count; input++) if ((next = match(bytes, p, keys[input]!)) >= 0) break;
        if (input === count) return -1;
      }
      if (seenIn[input] === customer) return -1;
      seenIn[input] = customer;
      given++;
      p = next;
      while (isJsonSpace(bytes[p])) p++;
      if (bytes[p] !== 0x3a) return -1; // :
      p++;
      while (isJsonSpace(bytes[p])) p++;
      let byte = bytes[p];
      const kind = kinds[input]!;
      if (kind === INPUT_KIND.category) {
        if (byte !== 0x22) return -1; // "
        p++;
        const allowed = valueBytes[input]!;
        let index = 0;
        for (; index < allowed.length; index++) if ((next = match(bytes, p, allowed[index]!)) >= 0) break;
        if (index === allowed.length) return -1;
        codes[offset + input] = index;
        p = next;
      } else if (byte === 0x6e) {
        // null
        if (!nullable[input] || bytes[p + 1] !== 0x75 || bytes[p + 2] !== 0x6c || bytes[p + 3] !== 0x6c) return -1;
        codes[offset + input] = Number.NaN;
        p += 4;
      } else {
        // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        const start = p;
        const negative = byte === 0x2d;
        if (negative) byte = bytes[++p];
        let digits = 0;
        let integer = 0;
        let scale = 0;
        if (byte === 0x30) byte = bytes[++p];
        else if (byte !== undefined && byte >= 0x31 && byte <= 0x39) {
          do {
            integer = integer * 10 + (byte - 0x30);
            digits++;
            byte = bytes[++p];
          } while (byte !== undefined && byte >= 0x30 && byte <= 0x39);
        } else return -1;
        if (byte === 0x2e) {
          byte = bytes[++p];
          if (byte === undefined || byte < 0x30 || byte > 0x39) return -1;
          do {
            integer = integer * 10 + (byte - 0x30);
            digits++;
            scale++;
            byte = bytes[++p];
          } while (byte !== undefined && byte >= 0x30 && byte <= 0x39);
        }
        let value: number;
        if (byte === 0x65 || byte === 0x45) {
          byte = bytes[++p];
          if (byte === 0x2b || byte === 0x2d) byte = bytes[++p];
          if (byte === undefined || byte < 0x30 || byte > 0x39) return -1;
          do byte = bytes[++p];
          while (byte !== undefined && byte >= 0x30 && byte <= 0x39);
          value = readNumberText(bytes, start, p);
        } else if (digits > EXACT_DIGITS) {
          value = readNumberText(bytes, start, p);
        } else {
          value = scale === 0 ? integer : integer / POWERS_OF_TEN[scale]!;
          if (negative) value = -value;
        }
        if (!isValidNumber(kind, value, minimums[input]!)) return -1;
        codes[offset + input] = value;
      }
      while (isJsonSpace(bytes[p])) p++;
      byte = bytes[p++];
      input = input + 1 === count ? 0 : input + 1;
      if (byte === 0x2c) continue; // ,
      if (byte !== 0x7d) return -1; // }
      return given === count ? p : -1;
    }
  };
}
