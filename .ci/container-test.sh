#!/usr/bin/env bash
# Builds the real Dockerfile and proves the image works the way production runs it: read-only root
# filesystem, no capabilities, host network on loopback, non-root user, /predict and /health answer,
# SIGTERM stops it cleanly (exit 0). Prints the image size and what it adds on top of its base.
# Then the same image pulls its model at cold start from a real OCI registry (CNCF Distribution on 127.0.0.1, the
# version pushed by .ci/push-model.sh as CI pushes it): a version the image does not hold, pinned by both digests, is
# served; the same registry without a pin is refused (exit 1).
#
# No registry is reachable here, so the base images are local stand-ins under their real names
# (.ci/base-images.sh) and the build uses a copy of the Dockerfile with the @sha256 pins dropped;
# the Dockerfile itself is unchanged. Usable by a developer as is; CI runs it from .ci/run.
# Env: IMAGE (default telco-churn-serving:ci), PORT (default 18080), OCI_PORT (default 15055, the registry's).
set -euo pipefail

cd "$(dirname "$0")/.."
DOCKER=/usr/bin/docker
IMAGE="${IMAGE:-telco-churn-serving:ci}"
PORT="${PORT:-18080}"
OCI_PORT="${OCI_PORT:-15055}"
NAME="churn-container-test-$$"
RUNTIME_BASE="gcr.io/distroless/nodejs24-debian12:nonroot"
work=$(mktemp -d "${TMPDIR:-/tmp}/container-test.XXXXXX")
registry_pid=""

log() { printf '[container-test] %s\n' "$*"; }
fail() { log "FAIL: $*"; "$DOCKER" logs "$NAME" 2>&1 | tail -20 || true; exit 1; }
cleanup() {
  "$DOCKER" rm -f "$NAME" >/dev/null 2>&1 || true
  if [[ -n "$registry_pid" ]]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
# Polls /ready for up to 10 s; fails if it never answers 200.
wait_ready() {
  for _ in $(seq 1 200); do
    if curl -fsS "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  return 1
}

bash .ci/docker-engine.sh >/dev/null
bash .ci/base-images.sh >/dev/null

sed -E 's/@sha256:[0-9a-f]{64}//' Dockerfile > "$work/Dockerfile"
log "building $IMAGE"
DOCKER_BUILDKIT=1 "$DOCKER" build --network host --quiet -f "$work/Dockerfile" \
  --build-arg VERSION="$(node -p "require('./package.json').version")" \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --build-arg SOURCE="https://github.com/owner/telco-churn-serving" \
  -t "$IMAGE" . >/dev/null

size=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
base=$("$DOCKER" image inspect -f '{{.Size}}' "$RUNTIME_BASE")
log "image $IMAGE: $((size / 1024 / 1024)) MiB, $(((size - base) / 1024)) KiB on top of $RUNTIME_BASE ($((base / 1024 / 1024)) MiB)"

user=$("$DOCKER" image inspect -f '{{.Config.User}}' "$IMAGE")
[[ "$user" == "65532:65532" ]] || fail "image user is '$user', expected 65532:65532"
for label in source revision version; do
  value=$("$DOCKER" image inspect -f "{{index .Config.Labels \"org.opencontainers.image.$label\"}}" "$IMAGE")
  [[ -n "$value" ]] || fail "OCI label org.opencontainers.image.$label is missing"
done

started=$(date +%s%N)
"$DOCKER" run -d --name "$NAME" --network host --read-only --cap-drop ALL \
  --security-opt no-new-privileges -e PORT="$PORT" -e HOST=127.0.0.1 "$IMAGE" >/dev/null

wait_ready || fail "/ready did not answer 200"

body='{"instances":[{"female":1,"senior_citizen":0,"partner":1,"dependents":0,"tenure":1,"phone_service":0,"multiple_lines":"No phone service","internet_service":"DSL","online_security":"No","online_backup":"Yes","device_protection":"No","tech_support":"No","streaming_tv":"No","streaming_movies":"No","contract":"Month-to-month","paperless_billing":1,"payment_method":"Electronic check","monthly_charges":29.85,"total_charges":29.85}]}'
answer=$(curl -fsS "http://127.0.0.1:$PORT/predict" -H 'content-type: application/json' -d "$body") || fail "/predict failed"
log "cold start (docker run to first /predict): $((($(date +%s%N) - started) / 1000000)) ms"
node -e 'const a = JSON.parse(process.argv[1]); if (a.predictions.length !== 1 || typeof a.predictions[0].probability !== "number") process.exit(1)' "$answer" \
  || fail "unexpected /predict answer: $answer"
log "/predict: $answer"

health=$(curl -fsS "http://127.0.0.1:$PORT/health") || fail "/health failed"
# shellcheck disable=SC2016 # a JavaScript template literal, not a shell expansion
node -e 'const h = JSON.parse(process.argv[1]); if (h.status !== "ok") process.exit(1); console.log(`[container-test] /health: ok, model ${h.model.version}, ready after ${Math.round(h.coldStart.readySeconds * 1000)} ms, RSS ${(h.process.rssBytes / 1048576).toFixed(0)} MiB`)' "$health" \
  || fail "unexpected /health answer: $health"

pid=$("$DOCKER" inspect -f '{{.State.Pid}}' "$NAME")
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
[[ "$uid" != "0" ]] || fail "the server runs as root"
log "server process runs as uid $uid, root filesystem read-only"

log "SIGTERM"
"$DOCKER" stop --time 15 "$NAME" >/dev/null
code=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$NAME")
[[ "$code" == "0" ]] || fail "exit code $code after SIGTERM"
"$DOCKER" logs "$NAME" 2>&1 | grep -q '"msg":"stopped"' || fail "no 'stopped' log line after SIGTERM"
log "stopped cleanly (exit 0)"
"$DOCKER" rm "$NAME" >/dev/null

# The same image, its model pulled at cold start from a real OCI registry.
bash .ci/oci-tools.sh >/dev/null
eval "$(bash .ci/oci-tools.sh --print-env)"
cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$OCI_PORT
YAML
"$OCI_REGISTRY_BIN" serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$OCI_PORT/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$OCI_PORT/v2/" >/dev/null || fail "the OCI registry did not start: $(cat "$work/registry.log")"
read -r version digest < <(node_modules/.bin/node tests/absent-version.ts "$work/models")
"$DOCKER" run --rm --network host --entrypoint /nodejs/bin/node "$IMAGE" \
  -e "process.exit(require('fs').existsSync('/app/model-registry/telco-churn/$version') ? 1 : 0)" ||
  fail "the image already holds telco-churn $version"
oci_digest=$(ORAS="$ORAS_BIN" MODEL_NAME=telco-churn MODEL_VERSION="$version" MODEL_DIGEST="$digest" \
  bash .ci/push-model.sh "$work/models/telco-churn/$version" "127.0.0.1:$OCI_PORT/models/telco-churn:$version" --plain-http 2>/dev/null |
  sed -n 's/^oci-digest=//p')
log "pushed telco-churn $version (not in the image) to oci://127.0.0.1:$OCI_PORT/models with oras: $oci_digest"

oci_env=(-e MODEL_REGISTRY="oci://127.0.0.1:$OCI_PORT/models" -e MODEL_REGISTRY_PLAIN_HTTP=true)
if "$DOCKER" run --rm --network host --read-only --cap-drop ALL --security-opt no-new-privileges \
  -e PORT="$PORT" -e HOST=127.0.0.1 "${oci_env[@]}" -e MODEL_VERSION="$version" "$IMAGE" >"$work/unpinned.log" 2>&1; then
  fail "the server started from an unpinned OCI registry"
fi
grep -q 'nothing pins what it serves' "$work/unpinned.log" || fail "unexpected refusal: $(cat "$work/unpinned.log")"
log "unpinned: refused at start (exit 1)"

started=$(date +%s%N)
"$DOCKER" run -d --name "$NAME" --network host --read-only --cap-drop ALL --security-opt no-new-privileges \
  -e PORT="$PORT" -e HOST=127.0.0.1 "${oci_env[@]}" -e MODEL_VERSION="$version@$oci_digest" -e MODEL_DIGEST="$digest" \
  "$IMAGE" >/dev/null
wait_ready || fail "/ready did not answer 200 with the model from the OCI registry"
answer=$(curl -fsS "http://127.0.0.1:$PORT/predict" -H 'content-type: application/json' -d "$body") || fail "/predict failed"
log "cold start from the OCI registry (docker run to first /predict): $((($(date +%s%N) - started) / 1000000)) ms"
served=$(node -p 'JSON.parse(process.argv[1]).model.version' "$answer")
[[ "$served" == "$version" ]] || fail "served version $served, expected $version: $answer"
health=$(curl -fsS "http://127.0.0.1:$PORT/health") || fail "/health failed"
# shellcheck disable=SC2016 # a JavaScript template literal, not a shell expansion
node -e 'const m = JSON.parse(process.argv[1]).model; const ms = (s) => (s * 1000).toFixed(1); console.log(`[container-test] /health: model ${m.version} from ${m.source}; load phases ms: ${Object.entries(m.loadPhases).map(([p, s]) => `${p} ${ms(s)}`).join(", ")}`)' "$health"
"$DOCKER" stop --time 15 "$NAME" >/dev/null
code=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$NAME")
[[ "$code" == "0" ]] || fail "exit code $code after SIGTERM (OCI registry)"
log "served telco-churn $version from the OCI registry, pinned and verified; stopped cleanly (exit 0)"
log "PASS"
