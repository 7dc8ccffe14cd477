// The admission rules of Knative Serving's webhook that its CRD schema cannot express, plus the hardening this chart
// promises, as one pure function over parsed manifests. Sources (knative.dev/serving): pkg/apis/serving/
// k8s_validation.go and fieldmask.go (pod spec, container, ports, env, probes, volumes), v1/revision_validation.go
// (revision name, timeoutSeconds), metadata_validation.go (containerConcurrency), v1/route_validation.go (traffic),
// v1/service_validation.go and pkg/apis/autoscaling/annotation_validation.go (annotations), with the defaults of
// pkg/apis/config (feature flags, max timeout 600 s, container-concurrency-max-limit 1000).

/** Identifies the rule a violation breaks; the negative tests assert on it. */
export type RuleId =
  | 'service-name'
  | 'annotation-string'
  | 'service-autoscaling-annotation'
  | 'revision-name'
  | 'pod-spec-field'
  | 'single-container'
  | 'container-field'
  | 'container-port'
  | 'lifecycle'
  | 'reserved-env'
  | 'image-reference'
  | 'probe-port'
  | 'readiness-probe'
  | 'liveness-probe'
  | 'security-context'
  | 'volume'
  | 'autoscaling-annotation'
  | 'container-concurrency'
  | 'timeout-seconds'
  | 'traffic'
  | 'deployment-port-env';

/** One broken rule: which object, where in it, and why. */
export interface Violation {
  object: string;
  path: string;
  rule: RuleId;
  message: string;
}

type Obj = Record<string, unknown>;

const RESERVED_ENV = new Set(['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION']);
// networking.BackendHTTPPort, BackendHTTP2Port, QueueAdminPort, AutoscalingQueueMetricsPort, UserQueueMetricsPort.
const RESERVED_PORTS = new Set([8012, 8013, 8022, 9090, 9091]);
const PORT_NAMES = new Set(['http1', 'h2c']);
const RESERVED_MOUNT_PATHS = new Set(['/', '/dev', '/dev/log']);
// PodSpecMask with Knative's default feature flags; automountServiceAccountToken is allowed only as false.
const POD_SPEC_FIELDS = new Set([
  'serviceAccountName', 'containers', 'volumes', 'imagePullSecrets', 'enableServiceLinks',
  'automountServiceAccountToken', 'containerConcurrency', 'timeoutSeconds', 'responseStartTimeoutSeconds',
  'idleTimeoutSeconds',
]);
const CONTAINER_FIELDS = new Set([
  'name', 'args', 'command', 'env', 'workingDir', 'envFrom', 'image', 'imagePullPolicy', 'livenessProbe', 'ports',
  'readinessProbe', 'resources', 'securityContext', 'startupProbe', 'terminationMessagePath',
  'terminationMessagePolicy', 'volumeMounts', 'lifecycle',
]);
const AUTOSCALING_PREFIX = 'autoscaling.knative.dev/';
const AUTOSCALING_KEYS = new Set([
  'class', 'metric', 'target', 'target-utilization-percentage', 'target-burst-capacity', 'window',
  'panic-window-percentage', 'panic-threshold-percentage', 'min-scale', 'max-scale', 'initial-scale',
  'activation-scale', 'scale-down-delay', 'scale-to-zero-pod-retention-period', 'metric-aggregation-algorithm',
].map((key) => AUTOSCALING_PREFIX + key));
const MAX_REVISION_TIMEOUT_SECONDS = 600;
const CONTAINER_CONCURRENCY_MAX = 1000;
const HOUR_MS = 3_600_000;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function getObj(value: unknown): Obj {
  return isObj(value) ? value : {};
}

function getList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Returns the problem with a DNS-1035 label (RFC 1035: lower case, starts with a letter, 63 chars), or undefined. */
export function getDns1035Problem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return 'must be a non-empty string';
  if (value.length > 63) return `must be at most 63 characters, is ${value.length}`;
  if (!DNS1035_LABEL.test(value)) return 'must be lower case alphanumerics or "-", start with a letter and end with an alphanumeric';
  return undefined;
}

/** Parses a Go duration (`time.ParseDuration`) into milliseconds; undefined when Go would refuse it. */
export function parseGoDurationMs(value: string): number | undefined {
  if (value === '0') return 0;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1e3, m: 6e4, h: HOUR_MS };
  const match = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(value);
  if (!match) return undefined;
  let total = 0;
  for (const part of (match[2] ?? '').matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (units[part[2] ?? ''] ?? Number.NaN);
  }
  return match[1] === '-' ? -total : total;
}

function parseInteger(value: string): number | undefined {
  return /^[+-]?\d+$/.test(value) ? Number(value) : undefined;
}

function parseFloat64(value: string): number | undefined {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ? Number(value) : undefined;
}

/** Returns the problem with an image reference as go-containerregistry parses it (weak validation), or undefined. */
export function getImageReferenceProblem(image: unknown): string | undefined {
  if (typeof image !== 'string' || image === '') return 'image is required';
  const [named = '', digest, ...rest] = image.split('@');
  if (rest.length > 0) return 'has more than one "@"';
  if (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest)) return `digest ${digest} is not sha256:<64 hex>`;
  let repository = named;
  const colon = named.lastIndexOf(':');
  if (colon > named.lastIndexOf('/')) {
    const tag = named.slice(colon + 1);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) return `tag ${tag} is invalid`;
    repository = named.slice(0, colon);
  }
  const components = repository.split('/');
  const first = components[0] ?? '';
  const hasRegistry = components.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry && !/^[a-zA-Z0-9.-]+(:\d+)?$/.test(first)) return `registry ${first} is invalid`;
  for (const component of hasRegistry ? components.slice(1) : components) {
    if (!/^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/.test(component)) {
      return `repository component "${component}" must be lower case alphanumerics and separators`;
    }
  }
  return undefined;
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

function checkStringValues(out: Collector, map: unknown, path: string): void {
  for (const [key, value] of Object.entries(getObj(map))) {
    if (typeof value !== 'string') out.add('annotation-string', `${path}.${key}`, `value must be a string, got ${JSON.stringify(value)}`);
  }
}

function checkProbePort(out: Collector, probe: Obj, path: string, port: Obj): void {
  for (const handler of ['httpGet', 'tcpSocket'] as const) {
    const probePort = getObj(probe[handler])['port'];
    if (probePort === undefined) continue;
    if (probePort !== port['containerPort'] && probePort !== port['name']) {
      out.add('probe-port', `${path}.${handler}.port`, `probe port ${String(probePort)} is not the serving port ${String(port['containerPort'])} (omit it)`);
    }
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

function checkVolumes(out: Collector, pod: Obj, container: Obj, path: string): void {
  const volumes = new Map<string, Obj>();
  getList(pod['volumes']).forEach((item, i) => {
    const volume = getObj(item);
    const name = volume['name'];
    if (typeof name !== 'string' || !DNS1123_LABEL.test(name)) out.add('volume', `${path}.volumes[${i}].name`, 'must be a DNS-1123 label');
    else if (volumes.has(name)) out.add('volume', `${path}.volumes[${i}].name`, `duplicate volume name ${name}`);
    else volumes.set(name, volume);
  });
  const mounted = new Set<string>();
  const mountPaths = new Set<string>();
  getList(container['volumeMounts']).forEach((item, i) => {
    const mount = getObj(item);
    const mountPath = typeof mount['mountPath'] === 'string' ? mount['mountPath'].replace(/\/+$/, '') || '/' : '';
    const at = `${path}.containers[0].volumeMounts[${i}]`;
    const volume = volumes.get(String(mount['name']));
    if (!volume) out.add('volume', `${at}.name`, 'volumeMount has no matching volume');
    mounted.add(String(mount['name']));
    if (!mountPath.startsWith('/')) out.add('volume', `${at}.mountPath`, 'must be an absolute path');
    else if (RESERVED_MOUNT_PATHS.has(mountPath)) out.add('volume', `${at}.mountPath`, `${mountPath} is a reserved path`);
    else if (mountPaths.has(mountPath)) out.add('volume', `${at}.mountPath`, `${mountPath} is mounted twice`);
    mountPaths.add(mountPath);
    if (volume && !volume['emptyDir'] && !volume['persistentVolumeClaim'] && mount['readOnly'] !== true) {
      out.add('volume', `${at}.readOnly`, 'volume mount should be readOnly for this type of volume');
    }
  });
  for (const name of volumes.keys()) {
    if (!mounted.has(name)) out.add('volume', `${path}.volumes`, `volume ${name} is not mounted`);
  }
}

function checkAutoscalingAnnotations(out: Collector, annotations: Obj, path: string): void {
  const strings = new Map<string, string>();
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(AUTOSCALING_PREFIX)) continue;
    if (!AUTOSCALING_KEYS.has(key)) out.add('autoscaling-annotation', `${path}.${key}`, 'unknown autoscaling annotation (Knative would silently ignore it)');
    if (typeof value === 'string') strings.set(key.slice(AUTOSCALING_PREFIX.length), value);
  }
  const at = (key: string): string => `${path}.${AUTOSCALING_PREFIX}${key}`;
  const getScale = (key: string): number | undefined => {
    const raw = strings.get(key);
    if (raw === undefined) return undefined;
    const value = parseInteger(raw);
    if (value === undefined || value < 0 || value > 2 ** 31 - 1) {
      out.add('autoscaling-annotation', at(key), `${raw} is not an integer >= 0`);
      return undefined;
    }
    return value;
  };
  const min = getScale('min-scale') ?? 0;
  const max = getScale('max-scale') ?? 0;
  const initial = getScale('initial-scale');
  if (max !== 0 && max < min) out.add('autoscaling-annotation', at('max-scale'), `max-scale=${max} is less than min-scale=${min}`);
  if (initial === 0) out.add('autoscaling-annotation', at('initial-scale'), 'initial-scale=0 needs allow-zero-initial-scale on the cluster');
  if (initial !== undefined && max !== 0 && initial > max) out.add('autoscaling-annotation', at('initial-scale'), `initial-scale=${initial} is above max-scale=${max}`);
  const target = strings.get('target');
  if (target !== undefined) {
    const value = parseFloat64(target);
    if (value === undefined || value < 0.01) out.add('autoscaling-annotation', at('target'), `target ${target} must be a number >= 0.01`);
  }
  const utilization = strings.get('target-utilization-percentage');
  if (utilization !== undefined) {
    const value = parseFloat64(utilization);
    if (value === undefined || value < 1 || value > 100) out.add('autoscaling-annotation', at('target-utilization-percentage'), 'must be a number in [1, 100]');
  }
  const cls = strings.get('class');
  if (cls !== undefined && cls.endsWith('.knative.dev') && cls !== 'kpa.autoscaling.knative.dev' && cls !== 'hpa.autoscaling.knative.dev') {
    out.add('autoscaling-annotation', at('class'), `unknown class ${cls}`);
  }
  const metric = strings.get('metric');
  if (metric !== undefined && (cls ?? 'kpa.autoscaling.knative.dev') === 'kpa.autoscaling.knative.dev' && metric !== 'concurrency' && metric !== 'rps') {
    out.add('autoscaling-annotation', at('metric'), `metric ${metric} is not concurrency or rps (KPA)`);
  }
  const durations: [string, number][] = [['scale-to-zero-pod-retention-period', 0], ['scale-down-delay', 0], ['window', 6000]];
  for (const [key, minMs] of durations) {
    const raw = strings.get(key);
    if (raw === undefined) continue;
    const ms = parseGoDurationMs(raw);
    if (ms === undefined) out.add('autoscaling-annotation', at(key), `${raw} is not a Go duration`);
    else if (ms < minMs || ms > HOUR_MS) out.add('autoscaling-annotation', at(key), `${raw} is outside [${minMs / 1000}s, 1h]`);
  }
}

function checkTraffic(out: Collector, traffic: unknown): void {
  if (traffic === undefined) return;
  let sum = 0;
  let latest = 0;
  const tags = new Set<string>();
  getList(traffic).forEach((item, i) => {
    const target = getObj(item);
    const at = `spec.traffic[${i}]`;
    const percent = target['percent'];
    if (percent !== undefined) {
      if (!Number.isInteger(percent) || (percent as number) < 0 || (percent as number) > 100) out.add('traffic', `${at}.percent`, `${String(percent)} is not an integer in [0, 100]`);
      else sum += percent as number;
    }
    const tag = target['tag'];
    if (tag !== undefined) {
      const problem = getDns1035Problem(tag);
      if (problem) out.add('traffic', `${at}.tag`, `tag ${problem}`);
      else if (tags.has(tag as string)) out.add('traffic', `${at}.tag`, `tag ${String(tag)} is used twice`);
      tags.add(String(tag));
    }
    const hasRevision = typeof target['revisionName'] === 'string' && target['revisionName'] !== '';
    if (target['latestRevision'] === true) {
      latest += 1;
      if (hasRevision) out.add('traffic', `${at}.revisionName`, 'must be empty when latestRevision is true');
    } else if (target['latestRevision'] === false && !hasRevision) {
      out.add('traffic', `${at}.revisionName`, 'latestRevision: false needs a revisionName');
    }
    if (target['configurationName'] !== undefined) out.add('traffic', `${at}.configurationName`, 'not allowed in a Service (it has its own configuration)');
    if (target['url'] !== undefined) out.add('traffic', `${at}.url`, 'not allowed in spec');
  });
  if (latest > 1) out.add('traffic', 'spec.traffic', `${latest} targets have latestRevision: true, at most one may`);
  if (sum !== 100) out.add('traffic', 'spec.traffic', `percents sum to ${sum}, want 100`);
}

function checkKnativeService(out: Collector, service: Obj): void {
  const metadata = getObj(service['metadata']);
  const name = metadata['name'];
  const nameProblem = getDns1035Problem(name);
  if (nameProblem) out.add('service-name', 'metadata.name', `Knative prefixes revision names with it, so it ${nameProblem}`);
  checkStringValues(out, metadata['annotations'], 'metadata.annotations');
  checkStringValues(out, metadata['labels'], 'metadata.labels');
  for (const key of Object.keys(getObj(metadata['annotations']))) {
    if (key.startsWith(AUTOSCALING_PREFIX)) out.add('service-autoscaling-annotation', `metadata.annotations.${key}`, 'autoscaling annotations belong on spec.template.metadata');
  }

  const spec = getObj(service['spec']);
  const template = getObj(spec['template']);
  const templateMeta = getObj(template['metadata']);
  checkStringValues(out, templateMeta['annotations'], 'spec.template.metadata.annotations');
  checkStringValues(out, templateMeta['labels'], 'spec.template.metadata.labels');
  checkAutoscalingAnnotations(out, getObj(templateMeta['annotations']), 'spec.template.metadata.annotations');
  const revision = templateMeta['name'];
  if (revision !== undefined) {
    const problem = getDns1035Problem(revision);
    if (problem) out.add('revision-name', 'spec.template.metadata.name', `revision name ${problem}`);
    if (typeof name === 'string' && !String(revision).startsWith(`${name}-`)) {
      out.add('revision-name', 'spec.template.metadata.name', `${String(revision)} must have the prefix "${name}-"`);
    }
  }

  const pod = getObj(template['spec']);
  const podPath = 'spec.template.spec';
  for (const key of Object.keys(pod)) {
    if (!POD_SPEC_FIELDS.has(key)) out.add('pod-spec-field', `${podPath}.${key}`, `${key} is not allowed by Knative's default feature flags`);
  }
  if (pod['automountServiceAccountToken'] === true) out.add('pod-spec-field', `${podPath}.automountServiceAccountToken`, 'may only be false');
  const concurrency = pod['containerConcurrency'];
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || (concurrency as number) < 0 || (concurrency as number) > CONTAINER_CONCURRENCY_MAX)) {
    out.add('container-concurrency', `${podPath}.containerConcurrency`, `${String(concurrency)} is not an integer in [0, ${CONTAINER_CONCURRENCY_MAX}]`);
  }
  const timeout = pod['timeoutSeconds'];
  if (timeout !== undefined && (!Number.isInteger(timeout) || (timeout as number) < 0 || (timeout as number) > MAX_REVISION_TIMEOUT_SECONDS)) {
    out.add('timeout-seconds', `${podPath}.timeoutSeconds`, `${String(timeout)} is not an integer in [0, ${MAX_REVISION_TIMEOUT_SECONDS}]`);
  }

  const containers = getList(pod['containers']);
  if (containers.length !== 1) out.add('single-container', `${podPath}.containers`, `exactly one container expected, found ${containers.length}`);
  const container = getObj(containers[0]);
  const cPath = `${podPath}.containers[0]`;
  for (const key of Object.keys(container)) {
    if (!CONTAINER_FIELDS.has(key)) out.add('container-field', `${cPath}.${key}`, `${key} is not allowed in a Knative container`);
  }
  if (container['lifecycle'] !== undefined) out.add('lifecycle', `${cPath}.lifecycle`, 'lifecycle hooks are not allowed (Knative drains through queue-proxy)');
  const imageProblem = getImageReferenceProblem(container['image']);
  if (imageProblem) out.add('image-reference', `${cPath}.image`, imageProblem);

  const ports = getList(container['ports']);
  const port = getObj(ports[0]);
  if (ports.length !== 1) out.add('container-port', `${cPath}.ports`, `exactly one port expected, found ${ports.length}`);
  if (!PORT_NAMES.has(String(port['name']))) out.add('container-port', `${cPath}.ports[0].name`, 'must be http1 or h2c');
  const containerPort = port['containerPort'];
  if (!Number.isInteger(containerPort) || (containerPort as number) < 1 || (containerPort as number) > 65535) {
    out.add('container-port', `${cPath}.ports[0].containerPort`, `${String(containerPort)} is not a port number`);
  } else if (RESERVED_PORTS.has(containerPort as number)) {
    out.add('container-port', `${cPath}.ports[0].containerPort`, `${String(containerPort)} is reserved by Knative's queue-proxy`);
  }
  if (port['protocol'] !== undefined && port['protocol'] !== 'TCP') out.add('container-port', `${cPath}.ports[0].protocol`, 'must be TCP');
  for (const key of ['hostPort', 'hostIP']) {
    if (port[key] !== undefined) out.add('container-port', `${cPath}.ports[0].${key}`, `${key} is not allowed`);
  }

  getList(container['env']).forEach((item, i) => {
    const envName = getObj(item)['name'];
    if (typeof envName === 'string' && RESERVED_ENV.has(envName)) out.add('reserved-env', `${cPath}.env[${i}].name`, `${envName} is reserved: Knative sets it`);
  });
  for (const field of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
    if (container[field] !== undefined) checkProbePort(out, getObj(container[field]), `${cPath}.${field}`, port);
  }
  const readiness = getObj(container['readinessProbe']);
  if (!readiness['periodSeconds']) {
    for (const key of ['failureThreshold', 'timeoutSeconds']) {
      if (readiness[key]) out.add('readiness-probe', `${cPath}.readinessProbe.${key}`, `${key} is not allowed when periodSeconds is 0 (Knative's aggressive probing)`);
    }
  }
  checkHttpProbe(out, container, cPath, 'readinessProbe', '/ready');
  checkHttpProbe(out, container, cPath, 'livenessProbe', '/health');
  checkSecurityContext(out, container, cPath, pod);
  checkVolumes(out, pod, container, podPath);
  checkTraffic(out, spec['traffic']);
}

function checkDeployment(out: Collector, deployment: Obj): void {
  const pod = getObj(getObj(getObj(deployment['spec'])['template'])['spec']);
  const podPath = 'spec.template.spec';
  getList(pod['containers']).forEach((item, i) => {
    const container = getObj(item);
    const cPath = `${podPath}.containers[${i}]`;
    checkSecurityContext(out, container, cPath, pod);
    checkHttpProbe(out, container, cPath, 'readinessProbe', '/ready');
    checkHttpProbe(out, container, cPath, 'livenessProbe', '/health');
    const port = getObj(getList(container['ports'])[0])['containerPort'];
    const env = getList(container['env']).map(getObj).find((e) => e['name'] === 'PORT');
    if (env?.['value'] !== String(port)) out.add('deployment-port-env', `${cPath}.env`, `PORT must be set to the container port ${String(port)} outside Knative`);
  });
}

function checkPod(out: Collector, pod: Obj): void {
  const spec = getObj(pod['spec']);
  getList(spec['containers']).forEach((item, i) => checkSecurityContext(out, getObj(item), `spec.containers[${i}]`, spec));
}

/** Returns every rule the given parsed manifests break; an empty list means Knative would admit them. */
export function findViolations(objects: unknown[]): Violation[] {
  const violations: Violation[] = [];
  for (const value of objects) {
    if (!isObj(value)) continue;
    const kind = String(value['kind']);
    const apiVersion = String(value['apiVersion']);
    const out = new Collector(`${kind}/${String(getObj(value['metadata'])['name'])}`);
    if (apiVersion === 'serving.knative.dev/v1' && kind === 'Service') checkKnativeService(out, value);
    else if (apiVersion === 'apps/v1' && kind === 'Deployment') checkDeployment(out, value);
    else if (apiVersion === 'v1' && kind === 'Pod') checkPod(out, value);
    violations.push(...out.violations);
  }
  return violations;
}
