#!/usr/bin/env bash
# Sourced by check.sh and test.sh: make sure a uv (>= 0.8) is on PATH. The one installed is used when it is new
# enough; otherwise uv is installed from the package index with pip, into a virtualenv of its own (.bootstrap/),
# or for the user when no virtualenv can be made. Needs only Python 3.10+ (PYTHON, default python3).
PYTHON="${PYTHON:-python3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

uv_usable() {
  command -v uv >/dev/null 2>&1 || return 1
  "$PYTHON" -c 'import sys; v = [int(x) for x in sys.argv[1].split(".")[:2]]; sys.exit(v < [0, 8])' \
    "$(uv --version 2>/dev/null | awk '{print $2}')" 2>/dev/null
}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "sandboxres needs Python 3.10 or newer ($PYTHON is $("$PYTHON" --version 2>&1)); set PYTHON=python3.X" >&2
  exit 1
fi
export PATH="$ROOT/.bootstrap/bin:$PATH"
if ! uv_usable; then
  echo "installing uv from the package index into .bootstrap/" >&2
  if ! { "$PYTHON" -m venv "$ROOT/.bootstrap" && "$ROOT/.bootstrap/bin/python" -m pip install -q "uv>=0.8"; }; then
    rm -rf "$ROOT/.bootstrap"
    "$PYTHON" -m pip install -q --user "uv>=0.8"
    PATH="$("$PYTHON" -c 'import site; print(site.getuserbase())')/bin:$PATH"
  fi
  uv_usable || { echo "could not install uv (pip install uv)" >&2; exit 1; }
fi
# The interpreters are the machine's: uv never downloads one.
export UV_PYTHON_DOWNLOADS="${UV_PYTHON_DOWNLOADS:-never}"
