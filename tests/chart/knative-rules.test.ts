import { describe, expect, it } from 'vitest';
import { findViolations, getImageReferenceProblem, parseGoDurationMs } from './knative-rules.ts';
import type { RuleId, Violation } from './knative-rules.ts';

type Obj = Record<string, unknown>;

/** A Knative Service as the chart renders it by default: the webhook admits it. */
function createService(): Obj {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'telco-churn', labels: { 'app.kubernetes.io/name': 'telco-churn' } },
    spec: {
      template: {
        metadata: {
          name: 'telco-churn-m1-0-0-c438ea1d',
          labels: { 'telco-churn/model-version': '1.0.0' },
          annotations: {
            'autoscaling.knative.dev/class': 'kpa.autoscaling.knative.dev',
            'autoscaling.knative.dev/metric': 'concurrency',
            'autoscaling.knative.dev/target': '50',
            'autoscaling.knative.dev/min-scale': '0',
            'autoscaling.knative.dev/max-scale': '10',
            'autoscaling.knative.dev/initial-scale': '1',
            'autoscaling.knative.dev/scale-to-zero-pod-retention-period': '0s',
          },
        },
        spec: {
          containerConcurrency: 0,
          timeoutSeconds: 30,
          serviceAccountName: 'telco-churn',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          containers: [
            {
              name: 'server',
              image: 'ghcr.io/owner/telco-churn-serving:0.1.0',
              ports: [{ name: 'http1', containerPort: 8080, protocol: 'TCP' }],
              env: [{ name: 'MODEL_VERSION', value: '1.0.0' }],
              readinessProbe: { httpGet: { path: '/ready' } },
              livenessProbe: { httpGet: { path: '/health' }, periodSeconds: 10 },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 65532,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } }],
        },
      },
      traffic: [
        { revisionName: 'telco-churn-m0-9-0-aaaaaaaa', tag: 'stable', percent: 80 },
        { latestRevision: true, tag: 'candidate', percent: 20 },
      ],
    },
  };
}

/** A Deployment-mode Deployment: same container, plus PORT. */
function createDeployment(): Obj {
  const service = createService();
  const container = structuredClone(getPath(service, 'spec.template.spec.containers.0')) as Obj;
  container['env'] = [{ name: 'PORT', value: '8080' }];
  setPath(container, 'readinessProbe.httpGet.port', 'http1');
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'telco-churn' },
    spec: { template: { spec: { containers: [container], volumes: [{ name: 'tmp', emptyDir: {} }] } } },
  };
}

function getPath(root: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Obj)[key], root);
}

function setPath(root: Obj, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  const parent = getPath(root, keys.join('.')) as Obj;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
}

/** Returns a fresh default Service with the given paths set (undefined removes the key). */
function createServiceWith(changes: Record<string, unknown>): Obj {
  const service = createService();
  for (const [path, value] of Object.entries(changes)) setPath(service, path, value);
  return service;
}

function getRules(violations: Violation[]): RuleId[] {
  return violations.map((v) => v.rule);
}

/** Asserts the changes break exactly the given rule, and report it at the given path. */
function expectViolation(changes: Record<string, unknown>, rule: RuleId, path: string): void {
  const violations = findViolations([createServiceWith(changes)]);
  expect(violations.length, JSON.stringify(violations)).toBeGreaterThan(0);
  expect(new Set(getRules(violations))).toEqual(new Set([rule]));
  expect(violations.map((v) => v.path)).toContain(path);
}

const CONTAINER = 'spec.template.spec.containers.0';
const C_PATH = 'spec.template.spec.containers[0]';
const ANNOTATIONS = 'spec.template.metadata.annotations';

describe('findViolations on a valid chart rendering', () => {
  it('admits the default Knative Service, Deployment and a hardened test Pod', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 't' }, spec: { containers: [getPath(createService(), CONTAINER)] } };
    expect(findViolations([createService(), createDeployment(), pod, { apiVersion: 'v1', kind: 'ServiceAccount' }])).toEqual([]);
  });

  it('admits a Service without traffic, which Knative defaults to 100% latest', () => {
    expect(findViolations([createServiceWith({ 'spec.traffic': undefined })])).toEqual([]);
  });

  it('names the object, the path and the rule of each violation', () => {
    const [violation] = findViolations([createServiceWith({ [`${CONTAINER}.lifecycle`]: { preStop: {} } })]);
    expect(violation).toEqual({
      object: 'Service/telco-churn',
      path: `${C_PATH}.lifecycle`,
      rule: 'lifecycle',
      message: expect.stringContaining('lifecycle'),
    });
  });
});

describe('Knative container rules', () => {
  it('refuses a second container', () => {
    const second = { ...(getPath(createService(), CONTAINER) as Obj), name: 'sidecar', ports: undefined };
    const service = createService();
    (getPath(service, 'spec.template.spec.containers') as unknown[]).push(second);
    expect(getRules(findViolations([service]))).toContain('single-container');
  });

  it('refuses a second port', () => {
    expectViolation({ [`${CONTAINER}.ports`]: [{ name: 'http1', containerPort: 8080 }, { name: 'h2c', containerPort: 8081 }] }, 'container-port', `${C_PATH}.ports`);
  });

  it('refuses no port at all', () => {
    expectViolation({ [`${CONTAINER}.ports`]: [] }, 'container-port', `${C_PATH}.ports`);
  });

  it('refuses a port name other than http1 or h2c', () => {
    expectViolation({ [`${CONTAINER}.ports.0.name`]: 'http' }, 'container-port', `${C_PATH}.ports[0].name`);
  });

  it.each([8012, 8013, 8022, 9090, 9091])('refuses the queue-proxy port %i', (port) => {
    expectViolation({ [`${CONTAINER}.ports.0.containerPort`]: port, [`${CONTAINER}.readinessProbe.httpGet.port`]: port }, 'container-port', `${C_PATH}.ports[0].containerPort`);
  });

  it('refuses UDP and host ports', () => {
    expectViolation({ [`${CONTAINER}.ports.0.protocol`]: 'UDP' }, 'container-port', `${C_PATH}.ports[0].protocol`);
    expectViolation({ [`${CONTAINER}.ports.0.hostPort`]: 80 }, 'container-port', `${C_PATH}.ports[0].hostPort`);
  });

  it('refuses lifecycle hooks', () => {
    expectViolation({ [`${CONTAINER}.lifecycle`]: { preStop: { exec: { command: ['sleep', '5'] } } } }, 'lifecycle', `${C_PATH}.lifecycle`);
  });

  it('refuses container fields outside Knative\'s field mask', () => {
    expectViolation({ [`${CONTAINER}.stdin`]: true }, 'container-field', `${C_PATH}.stdin`);
  });

  it.each(['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION'])('refuses the reserved env name %s', (name) => {
    expectViolation({ [`${CONTAINER}.env`]: [{ name, value: 'x' }] }, 'reserved-env', `${C_PATH}.env[0].name`);
  });

  it('refuses an image reference Knative cannot parse', () => {
    expectViolation({ [`${CONTAINER}.image`]: 'ghcr.io/OWNER/telco-churn-serving:0.1.0' }, 'image-reference', `${C_PATH}.image`);
    expectViolation({ [`${CONTAINER}.image`]: 'ghcr.io/owner/app@sha256:abc' }, 'image-reference', `${C_PATH}.image`);
  });
});

describe('probe rules', () => {
  it('accepts probe ports that name or number the serving port', () => {
    expect(findViolations([createServiceWith({ [`${CONTAINER}.livenessProbe.httpGet.port`]: 8080, [`${CONTAINER}.readinessProbe.httpGet.port`]: 'http1' })])).toEqual([]);
  });

  it('refuses a probe on another port', () => {
    expectViolation({ [`${CONTAINER}.livenessProbe.httpGet.port`]: 9000 }, 'probe-port', `${C_PATH}.livenessProbe.httpGet.port`);
    expectViolation({ [`${CONTAINER}.readinessProbe.httpGet.port`]: 'metrics' }, 'probe-port', `${C_PATH}.readinessProbe.httpGet.port`);
  });

  it('refuses a readiness probe that is not GET /ready', () => {
    expectViolation({ [`${CONTAINER}.readinessProbe.httpGet.path`]: '/health' }, 'readiness-probe', `${C_PATH}.readinessProbe.httpGet.path`);
  });

  it('refuses a missing liveness probe', () => {
    expectViolation({ [`${CONTAINER}.livenessProbe`]: undefined }, 'liveness-probe', `${C_PATH}.livenessProbe.httpGet.path`);
  });

  it('refuses failureThreshold and timeoutSeconds under Knative\'s aggressive probing (periodSeconds 0)', () => {
    expectViolation({ [`${CONTAINER}.readinessProbe.failureThreshold`]: 3 }, 'readiness-probe', `${C_PATH}.readinessProbe.failureThreshold`);
    expect(findViolations([createServiceWith({ [`${CONTAINER}.readinessProbe.failureThreshold`]: 3, [`${CONTAINER}.readinessProbe.periodSeconds`]: 5 })])).toEqual([]);
  });
});

describe('security context rules', () => {
  it.each([
    ['runAsNonRoot', undefined],
    ['readOnlyRootFilesystem', false],
    ['allowPrivilegeEscalation', true],
    ['seccompProfile', { type: 'Unconfined' }],
    ['runAsUser', 0],
  ])('refuses %s = %j', (field, value) => {
    const path = field === 'seccompProfile' ? `${C_PATH}.securityContext.seccompProfile.type` : `${C_PATH}.securityContext.${field}`;
    expectViolation({ [`${CONTAINER}.securityContext.${field}`]: value }, 'security-context', path);
  });

  it('refuses capabilities that are not dropped, or dropped as lower-case "all"', () => {
    expectViolation({ [`${CONTAINER}.securityContext.capabilities`]: { drop: ['all'] } }, 'security-context', `${C_PATH}.securityContext.capabilities.drop`);
    expectViolation({ [`${CONTAINER}.securityContext.capabilities.add`]: ['NET_ADMIN'] }, 'security-context', `${C_PATH}.securityContext.capabilities.add`);
  });

  it('applies the same hardening to Deployments and the helm test Pod', () => {
    const deployment = createDeployment();
    setPath(deployment, 'spec.template.spec.containers.0.securityContext.readOnlyRootFilesystem', false);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 't' }, spec: { containers: [{ name: 'c', image: 'curl' }] } };
    expect(getRules(findViolations([deployment, pod]))).toEqual(Array(6).fill('security-context'));
  });
});

describe('pod spec and volume rules', () => {
  it('refuses pod fields behind disabled feature flags', () => {
    expectViolation({ 'spec.template.spec.securityContext': { runAsNonRoot: true } }, 'pod-spec-field', 'spec.template.spec.securityContext');
    expectViolation({ 'spec.template.spec.nodeSelector': { disk: 'ssd' } }, 'pod-spec-field', 'spec.template.spec.nodeSelector');
  });

  it('refuses automountServiceAccountToken: true', () => {
    expectViolation({ 'spec.template.spec.automountServiceAccountToken': true }, 'pod-spec-field', 'spec.template.spec.automountServiceAccountToken');
  });

  it('refuses a volume nobody mounts, a mount without a volume and a reserved mount path', () => {
    expectViolation({ 'spec.template.spec.volumes': [{ name: 'tmp', emptyDir: {} }, { name: 'cache', emptyDir: {} }] }, 'volume', 'spec.template.spec.volumes');
    expectViolation({ 'spec.template.spec.volumes': [] }, 'volume', `spec.template.spec.containers[0].volumeMounts[0].name`);
    expectViolation({ [`${CONTAINER}.volumeMounts.0.mountPath`]: '/dev/' }, 'volume', `spec.template.spec.containers[0].volumeMounts[0].mountPath`);
  });
});

describe('naming rules', () => {
  it('refuses a revision name without the "<service>-" prefix', () => {
    expectViolation({ 'spec.template.metadata.name': 'churn-m1-0-0-c438ea1d' }, 'revision-name', 'spec.template.metadata.name');
  });

  it('refuses a revision name longer than 63 characters or not a DNS-1035 label', () => {
    expectViolation({ 'spec.template.metadata.name': `telco-churn-m1-0-0-${'a'.repeat(50)}` }, 'revision-name', 'spec.template.metadata.name');
    expectViolation({ 'spec.template.metadata.name': 'telco-churn-m1.0.0' }, 'revision-name', 'spec.template.metadata.name');
  });

  it('refuses a Service name that does not start with a letter', () => {
    const violations = findViolations([createServiceWith({ 'metadata.name': '1-churn', 'spec.template.metadata.name': '1-churn-m1' })]);
    expect(getRules(violations)).toEqual(['service-name', 'revision-name']);
  });
});

describe('annotation rules', () => {
  it('refuses annotation values that are not strings', () => {
    const service = createService();
    (getPath(service, ANNOTATIONS) as Obj)['autoscaling.knative.dev/min-scale'] = 0;
    const violations = findViolations([service]);
    expect(getRules(violations)).toEqual(['annotation-string']);
    expect(violations[0]?.path).toBe(`${ANNOTATIONS}.autoscaling.knative.dev/min-scale`);
  });

  it('refuses autoscaling annotations on the Service itself', () => {
    const service = createService();
    setPath(service, 'metadata.annotations', { 'autoscaling.knative.dev/min-scale': '1' });
    expect(getRules(findViolations([service]))).toEqual(['service-autoscaling-annotation']);
  });

  it('refuses max-scale below min-scale, and initial-scale above max-scale', () => {
    const service = createService();
    Object.assign(getPath(service, ANNOTATIONS) as Obj, { 'autoscaling.knative.dev/min-scale': '5', 'autoscaling.knative.dev/max-scale': '2', 'autoscaling.knative.dev/initial-scale': '3' });
    expect(findViolations([service]).map((v) => v.message)).toEqual([
      'max-scale=2 is less than min-scale=5',
      'initial-scale=3 is above max-scale=2',
    ]);
  });

  it.each([
    ['min-scale', '-1'],
    ['max-scale', 'ten'],
    ['initial-scale', '0'],
    ['target', '0'],
    ['target', 'fifty'],
    ['metric', 'cpu'],
    ['class', 'foo.autoscaling.knative.dev'],
    ['scale-to-zero-pod-retention-period', '30'],
    ['scale-to-zero-pod-retention-period', '2h'],
    ['window', '5s'],
    ['minscale', '1'],
  ])('refuses autoscaling.knative.dev/%s: "%s"', (key, value) => {
    const service = createService();
    (getPath(service, ANNOTATIONS) as Obj)[`autoscaling.knative.dev/${key}`] = value;
    expect(getRules(findViolations([service]))).toEqual(['autoscaling-annotation']);
  });

  it('accepts max-scale 0 as unbounded and fractional targets', () => {
    const service = createService();
    Object.assign(getPath(service, ANNOTATIONS) as Obj, { 'autoscaling.knative.dev/max-scale': '0', 'autoscaling.knative.dev/min-scale': '3', 'autoscaling.knative.dev/target': '0.5' });
    expect(findViolations([service])).toEqual([]);
  });
});

describe('revision spec rules', () => {
  it.each([-1, 1001, 1.5])('refuses containerConcurrency %d', (value) => {
    expectViolation({ 'spec.template.spec.containerConcurrency': value }, 'container-concurrency', 'spec.template.spec.containerConcurrency');
  });

  it.each([-1, 601])('refuses timeoutSeconds %d', (value) => {
    expectViolation({ 'spec.template.spec.timeoutSeconds': value }, 'timeout-seconds', 'spec.template.spec.timeoutSeconds');
  });
});

describe('traffic rules', () => {
  const stable = { revisionName: 'telco-churn-m0-9-0-aaaaaaaa', tag: 'stable', percent: 80 };
  const latest = { latestRevision: true, tag: 'candidate', percent: 20 };

  it('refuses percents that do not sum to 100', () => {
    expectViolation({ 'spec.traffic': [{ ...stable, percent: 70 }, latest] }, 'traffic', 'spec.traffic');
  });

  it('refuses a percent outside [0, 100]', () => {
    expectViolation({ 'spec.traffic': [{ ...stable, percent: 120 }, { ...latest, percent: -20 }] }, 'traffic', 'spec.traffic[0].percent');
  });

  it('refuses a tag used twice or not a DNS-1035 label', () => {
    expectViolation({ 'spec.traffic': [{ ...stable, tag: 'candidate' }, latest] }, 'traffic', 'spec.traffic[1].tag');
    expectViolation({ 'spec.traffic': [{ ...stable, tag: 'Stable_1' }, latest] }, 'traffic', 'spec.traffic[0].tag');
  });

  it('refuses two latestRevision targets', () => {
    expectViolation({ 'spec.traffic': [{ ...latest, tag: 'a', percent: 50 }, { ...latest, tag: 'b', percent: 50 }] }, 'traffic', 'spec.traffic');
  });

  it('refuses latestRevision: false without a revisionName, and latestRevision: true with one', () => {
    expectViolation({ 'spec.traffic': [{ latestRevision: false, percent: 80 }, latest] }, 'traffic', 'spec.traffic[0].revisionName');
    expectViolation({ 'spec.traffic': [{ ...stable, latestRevision: true, percent: 100 }] }, 'traffic', 'spec.traffic[0].revisionName');
  });

  it('refuses configurationName and url in a Service\'s traffic', () => {
    expectViolation({ 'spec.traffic': [{ ...stable, configurationName: 'x' }, latest] }, 'traffic', 'spec.traffic[0].configurationName');
    expectViolation({ 'spec.traffic': [{ ...stable, url: 'http://x' }, latest] }, 'traffic', 'spec.traffic[0].url');
  });
});

describe('deployment mode rules', () => {
  it('requires PORT to be set to the container port outside Knative', () => {
    const deployment = createDeployment();
    setPath(deployment, 'spec.template.spec.containers.0.env', [{ name: 'PORT', value: '3000' }]);
    expect(getRules(findViolations([deployment]))).toEqual(['deployment-port-env']);
  });
});

describe('parsers', () => {
  it('parses Go durations as time.ParseDuration does', () => {
    expect(parseGoDurationMs('0')).toBe(0);
    expect(parseGoDurationMs('1m30s')).toBe(90_000);
    expect(parseGoDurationMs('1.5h')).toBe(5_400_000);
    expect(parseGoDurationMs('250ms')).toBe(250);
    expect(parseGoDurationMs('30')).toBeUndefined();
    expect(parseGoDurationMs('1d')).toBeUndefined();
  });

  it('accepts the image references the chart renders and refuses malformed ones', () => {
    expect(getImageReferenceProblem('ghcr.io/owner/telco-churn-serving:0.1.0')).toBeUndefined();
    expect(getImageReferenceProblem(`ghcr.io/owner/telco-churn-serving@sha256:${'a'.repeat(64)}`)).toBeUndefined();
    expect(getImageReferenceProblem('localhost:5000/app')).toBeUndefined();
    expect(getImageReferenceProblem('ghcr.io/owner/app:bad tag')).toMatch(/tag/);
    expect(getImageReferenceProblem('')).toBe('image is required');
  });
});
