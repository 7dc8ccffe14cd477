#!/usr/bin/env bash
# Serve the FastAPI benchmark peer on 127.0.0.1:PORT (run setup.sh first).
# exec: the server process keeps this script's PID, so the caller can measure and stop it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
port=${1:-}
[[ "$port" =~ ^[0-9]+$ ]] || { echo "usage: bench/fastapi/run.sh PORT" >&2; exit 2; }
[[ -x "$here/.venv/bin/python" && -f "$here/artifacts/model.joblib" ]] ||
  { echo "bench/fastapi/run.sh: not set up; run bench/fastapi/setup.sh first" >&2; exit 1; }

# One worker on one core: keep numpy's BLAS/OpenMP pools from starting a thread per CPU.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}

exec "$here/.venv/bin/python" -m uvicorn app:app --app-dir "$here" \
  --host 127.0.0.1 --port "$port" --workers 1 --loop uvloop --http httptools \
  --no-access-log --log-level warning
