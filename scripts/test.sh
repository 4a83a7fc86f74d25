#!/usr/bin/env bash
# Run the whole test suite: installs the Python packages and the Node emulators it needs, starts and stops the
# emulators (127.0.0.1 only, free ports), runs every part in scripts/test.d/ in order. Exit code: 0 when all pass.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck disable=SC1091
. scripts/setup.sh
status=0
for part in scripts/test.d/*.sh; do
  echo "=== ${part#scripts/test.d/}"
  if ! bash "$part" "$@"; then
    echo "=== FAILED: ${part#scripts/test.d/}"
    status=1
  fi
done
exit $status
