#!/usr/bin/env bash
# Create (or reuse) .venv and install sandboxres into it (editable), with the extras in SANDBOXRES_EXTRAS
# (default: test; empty for the package alone). Sourced by the other scripts. The install is redone when
# pyproject.toml or the extras change, or when SANDBOXRES_REINSTALL=1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
EXTRAS="${SANDBOXRES_EXTRAS-test}"
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  "$PYTHON" -m venv "$ROOT/.venv"
fi
# shellcheck disable=SC1091
. "$ROOT/.venv/bin/activate"
digest="$(python -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read() + sys.argv[2].encode()).hexdigest()[:16])' "$ROOT/pyproject.toml" "$EXTRAS")"
stamp="$ROOT/.venv/.sandboxres-installed-$digest"
if [ ! -f "$stamp" ] || [ "${SANDBOXRES_REINSTALL:-0}" = 1 ]; then
  python -m pip install -q --upgrade pip
  python -m pip install -q -e "$ROOT${EXTRAS:+[$EXTRAS]}"
  rm -f "$ROOT"/.venv/.sandboxres-installed-*
  touch "$stamp"
fi
