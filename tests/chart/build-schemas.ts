// Builds kubeconform's strict JSON schemas offline, from the Kubernetes OpenAPI v2 document and from CRD manifests.
// Usage: node tests/chart/build-schemas.ts OUT_DIR KUBERNETES_SWAGGER_JSON CRD_YAML...
// Layout written: OUT_DIR/{Kind}{-group}-{version}.json, the "standalone-strict" layout kubeconform reads with
// `-schema-location DIR -kubernetes-version X -strict` (kubeconform's default template appends that folder name).
// The conversion follows kubeconform's scripts/openapi2jsonschema.py: every object with `properties` refuses
// unknown properties, int-or-string becomes string|integer, and $refs stay local (definitions embedded per file).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const REF_PREFIX = '#/definitions/';
// Kinds every API group repeats for its own machinery; no manifest is ever one of them.
const SKIPPED_KINDS = new Set(['DeleteOptions', 'WatchEvent', 'Status', 'APIVersions', 'APIGroup', 'APIGroupList', 'APIResourceList']);

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns the file name kubeconform looks up for a kind: `{kind}{-group's first label}-{version}.json`, lower case. */
export function getSchemaFileName({ group, version, kind }: GroupVersionKind): string {
  const groupLabel = group === '' ? '' : `-${group.split('.')[0]}`;
  return `${kind}${groupLabel}-${version}.json`.toLowerCase();
}

/** Creates a strict copy of an OpenAPI schema: closed objects, int-or-string as a union, no descriptions. */
export function createStrictSchema(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(createStrictSchema);
  if (!isObject(schema)) return schema;
  if (schema['format'] === 'int-or-string' || (schema['x-kubernetes-int-or-string'] === true && !schema['anyOf'])) {
    return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'description') continue;
    // `properties` maps names to schemas: recurse into each schema, never treat the map itself as a schema.
    if (key === 'properties' && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, createStrictSchema(sub)]));
    } else {
      out[key] = createStrictSchema(value);
    }
  }
  if (out['nullable'] === true && typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
  const open = out['x-kubernetes-preserve-unknown-fields'] === true;
  if (isObject(out['properties']) && !('additionalProperties' in out) && !open) out['additionalProperties'] = false;
  return out;
}

function collectRefs(schema: Json, into: Set<string>): void {
  if (Array.isArray(schema)) {
    for (const item of schema) collectRefs(item, into);
  } else if (isObject(schema)) {
    const ref = schema['$ref'];
    if (typeof ref === 'string' && ref.startsWith(REF_PREFIX)) into.add(ref.slice(REF_PREFIX.length));
    for (const value of Object.values(schema)) collectRefs(value, into);
  }
}

/** Returns the names of all definitions reachable from a schema through local $refs. */
export function getReachableDefinitions(root: Json, definitions: Record<string, Json>): string[] {
  const seen = new Set<string>();
  const queue = new Set<string>();
  collectRefs(root, queue);
  for (const name of queue) {
    if (seen.has(name)) continue;
    seen.add(name);
    const definition = definitions[name];
    if (definition === undefined) throw new Error(`unresolved $ref ${name}`);
    collectRefs(definition, queue);
  }
  return [...seen].sort();
}

function createStandalone(root: Json, definitions: Record<string, Json>): JsonObject {
  const embedded = Object.fromEntries(getReachableDefinitions(root, definitions).map((name) => [name, definitions[name] as Json]));
  return { ...(root as JsonObject), definitions: embedded };
}

/** Creates one strict standalone schema per kind of the Kubernetes OpenAPI v2 document. */
export function createKubernetesSchemas(swagger: JsonObject): Map<string, JsonObject> {
  const raw = swagger['definitions'];
  if (!isObject(raw)) throw new Error('swagger document has no definitions');
  const definitions: Record<string, Json> = {};
  for (const [name, definition] of Object.entries(raw)) {
    definitions[name] = name === 'io.k8s.apimachinery.pkg.api.resource.Quantity'
      ? { oneOf: [{ type: 'string' }, { type: 'number' }] } // `cpu: 1` is as valid as `cpu: "1"`
      : createStrictSchema(definition);
  }
  const schemas = new Map<string, JsonObject>();
  for (const [name, definition] of Object.entries(raw)) {
    const gvks = isObject(definition) ? definition['x-kubernetes-group-version-kind'] : undefined;
    if (!Array.isArray(gvks)) continue;
    for (const gvk of gvks as unknown as GroupVersionKind[]) {
      if (SKIPPED_KINDS.has(gvk.kind)) continue;
      schemas.set(getSchemaFileName(gvk), createStandalone({ $ref: `${REF_PREFIX}${name}` }, definitions));
    }
  }
  return schemas;
}

/** Creates one strict schema per served version of each CRD; `metadata` is checked as a Kubernetes ObjectMeta. */
export function createCrdSchemas(crds: JsonObject[], swagger: JsonObject): Map<string, JsonObject> {
  const definitions: Record<string, Json> = {};
  for (const [name, definition] of Object.entries(swagger['definitions'] as JsonObject)) {
    definitions[name] = createStrictSchema(definition);
  }
  const schemas = new Map<string, JsonObject>();
  for (const crd of crds) {
    const spec = crd['spec'] as JsonObject;
    const names = spec['names'] as JsonObject;
    for (const version of spec['versions'] as JsonObject[]) {
      const openApi = (version['schema'] as JsonObject | undefined)?.['openAPIV3Schema'];
      if (!isObject(openApi) || version['served'] === false) continue;
      const strict = createStrictSchema(openApi) as JsonObject;
      const properties = strict['properties'] as JsonObject;
      properties['metadata'] = { $ref: `${REF_PREFIX}${OBJECT_META}` };
      const gvk = { group: String(spec['group']), version: String(version['name']), kind: String(names['kind']) };
      schemas.set(getSchemaFileName(gvk), createStandalone(strict, definitions));
    }
  }
  return schemas;
}

function readCrds(paths: string[]): JsonObject[] {
  const crds: JsonObject[] = [];
  for (const path of paths) {
    for (const document of parseAllDocuments(readFileSync(path, 'utf8'))) {
      const value = document.toJS() as Json;
      if (isObject(value) && value['kind'] === 'CustomResourceDefinition') crds.push(value);
    }
  }
  return crds;
}

function main(argv: string[]): void {
  const [outDir, swaggerPath, ...crdPaths] = argv;
  if (outDir === undefined || swaggerPath === undefined) {
    throw new Error('usage: build-schemas.ts OUT_DIR KUBERNETES_SWAGGER_JSON [CRD_YAML...]');
  }
  const swagger = JSON.parse(readFileSync(swaggerPath, 'utf8')) as JsonObject;
  const schemas = new Map([...createKubernetesSchemas(swagger), ...createCrdSchemas(readCrds(crdPaths), swagger)]);
  mkdirSync(outDir, { recursive: true });
  for (const [fileName, schema] of schemas) writeFileSync(join(outDir, fileName), JSON.stringify(schema));
  process.stdout.write(`wrote ${schemas.size} schemas to ${outDir}\n`);
}

if (import.meta.main) main(process.argv.slice(2));
