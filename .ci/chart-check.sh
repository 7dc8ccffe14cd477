#!/usr/bin/env bash
# Validates the Helm chart without a cluster, as the API server and Knative's webhook would:
#   1. for each values file in tests/chart/values/: helm lint --strict, helm template, kubeconform -strict against
#      Kubernetes + Knative + prometheus-operator schemas built offline, Knative Serving's own admission code on
#      create (tests/chart/knative-admission: server-side apply, then the webhook's SetDefaults and Validate), the
#      chart's own rules that Knative does not check (tests/chart/check-rendered.ts: hardening, probe paths), the
#      PrometheusRule and dashboard ConfigMap against their one source in chart/files/
#      (tests/chart/check-monitoring.ts), and kube-score (its justified exceptions are listed in chart/README.md);
#   2. upgrades: each rendering applied server-side onto the stored result of the previous one, as Helm 4 upgrades,
#      and admitted as an update (re-run, canary, promote, abort, pin, helm rollback);
#   3. renders broken on purpose (a second port, env PORT, a lifecycle hook, reserved ports, traffic over 100%, a
#      dropped default) are refused, each with Knative's own message;
#   4. values.schema.json and the chart's own checks refuse bad values (aliases, unknown keys, out-of-range numbers);
#   5. revision names are reproducible: same values, same name; any template change, a new name;
#   6. the traffic split `lookup` derives from a live Service, rendered with --dry-run=server against a stand-in API
#      server on 127.0.0.1 (tests/chart/fake-apiserver.ts).
# Needs `bash .ci/tools.sh` (helm, kubeconform, knative-admission, schema sources) and `npm ci` (Node 24, yaml).
# Prints one line per case and a closing "N passed, N failed" line; exits non-zero when any case fails.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash .ci/tools.sh --print-env)"
NODE=node_modules/.bin/node
for tool in "$HELM" "$KUBECONFORM" "$KUBE_SCORE" "$KNATIVE_ADMISSION"; do
  [[ -x "$tool" ]] || { echo "chart-check: $tool is missing: run bash .ci/tools.sh" >&2; exit 1; }
done
[[ "$("$KNATIVE_ADMISSION" --source-digest)" == "$KNATIVE_ADMISSION_DIGEST" ]] ||
  { echo "chart-check: $KNATIVE_ADMISSION was built from other sources: run bash .ci/tools.sh" >&2; exit 1; }
[[ -f "$KUBERNETES_SWAGGER" && -d "$KNATIVE_CRD_DIR" && -d "$PROMETHEUS_CRD_DIR" && -d "$KNATIVE_ADMISSION_CRD_DIR" ]] ||
  { echo "chart-check: schema sources are missing: run bash .ci/tools.sh" >&2; exit 1; }
[[ -x "$NODE" ]] || { echo "chart-check: $NODE is missing: run npm ci" >&2; exit 1; }

CHART=chart
RELEASE=telco-churn
NAMESPACE=churn
KUBE_VERSION="${KUBERNETES_VERSION#v}"
WORK=.tmp/chart-check
rm -rf "$WORK"
mkdir -p "$WORK"
passed=0
failed=0

# report OK|FAIL NAME DETAIL [LOG]: one line per case; a failure also shows its log.
report() {
  printf '%-4s %-44s %s\n' "$1" "$2" "$3"
  if [[ "$1" == ok ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    [[ -n "${4:-}" && -f "$4" ]] && sed 's/^/     | /' "$4"
  fi
  return 0
}

# Schemas are rebuilt on every run (under a second) so they always match the pinned sources and the converter.
SCHEMAS="$WORK/schemas"
"$NODE" tests/chart/build-schemas.ts "$SCHEMAS/v$KUBE_VERSION-standalone-strict" "$KUBERNETES_SWAGGER" \
  "$KNATIVE_CRD_DIR"/{service,configuration,revision,route}.yaml \
  "$PROMETHEUS_CRD_DIR"/monitoring.coreos.com_{podmonitors,servicemonitors,prometheusrules}.yaml >"$WORK/schemas.log"

render() { "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --kube-version "$KUBE_VERSION" "$@"; }

# Knative Serving's admission code: `admission create RENDER` or `admission update PREVIOUS RENDER`, plus flags.
admission() {
  "$KNATIVE_ADMISSION" --crd-dir "$KNATIVE_ADMISSION_CRD_DIR" --kubernetes-swagger "$KUBERNETES_SWAGGER" "$@"
}

# Prints the Knative revision name (spec.template.metadata.name) of a rendered manifest stream.
revision_name() { awk '/^kind: Service$/ { svc = 1 } svc && /^  template:$/ { t = 1 } t && /^      name: / { print $2; exit }' "$1"; }

# kube-score's checks, less the exceptions chart/README.md justifies: no CPU limit (throttling only adds tail
# latency), pull policy IfNotPresent (images are pinned by digest; Always puts the registry in every cold start),
# no ephemeral-storage request or limit (read-only root filesystem; /tmp is an emptyDir with a sizeLimit). Warnings
# (no egress policy, no host anti-affinity) are listed in the log but do not fail.
KUBE_SCORE_FLAGS=(--kubernetes-version "v${KUBE_VERSION%.*}" --output-format ci --ignore-container-cpu-limit
  --ignore-test container-image-pull-policy --ignore-test container-ephemeral-storage-request-and-limit)

# 1. Every values file: lint, render, schema-validate, Knative admission on create, the chart's own rules, kube-score.
for values in tests/chart/values/*.yaml; do
  name="$(basename "$values" .yaml)"
  out="$WORK/$name.yaml"
  log="$WORK/$name.log"
  if ! "$HELM" lint --strict "$CHART" -f "$values" --kube-version "$KUBE_VERSION" >"$log" 2>&1; then
    report FAIL "lint $name" "helm lint --strict failed" "$log"; continue
  fi
  if ! render -f "$values" >"$out" 2>"$log"; then
    report FAIL "render $name" "helm template failed" "$log"; continue
  fi
  # Every validator runs even when an earlier one refuses, so one run shows every problem.
  problems=()
  "$KUBECONFORM" -strict -summary -schema-location "$SCHEMAS" -kubernetes-version "$KUBE_VERSION" "$out" >"$log" 2>&1 ||
    problems+=("objects refused by the schemas")
  kubeconform_summary="$(sed -n 's/^Summary: \([0-9]*\) resources.*Valid: \([0-9]*\).*/\2\/\1 objects valid/p' "$log")"
  admission create "$out" >>"$log" 2>&1 || problems+=("refused by Knative's admission")
  knative_summary="$(sed -n 's/^knative-admission: \([0-9]*\) Knative object(s) created, 0 refused.*/\1 Knative object(s) admitted/p' "$log")"
  "$NODE" tests/chart/check-rendered.ts "$name" <"$out" >>"$log" 2>&1 || problems+=("chart rules broken")
  "$NODE" tests/chart/check-monitoring.ts "$values" <"$out" >>"$log" 2>&1 || problems+=("monitoring objects differ from chart/files")
  score_flags=("${KUBE_SCORE_FLAGS[@]}")
  # Pods without a NetworkPolicy are the chart's default (networkPolicy.enabled is the operator's choice).
  grep -q '^kind: NetworkPolicy$' "$out" || score_flags+=(--ignore-test pod-networkpolicy)
  "$KUBE_SCORE" score "${score_flags[@]}" "$out" >"$WORK/$name.kube-score" 2>&1 || problems+=("kube-score critical")
  grep -v '^\[OK\]\|^\[SKIPPED\]' "$WORK/$name.kube-score" | sed 's/^/kube-score: /' >>"$log" || true
  score_warnings="$(grep -c '^\[WARNING\]' "$WORK/$name.kube-score" || true)"
  if [[ ${#problems[@]} -gt 0 ]]; then
    joined="$(printf '%s, ' "${problems[@]}")"
    report FAIL "$name" "${joined%, }" "$log"; continue
  fi
  report ok "$name" "lint --strict, kubeconform -strict $kubeconform_summary, $knative_summary, chart rules clean, monitoring = chart/files, kube-score 0 critical ($score_warnings warnings)"
done

# 2. Upgrades as Helm 4 runs them: server-side apply of the new rendering onto the stored previous one (Knative's
# container and traffic lists are atomic, so the new list replaces the old whole), then Knative's webhooks on update.
# Knative refuses a changed template under an unchanged revision name, defaults included.
upgrade() { # LABEL PREVIOUS NEXT [ADMISSION FLAGS...]: NEXT is admitted as an update of PREVIOUS
  local label=$1 previous=$2 next=$3 log
  shift 3
  log="$WORK/upgrade-$(echo "$label" | tr -c 'a-zA-Z0-9' '-').log"
  if admission "$@" update "$WORK/$previous.yaml" "$WORK/$next.yaml" >"$log" 2>&1; then
    report ok "upgrade: $label" "$previous -> $next, revision $(revision_name "$WORK/$previous.yaml" | sed 's/.*-m//') -> $(revision_name "$WORK/$next.yaml" | sed 's/.*-m//')"
  else
    report FAIL "upgrade: $label" "$previous -> $next refused" "$log"
  fi
}
refused_upgrade() { # LABEL PREVIOUS NEXT EXPECTED [ADMISSION FLAGS...]: refused, with EXPECTED in Knative's answer
  local label=$1 previous=$2 next=$3 expected=$4 log
  shift 4
  log="$WORK/upgrade-$(echo "$label" | tr -c 'a-zA-Z0-9' '-').log"
  if admission "$@" update "$WORK/$previous.yaml" "$WORK/$next.yaml" >"$log" 2>&1; then
    report FAIL "refused upgrade: $label" "was admitted" "$log"
  elif grep -qF -- "$expected" "$log"; then
    report ok "refused upgrade: $label" "($expected)"
  else
    report FAIL "refused upgrade: $label" "refused, but without \"$expected\"" "$log"
  fi
}
base_revision="$(revision_name "$WORK/default.yaml")"
render_as() { local name=$1; shift; render "$@" >"$WORK/$name.yaml"; }
render_as v110-canary --set model.version=1.1.0 --set rollout.canaryPercent=20 --set rollout.stableRevision="$base_revision"
render_as v110-promoted --set model.version=1.1.0 --set rollout.canaryPercent=100
render_as v110-aborted --set model.version=1.1.0 --set rollout.canaryPercent=0 --set rollout.stableRevision="$base_revision"
render_as v110-pinned-back --set model.version=1.1.0 --set rollout.canaryPercent=0 --set rollout.stableRevision="$base_revision"
upgrade "re-run of the same release" default default
upgrade "canary: 1.1.0 takes 20%" default v110-canary
upgrade "promote: canaryPercent=100" v110-canary v110-promoted
upgrade "abort: canaryPercent=0" v110-canary v110-aborted
upgrade "roll back: pin 1.0.0's revision" v110-promoted v110-pinned-back
upgrade "helm rollback to the 1.0.0 release" v110-promoted default
upgrade "custom values re-applied" custom custom
upgrade "same, secure-pod-defaults enabled" custom custom --config config-features.secure-pod-defaults=enabled
# The model catches the refusal the rendered successThreshold prevents: drop it and the same upgrade is refused.
refused_upgrade "promote without successThreshold" v110-canary v110-promoted "Saw the following changes without a name change" \
  --json-patch '[{"op": "remove", "path": "/spec/template/spec/containers/0/readinessProbe/successThreshold"}]'
# A cluster default the chart cannot render (config-defaults revision-cpu-limit: the chart sets no CPU limit on
# purpose) has the same effect on a same-name upgrade; chart/README.md says so.
refused_upgrade "re-run with a cluster CPU-limit default" default default "Saw the following changes without a name change" \
  --config config-defaults.revision-cpu-limit=1

# 3. Renders broken on purpose (RFC 6902 patches of the default rendering): Knative's own code refuses each.
broken() { # LABEL EXPECTED JSON_PATCH [ADMISSION FLAGS...]
  local label=$1 expected=$2 patch=$3 log
  shift 3
  log="$WORK/broken-$(echo "$label" | tr -c 'a-zA-Z0-9' '-').log"
  if admission --json-patch "$patch" "$@" create "$WORK/default.yaml" >"$log" 2>&1; then
    report FAIL "refuses $label" "was admitted" "$log"
  elif grep -qF -- "$expected" "$log"; then
    report ok "refuses $label" "($expected)"
  else
    report FAIL "refuses $label" "refused, but without \"$expected\"" "$log"
  fi
}
container=/spec/template/spec/containers/0
broken "a second container port" "more than one container port is set" \
  '[{"op": "add", "path": "'$container'/ports/-", "value": {"name": "h2c", "containerPort": 8081}}]'
broken "env PORT" '"PORT" is a reserved environment variable' \
  '[{"op": "add", "path": "'$container'/env/-", "value": {"name": "PORT", "value": "9000"}}]'
lifecycle='[{"op": "add", "path": "'$container'/lifecycle", "value": {"preStop": {"exec": {"command": ["sleep", "5"]}}}}]'
# Knative's CRD schema has no lifecycle field, so the API server refuses it before the webhook sees it ...
broken "a lifecycle hook (API server)" "lifecycle: field not declared in schema" "$lifecycle"
# ... and the webhook refuses it too when handed the object as is.
broken "a lifecycle hook (webhook)" "must not set the field(s): spec.template.spec.containers[0].lifecycle" "$lifecycle" --webhook-only
for port in 8012 8013 8022 9090 9091; do
  broken "containerPort $port (queue-proxy's)" "$port is a reserved port" \
    '[{"op": "replace", "path": "'$container'/ports/0/containerPort", "value": '$port'}]'
done
broken "traffic summing to 110%" "Traffic targets sum to 110, want 100" \
  '[{"op": "add", "path": "/spec/traffic/-", "value": {"revisionName": "'"$base_revision"'", "percent": 10}}]'

# 4. Values that must be refused, with the text that proves it was refused for the right reason.
refuse() {
  local label=$1 expected=$2 log
  shift 2
  log="$WORK/refuse-$(echo "$label" | tr -c 'a-zA-Z0-9' '-').log"
  if render "$@" >"$log" 2>&1; then
    report FAIL "refuses $label" "was accepted" "$log"
  elif grep -qF -- "$expected" "$log"; then
    report ok "refuses $label" "($expected)"
  else
    report FAIL "refuses $label" "failed, but without \"$expected\"" "$log"
  fi
}
refuse "model.version=production" "/model/version" --set model.version=production
refuse "model.version=staging" "/model/version" --set model.version=staging
refuse "model.version=1.0 (not semver)" "/model/version" --set-string model.version=1.0
refuse "an unknown top-level key" "additional properties 'replicas' not allowed" --set replicas=3
refuse "an unknown nested key" "additional properties 'minscale' not allowed" --set knative.autoscaling.minscale=1
refuse "rollout.canaryPercent=101" "/rollout/canaryPercent" --set rollout.canaryPercent=101
refuse "knative.autoscaling.minScale as a string" "/knative/autoscaling/minScale" --set-string knative.autoscaling.minScale=1
refuse "extraEnv PORT (reserved by Knative)" "/server/extraEnv/0/name" \
  --set server.extraEnv[0].name=PORT --set-string server.extraEnv[0].value=9000
refuse "server.port=9090 (queue-proxy's)" "/server/port" --set server.port=9090
refuse "an upper-case image repository" "/image/repository" --set image.repository=ghcr.io/OWNER/telco-churn-serving
refuse "a malformed model.digest" "/model/digest" --set model.digest=sha256:abc
refuse "maxScale below minScale" "is below minScale" --set knative.autoscaling.minScale=5 --set knative.autoscaling.maxScale=2
refuse "a stableRevision of another service" "is not a revision of" --set rollout.stableRevision=other-m1-0-0-aaaaaaaa
refuse "server.accessLog=0 (log errors with 'errors')" "/server/accessLog" --set server.accessLog=0
refuse "server.accessLog=sometimes" "/server/accessLog" --set server.accessLog=sometimes
refuse "drainTimeoutMs beyond the grace period" "terminationGracePeriodSeconds" --set server.drainTimeoutMs=40000
refuse "extraEnv NODE_OPTIONS (the chart derives it)" "/server/extraEnv/0/name" \
  --set server.extraEnv[0].name=NODE_OPTIONS --set-string server.extraEnv[0].value=--max-old-space-size=4096
refuse "a memory limit in bytes (Mi or Gi only)" "/resources/limits/memory" --set-string resources.limits.memory=268435456
refuse "a dashboard sidecar label the chart sets" "/metrics/grafanaDashboard/sidecarLabel" \
  --set metrics.grafanaDashboard.sidecarLabel=app.kubernetes.io/name
refuse "an alert label the rules group by" "invalid propertyName 'version'" --set metrics.prometheusRule.alertLabels.version=x

# The V8 heap cap follows the memory limit: half of it.
heap_of() { render "$@" | grep -A1 'name: NODE_OPTIONS' | sed -n 's/.*value: "\(.*\)"/\1/p' | head -n 1; }
heap_default="$(heap_of)"
heap_gi="$(heap_of --set resources.limits.memory=1Gi)"
if [[ "$heap_default" == --max-old-space-size=128 && "$heap_gi" == --max-old-space-size=512 ]]; then
  report ok "heap cap is half the memory limit" "256Mi: $heap_default, 1Gi: $heap_gi"
else
  report FAIL "heap cap is half the memory limit" "256Mi: '$heap_default', 1Gi: '$heap_gi'"
fi
# The initial old space follows it: 3/8 of the cap, passed before the image's entry file.
initial_of() { render "$@" | grep -A2 '^ *args:$' | sed -n 's/^ *- "\(--initial-old-space-size=[0-9]*\)"$/\1/p' | head -n 1; }
initial_default="$(initial_of)"
initial_gi="$(initial_of --set resources.limits.memory=1Gi)"
main_arg="$(render | grep -A1 -e '- "--initial-old-space-size=' | sed -n '2p' | tr -d ' ')"
if [[ "$initial_default" == --initial-old-space-size=48 && "$initial_gi" == --initial-old-space-size=192 && "$main_arg" == -dist/main.cjs ]]; then
  report ok "initial old space is 3/8 of the heap cap" "256Mi: $initial_default, 1Gi: $initial_gi, then dist/main.cjs"
else
  report FAIL "initial old space is 3/8 of the heap cap" "256Mi: '$initial_default', 1Gi: '$initial_gi', entry '$main_arg'"
fi
refuse "an unpinned oci:// registry" "is remote: pin the version" --set model.registry=oci://ghcr.io/owner/models
refuse "an unpinned https:// registry" "is remote: pin the version" --set model.registry=https://models.example.com/registry
refuse "model.ociDigest with the baked registry" "apply to an oci:// model.registry only" \
  --set model.ociDigest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
refuse "credentials in an oci:// URL" "/model/registry" --set model.registry=oci://user:token@ghcr.io/owner/models \
  --set model.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
refuse "an upper-case oci:// repository path" "/model/registry" --set model.registry=oci://ghcr.io/OWNER/models \
  --set model.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

# 5. Revision names: a pure function of the rendered template.
revision_of() { local file="$WORK/rev-$1.yaml"; shift; render "$@" >"$file"; revision_name "$file"; }
base="$(revision_of base)"
again="$(revision_of again)"
cpu="$(revision_of cpu --set resources.requests.cpu=300m)"
traffic="$(revision_of traffic --set rollout.canaryPercent=20 --set rollout.stableRevision="$base")"
version="$(revision_of version --set model.version=1.1.0)"
long="$(revision_of long --set fullnameOverride=a-very-long-release-name-for-the-churn-prediction-api --set model.version=10.20.30-rc.1+build.7)"
check_revision() {
  if [[ "$2" == ok ]]; then report ok "revision name $1" "$3"; else report FAIL "revision name $1" "$3"; fi
}
[[ -n "$base" && "$base" == "$again" ]] && r=ok || r=FAIL
check_revision "is reproducible" "$r" "$base twice"
[[ "$cpu" != "$base" && "$cpu" == "$RELEASE-m1-0-0-"* ]] && r=ok || r=FAIL
check_revision "changes with the template" "$r" "resources.requests.cpu=300m: $cpu"
[[ "$traffic" == "$base" ]] && r=ok || r=FAIL
check_revision "ignores traffic" "$r" "canaryPercent=20 keeps $traffic"
[[ "$version" == "$RELEASE-m1-1-0-"* ]] && r=ok || r=FAIL
check_revision "follows the model version" "$r" "model.version=1.1.0: $version"
[[ ${#long} -le 63 && "$long" == a-very-long-release-name-for-the-churn-prediction-api-* ]] && r=ok || r=FAIL
check_revision "fits 63 characters" "$r" "${#long} chars: $long"

# 6. Traffic resolution with `lookup`: a stand-in API server answers for live Services in three namespaces.
candidate="$(revision_of candidate --set model.version=1.1.0)"
live_service() { # NAMESPACE TRAFFIC_JSON LATEST_READY
  cat <<JSON
{"apiVersion": "serving.knative.dev/v1", "kind": "Service",
 "metadata": {"name": "$RELEASE", "namespace": "$1", "labels": {"app.kubernetes.io/managed-by": "Helm"},
              "annotations": {"meta.helm.sh/release-name": "$RELEASE", "meta.helm.sh/release-namespace": "$1"}},
 "spec": {"traffic": $2}, "status": {"latestReadyRevisionName": "$3"}}
JSON
}
old_stable="$RELEASE-m0-9-0-aaaaaaaa"
{
  echo "["
  # live-serving: a plain install of 1.0.0 serving 100% on its latest revision.
  live_service live-serving '[{"latestRevision": true, "tag": "candidate", "percent": 100}]' "$base"
  echo ","
  # live-canary: 1.1.0 is a 20% canary next to the stable revision of an older release.
  live_service live-canary "[{\"revisionName\": \"$old_stable\", \"tag\": \"stable\", \"percent\": 80},
    {\"latestRevision\": true, \"tag\": \"candidate\", \"percent\": 20}]" "$candidate"
  echo "]"
} >"$WORK/live-services.json"
"$NODE" tests/chart/fake-apiserver.ts "$WORK/live-services.json" >"$WORK/apiserver.url" 2>"$WORK/apiserver.log" &
apiserver_pid=$!
trap 'kill "$apiserver_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do [[ -s "$WORK/apiserver.url" ]] && break; sleep 0.1; done
cat >"$WORK/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: stand-in, cluster: {server: "$(cat "$WORK/apiserver.url")"}}]
users: [{name: stand-in, user: {}}]
contexts: [{name: stand-in, context: {cluster: stand-in, user: stand-in}}]
current-context: stand-in
YAML

# Prints the rendered traffic as "tag=revision:percent ...", with "latest" for latestRevision: true.
traffic_of() {
  awk '/^  traffic:$/ { t = 1; next } t && /^    - / { if (tag != "") printf "%s=%s:%s ", tag, rev, pct; tag = rev = pct = "" }
       t && /revisionName:/ { rev = $NF } t && /latestRevision: true/ { rev = "latest" }
       t && /tag:/ { tag = $NF } t && /percent:/ { pct = $NF }
       t && /^---/ { t = 0 } END { if (tag != "") printf "%s=%s:%s", tag, rev, pct }' "$1" | sed 's/ $//'
}
lookup_case() { # LABEL NAMESPACE EXPECTED HELM_ARGS...
  local label=$1 namespace=$2 expected=$3 out actual
  out="$WORK/lookup-$namespace-$(echo "$label" | tr -c 'a-zA-Z0-9' '-').yaml"
  shift 3
  if ! "$HELM" template "$RELEASE" "$CHART" --namespace "$namespace" --dry-run=server --disable-openapi-validation \
    --kubeconfig "$WORK/kubeconfig" "$@" >"$out" 2>&1; then
    report FAIL "lookup: $label" "helm template --dry-run=server failed" "$out"; return
  fi
  actual="$(traffic_of "$out")"
  if [[ "$actual" == "$expected" ]]; then report ok "lookup: $label" "$actual"; else report FAIL "lookup: $label" "got $actual, want $expected" "$out"; fi
}
lookup_case "first install degrades a canary" first-install "candidate=latest:100" --set rollout.canaryPercent=20
lookup_case "new version: serving revision -> stable" live-serving "stable=$base:80 candidate=latest:20" \
  --set model.version=1.1.0 --set rollout.canaryPercent=20
lookup_case "unchanged template: no self-canary" live-serving "candidate=latest:100" --set rollout.canaryPercent=20
lookup_case "canary in progress keeps its stable" live-canary "stable=$old_stable:50 candidate=latest:50" \
  --set model.version=1.1.0 --set rollout.canaryPercent=50
lookup_case "promote (canaryPercent=100)" live-canary "candidate=latest:100" \
  --set model.version=1.1.0 --set rollout.canaryPercent=100
lookup_case "abort (canaryPercent=0)" live-canary "stable=$old_stable:100 candidate=latest:0" \
  --set model.version=1.1.0 --set rollout.canaryPercent=0
lookup_case "explicit stableRevision wins" live-canary "stable=$RELEASE-m0-8-0-bbbbbbbb:90 candidate=latest:10" \
  --set model.version=1.1.0 --set rollout.canaryPercent=10 --set rollout.stableRevision="$RELEASE-m0-8-0-bbbbbbbb"

echo "chart-check: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
