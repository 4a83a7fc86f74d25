#!/usr/bin/env bash
# The main suite on moto's server (embedded, plus a separately started moto_server), in parallel workers.
set -euo pipefail
python -m pytest -n 2 -q -p no:cacheprovider "$@"
