#!/usr/bin/env bash
# The example helper modules' own test suites (examples/*/tests), the same test code on two tiers:
#   1. the embedded emulator: no target variable at all;
#   2. external emulators chosen by environment variables alone: dynalite (DynamoDB, keeps tables CREATING),
#      local-aws-sqs and s3rver, started here by tests/emulators/launch.py; where Node.js or the launcher is
#      missing, one separately started moto_server instead.
# Every emulator binds 127.0.0.1 on a free port and is stopped by pid when the script ends (trap EXIT).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
EXAMPLES=(record_store upload_notifier order_service)
TARGET_VARS=(AWS_ENDPOINT_URL AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_SQS DYNAMODB_ENDPOINT
  S3_ENDPOINT SQS_ENDPOINT SANDBOXRES_TARGET SANDBOXRES_KEEP SANDBOXRES_ENV_FILE AWS_ACCESS_KEY_ID
  AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE)

work="$(mktemp -d)"
pids=()
stop_all() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap stop_all EXIT

# start NAME ARGS...: run tests/emulators/launch.py NAME ARGS... in the background; its URL ends up in $work/NAME.url
start() {
  local name="$1"
  shift
  python tests/emulators/launch.py "$name" "$@" --url-file "$work/$name.url" >"$work/$name.log" 2>&1 &
  pids+=("$!")
  local pid="$!"
  for _ in $(seq 600); do
    [ -s "$work/$name.url" ] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "examples: $name did not start:" >&2
      cat "$work/$name.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "examples: $name did not report its URL within 60 s" >&2
  return 1
}

# start_moto_server: moto_server on a free port (the fallback tier); its URL ends up in $work/moto.url
start_moto_server() {
  local port
  port="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  pids+=("$!")
  python - "$port" <<'EOF'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/moto-api/"
for _ in range(300):
    try:
        urllib.request.urlopen(url, timeout=1).read()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"moto_server did not answer on {url}")
EOF
  echo "http://127.0.0.1:$port" >"$work/moto.url"
}

# run_suites ENV...: every example's suite with exactly these target variables (the others unset)
run_suites() {
  local unset_args=()
  for name in "${TARGET_VARS[@]}"; do
    unset_args+=(-u "$name")
  done
  local status=0
  for example in "${EXAMPLES[@]}"; do
    echo "--- examples/$example"
    (cd "examples/$example" && env "${unset_args[@]}" "$@" python -m pytest -q -p no:cacheprovider -rs) || status=1
  done
  return $status
}

status=0
echo "--- static checks of the examples"
ruff check examples || status=1
for example in "${EXAMPLES[@]}"; do
  (cd "examples/$example" && MYPYPATH=".:$ROOT" mypy --strict --python-version 3.10 --no-error-summary \
    "$example" tests) || status=1
done

echo "=== tier 1: embedded emulator (no target variables)"
run_suites || status=1

echo "=== tier 2: external emulators, selected by environment variables only"
if [ -f tests/emulators/launch.py ] && command -v node >/dev/null 2>&1 \
  && start dynalite && start sqs && start s3rver; then
  # s3rver accepts only its own key pair; local-aws-sqs and dynalite accept any.
  run_suites AWS_ENDPOINT_URL_DYNAMODB="$(cat "$work/dynalite.url")" \
    AWS_ENDPOINT_URL_S3="$(cat "$work/s3rver.url")" \
    AWS_ENDPOINT_URL_SQS="$(cat "$work/sqs.url")" \
    AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER || status=1
else
  echo "examples: the third-party emulators are not available here; tier 2 runs on a separate moto_server"
  start_moto_server
  run_suites AWS_ENDPOINT_URL="$(cat "$work/moto.url")" || status=1
fi
exit $status
