{{/* Chart name, or nameOverride; truncated to a DNS label. */}}
{{- define "telco-churn.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified object name `<release>-<name>` (63 chars max); in knative mode also the Knative Service name. */}}
{{- define "telco-churn.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart name and version for the helm.sh/chart label. */}}
{{- define "telco-churn.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object: selector labels plus chart, version, manager and commonLabels. */}}
{{- define "telco-churn.labels" -}}
helm.sh/chart: {{ include "telco-churn.chart" . }}
{{ include "telco-churn.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels that select the serving pods (Service, PodMonitor, PDB); immutable once deployed, so keep them minimal. */}}
{{- define "telco-churn.selectorLabels" -}}
app.kubernetes.io/name: {{ include "telco-churn.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of the helm test pod, which the NetworkPolicy lets through in deployment mode; not the selector labels. */}}
{{- define "telco-churn.testSelectorLabels" -}}
app.kubernetes.io/name: {{ include "telco-churn.name" . | trunc 58 }}-test
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of the serving pods: object labels, the model they serve (label-safe) and podLabels. */}}
{{- define "telco-churn.podLabels" -}}
{{ include "telco-churn.labels" . }}
telco-churn/model-name: {{ .Values.model.name | quote }}
telco-churn/model-version: {{ .Values.model.version | replace "+" "_" | quote }}
{{- with .Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Name of the ServiceAccount the pods run as. */}}
{{- define "telco-churn.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "telco-churn.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image reference from dict(image, defaultTag): `repository@digest` when a digest is set, else `repository:tag`. */}}
{{- define "telco-churn.imageRef" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- $tag := default .defaultTag .image.tag }}
{{- if not $tag }}
{{- fail (printf "image %s needs a tag or a digest" .image.repository) }}
{{- end }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{/* The container's memory limit in MiB, from resources.limits.memory (the schema allows only Mi and Gi). */}}
{{- define "telco-churn.memoryLimitMiB" -}}
{{- $memory := toString .Values.resources.limits.memory }}
{{- if hasSuffix "Gi" $memory }}
{{- mul (trimSuffix "Gi" $memory | int) 1024 }}
{{- else }}
{{- trimSuffix "Mi" $memory | int }}
{{- end }}
{{- end }}

{{/* Whether model.registry is an OCI registry (`oci://`): "true" or empty. */}}
{{- define "telco-churn.modelRegistryIsOci" -}}
{{- if hasPrefix "oci://" .Values.model.registry }}true{{ end }}
{{- end }}

{{/* Secret mounted as the server's DOCKER_CONFIG for an oci:// registry: model.pullSecret, else the first image pull secret; empty for none. */}}
{{- define "telco-churn.modelPullSecret" -}}
{{- if include "telco-churn.modelRegistryIsOci" . }}
{{- .Values.model.pullSecret | default (first (concat .Values.image.pullSecrets (list ""))) }}
{{- end }}
{{- end }}

{{/* Checks the rules values.schema.json cannot express (comparisons between values); renders nothing. */}}
{{- define "telco-churn.verifyValues" -}}
{{- $a := .Values.knative.autoscaling }}
{{- if and (gt (int $a.maxScale) 0) (lt (int $a.maxScale) (int $a.minScale)) }}
{{- fail (printf "knative.autoscaling.maxScale (%d) is below minScale (%d)" (int $a.maxScale) (int $a.minScale)) }}
{{- end }}
{{- if and (gt (int $a.maxScale) 0) (gt (int $a.initialScale) (int $a.maxScale)) }}
{{- fail (printf "knative.autoscaling.initialScale (%d) is above maxScale (%d)" (int $a.initialScale) (int $a.maxScale)) }}
{{- end }}
{{- $d := .Values.deployment }}
{{- if lt (int $d.autoscaling.maxReplicas) (int $d.autoscaling.minReplicas) }}
{{- fail (printf "deployment.autoscaling.maxReplicas (%d) is below minReplicas (%d)" (int $d.autoscaling.maxReplicas) (int $d.autoscaling.minReplicas)) }}
{{- end }}
{{- if ge (int .Values.server.drainTimeoutMs) (mul (int $d.terminationGracePeriodSeconds) 1000) }}
{{- fail "server.drainTimeoutMs must be shorter than deployment.terminationGracePeriodSeconds, or the kubelet kills the server mid-drain" }}
{{- end }}
{{- $m := .Values.model }}
{{- $oci := include "telco-churn.modelRegistryIsOci" . }}
{{- if and (regexMatch "^(https?|oci)://" $m.registry) (not $m.digest) (not $m.ociDigest) }}
{{- fail (printf "model.registry %s is remote: pin the version with model.digest (npm run registry -- resolve %s --registry %s) or model.ociDigest; unpinned remote content is never served" $m.registry $m.version $m.registry) }}
{{- end }}
{{- if and (not $oci) (or $m.ociDigest $m.plainHttp $m.pullSecret) }}
{{- fail "model.ociDigest, model.plainHttp and model.pullSecret apply to an oci:// model.registry only" }}
{{- end }}
{{- $service := include "telco-churn.fullname" . }}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $service) }}
{{- fail (printf "name %q must be a DNS-1035 label (start with a letter): Knative prefixes every revision name with it" $service) }}
{{- end }}
{{- with .Values.rollout.stableRevision }}
{{- if not (hasPrefix (printf "%s-" $service) .) }}
{{- fail (printf "rollout.stableRevision %q is not a revision of %q (its name must start with %q)" . $service (printf "%s-" $service)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The serving container, shared by both modes so they cannot drift. Knative injects PORT and refuses it (and probe
ports other than the serving port); a plain Deployment needs both spelled out.
*/}}
{{- define "telco-churn.container" -}}
{{- $knative := eq .Values.mode "knative" -}}
- name: server
  image: {{ include "telco-churn.imageRef" (dict "image" .Values.image "defaultTag" .Chart.AppVersion) }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  # The image's CMD with its initial old space scaled to the limit: 3/8 of the heap cap (3/16 of the
  # limit), so V8 does not mark the old generation without pause under batches (README, decision log).
  args:
    - {{ printf "--initial-old-space-size=%d" (div (mul (include "telco-churn.memoryLimitMiB" . | int) 3) 16) | quote }}
    - dist/main.cjs
  ports:
    - name: http1
      containerPort: {{ .Values.server.port | int }}
      protocol: TCP
  env:
    {{- if not $knative }}
    - name: PORT
      value: {{ .Values.server.port | int | quote }}
    {{- end }}
    - name: MODEL_REGISTRY
      value: {{ .Values.model.registry | quote }}
    - name: MODEL_NAME
      value: {{ .Values.model.name | quote }}
    - name: MODEL_VERSION
      value: {{ list .Values.model.version .Values.model.ociDigest | compact | join "@" | quote }}
    {{- with .Values.model.digest }}
    - name: MODEL_DIGEST
      value: {{ . | quote }}
    {{- end }}
    {{- if .Values.model.plainHttp }}
    - name: MODEL_REGISTRY_PLAIN_HTTP
      value: "true"
    {{- end }}
    {{- if include "telco-churn.modelPullSecret" . }}
    - name: DOCKER_CONFIG
      value: /var/run/secrets/telco-churn/model-registry
    {{- end }}
    - name: MAX_BATCH_INSTANCES
      value: {{ .Values.server.maxBatchInstances | int | quote }}
    - name: LOG_LEVEL
      value: {{ .Values.server.logLevel | quote }}
    - name: ACCESS_LOG
      value: {{ .Values.server.accessLog | toString | quote }}
    - name: DRAIN_TIMEOUT_MS
      value: {{ .Values.server.drainTimeoutMs | int | quote }}
    # The V8 heap gets half the memory limit; request bodies, connections and the runtime need the rest.
    - name: NODE_OPTIONS
      value: {{ printf "--max-old-space-size=%d" (div (include "telco-churn.memoryLimitMiB" . | int) 2) | quote }}
    {{- range .Values.server.extraEnv }}
    - name: {{ .name }}
      value: {{ .value | quote }}
    {{- end }}
  readinessProbe:
    httpGet:
      path: /ready
      {{- if not $knative }}
      port: http1
      {{- end }}
    {{- /*
    Rendered although it is Knative's default: the webhook defaults it on create only. An upgrade that keeps the
    revision name (promote, abort, pin, re-run) applies the container list whole (server-side apply, atomic list), so
    an unrendered default vanishes and Knative refuses the "change without a name change" (chart/README.md).
    */}}
    successThreshold: 1
    {{- with .Values.readinessProbe }}
    {{- if gt (int .periodSeconds) 0 }}
    periodSeconds: {{ .periodSeconds | int }}
    {{- end }}
    {{- if or (not $knative) (gt (int .periodSeconds) 0) }}
    timeoutSeconds: {{ .timeoutSeconds | int }}
    failureThreshold: {{ .failureThreshold | int }}
    {{- end }}
    {{- end }}
  livenessProbe:
    httpGet:
      path: /health
      {{- if not $knative }}
      port: http1
      {{- end }}
    {{- with .Values.livenessProbe }}
    initialDelaySeconds: {{ .initialDelaySeconds | int }}
    periodSeconds: {{ .periodSeconds | int }}
    timeoutSeconds: {{ .timeoutSeconds | int }}
    failureThreshold: {{ .failureThreshold | int }}
    {{- end }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    runAsNonRoot: true
    runAsUser: {{ .Values.securityContext.runAsUser | int }}
    runAsGroup: {{ .Values.securityContext.runAsGroup | int }}
    readOnlyRootFilesystem: true
    allowPrivilegeEscalation: false
    capabilities:
      drop:
        - ALL
    seccompProfile:
      type: RuntimeDefault
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    {{- if include "telco-churn.modelPullSecret" . }}
    - name: model-registry-credentials
      mountPath: /var/run/secrets/telco-churn/model-registry
      readOnly: true
    {{- end }}
{{- end }}

{{/* Pod spec fields both modes share: identity, pull secrets, the serving container and its /tmp volume. */}}
{{- define "telco-churn.podSpec" -}}
serviceAccountName: {{ include "telco-churn.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
containers:
  {{- include "telco-churn.container" . | nindent 2 }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
  {{- with include "telco-churn.modelPullSecret" . }}
  {{- /* The Secret's .dockerconfigjson key becomes config.json, the file the server reads in DOCKER_CONFIG. */}}
  - name: model-registry-credentials
    secret:
      secretName: {{ . }}
      items:
        - key: .dockerconfigjson
          path: config.json
  {{- end }}
{{- end }}

{{/* Revision template metadata without its name: labels and the string-valued autoscaling annotations. */}}
{{- define "telco-churn.knative.templateMetadata" -}}
{{- $a := .Values.knative.autoscaling -}}
labels:
  {{- include "telco-churn.podLabels" . | nindent 2 }}
annotations:
  autoscaling.knative.dev/class: kpa.autoscaling.knative.dev
  autoscaling.knative.dev/metric: {{ $a.metric | quote }}
  autoscaling.knative.dev/target: {{ $a.target | toString | quote }}
  autoscaling.knative.dev/min-scale: {{ $a.minScale | int | quote }}
  autoscaling.knative.dev/max-scale: {{ $a.maxScale | int | quote }}
  autoscaling.knative.dev/initial-scale: {{ $a.initialScale | int | quote }}
  autoscaling.knative.dev/scale-to-zero-pod-retention-period: {{ $a.scaleToZeroPodRetentionPeriod | quote }}
  {{- with .Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* Revision template spec: Knative's request limits plus the shared pod spec. */}}
{{- define "telco-churn.knative.templateSpec" -}}
containerConcurrency: {{ .Values.knative.containerConcurrency | int }}
timeoutSeconds: {{ .Values.knative.timeoutSeconds | int }}
{{ include "telco-churn.podSpec" . }}
{{- end }}

{{/*
Revision name `<service>-m<model version>-<hash>`: one revision per model version, and a new name whenever anything
in the template changes (Knative refuses a changed template under an existing name). The hash is the first 8 hex
digits of sha256 over the rendered template, so identical values always give the identical name.
*/}}
{{- define "telco-churn.knative.revisionName" -}}
{{- $service := include "telco-churn.fullname" . }}
{{- $template := printf "%s\n%s" (include "telco-churn.knative.templateMetadata" .) (include "telco-churn.knative.templateSpec" .) }}
{{- $hash := $template | sha256sum | trunc 8 }}
{{- $version := .Values.model.version | lower | replace "." "-" | replace "+" "-" }}
{{- $prefix := printf "%s-m%s" $service $version | trunc 54 | trimSuffix "-" }}
{{- if not (hasPrefix (printf "%s-" $service) (printf "%s-" $prefix)) }}
{{- fail (printf "name %q is too long for revision names (54 characters at most)" $service) }}
{{- end }}
{{- printf "%s-%s" $prefix $hash }}
{{- end }}

{{/*
Revision that keeps (100 - canaryPercent)% of the traffic: rollout.stableRevision; else, when a canary is asked for,
the live Service's revision tagged stable (a canary in progress keeps its stable) or, failing that, the revision it
serves now. Empty when none is known (first install, `helm template`, client-side dry run: lookup finds nothing).
*/}}
{{- define "telco-churn.knative.stableRevision" -}}
{{- if .Values.rollout.stableRevision }}
{{- .Values.rollout.stableRevision }}
{{- else if lt (int .Values.rollout.canaryPercent) 100 }}
{{- $live := lookup "serving.knative.dev/v1" "Service" .Release.Namespace (include "telco-churn.fullname" .) }}
{{- $stable := "" }}
{{- range (dig "spec" "traffic" (list) $live) }}
{{- if and (eq (toString (get . "tag")) $.Values.rollout.stableTag) (get . "revisionName") }}
{{- $stable = get . "revisionName" }}
{{- end }}
{{- end }}
{{- default (dig "status" "latestReadyRevisionName" "" $live) $stable }}
{{- end }}
{{- end }}
