#!/usr/bin/env bash
# Installs the real OCI parts the registry tests and the container test run against, from the Go module proxy
# and Debian only (no release downloads):
#   registry   CNCF Distribution, the reference OCI registry (github.com/distribution/distribution/v3/cmd/registry)
#   oras       the ORAS CLI the CI publish job pushes models with (oras.land/oras/cmd/oras)
#   htpasswd   Debian's apache2-utils, to write the bcrypt htpasswd entry of the basic-auth test
#   jq         reads the published manifest in .ci/push-model.sh (as in the CI publish job)
# Idempotent: a binary already built from the pinned module version is skipped, as in .ci/tools.sh.
# Usage: bash .ci/oci-tools.sh              install what is missing
#        bash .ci/oci-tools.sh --print-env  print the binaries' paths as shell assignments
set -euo pipefail

DISTRIBUTION_VERSION=v3.1.2
ORAS_VERSION=v1.3.6

command -v go >/dev/null || { echo "oci-tools.sh: Go is required (the tools are built from the Go module proxy)" >&2; exit 1; }

if [[ -z "${TOOLS_BIN:-}" ]]; then
  if [[ -w /usr/local/bin ]]; then TOOLS_BIN=/usr/local/bin; else TOOLS_BIN="$(go env GOPATH)/bin"; fi
fi

if [[ "${1:-}" == "--print-env" ]]; then
  cat <<EOF
OCI_REGISTRY_BIN=$TOOLS_BIN/registry
ORAS_BIN=$TOOLS_BIN/oras
HTPASSWD_BIN=$(command -v htpasswd || echo /usr/bin/htpasswd)
EOF
  exit 0
fi

# Prints the main module version a Go binary was built from, or nothing.
built_version() {
  [[ -x "$1" ]] && go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'
}

# install_tool NAME PACKAGE VERSION
install_tool() {
  local name=$1 package=$2 version=$3 started=$SECONDS
  if [[ "$(built_version "$TOOLS_BIN/$name")" == "$version" ]]; then
    echo "oci-tools: $name $version already installed in $TOOLS_BIN"
    return
  fi
  echo "oci-tools: building $name $version into $TOOLS_BIN"
  mkdir -p "$TOOLS_BIN"
  GOBIN="$TOOLS_BIN" CGO_ENABLED=0 go install -trimpath "$package@$version"
  echo "oci-tools: $name built in $((SECONDS - started)) s"
}

install_tool registry github.com/distribution/distribution/v3/cmd/registry "$DISTRIBUTION_VERSION"
install_tool oras oras.land/oras/cmd/oras "$ORAS_VERSION"

packages=()
command -v htpasswd >/dev/null || packages+=(apache2-utils)
command -v jq >/dev/null || packages+=(jq)
if [[ ${#packages[@]} -gt 0 ]]; then
  echo "oci-tools: installing ${packages[*]} (apt)"
  sudo=()
  if [[ $EUID -ne 0 ]]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
