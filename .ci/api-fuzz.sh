#!/usr/bin/env bash
# Fuzzes the running API with Schemathesis from its own /openapi.json: every check (no 5xx, status codes,
# content types, headers and bodies conform to the document, negative data rejected, positive data
# accepted, unsupported methods answered 405 with Allow), positive and negative data, bounded by
# FUZZ_SECONDS (default 60). Then checks the server's own log: no 5xx other than 503, no unhandled error.
# Installs Schemathesis into .tmp/venv-api-fuzz (tests/api-fuzz/requirements.txt) and builds dist/ first.
# Usage: bash .ci/api-fuzz.sh          (needs npm ci and Python >= 3.10 with venv)
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
VENV=.tmp/venv-api-fuzz
WORK=.tmp/api-fuzz
NODE=node_modules/.bin/node
[[ -x "$NODE" ]] || { echo "api-fuzz: $NODE is missing: run npm ci" >&2; exit 1; }

stamp="$(sha256sum tests/api-fuzz/requirements.txt | cut -d ' ' -f 1)"
if [[ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$stamp" ]]; then
  echo "api-fuzz: installing Schemathesis into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input -r tests/api-fuzz/requirements.txt
  echo "$stamp" >"$VENV/.requirements.sha256"
fi

rm -rf "$WORK"
mkdir -p "$WORK"
"$NODE" build.ts >/dev/null
PORT=0 HOST=127.0.0.1 "$NODE" --max-semi-space-size=8 dist/main.cjs >"$WORK/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 100); do
  port="$(sed -n 's/.*"msg":"ready".*"port":\([0-9]*\).*/\1/p' "$WORK/server.log" | head -n 1)"
  [[ -n "$port" ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$port" ]] || { echo "api-fuzz: the server did not get ready" >&2; cat "$WORK/server.log" >&2; exit 1; }

status=0
(cd "$WORK" && "../../$VENV/bin/schemathesis" --config-file ../../tests/api-fuzz/schemathesis.toml run \
  "http://127.0.0.1:$port/openapi.json" --checks all --mode all --max-time "$FUZZ_SECONDS" \
  --no-color --generation-database none --report junit --report-dir .) || status=$?

kill "$server"
wait "$server" 2>/dev/null || true
trap - EXIT
errors="$(grep -cE '"status":5(0[0-2]|0[4-9]|[1-9][0-9])' "$WORK/server.log" || true)"
unhandled="$(grep -c '"unhandled error"' "$WORK/server.log" || true)"
requests="$(grep -c '"msg":"request"' "$WORK/server.log" || true)"
echo "api-fuzz: the server logged $requests requests, $errors answered 5xx (other than 503), $unhandled unhandled errors"
if [[ "$status" -ne 0 || "$errors" -ne 0 || "$unhandled" -ne 0 ]]; then
  echo "api-fuzz: FAILED (schemathesis exit $status; server log in $WORK/server.log)" >&2
  exit 1
fi
echo "api-fuzz: passed"
