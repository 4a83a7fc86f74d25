#!/usr/bin/env bash
# Every test: installs uv when missing, the locked environment (uv.lock) and the Node emulators, then runs nox's
# `ci` session (lint, types, the suite, the fast part on Python 3.10-3.13, the third-party emulators, the
# examples, the docs; two at a time) and prints a table of the parts' times. Exit code 0 when all pass.
# With arguments they go to nox instead: `bash scripts/test.sh -s tests -- -k doctor`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck disable=SC1091
. scripts/uv.sh
if [ "$#" -eq 0 ]; then
  set -- -s ci
fi
exec uv run --locked --quiet nox "$@"
