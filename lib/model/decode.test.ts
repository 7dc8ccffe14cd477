import { describe, expect, it } from 'vitest';
import { CUSTOMER_INPUTS, readDataset } from '../../training/dataset.ts';
import { createInstanceDecoder } from './decode.ts';
import { createInstanceCheck, getInputCodes, type Signature } from './signature.ts';

const signature: Signature = { inputs: CUSTOMER_INPUTS, output: { name: 'churn', classes: ['No', 'Yes'], positiveClass: 'Yes' } };
const width = signature.inputs.length;
const customers = (await readDataset('training/data/telco-churn.csv')).instances;
const encoder = new TextEncoder();
const utf8 = new TextDecoder();

/** What the usual path makes of the bytes: JSON.parse of the text, then the fast check; codes or undefined. */
function getExpectedCodes(bytes: Uint8Array): Float64Array | undefined {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    return undefined;
  }
  const codes = new Float64Array(width);
  return createInstanceCheck(signature)(value, codes, 0) ? codes : undefined;
}

/** What the decoder makes of the bytes as a whole: codes, or undefined when it declines or stops before their end. */
function getDecodedCodes(bytes: Uint8Array): Float64Array | undefined {
  const codes = new Float64Array(width + 2).fill(-7);
  const end = createInstanceDecoder(signature)(bytes, 0, codes, 1);
  // Nothing outside the customer's row is ever written.
  expect([codes[0], codes.at(-1)]).toEqual([-7, -7]);
  return end === bytes.length ? codes.subarray(1, 1 + width) : undefined;
}

const isSame = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((code, i) => Object.is(code, b[i]));

describe('the JSON decoder of a customer', () => {
  it('codes every customer of the data set exactly as the check does, however the JSON is laid out', () => {
    const expected = getInputCodes(signature, customers);
    const layouts: ((customer: object) => string)[] = [
      (customer) => JSON.stringify(customer),
      (customer) => JSON.stringify(customer, null, 2),
      // Python's json.dumps separators, and the keys in reverse order.
      (customer) => `{${Object.entries(customer).reverse().map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(', ')}}`,
    ];
    for (const layout of layouts) {
      const decoded = new Float64Array(customers.length * width);
      customers.forEach((customer, i) => {
        const bytes = encoder.encode(layout(customer));
        expect(createInstanceDecoder(signature)(bytes, 0, decoded, i * width)).toBe(bytes.length);
      });
      expect(isSame(decoded, expected)).toBe(true);
    }
  });

  it('never accepts what JSON.parse and the check refuse, and codes what it accepts as they do, on mutated customers', () => {
    let seed = 20261202;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    // Bytes a careless or hostile client puts where they do not belong: JSON's own, digits, letters, UTF-8, a BOM.
    const noise = ['"', ':', ',', '{', '}', '[', ']', ' ', '\n', '\\', '-', '+', '.', 'e', 'E', '0', '1', '9', 'n', 'null', 'true', 'x', '\u00e9', '\ufeff', '\u0000', '"female":1,', '"tenure":1e400,', '"tenure":-0,'];
    let accepted = 0;
    let refused = 0;
    let declinedValid = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = JSON.stringify(pick(customers), null, random() < 0.3 ? 1 : undefined);
      for (let k = Math.floor(random() * 3); k > 0; k--) {
        const at = Math.floor(random() * (text.length + 1));
        const change = random();
        if (change < 0.4) text = `${text.slice(0, at)}${pick(noise)}${text.slice(at)}`;
        else if (change < 0.8) text = `${text.slice(0, at)}${text.slice(at + 1 + Math.floor(random() * 3))}`;
        else if (change < 0.9) text = text.replace(/"tenure":\d+/, `"tenure":${pick(['0', '-0', '1.0', '1e2', '1E+2', '0.5', '01', '1.', '.5', '+1', '-', '1e', '9007199254740993', 'Infinity'])}`);
        else text = text.replace(/"monthly_charges":[\d.]+/, `"monthly_charges":${pick(['29.85', '0.30000000000000004', '1234567890.123456789', '5e-324', '1e308', '1e309', '-0.0', '0.000001', '123456789012345', '1234567890123456'])}`);
      }
      const bytes = encoder.encode(text);
      const expected = getExpectedCodes(bytes);
      const decoded = getDecodedCodes(bytes);
      if (decoded === undefined) {
        refused++;
        if (expected !== undefined) declinedValid++;
        continue;
      }
      expect(expected, text).toBeDefined();
      expect(isSame(decoded, expected!), text).toBe(true);
      accepted++;
    }
    // Both outcomes are exercised (a third of the customers are sent intact), and the decoder is not merely safe
    // but useful: it declines few of the customers the usual path accepts (23 of 8,108 when written).
    expect(accepted).toBeGreaterThan(7000);
    expect(refused).toBeGreaterThan(10_000);
    expect(declinedValid).toBeLessThan(accepted / 100);
  });

  it('reads a decimal of up to 15 digits to the same double as JSON.parse', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const base = JSON.stringify(customers[0]);
    for (let i = 0; i < 20_000; i++) {
      const digits = Array.from({ length: 1 + Math.floor(random() * 15) }, () => Math.floor(random() * 10)).join('');
      const point = Math.floor(random() * digits.length);
      const number = `${digits.slice(0, point) || '0'}${point < digits.length ? `.${digits.slice(point)}` : ''}`.replace(/^0+(?=\d)/, '');
      const bytes = encoder.encode(base.replace(/"monthly_charges":[\d.]+/, `"monthly_charges":${number}`));
      const decoded = getDecodedCodes(bytes);
      expect(decoded, number).toBeDefined();
      expect(Object.is(decoded![signature.inputs.findIndex((input) => input.name === 'monthly_charges')], JSON.parse(number)), number).toBe(true);
    }
  });

  it('declines what it does not read itself, and the usual path then answers', () => {
    const base = JSON.stringify(customers[0]);
    const declined = [
      base.replace('{', '{"customer_id":"7590-VHVEG",'), // an unknown field (the schema drops it)
      base.replace('{', '{"tenure":1,'), // a repeated key (JSON.parse keeps the last)
      base.replace('"female"', '"\\u0066emale"'), // an escaped key
      base.replace('"Month-to-month"', '"Month\\u002dto-month"'), // an escaped value
      base.replace(/"tenure":\d+/, '"tenure":null'), // null where it is not allowed
      base.replace(/"tenure":\d+,/, ''), // a missing input
      `\ufeff${base}`, // a byte-order mark, which Request.text() drops
    ];
    for (const text of declined) expect(getDecodedCodes(encoder.encode(text)), text).toBeUndefined();
    // The first four are customers the usual path accepts: declining only costs time.
    expect(declined.slice(0, 4).map((text) => getExpectedCodes(encoder.encode(text)) !== undefined)).toEqual([true, true, true, true]);
  });

  it('stops at the end of the customer, so a batch can go on from there', () => {
    const text = `${JSON.stringify(customers[0])} ,${JSON.stringify(customers[1])}`;
    const codes = new Float64Array(width);
    expect(createInstanceDecoder(signature)(encoder.encode(text), 0, codes, 0)).toBe(JSON.stringify(customers[0]).length);
    expect(isSame(codes, getInputCodes(signature, [customers[0]!]))).toBe(true);
  });
});
