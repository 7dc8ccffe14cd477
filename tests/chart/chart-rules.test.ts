import { describe, expect, it } from 'vitest';
import { findViolations } from './chart-rules.ts';
import type { RuleId } from './chart-rules.ts';

type Obj = Record<string, unknown>;

/** The serving container as the chart renders it in knative mode. */
function createContainer(): Obj {
  return {
    name: 'server',
    image: 'ghcr.io/owner/telco-churn-serving:0.1.0',
    ports: [{ name: 'http1', containerPort: 8080, protocol: 'TCP' }],
    env: [{ name: 'MODEL_VERSION', value: '1.0.0' }],
    readinessProbe: { httpGet: { path: '/ready' }, successThreshold: 1 },
    livenessProbe: { httpGet: { path: '/health' }, periodSeconds: 10 },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

/** A Knative Service as the chart renders it by default. */
function createService(): Obj {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'telco-churn' },
    spec: {
      template: {
        metadata: {
          name: 'telco-churn-m1-0-0-c438ea1d',
          annotations: { 'autoscaling.knative.dev/min-scale': '0', 'autoscaling.knative.dev/max-scale': '10' },
        },
        spec: { containers: [createContainer()] },
      },
      traffic: [{ latestRevision: true, tag: 'candidate', percent: 100 }],
    },
  };
}

/** A Deployment-mode Deployment: the same container, plus PORT and a named probe port. */
function createDeployment(): Obj {
  const container = createContainer();
  container['env'] = [{ name: 'PORT', value: '8080' }];
  container['readinessProbe'] = { httpGet: { path: '/ready', port: 'http1' } };
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'telco-churn' }, spec: { template: { spec: { containers: [container] } } } };
}

/** The helm test Pod. */
function createTestPod(): Obj {
  const container = { ...createContainer(), name: 'predict' };
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'telco-churn-test', annotations: { 'helm.sh/hook': 'test' } }, spec: { containers: [container] } };
}

function getContainer(object: Obj): Obj {
  const spec = object['kind'] === 'Pod' ? object['spec'] : ((object['spec'] as Obj)['template'] as Obj)['spec'];
  return ((spec as Obj)['containers'] as Obj[])[0] as Obj;
}

function getRules(objects: Obj[]): RuleId[] {
  return findViolations(objects).map((v) => v.rule);
}

describe('findViolations on a chart rendering', () => {
  it('finds nothing in the Knative Service, the Deployment, the test Pod and other kinds', () => {
    expect(findViolations([createService(), createDeployment(), createTestPod(), { apiVersion: 'v1', kind: 'ServiceAccount' }])).toEqual([]);
  });

  it('names the object, the path and the rule of each violation', () => {
    const service = createService();
    (getContainer(service)['securityContext'] as Obj)['readOnlyRootFilesystem'] = false;
    expect(findViolations([service])).toEqual([{
      object: 'Service/telco-churn',
      path: 'spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem',
      rule: 'security-context',
      message: 'must be true',
    }]);
  });
});

describe('hardening (Knative admits a root, writable, privileged container)', () => {
  it.each([
    ['runAsNonRoot', undefined],
    ['readOnlyRootFilesystem', false],
    ['allowPrivilegeEscalation', true],
    ['privileged', true],
    ['seccompProfile', { type: 'Unconfined' }],
    ['runAsUser', 0],
    ['capabilities', { drop: ['all'] }],
    ['capabilities', { drop: ['ALL'], add: ['NET_ADMIN'] }],
  ])('refuses %s = %j in the serving container', (field, value) => {
    const service = createService();
    (getContainer(service)['securityContext'] as Obj)[field] = value;
    expect(getRules([service])).toEqual(['security-context']);
  });

  it('holds the Deployment and the helm test Pod to the same hardening', () => {
    const deployment = createDeployment();
    (getContainer(deployment)['securityContext'] as Obj)['readOnlyRootFilesystem'] = false;
    const pod = createTestPod();
    delete getContainer(pod)['securityContext'];
    expect(getRules([deployment, pod])).toEqual(Array(6).fill('security-context'));
  });

  it('accepts runAsNonRoot and seccomp set on the pod instead of the container', () => {
    const deployment = createDeployment();
    const securityContext = getContainer(deployment)['securityContext'] as Obj;
    delete securityContext['runAsNonRoot'];
    delete securityContext['seccompProfile'];
    ((deployment['spec'] as Obj)['template'] as Obj)['spec'] = {
      ...(((deployment['spec'] as Obj)['template'] as Obj)['spec'] as Obj),
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    };
    expect(findViolations([deployment])).toEqual([]);
  });
});

describe('probes (Knative admits any probe)', () => {
  it('refuses a readiness probe that is not GET /ready', () => {
    const service = createService();
    getContainer(service)['readinessProbe'] = { httpGet: { path: '/health' } };
    expect(getRules([service])).toEqual(['readiness-probe']);
  });

  it('refuses a missing liveness probe, in both modes', () => {
    const service = createService();
    delete getContainer(service)['livenessProbe'];
    const deployment = createDeployment();
    delete getContainer(deployment)['livenessProbe'];
    expect(getRules([service, deployment])).toEqual(['liveness-probe', 'liveness-probe']);
  });
});

describe('autoscaling annotations (Knative ignores keys it does not know)', () => {
  it('refuses a misspelt key', () => {
    const service = createService();
    ((((service['spec'] as Obj)['template'] as Obj)['metadata'] as Obj)['annotations'] as Obj)['autoscaling.knative.dev/minscale'] = '1';
    expect(findViolations([service]).map((v) => [v.rule, v.path])).toEqual([
      ['autoscaling-annotation', 'spec.template.metadata.annotations.autoscaling.knative.dev/minscale'],
    ]);
  });

  it('accepts the older camel-case spellings Knative still reads', () => {
    const service = createService();
    ((((service['spec'] as Obj)['template'] as Obj)['metadata'] as Obj)['annotations'] as Obj)['autoscaling.knative.dev/minScale'] = '1';
    expect(findViolations([service])).toEqual([]);
  });
});

describe('deployment mode (no Knative to set PORT)', () => {
  it('requires PORT to be the container port', () => {
    const deployment = createDeployment();
    getContainer(deployment)['env'] = [{ name: 'PORT', value: '3000' }];
    expect(getRules([deployment])).toEqual(['deployment-port-env']);
  });
});

describe('helm test image (no third-party image in production)', () => {
  it('refuses a test Pod that runs another image than the serving container', () => {
    const pod = createTestPod();
    getContainer(pod)['image'] = 'docker.io/curlimages/curl:8.11.1';
    expect(findViolations([createService(), pod]).map((v) => [v.rule, v.path])).toEqual([['test-image', 'spec.containers[0].image']]);
  });

  it('accepts the serving image of either mode, by the same reference', () => {
    expect(findViolations([createDeployment(), createTestPod()])).toEqual([]);
  });
});
