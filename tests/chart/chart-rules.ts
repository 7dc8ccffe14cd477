// What the chart promises beyond what the API server and Knative's webhook check, as one pure function over parsed
// manifests. Knative's own admission code (tests/chart/knative-admission, run by .ci/chart-check.sh) judges everything
// Knative refuses; each rule here stays because Knative admits what it refuses:
// - security-context: Knative runs a container as root, writable and with every capability if asked; the chart
//   promises non-root, a read-only root filesystem, no privilege escalation, all capabilities dropped and the
//   RuntimeDefault seccomp profile, for the serving container in both modes and for the helm test Pod.
// - readiness-probe, liveness-probe: Knative accepts any probe; the server's readiness is GET /ready (503 until the
//   model is verified and warm, and while draining) and its liveness GET /health.
// - autoscaling-annotation: Knative ignores an `autoscaling.knative.dev/` key it does not know, so a misspelt key
//   (e.g. `minscale`) would silently do nothing.
// - deployment-port-env: outside Knative nothing sets PORT; the server must be told the container port.
// - test-image: `helm test` runs the serving image itself, by the same reference, never a third-party image.

/** Identifies the rule a violation breaks; the negative tests assert on it. */
export type RuleId =
  | 'security-context'
  | 'readiness-probe'
  | 'liveness-probe'
  | 'autoscaling-annotation'
  | 'deployment-port-env'
  | 'test-image';

/** One broken rule: which object, where in it, and why. */
export interface Violation {
  object: string;
  path: string;
  rule: RuleId;
  message: string;
}

type Obj = Record<string, unknown>;

const AUTOSCALING_PREFIX = 'autoscaling.knative.dev/';
// knative.dev/serving pkg/apis/autoscaling/register.go: the keys and their older camel-case spellings.
const AUTOSCALING_KEYS = new Set([
  'class', 'metric', 'target', 'target-utilization-percentage', 'target-burst-capacity', 'window',
  'panic-window-percentage', 'panic-threshold-percentage', 'min-scale', 'max-scale', 'initial-scale',
  'activation-scale', 'scale-down-delay', 'scale-to-zero-pod-retention-period', 'metric-aggregation-algorithm',
  'initialScale', 'maxScale', 'metricAggregationAlgorithm', 'minScale', 'panicThresholdPercentage',
  'panicWindowPercentage', 'scaleDownDelay', 'scaleToZeroPodRetentionPeriod', 'targetBurstCapacity',
  'targetUtilizationPercentage',
].map((key) => AUTOSCALING_PREFIX + key));

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function getObj(value: unknown): Obj {
  return isObj(value) ? value : {};
}

function getList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

class Collector {
  readonly violations: Violation[] = [];
  private readonly object: string;

  constructor(object: string) {
    this.object = object;
  }

  add(rule: RuleId, path: string, message: string): void {
    this.violations.push({ object: this.object, path, rule, message });
  }
}

function checkSecurityContext(out: Collector, container: Obj, path: string, pod: Obj): void {
  const sc = getObj(container['securityContext']);
  const podSc = getObj(pod['securityContext']);
  const scPath = `${path}.securityContext`;
  if (sc['runAsNonRoot'] !== true && podSc['runAsNonRoot'] !== true) out.add('security-context', `${scPath}.runAsNonRoot`, 'must be true');
  if (sc['runAsUser'] === 0 || (sc['runAsUser'] === undefined && podSc['runAsUser'] === 0)) out.add('security-context', `${scPath}.runAsUser`, 'must not be 0 (root)');
  if (sc['readOnlyRootFilesystem'] !== true) out.add('security-context', `${scPath}.readOnlyRootFilesystem`, 'must be true');
  if (sc['allowPrivilegeEscalation'] !== false) out.add('security-context', `${scPath}.allowPrivilegeEscalation`, 'must be false');
  if (sc['privileged'] === true) out.add('security-context', `${scPath}.privileged`, 'must not be true');
  const drop = getList(getObj(sc['capabilities'])['drop']);
  if (!drop.includes('ALL')) out.add('security-context', `${scPath}.capabilities.drop`, 'must contain "ALL" (upper case; "all" drops nothing)');
  if (getList(getObj(sc['capabilities'])['add']).length > 0) out.add('security-context', `${scPath}.capabilities.add`, 'must be empty');
  const seccomp = getObj(sc['seccompProfile'])['type'] ?? getObj(podSc['seccompProfile'])['type'];
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.add('security-context', `${scPath}.seccompProfile.type`, 'must be RuntimeDefault (or Localhost)');
}

function checkHttpProbe(out: Collector, container: Obj, path: string, field: 'readinessProbe' | 'livenessProbe', expected: string): void {
  const rule = field === 'readinessProbe' ? 'readiness-probe' : 'liveness-probe';
  const probePath = getObj(getObj(container[field])['httpGet'])['path'];
  if (probePath !== expected) out.add(rule, `${path}.${field}.httpGet.path`, `must be an httpGet probe on ${expected}, got ${JSON.stringify(probePath ?? null)}`);
}

/** The serving container of each pod template: its name is `server` in both modes. */
function getServingContainer(pod: Obj): Obj | undefined {
  return getList(pod['containers']).map(getObj).find((container) => container['name'] === 'server');
}

function checkServingContainer(out: Collector, pod: Obj, podPath: string): void {
  getList(pod['containers']).forEach((item, i) => {
    const container = getObj(item);
    const path = `${podPath}.containers[${i}]`;
    checkSecurityContext(out, container, path, pod);
    checkHttpProbe(out, container, path, 'readinessProbe', '/ready');
    checkHttpProbe(out, container, path, 'livenessProbe', '/health');
  });
}

function checkKnativeService(out: Collector, service: Obj): void {
  const template = getObj(getObj(service['spec'])['template']);
  const annotations = getObj(getObj(template['metadata'])['annotations']);
  for (const key of Object.keys(annotations)) {
    if (key.startsWith(AUTOSCALING_PREFIX) && !AUTOSCALING_KEYS.has(key)) {
      out.add('autoscaling-annotation', `spec.template.metadata.annotations.${key}`, 'unknown autoscaling annotation: Knative would silently ignore it');
    }
  }
  checkServingContainer(out, getObj(template['spec']), 'spec.template.spec');
}

function checkDeployment(out: Collector, deployment: Obj): void {
  const pod = getObj(getObj(getObj(deployment['spec'])['template'])['spec']);
  checkServingContainer(out, pod, 'spec.template.spec');
  getList(pod['containers']).forEach((item, i) => {
    const container = getObj(item);
    const port = getObj(getList(container['ports'])[0])['containerPort'];
    const env = getList(container['env']).map(getObj).find((e) => e['name'] === 'PORT');
    if (env?.['value'] !== String(port)) out.add('deployment-port-env', `spec.template.spec.containers[${i}].env`, `PORT must be set to the container port ${String(port)} outside Knative`);
  });
}

function checkTestPod(out: Collector, pod: Obj, servingImages: Set<unknown>): void {
  const spec = getObj(pod['spec']);
  getList(spec['containers']).forEach((item, i) => {
    const container = getObj(item);
    checkSecurityContext(out, container, `spec.containers[${i}]`, spec);
    if (!servingImages.has(container['image'])) {
      out.add('test-image', `spec.containers[${i}].image`, `${String(container['image'])} is not the serving image (${[...servingImages].join(', ') || 'none rendered'})`);
    }
  });
}

function isTestPod(value: Obj): boolean {
  return value['apiVersion'] === 'v1' && value['kind'] === 'Pod' && getObj(getObj(value['metadata'])['annotations'])['helm.sh/hook'] === 'test';
}

/** Returns every promise of the chart the given parsed manifests break; an empty list means they keep them all. */
export function findViolations(objects: unknown[]): Violation[] {
  const manifests = objects.filter(isObj);
  const servingImages = new Set<unknown>();
  for (const value of manifests) {
    const pod = value['kind'] === 'Pod' ? undefined : getObj(getObj(getObj(value['spec'])['template'])['spec']);
    const container = pod && getServingContainer(pod);
    if (container) servingImages.add(container['image']);
  }
  const violations: Violation[] = [];
  for (const value of manifests) {
    const kind = String(value['kind']);
    const apiVersion = String(value['apiVersion']);
    const out = new Collector(`${kind}/${String(getObj(value['metadata'])['name'])}`);
    if (apiVersion === 'serving.knative.dev/v1' && kind === 'Service') checkKnativeService(out, value);
    else if (apiVersion === 'apps/v1' && kind === 'Deployment') checkDeployment(out, value);
    else if (isTestPod(value)) checkTestPod(out, value, servingImages);
    violations.push(...out.violations);
  }
  return violations;
}
