import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

type Obj = Record<string, unknown>;

const valuesText = readFileSync(new URL('../../chart/values.yaml', import.meta.url), 'utf8');
const values = parse(valuesText) as Obj;
const schema = JSON.parse(readFileSync(new URL('../../chart/values.schema.json', import.meta.url), 'utf8')) as Obj;

function isMap(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Returns the dotted paths of the values a user sets: non-empty maps whose schema declares properties are walked,
 * anything else (free-form maps such as label sets included) is a leaf.
 */
function getLeafPaths(node: Obj, prefix = ''): string[] {
  return Object.entries(node).flatMap(([key, value]) => {
    const path = prefix + key;
    const declared = getSchemaAt(path);
    const walk = isMap(value) && Object.keys(value).length > 0 && (declared === undefined || isMap(resolve(declared)['properties']));
    return walk ? getLeafPaths(value, `${path}.`) : [path];
  });
}

function resolve(node: Obj): Obj {
  const ref = node['$ref'];
  if (typeof ref !== 'string') return node;
  return resolve(ref.slice(2).split('/').reduce<Obj>((at, key) => at[key] as Obj, schema));
}

/** Returns the schema of a dotted values path, or undefined when the schema does not declare it. */
function getSchemaAt(path: string): Obj | undefined {
  let node: Obj | undefined = schema;
  for (const key of path.split('.')) {
    const properties: unknown = isMap(node) ? resolve(node)['properties'] : undefined;
    node = isMap(properties) ? (properties[key] as Obj | undefined) : undefined;
  }
  return node;
}

function getObjectSchemas(node: unknown, path: string, into: [string, Obj][]): [string, Obj][] {
  if (isMap(node)) {
    if (isMap(node['properties'])) into.push([path, node]);
    for (const [key, value] of Object.entries(node)) getObjectSchemas(value, `${path}/${key}`, into);
  } else if (Array.isArray(node)) {
    node.forEach((item, i) => getObjectSchemas(item, `${path}/${i}`, into));
  }
  return into;
}

describe('chart/values.yaml', () => {
  const documented = [...valuesText.matchAll(/^\s*## @param (\S+)/gm)].map((match) => match[1]);
  const leaves = getLeafPaths(values);

  it('documents every value with a ## @param line', () => {
    expect(leaves.filter((path) => !documented.includes(path))).toEqual([]);
  });

  it('documents no value that does not exist', () => {
    expect(documented.filter((path) => !leaves.includes(path as string))).toEqual([]);
  });

  it('groups the values in ## @section blocks', () => {
    expect(valuesText.match(/^## @section /gm)?.length).toBeGreaterThanOrEqual(8);
  });
});

describe('chart/values.schema.json', () => {
  it('declares every value of values.yaml', () => {
    expect(getLeafPaths(values).filter((path) => getSchemaAt(path) === undefined)).toEqual([]);
  });

  it('closes every object it declares (additionalProperties: false), so typos fail', () => {
    const open = getObjectSchemas(schema, '#', []).filter(([, node]) => node['additionalProperties'] !== false);
    expect(open.map(([path]) => path)).toEqual([]);
  });

  it('declares no knob that values.yaml does not document', () => {
    const declared: string[] = [];
    const walk = (node: Obj, prefix: string): void => {
      const properties = resolve(node)['properties'];
      if (!isMap(properties)) return;
      for (const [key, sub] of Object.entries(properties)) {
        const path = prefix + key;
        const value = path.split('.').reduce<unknown>((at, k) => (isMap(at) ? at[k] : undefined), values);
        if (isMap(value) && Object.keys(value).length > 0) walk(sub as Obj, `${path}.`);
        else declared.push(path);
      }
    };
    walk(schema, '');
    expect(declared.filter((path) => !getLeafPaths(values).includes(path))).toEqual([]);
  });

  it('accepts only concrete SemVer model versions, never aliases', () => {
    const pattern = new RegExp(String(getSchemaAt('model.version')?.['pattern']));
    for (const version of ['1.0.0', '10.20.30', '2.3.0-rc.1', '1.0.0+build.7']) expect(version).toMatch(pattern);
    for (const alias of ['production', 'staging', 'latest', '1.0', 'v1.0.0', '01.0.0']) expect(alias).not.toMatch(pattern);
  });
});
