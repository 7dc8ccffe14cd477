#!/usr/bin/env bash
# Installs the pinned tools that .ci/chart-check.sh and .ci/pipeline-check.sh need, from the Go module proxy only (no
# release downloads):
#   helm, kubeconform,         built with `go install` into $TOOLS_BIN (default /usr/local/bin, else $(go env GOPATH)/bin);
#   kube-score, actionlint     kube-score lints the manifests (kube-linter's module is refused by the proxy)
#   Kubernetes OpenAPI         k8s.io/kubernetes module: api/openapi-spec/swagger.json
#   Knative Serving CRDs       knative.dev/serving module: config/core/300-resources/*.yaml
#   prometheus-operator CRDs   github.com/prometheus-operator/prometheus-operator module: example/prometheus-operator-crd
#   knative-admission          tests/chart/knative-admission: Knative Serving's own defaulting and validation (and the
#                              API server's server-side apply), built against its go.sum into $TOOLS_BIN; its CRDs
#                              come with its knative.dev/serving module
# Idempotent: a binary already built from the pinned module version (knative-admission: from the same sources, by
# sha256) and a module already in the cache are skipped.
# Usage: bash .ci/tools.sh              install what is missing
#        bash .ci/tools.sh --print-env  print the pins and paths as shell assignments (chart-check.sh evals them)
set -euo pipefail

HELM_VERSION=v4.3.1
KUBECONFORM_VERSION=v0.8.0
KUBE_SCORE_VERSION=v1.20.0
ACTIONLINT_VERSION=v1.7.12
# Kubernetes minor the manifests are validated against; the chart's kubeVersion floor is older on purpose.
KUBERNETES_VERSION=v1.37.2
# knative.dev/serving v0.51.0 is the Go module of a Knative Serving 1.x release (published 2026-10-26).
KNATIVE_SERVING_VERSION=v0.51.0
PROMETHEUS_OPERATOR_VERSION=v0.85.0

ADMISSION_SRC="$(cd "$(dirname "$0")/.." && pwd)/tests/chart/knative-admission"

command -v go >/dev/null || { echo "tools.sh: Go is required (the tools are built from the Go module proxy)" >&2; exit 1; }

if [[ -z "${TOOLS_BIN:-}" ]]; then
  if [[ -w /usr/local/bin ]]; then TOOLS_BIN=/usr/local/bin; else TOOLS_BIN="$(go env GOPATH)/bin"; fi
fi
MODCACHE="$(go env GOMODCACHE)"
K8S_DIR="$MODCACHE/k8s.io/kubernetes@$KUBERNETES_VERSION"
KNATIVE_DIR="$MODCACHE/knative.dev/serving@$KNATIVE_SERVING_VERSION"
PROMETHEUS_DIR="$MODCACHE/github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
# The admission program pins its own knative.dev/serving (v0.42.x: later releases need knative.dev/pkg versions the
# module proxy refuses); the apply schemas are that release's CRDs, so code and schema agree.
ADMISSION_SERVING_VERSION="$(sed -n 's|^[[:space:]]*knative\.dev/serving \(v[^[:space:]]*\).*|\1|p' "$ADMISSION_SRC/go.mod" | head -n 1)"
ADMISSION_SERVING_DIR="$MODCACHE/knative.dev/serving@$ADMISSION_SERVING_VERSION"
# sha256 of everything the admission binary is built from.
ADMISSION_DIGEST="$(cat "$ADMISSION_SRC/go.mod" "$ADMISSION_SRC/go.sum" "$ADMISSION_SRC"/*.go | sha256sum | cut -d ' ' -f 1)"

if [[ "${1:-}" == "--print-env" ]]; then
  cat <<EOF
HELM=$TOOLS_BIN/helm
KUBECONFORM=$TOOLS_BIN/kubeconform
KUBE_SCORE=$TOOLS_BIN/kube-score
ACTIONLINT=$TOOLS_BIN/actionlint
KUBERNETES_VERSION=$KUBERNETES_VERSION
KUBERNETES_SWAGGER=$K8S_DIR/api/openapi-spec/swagger.json
KNATIVE_CRD_DIR=$KNATIVE_DIR/config/core/300-resources
PROMETHEUS_CRD_DIR=$PROMETHEUS_DIR/example/prometheus-operator-crd
KNATIVE_ADMISSION=$TOOLS_BIN/knative-admission
KNATIVE_ADMISSION_DIGEST=$ADMISSION_DIGEST
KNATIVE_ADMISSION_CRD_DIR=$ADMISSION_SERVING_DIR/config/core/300-resources
EOF
  exit 0
fi

# Prints the main module version a Go binary was built from, or nothing.
built_version() {
  [[ -x "$1" ]] && go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'
}

# install_tool NAME PACKAGE VERSION LDFLAGS
install_tool() {
  local name=$1 package=$2 version=$3 ldflags=$4
  if [[ "$(built_version "$TOOLS_BIN/$name")" == "$version" ]]; then
    echo "tools: $name $version already installed in $TOOLS_BIN"
    return
  fi
  echo "tools: building $name $version into $TOOLS_BIN (first build takes a few minutes)"
  mkdir -p "$TOOLS_BIN"
  GOBIN="$TOOLS_BIN" CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags" "$package@$version"
}

# download_module MODULE VERSION DIR
download_module() {
  local module=$1 version=$2 dir=$3
  if [[ -d "$dir" ]]; then
    echo "tools: $module $version already in the module cache"
    return
  fi
  echo "tools: downloading $module $version"
  # From an empty directory, so the download never reads or touches a project's go.mod.
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && go mod download "$module@$version")
  rmdir "$tmp"
}

# install_admission: builds tests/chart/knative-admission unless the installed binary was built from the same sources.
install_admission() {
  local binary="$TOOLS_BIN/knative-admission"
  if [[ -x "$binary" && "$("$binary" --source-digest 2>/dev/null)" == "$ADMISSION_DIGEST" ]]; then
    echo "tools: knative-admission ${ADMISSION_DIGEST:0:12} (knative.dev/serving $ADMISSION_SERVING_VERSION) already built"
    return
  fi
  echo "tools: building knative-admission against knative.dev/serving $ADMISSION_SERVING_VERSION (first build takes a few minutes)"
  mkdir -p "$TOOLS_BIN"
  local started=$SECONDS
  # -mod=readonly: the committed go.sum pins every module; a missing or changed sum fails instead of being added.
  (cd "$ADMISSION_SRC" && CGO_ENABLED=0 go build -mod=readonly -trimpath \
    -ldflags "-X main.sourceDigest=$ADMISSION_DIGEST" -o "$binary" .)
  echo "tools: knative-admission built in $((SECONDS - started)) s"
}

install_tool helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION" "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
install_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION" "-X main.version=$KUBECONFORM_VERSION"
install_tool kube-score github.com/zegl/kube-score/cmd/kube-score "$KUBE_SCORE_VERSION" "-X main.version=$KUBE_SCORE_VERSION"
install_tool actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION" ""
download_module k8s.io/kubernetes "$KUBERNETES_VERSION" "$K8S_DIR"
download_module knative.dev/serving "$KNATIVE_SERVING_VERSION" "$KNATIVE_DIR"
download_module github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION" "$PROMETHEUS_DIR"
install_admission
download_module knative.dev/serving "$ADMISSION_SERVING_VERSION" "$ADMISSION_SERVING_DIR"

case ":$PATH:" in
  *":$TOOLS_BIN:"*) ;;
  *) echo "tools: note: $TOOLS_BIN is not on PATH; .ci/chart-check.sh finds the tools there anyway" ;;
esac
