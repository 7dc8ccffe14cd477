import { readFile } from 'node:fs/promises';
import { computeDigest } from '../lib/model/artifact.ts';
import { createInstanceSchema, type Instance, type InputSpec, type Signature } from '../lib/model/signature.ts';

const ADD_ON = ['No', 'Yes', 'No internet service'];

/** The label column: did the customer leave within the last month. */
export const LABEL = { name: 'churn', classes: ['No', 'Yes'], positiveClass: 'Yes' };

/** The customer columns of the telco churn data, in file order, before training ranges are observed. */
export const CUSTOMER_INPUTS: InputSpec[] = [
  { name: 'female', type: 'flag', description: '1 if the customer is female' },
  { name: 'senior_citizen', type: 'flag', description: '1 if the customer is 65 or older' },
  { name: 'partner', type: 'flag', description: '1 if the customer has a partner' },
  { name: 'dependents', type: 'flag', description: '1 if the customer has dependents' },
  { name: 'tenure', type: 'integer', minimum: 0, observed: { min: 0, max: 0 }, description: 'months as a customer' },
  { name: 'phone_service', type: 'flag', description: '1 if the customer has phone service' },
  { name: 'multiple_lines', type: 'category', values: ['No', 'Yes', 'No phone service'], description: 'several phone lines' },
  { name: 'internet_service', type: 'category', values: ['DSL', 'Fiber optic', 'No'], description: 'internet service type' },
  { name: 'online_security', type: 'category', values: ADD_ON, description: 'online security add-on' },
  { name: 'online_backup', type: 'category', values: ADD_ON, description: 'online backup add-on' },
  { name: 'device_protection', type: 'category', values: ADD_ON, description: 'device protection add-on' },
  { name: 'tech_support', type: 'category', values: ADD_ON, description: 'tech support add-on' },
  { name: 'streaming_tv', type: 'category', values: ADD_ON, description: 'streaming TV add-on' },
  { name: 'streaming_movies', type: 'category', values: ADD_ON, description: 'streaming movies add-on' },
  { name: 'contract', type: 'category', values: ['Month-to-month', 'One year', 'Two year'], description: 'contract term' },
  { name: 'paperless_billing', type: 'flag', description: '1 if the customer uses paperless billing' },
  {
    name: 'payment_method',
    type: 'category',
    values: ['Bank transfer (automatic)', 'Credit card (automatic)', 'Electronic check', 'Mailed check'],
    description: 'payment method',
  },
  { name: 'monthly_charges', type: 'number', minimum: 0, nullable: false, observed: { min: 0, max: 0 }, description: 'current monthly charge, dollars' },
  {
    name: 'total_charges',
    type: 'number',
    minimum: 0,
    nullable: true,
    observed: { min: 0, max: 0 },
    description: 'charges to date, dollars; null for a new customer not billed yet',
  },
];

/** The validated training data: one instance and one label index per row, and the signature they imply. */
export interface Dataset {
  path: string;
  sha256: string;
  instances: Instance[];
  labels: number[];
  signature: Signature;
}

/** Raised when the data file is not exactly what training expects; the message names the row and column. */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

const NUMBER_PATTERN = /^-?\d+(\.\d+)?$/;

function parseCell(input: InputSpec, cell: string): number | string | null {
  if (input.type === 'category') return cell;
  if (cell === '') return null;
  return NUMBER_PATTERN.test(cell) ? Number(cell) : Number.NaN;
}

function parseExpectedSha256(text: string): string {
  const hex = text.trim().split(/\s+/)[0] ?? '';
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new DatasetError('the checksum file does not start with a sha256 hex digest');
  return `sha256:${hex}`;
}

/**
 * Read the training CSV after verifying it against its recorded sha256, and check every row against
 * the expected columns with the same schema serving uses. Throws {@link DatasetError} on the first
 * difference: checksum, header, a type, or a category.
 */
export async function readDataset(path: string, checksumPath = `${path}.sha256`): Promise<Dataset> {
  const bytes = await readFile(path);
  const sha256 = computeDigest(bytes);
  const expected = parseExpectedSha256(await readFile(checksumPath, 'utf8'));
  if (sha256 !== expected) {
    throw new DatasetError(`${path} has ${sha256} but ${checksumPath} records ${expected}: refusing to train on different data`);
  }
  const lines = bytes.toString('utf8').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const header = lines[0]?.split(',') ?? [];
  const expectedHeader = [LABEL.name, ...CUSTOMER_INPUTS.map((input) => input.name)];
  if (header.join(',') !== expectedHeader.join(',')) {
    const column = expectedHeader.findIndex((name, i) => header[i] !== name);
    throw new DatasetError(`header column ${column + 1} is ${JSON.stringify(header[column] ?? '')}, expected ${JSON.stringify(expectedHeader[column] ?? '')}`);
  }

  const schema = createInstanceSchema({ inputs: CUSTOMER_INPUTS, output: { name: LABEL.name, classes: LABEL.classes, positiveClass: LABEL.positiveClass } });
  const instances: Instance[] = [];
  const labels: number[] = [];
  for (let r = 1; r < lines.length; r++) {
    const cells = lines[r]!.split(',');
    if (cells.length !== expectedHeader.length) throw new DatasetError(`row ${r} (line ${r + 1}) has ${cells.length} columns, expected ${expectedHeader.length}`);
    const label = LABEL.classes.indexOf(cells[0]!);
    if (label < 0) throw new DatasetError(`row ${r} (line ${r + 1}), column ${LABEL.name}: expected one of ${LABEL.classes.join(', ')}`);
    const raw: Instance = {};
    CUSTOMER_INPUTS.forEach((input, i) => {
      raw[input.name] = parseCell(input, cells[i + 1]!);
    });
    const result = schema.safeParse(raw);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      throw new DatasetError(`row ${r} (line ${r + 1}), column ${String(issue.path[0])}: ${issue.message}`);
    }
    instances.push(result.data as Instance);
    labels.push(label);
  }
  if (instances.length === 0) throw new DatasetError('the file has no rows');
  return { path, sha256, instances, labels, signature: createSignature(instances) };
}

/** Create the signature of the data: the declared inputs with the ranges observed in `instances`. */
export function createSignature(instances: Instance[]): Signature {
  const inputs = CUSTOMER_INPUTS.map((input): InputSpec => {
    if (input.type !== 'integer' && input.type !== 'number') return input;
    let min = Infinity;
    let max = -Infinity;
    for (const instance of instances) {
      const value = instance[input.name];
      if (typeof value === 'number') {
        min = Math.min(min, value);
        max = Math.max(max, value);
      }
    }
    return { ...input, observed: { min, max } };
  });
  return { inputs, output: { name: LABEL.name, classes: LABEL.classes, positiveClass: LABEL.positiveClass } };
}
