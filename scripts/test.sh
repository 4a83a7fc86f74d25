#!/usr/bin/env bash
# Every test: installs uv when missing, the locked environment (uv.lock) and the Node emulators, then runs nox's
# `ci` session (lint, types, the suite, the fast part on Python 3.10-3.13, the third-party emulators, the
# examples, the docs; two at a time) and prints a table of the parts' times. Exit code 0 when all pass.
# With arguments they go to nox instead: `bash scripts/test.sh -s tests -- -k doctor`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started="$(date +%s%N)"
# shellcheck disable=SC1091
. scripts/uv.sh
uv sync --locked --quiet
# The set-up above (uv, the locked .venv with nox) is the first line of the ci session's table.
SANDBOXRES_CI_SETUP_SECONDS="$(( ($(date +%s%N) - started) / 1000000 ))e-3"
export SANDBOXRES_CI_SETUP_SECONDS
if [ "$#" -eq 0 ]; then
  set -- -s ci
fi
exec uv run --locked --no-sync --quiet nox "$@"
