#!/usr/bin/env bash
# Create (or reuse) .venv and install sandboxres with its test dependencies. Sourced by the other scripts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  "$PYTHON" -m venv "$ROOT/.venv"
fi
# shellcheck disable=SC1091
. "$ROOT/.venv/bin/activate"
if ! python -c "import sandboxres, pytest, mypy_boto3_s3" >/dev/null 2>&1 || [ "${SANDBOXRES_REINSTALL:-0}" = 1 ]; then
  python -m pip install -q --upgrade pip
  python -m pip install -q -e "$ROOT[test]"
fi
