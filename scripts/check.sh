#!/usr/bin/env bash
# The main job: set up, then create, verify and delete one table, bucket and queue on the embedded emulator.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The package alone is enough here: no test tools.
export SANDBOXRES_EXTRAS="${SANDBOXRES_EXTRAS-}"
# shellcheck disable=SC1091
. "$ROOT/scripts/setup.sh"
# The embedded emulator unless a target is chosen explicitly (endpoint variables alone do not redirect this job).
export SANDBOXRES_TARGET="${SANDBOXRES_TARGET:-embedded}"
exec sandboxres check "$@"
