"""One retry layer: the library's lifecycle calls are retried by the library alone (botocore's own retries are
off for them), so a permanent error is sent exactly once; the clients handed to users keep botocore's standard
retries. Quotas raise QuotaError, sent once. A dead emulator endpoint fails within seconds.

Everything runs against a moto server through the fault proxy, which counts the requests reaching it. No
``AWS_MAX_ATTEMPTS`` / ``AWS_RETRY_MODE`` is set: botocore's defaults are in force.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import sandboxres
from sandboxres import AWSCallError, ConfigurationError, EndpointUnreachableError, QuotaError
from sandboxres._simulator import (
    Fault,
    FaultProxy,
    ProxyRequest,
    Rule,
    Trigger,
    aws_error,
    table_limit_exceeded,
    throttling,
)
from tests.support.inventory import Inventory
from tests.support.runner import Runner

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def through_proxy(monkeypatch: pytest.MonkeyPatch, proxy: FaultProxy) -> Iterator[None]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    proxy.clear()
    yield
    proxy.clear()


def nothing_left(upstream_url: str) -> None:
    assert not Inventory(endpoint=upstream_url).leftovers("test")


def test_table_quota_is_sent_once_and_named(run: Runner, proxy: FaultProxy, upstream_url: str) -> None:
    proxy.add(table_limit_exceeded("quota"))
    before = sandboxres.STATS.left_behind
    resource = run.make("table", "quota")
    with pytest.raises(QuotaError) as raised, run.enter(resource):
        pytest.fail("no table can be created")
    assert isinstance(raised.value, AWSCallError) and raised.value.code == "LimitExceededException"
    message = str(raised.value)
    assert resource.lifecycle.name in message and "table quota" in message
    assert "sandboxres sweep" in message and "quota raised" in message
    assert proxy.count("dynamodb", "CreateTable") == 1, "a permanent error is sent exactly once"
    assert proxy.count("dynamodb", "DeleteTable") == 0, "nothing was created: nothing to delete"
    assert sandboxres.STATS.left_behind == before
    nothing_left(upstream_url)


def test_bucket_quota_is_sent_once(run: Runner, proxy: FaultProxy, upstream_url: str) -> None:
    message = "You have attempted to create more buckets than allowed"
    proxy.add(aws_error("s3", "CreateBucket", "TooManyBuckets", message, status=400))
    resource = run.make("bucket", "quota")
    with pytest.raises(QuotaError, match="bucket quota"), run.enter(resource):
        pytest.fail("no bucket can be created")
    assert proxy.count("s3", "CreateBucket") == 1
    nothing_left(upstream_url)


def test_concurrent_table_limit_is_retried_by_the_library(run: Runner, proxy: FaultProxy) -> None:
    """The "simultaneously" LimitExceededException is transient: retried (by the library), then it works."""
    proxy.add(table_limit_exceeded("concurrent", times=4))
    with run.lifecycle("table", "busy") as table:
        assert table.name
    # 4 refused, 1 accepted
    assert proxy.count("dynamodb", "CreateTable") == 5


def test_user_clients_keep_botocore_retries(run: Runner, proxy: FaultProxy) -> None:
    """The handle's client is the user's: botocore's standard retries (3 attempts) still apply to it."""
    with run.lifecycle("table", "mine") as table:
        proxy.add(throttling("dynamodb", "PutItem", times=2))
        run.call(table.client.put_item(TableName=table.name, Item={"pk": {"S": "1"}}))
        assert proxy.count("dynamodb", "PutItem") == 3


# ---------------------------------------------------------------------------------------------------------
# a dead emulator endpoint


def _dead_port() -> int:
    """A local port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("kind", ["table", "bucket", "queue"])
def test_dead_emulator_endpoint_fails_fast(run: Runner, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    endpoint = f"http://127.0.0.1:{_dead_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    before = sandboxres.STATS.left_behind
    started = time.monotonic()
    resource = run.make(kind, "dead")
    with pytest.raises(EndpointUnreachableError) as raised, run.enter(resource):
        pytest.fail("nothing listens there")
    assert time.monotonic() - started < 10
    assert isinstance(raised.value, ConfigurationError)
    assert f"endpoint {endpoint} for" in str(raised.value), "names the endpoint, not a request's URL"
    assert "sandboxres emulator" in str(raised.value)
    # nothing was created: no leak is reported, nothing stays registered
    assert sandboxres.STATS.left_behind == before
    assert not getattr(raised.value, "sandboxres_cleanup_errors", [])
    assert resource.lifecycle.state == "deleted"


# ---------------------------------------------------------------------------------------------------------
# buckets: tagged in the create call, PutBucketTagging as the readiness probe


class _Recorder(Fault):
    """Forwards the request unchanged and keeps its body."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def before(self, request: ProxyRequest, trigger: Trigger) -> None:
        self.bodies.append(request.body)
        return None


def test_bucket_is_tagged_in_its_create_call_in_three_calls(run: Runner, proxy: FaultProxy, upstream_url: str) -> None:
    recorder = _Recorder()
    proxy.add(Rule(recorder, service="s3", operations="CreateBucket"))
    with run.lifecycle("bucket", "born_tagged") as bucket:
        tags = Inventory(endpoint=upstream_url).s3.get_bucket_tagging(Bucket=bucket.name)["TagSet"]
        assert {t["Key"]: t["Value"] for t in tags}["sandboxres:managed"] == "true"
    assert len(recorder.bodies) == 1 and b"sandboxres:managed" in recorder.bodies[0], "tags sent in CreateBucket"
    operations = [r.operation for r in proxy.seen("s3", resource=bucket.name)]
    assert operations == ["CreateBucket", "PutBucketTagging", "DeleteBucket"]


def test_endpoint_refusing_create_time_tags_gets_them_afterwards(run: Runner, proxy: FaultProxy) -> None:
    """An emulator that rejects CreateBucketConfiguration.Tags (MalformedXML): created again without them, and
    tagged by the readiness probe."""
    proxy.add(aws_error("s3", "CreateBucket", "MalformedXML", "The XML you provided was not well-formed", times=1))
    recorder = _Recorder()
    proxy.add(Rule(recorder, service="s3", operations="CreateBucket"))
    with run.lifecycle("bucket", "tagged_later") as bucket:
        assert bucket.name
    assert len(recorder.bodies) == 1 and b"sandboxres:managed" not in recorder.bodies[0]
    assert proxy.count("s3", "PutBucketTagging", bucket.name) == 1


@pytest.mark.parametrize("value", ["abc", "nan", "inf", "-1"])
def test_bad_unseen_grace_is_refused_before_any_call(
    run: Runner, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SANDBOXRES_UNSEEN_GRACE", value)
    resource = run.make("queue", "grace")
    with pytest.raises(ConfigurationError, match="SANDBOXRES_UNSEEN_GRACE"), run.enter(resource):
        pytest.fail("refused")
    assert proxy.requests == []


def test_check_against_a_dead_emulator_ends_within_seconds_without_leak_reports() -> None:
    endpoint = f"http://127.0.0.1:{_dead_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SANDBOXRES_"))}
    env.update(AWS_ENDPOINT_URL=endpoint, PYTHONPATH=str(ROOT))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "sandboxres", "check"], capture_output=True, text=True, env=env, timeout=120
    )
    assert time.monotonic() - started < 30, "a dead emulator is not retried until the deadline"
    output = done.stdout + done.stderr
    assert output.count("EndpointUnreachableError") == 4 and "sandboxres emulator" in output
    assert "could NOT delete" not in output and "left behind" not in output, output
