#!/usr/bin/env bash
# The fast part of the suite on the oldest and the newest supported Python (3.10 and 3.13), each in a throw-away
# venv where pip resolves the package's dependencies and its `test` extra (pytest, its plugins, hypothesis) from
# the declared lower bounds; the versions it picked are printed. The extra's static-analysis and
# documentation tools are left out: this part does not run them (10-lint.sh and 60-docs.sh do). Both venvs are
# installed concurrently from one wheel. The interpreters come from pyenv (the newest installed patch release of
# each); a missing one is skipped with a message.
#
# The fast part: the pure modules (names, targets, specs), the table options through both front doors, the
# pytest plugin (pytester; the pytest-asyncio and pytest-xdist versions matter here), the unittest integration
# (enterContext / enterAsyncContext exist only from 3.11: the 3.10 fallback runs here), and the examples' suites
# on the embedded emulator. Tests marked `slow` are left out. Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VERSIONS=(3.10 3.13)
FAST_PATTERNS=(tests/test_naming.py tests/test_target*.py tests/test_specs*.py tests/test_table_options.py
  tests/test_pytest_plugin.py tests/test_unittest_integration.py)
EXAMPLES=(record_store upload_notifier order_service)
KEY_PACKAGES="^(boto3|botocore|aioboto3|aiobotocore|moto|tenacity|python-dotenv|hypothesis|pytest|pytest-[a-z]+)=="

work="$(mktemp -d)"
installers=()
finish() {
  for pid in "${installers[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap finish EXIT

# find_python X.Y: the newest pyenv-installed X.Y.* interpreter (else pythonX.Y on PATH); empty when none
find_python() {
  local want="$1" root="" candidate=""
  if command -v pyenv >/dev/null 2>&1; then
    root="$(pyenv root)"
  else
    root="${PYENV_ROOT:-$HOME/.pyenv}"
  fi
  if [ -d "$root/versions" ]; then
    candidate="$(find "$root/versions" -maxdepth 1 -name "$want.*" -printf '%f\n' 2>/dev/null \
      | grep -E "^$want\.[0-9]+$" | sort -t. -k3,3n | tail -n 1)"
    if [ -n "$candidate" ] && [ -x "$root/versions/$candidate/bin/python" ]; then
      echo "$root/versions/$candidate/bin/python"
      return
    fi
  fi
  command -v "python$want" 2>/dev/null || true
}

fast_paths=()
for pattern in "${FAST_PATTERNS[@]}"; do
  for path in $pattern; do
    if [ -e "$path" ]; then
      fast_paths+=("$path")
    fi
  done
done

# The `test` extra with its declared bounds, less the static-analysis and documentation tools.
runners_py='
import re, tomllib
with open("pyproject.toml", "rb") as handle:
    extra = tomllib.load(handle)["project"]["optional-dependencies"]["test"]
tools = re.compile(r"(ruff|mypy|mkdocs|mkdocstrings|griffe)\b|[A-Za-z0-9_.-]*-stubs\b", re.IGNORECASE)
print("\n".join(r for r in extra if not tools.match(r.strip())))
'
mapfile -t runners < <(python -c "$runners_py")
if ! printf '%s\n' "${runners[@]}" | grep -qiE '^pytest\b'; then
  echo "python-versions: no pytest requirement found in the test extra of pyproject.toml" >&2
  exit 1
fi
if ! python -m pip wheel -q --no-deps -w "$work/wheel" "$ROOT" >"$work/wheel.log" 2>&1; then
  cat "$work/wheel.log"
  exit 1
fi
wheel="$(ls "$work"/wheel/sandboxres-*.whl)"

declare -A interpreter installer
for version in "${VERSIONS[@]}"; do
  interpreter[$version]="$(find_python "$version")"
  if [ -z "${interpreter[$version]}" ]; then
    continue
  fi
  venv="$work/py$version"
  ("${interpreter[$version]}" -m venv "$venv" && "$venv/bin/python" -m pip install -q "$wheel" "${runners[@]}") \
    >"$work/pip-$version.log" 2>&1 &
  installer[$version]=$!
  installers+=("$!")
done

status=0
for version in "${VERSIONS[@]}"; do
  python_bin="${interpreter[$version]}"
  if [ -z "$python_bin" ]; then
    echo "=== Python $version: SKIPPED, no interpreter (pyenv install $version, or put python$version on PATH)"
    continue
  fi
  echo "=== Python $version: $("$python_bin" -c 'import sys; print(sys.version.split()[0])') ($python_bin)"
  venv="$work/py$version"
  if ! wait "${installer[$version]}"; then
    echo "=== Python $version: FAILED to install sandboxres with ${runners[*]}"
    tail -n 30 "$work/pip-$version.log"
    status=1
    continue
  fi
  resolved="$("$venv/bin/python" -m pip list --format=freeze 2>/dev/null | grep -iE "$KEY_PACKAGES" | tr '\n' ' ')"
  echo "resolved: $resolved"
  "$venv/bin/python" -m pytest -n 2 -q -p no:cacheprovider -m "not slow" "${fast_paths[@]}" "$@" || status=1
  for example in "${EXAMPLES[@]}"; do
    (cd "examples/$example" && env -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_DYNAMODB -u AWS_ENDPOINT_URL_S3 \
      -u AWS_ENDPOINT_URL_SQS -u SANDBOXRES_TARGET "$venv/bin/python" -m pytest -q \
      -p no:cacheprovider) || status=1
  done
done
exit $status
