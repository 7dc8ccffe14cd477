#!/usr/bin/env bash
# Pushes one model version to an OCI registry with oras: one layer per file, the file name in its title annotation,
# artifact type application/vnd.telco-churn.model.v1, and the model's name, version and digest in the manifest's
# annotations. This is the layout the server's oci:// source and `npm run registry -- pull` read; the CI publish job
# and the registry tests both push through this script, so what CI publishes is what the tests prove servable.
#
# Usage: bash .ci/push-model.sh VERSION_DIR REFERENCE [ORAS_FLAG...]
#   VERSION_DIR  a version folder, e.g. model-registry/telco-churn/1.1.0
#   REFERENCE    host[:port]/path/<model>:<tag>, e.g. ghcr.io/owner/models/telco-churn:1.1.0
#   ORAS_FLAG    passed to every oras call, e.g. --plain-http for a local registry
# Env: MODEL_NAME, MODEL_VERSION, MODEL_DIGEST (required: the version's name, version and sha256 of manifest.json);
#      REVISION, SOURCE (optional provenance annotations); ORAS (default: oras on PATH).
# A version is never republished: an existing tag with the same model digest is left alone, with another one the
# push fails. Prints "pushed=true|false", "ref=..." and "oci-digest=sha256:..." on stdout (for $GITHUB_OUTPUT);
# oras' own output goes to stderr.
set -euo pipefail

[[ $# -ge 2 ]] || { echo "usage: $0 VERSION_DIR REFERENCE [ORAS_FLAG...]" >&2; exit 2; }
dir=$1 ref=$2
shift 2
ORAS="${ORAS:-oras}"
: "${MODEL_NAME:?MODEL_NAME is required}" "${MODEL_VERSION:?MODEL_VERSION is required}" "${MODEL_DIGEST:?MODEL_DIGEST is required}"

cd "$dir"
# A version's digest is the sha256 of its manifest.json, which pins every other file.
local_digest="sha256:$(sha256sum manifest.json | cut -d ' ' -f 1)"
if [[ "$local_digest" != "$MODEL_DIGEST" ]]; then
  echo "push-model: $dir/manifest.json is $local_digest, expected $MODEL_DIGEST" >&2
  exit 1
fi

manifest="$(mktemp)"
trap 'rm -f "$manifest"' EXIT
if "$ORAS" manifest fetch "$@" --output "$manifest" "$ref" 2>/dev/null; then
  published="$(jq -r '.annotations["vnd.telco-churn.model.digest"] // ""' "$manifest")"
  if [[ "$published" != "$MODEL_DIGEST" ]]; then
    echo "push-model: $ref exists with model digest '$published', not $MODEL_DIGEST: a version is never republished" >&2
    exit 1
  fi
  echo "push-model: $ref is already published with the same digest; not pushing" >&2
  echo "pushed=false"
else
  files=()
  for file in *; do
    case "$file" in
      manifest.json) media_type=application/vnd.telco-churn.model.manifest.v1+json ;;
      *.json) media_type=application/json ;;
      *.md) media_type=text/markdown ;;
      *.svg) media_type=image/svg+xml ;;
      *) media_type=application/octet-stream ;;
    esac
    files+=("$file:$media_type")
  done
  annotations=(
    --annotation "org.opencontainers.image.title=$MODEL_NAME"
    --annotation "org.opencontainers.image.version=$MODEL_VERSION"
    --annotation "vnd.telco-churn.model.name=$MODEL_NAME"
    --annotation "vnd.telco-churn.model.digest=$MODEL_DIGEST"
  )
  if [[ -n "${REVISION:-}" ]]; then annotations+=(--annotation "org.opencontainers.image.revision=$REVISION"); fi
  if [[ -n "${SOURCE:-}" ]]; then annotations+=(--annotation "org.opencontainers.image.source=$SOURCE"); fi
  "$ORAS" push "$@" "$ref" "${files[@]}" --artifact-type application/vnd.telco-churn.model.v1 \
    "${annotations[@]}" --export-manifest "$manifest" >&2
  echo "pushed=true"
fi
echo "ref=$ref"
echo "oci-digest=sha256:$(sha256sum "$manifest" | cut -d ' ' -f 1)"
