import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeDigest } from '../lib/model/artifact.ts';
import { readDataset } from './dataset.ts';

const DATA = 'training/data/telco-churn.csv';
let original: string;
let dir: string;

beforeAll(async () => {
  original = await readFile(DATA, 'utf8');
  dir = await mkdtemp(join(tmpdir(), 'dataset-'));
});

/** Write a variant of the data with a matching checksum file, so only the content check can refuse it. */
async function writeVariant(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  await writeFile(`${path}.sha256`, `${computeDigest(text).slice('sha256:'.length)}  ${name}\n`);
  return path;
}

function replaceCell(text: string, row: number, column: number, value: string): string {
  const lines = text.split('\n');
  const cells = lines[row]!.split(',');
  cells[column] = value;
  lines[row] = cells.join(',');
  return lines.join('\n');
}

describe('reading the training data', () => {
  it('reads the committed file: 6,000 verified rows, 26.5% churn, ranges observed', async () => {
    const dataset = await readDataset(DATA);
    expect(dataset.sha256).toBe('sha256:bce753babf371d0b9aeda2345bec717be3d03fea4912f95f693ab954feb47492');
    expect(dataset.instances).toHaveLength(6000);
    expect(dataset.labels.filter((label) => label === 1)).toHaveLength(1592);
    expect(dataset.instances.filter((instance) => instance.total_charges === null)).toHaveLength(10);
    const tenure = dataset.signature.inputs.find((input) => input.name === 'tenure');
    expect(tenure).toMatchObject({ type: 'integer', observed: { min: 0, max: 72 } });
  });

  it('refuses a file whose checksum differs from the recorded one', async () => {
    const path = join(dir, 'changed.csv');
    await writeFile(path, original.replace('29.85', '29.86'));
    await writeFile(`${path}.sha256`, await readFile(`${DATA}.sha256`));
    await expect(readDataset(path)).rejects.toThrow(/refusing to train on different data/);
  });

  it('refuses a different header, naming the column', async () => {
    const path = await writeVariant('header.csv', original.replace('monthly_charges', 'monthly_charge'));
    await expect(readDataset(path)).rejects.toThrow('header column 19 is "monthly_charge", expected "monthly_charges"');
  });

  it('refuses a wrong type, naming the row and column', async () => {
    const path = await writeVariant('type.csv', replaceCell(original, 17, 5, '3.5'));
    await expect(readDataset(path)).rejects.toThrow('row 17 (line 18), column tenure: expected an integer >= 0');
  });

  it('refuses an unknown category, naming the row and column', async () => {
    const path = await writeVariant('category.csv', replaceCell(original, 42, 15, 'Three year'));
    await expect(readDataset(path)).rejects.toThrow(/^row 42 \(line 43\), column contract: expected one of/);
  });

  it('refuses a blank where only total_charges may be blank', async () => {
    const path = await writeVariant('blank.csv', replaceCell(original, 3, 18, ''));
    await expect(readDataset(path)).rejects.toThrow('row 3 (line 4), column monthly_charges: expected a number >= 0');
  });
});
