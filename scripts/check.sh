#!/usr/bin/env bash
# The main job: create, verify and delete one table, bucket, queue and topic on the embedded emulator, with a short
# report.
# Installs uv when missing, then the package alone at the versions in uv.lock (.venv). Arguments go to
# `sandboxres check` (for example --json, or the kinds: table bucket queue topic).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck disable=SC1091
. scripts/uv.sh
# The embedded emulator unless a target is chosen explicitly (endpoint variables alone do not redirect this job).
export SANDBOXRES_TARGET="${SANDBOXRES_TARGET:-embedded}"
exec uv run --locked --no-default-groups --quiet sandboxres check "$@"
