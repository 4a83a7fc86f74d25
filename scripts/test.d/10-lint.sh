#!/usr/bin/env bash
# Static checks: ruff and mypy (strict) on the package.
set -euo pipefail
ruff check sandboxres tests benchmarks
mypy
