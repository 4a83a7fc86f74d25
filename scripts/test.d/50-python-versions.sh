#!/usr/bin/env bash
# The fast part of the suite on the oldest and the newest supported Python (3.10 and 3.13), each in a throw-away
# venv with the package and its test extras installed by pip from the declared lower bounds. The interpreters come
# from pyenv (the newest installed patch release of each); a missing one is skipped with a message.
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
EXAMPLES=(record_store upload_notifier)
KEY_PACKAGES='^(boto3|botocore|aioboto3|aiobotocore|moto|tenacity|python-dotenv|pytest|pytest-asyncio|pytest-xdist)=='

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

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
    [ -e "$path" ] && fast_paths+=("$path")
  done
done

status=0
for version in "${VERSIONS[@]}"; do
  python_bin="$(find_python "$version")"
  if [ -z "$python_bin" ]; then
    echo "=== Python $version: SKIPPED, no interpreter (pyenv install $version, or put python$version on PATH)"
    continue
  fi
  echo "=== Python $version: $("$python_bin" -c 'import sys; print(sys.version.split()[0])') ($python_bin)"
  venv="$work/py$version"
  if ! "$python_bin" -m venv "$venv" || ! "$venv/bin/python" -m pip install -q "$ROOT[test]" \
    >"$work/pip-$version.log" 2>&1; then
    echo "=== Python $version: FAILED to install sandboxres[test]"
    tail -n 30 "$work/pip-$version.log"
    status=1
    continue
  fi
  echo "resolved: $("$venv/bin/python" -m pip list --format=freeze 2>/dev/null | grep -iE "$KEY_PACKAGES" | tr '\n' ' ')"
  "$venv/bin/python" -m pytest -n 2 -q -p no:cacheprovider -m "not slow" "${fast_paths[@]}" "$@" || status=1
  for example in "${EXAMPLES[@]}"; do
    (cd "examples/$example" && env -u AWS_ENDPOINT_URL -u SANDBOXRES_TARGET "$venv/bin/python" -m pytest -q \
      -p no:cacheprovider) || status=1
  done
done
exit $status
