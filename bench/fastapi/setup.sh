#!/usr/bin/env bash
# Prepare the FastAPI benchmark peer: a virtual environment with the pinned PyPI packages
# (bench/fastapi/.venv) and the fitted model (bench/fastapi/artifacts/model.joblib).
# Idempotent: the venv is rebuilt only when requirements.txt or the interpreter changed,
# the model only when the data, the training code or the venv changed.
# Set PYTHON to use another interpreter than python3.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv="$here/.venv"
artifacts="$here/artifacts"
data="$here/../../training/data/telco-churn.csv"
python=${PYTHON:-python3}

fail() {
  echo "bench/fastapi/setup.sh: $*" >&2
  exit 1
}

command -v "$python" >/dev/null 2>&1 ||
  fail "'$python' not found: install Python >= 3.11 with the venv module (Debian: apt-get install python3 python3-venv), or set PYTHON"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  fail "$("$python" --version 2>&1) is too old: Python >= 3.11 is needed"
"$python" -c 'import venv, ensurepip' 2>/dev/null ||
  fail "'$python' has no venv/ensurepip module (Debian: apt-get install python3-venv)"
[[ -f "$data" ]] || fail "training data not found: $data"

sha256() { sha256sum "$@" | cut -d' ' -f1 | sha256sum | cut -d' ' -f1; }

# The venv depends on the requirements and on the exact interpreter it was made from.
interpreter=$("$python" -c 'import sys; print(sys.executable, sys.version)')
venv_stamp=$( (cat "$here/requirements.txt"; echo "$interpreter") | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$venv_stamp" ]]; then
  echo "creating $venv"
  # Start clean, so packages dropped from requirements.txt do not linger.
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --only-binary=:all: --requirement "$here/requirements.txt"
  echo "$venv_stamp" >"$venv/.requirements.sha256" # written last: an interrupted install is redone
fi

model_stamp=$(sha256 "$venv/.requirements.sha256" "$data" "$here/train.py" "$here/features.py")
if [[ "$(cat "$artifacts/model.sha256" 2>/dev/null)" != "$model_stamp" || ! -f "$artifacts/model.joblib" ]]; then
  (cd "$here" && "$venv/bin/python" train.py "$data" "$artifacts/model.joblib")
  echo "$model_stamp" >"$artifacts/model.sha256"
fi

# Byte-compile the app now, so the first server start does not pay for it.
"$venv/bin/python" -m compileall -q "$here/app.py" "$here/features.py"

"$venv/bin/python" - <<'EOF'
import sys
from importlib.metadata import version

packages = ("fastapi", "starlette", "pydantic", "pydantic_core", "uvicorn", "uvloop", "httptools",
            "scikit-learn", "numpy", "scipy", "joblib")
print(f"python {sys.version.split()[0]} ({sys.executable})")
print(" ".join(f"{name}=={version(name)}" for name in packages))
EOF
