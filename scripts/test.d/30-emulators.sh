#!/usr/bin/env bash
# The lifecycle tiers (tests/test_lifecycle_tiers.py) on third-party emulators, selected by endpoint variables alone:
#   dynalite       DynamoDB; tables stay CREATING / DELETING for 500 ms, then a second run at 2,000 ms (table tests)
#   local-aws-sqs  SQS; new queues unusable for ~1.15 s, QueueDeletedRecently for 60 s after a delete
#   s3rver         S3; no versioning, no bucket tagging, no multipart listing
# Each emulator is started by tests/emulators/launch.py on a free 127.0.0.1 port and stopped by pid on exit.
# Arguments are passed to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

WORK="$(mktemp -d)"
LAUNCHERS=""

stop_all() {
  for pid in $LAUNCHERS; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $LAUNCHERS; do
    wait "$pid" 2>/dev/null || true
  done
  LAUNCHERS=""
}
cleanup() {
  stop_all
  rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME [launch.py options...]: start an emulator in the background; its URL lands in $WORK/NAME.url.
start() {
  local name="$1"
  shift
  rm -f "$WORK/$name.url"
  python tests/emulators/launch.py "$@" --url-file "$WORK/$name.url" >"$WORK/$name.log" 2>&1 &
  LAUNCHERS="$LAUNCHERS $!"
  eval "PID_$name=$!"
}

# url NAME: wait until the emulator answers and print its URL.
url() {
  local name="$1" pid_var="PID_$1" waited=0
  while [ ! -s "$WORK/$name.url" ]; do
    if ! kill -0 "${!pid_var}" 2>/dev/null || [ "$waited" -ge 600 ]; then
      echo "could not start $name:" >&2
      cat "$WORK/$name.log" >&2
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  head -n 1 "$WORK/$name.url"
}

# The npm packages are installed once here, before the launchers run side by side.
python -c "from tests.emulators.launch import ensure_node_packages; ensure_node_packages()"

start dynalite dynalite --create-ms 500 --delete-ms 500
start sqs sqs
# s3rver 3 makes ListObjectsV2 continuation tokens with DES, which Node 17+ only has in OpenSSL's legacy provider:
# without it every listing of more than 1,000 keys fails with InternalError.
start s3rver s3rver

unset AWS_ENDPOINT_URL AWS_PROFILE AWS_SESSION_TOKEN SANDBOXRES_ENV_FILE
export SANDBOXRES_TARGET=emulator
export AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_SQS AWS_ENDPOINT_URL_S3
AWS_ENDPOINT_URL_DYNAMODB="$(url dynalite)"
AWS_ENDPOINT_URL_SQS="$(url sqs)"
AWS_ENDPOINT_URL_S3="$(url s3rver)"
# One credential pair serves the three services: s3rver accepts only its own, the others accept any.
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
# dynalite: streams, TTL and tags in CreateTable; s3rver: versioning, bucket tagging, ListMultipartUploads.
export SANDBOXRES_EMULATOR_LACKS="streams,ttl,table_tags,versioning,bucket_tags,multipart_listing"

echo "--- dynalite (500 ms), local-aws-sqs, s3rver"
python -m pytest -n 2 -q -p no:cacheprovider tests/test_lifecycle_tiers.py "$@"

echo "--- dynalite (2,000 ms): table tests"
kill -TERM "$PID_dynalite"
wait "$PID_dynalite" 2>/dev/null || true
LAUNCHERS="$(echo "$LAUNCHERS" | tr ' ' '\n' | grep -vx "$PID_dynalite" | tr '\n' ' ')"
start dynalite dynalite --create-ms 2000 --delete-ms 2000
AWS_ENDPOINT_URL_DYNAMODB="$(url dynalite)"
python -m pytest -n 2 -q -p no:cacheprovider tests/test_lifecycle_tiers.py -k table "$@"
