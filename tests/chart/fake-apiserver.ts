// A read-only stand-in for the Kubernetes API, just enough for `helm template --dry-run=server` to run the chart's
// `lookup` of the live Knative Service: version, discovery, and GETs of the objects it is given.
// Usage: node tests/chart/fake-apiserver.ts OBJECTS_JSON  (an array of objects; prints the URL it listens on)
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

type Obj = Record<string, unknown>;

const KNATIVE_RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'serving.knative.dev/v1',
  resources: [
    { name: 'services', singularName: 'service', namespaced: true, kind: 'Service', shortNames: ['ksvc'], verbs: ['get', 'list'] },
    { name: 'revisions', singularName: 'revision', namespaced: true, kind: 'Revision', verbs: ['get', 'list'] },
  ],
};

/** Creates the answers for the discovery paths and for each object's own path. */
export function createRoutes(objects: Obj[]): Map<string, unknown> {
  const routes = new Map<string, unknown>([
    ['/version', { major: '1', minor: '37', gitVersion: 'v1.37.2', platform: 'linux/amd64' }],
    ['/api', { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] }],
    ['/api/v1', {
      kind: 'APIResourceList',
      groupVersion: 'v1',
      resources: [
        { name: 'serviceaccounts', singularName: 'serviceaccount', namespaced: true, kind: 'ServiceAccount', verbs: ['get'] },
        { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get'] },
      ],
    }],
    ['/apis', {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [{
        name: 'serving.knative.dev',
        versions: [{ groupVersion: 'serving.knative.dev/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'serving.knative.dev/v1', version: 'v1' },
      }],
    }],
    ['/apis/serving.knative.dev/v1', KNATIVE_RESOURCES],
  ]);
  for (const object of objects) {
    const metadata = object['metadata'] as Obj;
    const path = `/apis/serving.knative.dev/v1/namespaces/${String(metadata['namespace'])}/services/${String(metadata['name'])}`;
    routes.set(path, object);
  }
  return routes;
}

function main(objectsPath: string): void {
  const routes = createRoutes(JSON.parse(readFileSync(objectsPath, 'utf8')) as Obj[]);
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const body = routes.get(path);
    response.setHeader('content-type', 'application/json');
    if (request.method === 'GET' && body !== undefined) {
      response.end(JSON.stringify(body));
    } else {
      response.statusCode = 404;
      response.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${path} not found` }));
    }
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  });
}

if (import.meta.main) main(process.argv[2] ?? '');
