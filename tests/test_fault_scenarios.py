"""Real-AWS behaviour that moto hides, replayed by a fault-injecting proxy in front of a moto server.

Each test scripts the proxy (``sandboxres/_simulator/``) with one behaviour of AWS -- latency, throttling,
5xx, connection resets, tables CREATING for a while, ResourceNotFoundException right after CreateTable,
ResourceInUseException on DeleteTable, NoSuchBucket right after CreateBucket, OperationAborted, the two kinds of
LimitExceededException, QueueDeletedRecently, a new queue unusable for a second, AccessDenied -- and asserts both
the outcome and how it was reached, from the proxy's records: how many attempts of each call, which of them were
faulted, when the first good probe came compared with the moment the resource really became ready. Every test
ends by checking that the moto server holds nothing.

The target is selected by ``AWS_ENDPOINT_URL=<proxy>`` alone. botocore's own retries are off
(``AWS_MAX_ATTEMPTS=1``), so every retry seen here is the library's. The moto server is a process of its own:
in-process moto servers share one state with the embedded emulator.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sandboxres import AWSCallError, ForeignResourceError, ReadinessTimeoutError
from sandboxres._runtime.settings import ENDPOINT_VARIABLES
from sandboxres._simulator import (
    FaultProxy,
    Rule,
    SeenRequest,
    SetTableStatus,
    access_denied,
    bucket_not_found_after_create,
    bucket_operation_aborted,
    connection_reset,
    latency,
    queue_deleted_recently,
    queue_not_ready,
    server_error,
    service_unavailable,
    table_creating,
    table_deleting,
    table_limit_exceeded,
    table_not_found_after_create,
    throttling,
)
from tests.support.inventory import KINDS, Inventory
from tests.support.runner import AsyncRunner, Runner

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

SERVICE = {"table": "dynamodb", "bucket": "s3", "queue": "sqs"}
CREATE = {"table": "CreateTable", "bucket": "CreateBucket", "queue": "CreateQueue"}
DELETE = {"table": "DeleteTable", "bucket": "DeleteBucket", "queue": "DeleteQueue"}

# Readiness must be noticed within 10 % of the wait plus this much (one poll interval's floor, one probe, slack).
SLACK = 0.3


# ---------------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def upstream(upstream_url: str) -> Inventory:
    """The moto server itself, not through the proxy."""
    return Inventory(endpoint=upstream_url)


@pytest.fixture(autouse=True)
def through_proxy(monkeypatch: pytest.MonkeyPatch, proxy: FaultProxy) -> Iterator[None]:
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in ("SANDBOXRES_TARGET", "SANDBOXRES_ENV_FILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    proxy.clear()
    yield
    proxy.clear()


# ---------------------------------------------------------------------------------------------------------
# helpers


def use(run: Runner, kind: str, handle: Any) -> None:
    """One write through the handle's own client: the resource is usable the moment the library returns it."""
    if kind == "table":
        run.call(handle.client.put_item(TableName=handle.name, Item={"pk": {"S": "k"}}))
    elif kind == "bucket":
        run.call(handle.client.put_object(Bucket=handle.name, Key="k", Body=b"v"))
    else:
        run.call(handle.client.send_message(QueueUrl=handle.url, MessageBody="m"))


def nothing_left(upstream: Inventory) -> None:
    assert upstream.leftovers("") == [], "the moto server still holds resources"


def calls(proxy: FaultProxy, kind: str, operation: str, name: str) -> list[SeenRequest]:
    return proxy.seen(SERVICE[kind], operation, name)


def created_at(proxy: FaultProxy, kind: str, name: str) -> float:
    """When the create call that succeeded upstream was answered (AWS's clock for "CREATING for T s")."""
    done = [r for r in calls(proxy, kind, CREATE[kind], name) if r.upstream_status and r.upstream_status < 300]
    assert len(done) == 1, f"one successful {CREATE[kind]}, got {done}"
    return done[0].started + done[0].duration


def check_waited(probes: list[SeenRequest], returned: float, ready: float, wait: float) -> None:
    """The probes of a readiness wait: several while not ready, then a good one no later than 10 % of the wait
    plus SLACK after the resource became ready, and the library returned only after it."""
    before = [p for p in probes if p.started < returned]
    bad = [p for p in before if p.fault is not None]
    good = [p for p in before if p.fault is None]
    assert len(bad) >= 3, f"readiness was polled, not slept for: {before}"
    assert good, "the library returned before any probe saw the resource ready (readiness assumed)"
    late = good[0].started - ready
    assert late <= 0.1 * wait + SLACK, f"the ready probe came {late:.2f} s after readiness (a fixed sleep?)"
    assert good[0].started >= max(p.started for p in bad)


# ---------------------------------------------------------------------------------------------------------
# transient failures of any call: retried by the library, nothing leaked


@pytest.mark.parametrize("kind", KINDS)
def test_latency(run: Runner, proxy: FaultProxy, upstream: Inventory, kind: str) -> None:
    proxy.add(latency(0.15, SERVICE[kind]))
    with run.lifecycle(kind, "latency") as handle:
        use(run, kind, handle)
    seen = proxy.seen(SERVICE[kind])
    assert seen and all(r.fault == "delay 0.15s" for r in seen)
    assert all(r.status is not None and r.status < 500 for r in seen)
    assert len(calls(proxy, kind, CREATE[kind], handle.name)) == 1, "a slow answer is not a reason to retry"
    nothing_left(upstream)


TRANSIENT = {"throttling": throttling, "500": server_error, "503": service_unavailable}


@pytest.mark.parametrize("fault", TRANSIENT)
@pytest.mark.parametrize("kind", KINDS)
def test_transient_errors_are_retried(
    run: Runner, proxy: FaultProxy, upstream: Inventory, kind: str, fault: str
) -> None:
    make = TRANSIENT[fault]
    proxy.add(make(SERVICE[kind], CREATE[kind], times=2), make(SERVICE[kind], DELETE[kind], times=2))
    with run.lifecycle(kind, "transient") as handle:
        use(run, kind, handle)
    for operation in (CREATE[kind], DELETE[kind]):
        seen = calls(proxy, kind, operation, handle.name)
        assert [r.fault is not None for r in seen[:3]] == [True, True, False], seen
        assert all(r.status is not None and r.status >= 400 for r in seen[:2])
    if fault == "throttling" and kind == "bucket":
        assert calls(proxy, kind, "CreateBucket", handle.name)[0].status == 503  # SlowDown
    nothing_left(upstream)


@pytest.mark.parametrize("after_upstream", [False, True], ids=["lost-request", "lost-response"])
@pytest.mark.parametrize("kind", KINDS)
def test_connection_resets(
    run: Runner, proxy: FaultProxy, upstream: Inventory, kind: str, after_upstream: bool
) -> None:
    """Sync (ConnectionClosedError) and async (EndpointConnectionError) see resets differently; both retry.
    A lost response means the call happened: the retry meets "already exists" / "not found" and goes on."""
    proxy.add(
        connection_reset(SERVICE[kind], CREATE[kind], after_upstream=after_upstream, times=1),
        connection_reset(SERVICE[kind], DELETE[kind], after_upstream=after_upstream, times=1),
    )
    with run.lifecycle(kind, "reset") as handle:
        use(run, kind, handle)
    for operation in (CREATE[kind], DELETE[kind]):
        seen = calls(proxy, kind, operation, handle.name)
        assert seen[0].status is None and seen[0].fault is not None, "the first attempt was reset"
        assert (seen[0].upstream_status is not None) == after_upstream
        assert len(seen) >= 2 and seen[1].fault is None, "and retried"
    nothing_left(upstream)


# ---------------------------------------------------------------------------------------------------------
# DynamoDB: CREATING, eventual consistency, ResourceInUse, the two LimitExceeded


def test_table_creating_is_waited_out(run: Runner, proxy: FaultProxy, upstream: Inventory) -> None:
    wait = 1.5
    proxy.add(table_creating(wait))
    with run.lifecycle("table", "creating") as table:
        returned = time.monotonic()
        use(run, "table", table)
    ready = created_at(proxy, "table", table.name) + wait
    assert returned >= ready, "returned while the table was still CREATING"
    check_waited(calls(proxy, "table", "DescribeTable", table.name), returned, ready, wait)
    nothing_left(upstream)


def test_table_not_found_right_after_create(run: Runner, proxy: FaultProxy, upstream: Inventory) -> None:
    """DescribeTable may not know a table CreateTable has just accepted: "not found" means "not yet"."""
    proxy.add(
        Rule(SetTableStatus("CREATING"), service="dynamodb", operations="CreateTable"),
        table_not_found_after_create(3),
    )
    with run.lifecycle("table", "eventual") as table:
        returned = time.monotonic()
        use(run, "table", table)
    probes = [p for p in calls(proxy, "table", "DescribeTable", table.name) if p.started < returned]
    assert [p.fault is not None for p in probes] == [True, True, True, False], probes
    assert all(p.status == 400 for p in probes[:3])
    nothing_left(upstream)


def test_delete_waits_while_table_creating(run: Runner, proxy: FaultProxy, upstream: Inventory) -> None:
    """A table still CREATING when its wait times out is deleted anyway: DeleteTable answers
    ResourceInUseException until the table is ACTIVE, and the library keeps trying."""
    wait = 2.0
    proxy.add(table_creating(wait))
    resource = run.make("table", "inuse", timeout=0.5)
    with pytest.raises(ReadinessTimeoutError), run.enter(resource):
        pytest.fail("the table cannot be ready")
    name = resource.lifecycle.name
    ready = created_at(proxy, "table", name) + wait
    deletes = calls(proxy, "table", "DeleteTable", name)
    assert deletes[0].fault is not None and deletes[0].started < ready, "the delete started while CREATING"
    assert deletes[-1].fault is None and deletes[-1].started >= ready, "and was retried until it went through"
    assert resource.lifecycle.state == "deleted"
    nothing_left(upstream)


def test_a_table_still_deleting_after_its_deadline_is_not_a_leak(
    run: Runner, proxy: FaultProxy, upstream: Inventory
) -> None:
    """DeleteTable accepted, the table DELETING longer than the resource's deadline: no CleanupError (the
    table goes away on its own), but the library did wait up to that deadline."""
    proxy.add(table_deleting(2.0))
    with run.lifecycle("table", "slowdelete", timeout=0.5) as table:
        name = table.name
    deletes = calls(proxy, "table", "DeleteTable", name)
    probes = calls(proxy, "table", "DescribeTable", name)
    assert len(deletes) == 1 and deletes[0].fault is not None, "DeleteTable answered DELETING once"
    after = [p for p in probes if p.started >= deletes[0].started]
    assert len(after) >= 2, "the library polled for the table to go"
    assert after[-1].started - deletes[0].started >= 0.4, "and kept polling up to its deadline"
    time.sleep(2.0)
    nothing_left(upstream)


def test_cancelled_while_creating_still_deletes(proxy: FaultProxy, upstream: Inventory) -> None:
    """Async only: a task cancelled during the wait deletes its table, which is still CREATING."""
    wait = 1.5
    proxy.add(table_creating(wait))
    active = AsyncRunner()
    try:
        resource = active.make("table", "cancelled")
        with pytest.raises((asyncio.TimeoutError, TimeoutError)):
            active.run(asyncio.wait_for(resource.__aenter__(), 0.3))
    finally:
        active.close()
    name = resource.lifecycle.name
    deletes = calls(proxy, "table", "DeleteTable", name)
    assert deletes and deletes[0].fault is not None, "deleted while CREATING"
    assert deletes[-1].fault is None
    assert resource.lifecycle.state == "deleted"
    nothing_left(upstream)


def test_table_limit_simultaneous_is_retried(run: Runner, proxy: FaultProxy, upstream: Inventory) -> None:
    proxy.add(table_limit_exceeded("concurrent", times=3))
    with run.lifecycle("table", "busy") as table:
        use(run, "table", table)
    creates = calls(proxy, "table", "CreateTable", table.name)
    assert [r.fault is not None for r in creates] == [True, True, True, False]
    nothing_left(upstream)


def test_table_quota_fails_fast(run: Runner, proxy: FaultProxy, upstream: Inventory) -> None:
    proxy.add(table_limit_exceeded("quota"))
    resource = run.make("table", "quota", timeout=5)  # were it retried, it would fail within seconds
    with pytest.raises(AWSCallError) as raised, run.enter(resource):
        pytest.fail("no table can be created")
    assert raised.value.code == "LimitExceededException"
    assert resource.lifecycle.name in str(raised.value)
    assert len(calls(proxy, "table", "CreateTable", resource.lifecycle.name)) == 1, "a quota is not retried"
    nothing_left(upstream)


# ---------------------------------------------------------------------------------------------------------
# S3: NoSuchBucket right after create, 403, OperationAborted


def test_bucket_not_found_right_after_create(run: Runner, proxy: FaultProxy, upstream: Inventory) -> None:
    wait = 1.0
    proxy.add(bucket_not_found_after_create(wait))
    with run.lifecycle("bucket", "eventual") as bucket:
        returned = time.monotonic()
        use(run, "bucket", bucket)
    ready = created_at(proxy, "bucket", bucket.name) + wait
    assert returned >= ready, "returned while the bucket was still unknown"
    # PutBucketTagging is the readiness probe (it answers only once the bucket is visible): no HeadBucket.
    check_waited(calls(proxy, "bucket", "PutBucketTagging", bucket.name), returned, ready, wait)
    probes = calls(proxy, "bucket", "PutBucketTagging", bucket.name)
    assert all(r.status == 404 for r in probes if r.fault is not None)
    assert not calls(proxy, "bucket", "HeadBucket", bucket.name)
    configure = [
        r
        for r in proxy.seen("s3", resource=bucket.name)
        if r.operation.startswith("PutBucket") and r.operation != "PutBucketTagging"
    ]
    assert all(r.fault is None for r in configure), "configured only once the bucket was there"
    nothing_left(upstream)


def test_bucket_403_is_someone_elses(run: Runner, proxy: FaultProxy, upstream: Inventory) -> None:
    """HTTP 403 on the readiness probe (PutBucketTagging) means the name belongs to another account: never
    "ready"."""
    proxy.add(access_denied("s3", "PutBucketTagging"))
    resource = run.make("bucket", "foreign")
    with pytest.raises(ForeignResourceError), run.enter(resource):
        pytest.fail("a 403 bucket is not ours")
    name = resource.lifecycle.name
    assert [r.status for r in calls(proxy, "bucket", "PutBucketTagging", name)] == [403], "403 is final"
    assert not [r for r in proxy.seen("s3", resource=name) if r.operation.startswith("PutBucket") and r.status != 403]
    nothing_left(upstream)


def test_create_bucket_operation_aborted(run: Runner, proxy: FaultProxy, upstream: Inventory) -> None:
    proxy.add(bucket_operation_aborted(times=3))
    with run.lifecycle("bucket", "aborted") as bucket:
        use(run, "bucket", bucket)
    creates = calls(proxy, "bucket", "CreateBucket", bucket.name)
    assert [r.status for r in creates] == [409, 409, 409, 200]
    nothing_left(upstream)


# ---------------------------------------------------------------------------------------------------------
# SQS: QueueDeletedRecently, a new queue unusable for a second


def test_queue_deleted_recently(run: Runner, proxy: FaultProxy, upstream: Inventory) -> None:
    window = 1.0
    proxy.add(queue_deleted_recently(for_seconds=window))
    with run.lifecycle("queue", "recent") as queue:
        use(run, "queue", queue)
    creates = calls(proxy, "queue", "CreateQueue", queue.name)
    refused, accepted = creates[:-1], creates[-1]
    assert len(refused) >= 2 and all(r.fault is not None and r.status == 400 for r in refused)
    assert accepted.fault is None and accepted.started >= refused[0].started + window, "retried past the window"
    nothing_left(upstream)


def test_new_queue_unusable_for_a_second(run: Runner, proxy: FaultProxy, upstream: Inventory) -> None:
    wait = 1.0
    proxy.add(queue_not_ready(wait))
    with run.lifecycle("queue", "lazy") as queue:
        returned = time.monotonic()
        use(run, "queue", queue)
    ready = created_at(proxy, "queue", queue.name) + wait
    assert returned >= ready, "returned while the queue was not usable yet"
    check_waited(calls(proxy, "queue", "GetQueueAttributes", queue.name), returned, ready, wait)
    sends = calls(proxy, "queue", "SendMessage", queue.name)
    assert [r.fault for r in sends] == [None]
    nothing_left(upstream)


# ---------------------------------------------------------------------------------------------------------
# permanent errors: one attempt, a clear error, nothing leaked


@pytest.mark.parametrize("kind", KINDS)
def test_access_denied_fails_fast(run: Runner, proxy: FaultProxy, upstream: Inventory, kind: str) -> None:
    proxy.add(access_denied(SERVICE[kind], CREATE[kind]))
    resource = run.make(kind, "denied", timeout=5)  # were it retried, it would fail within seconds
    with pytest.raises(AWSCallError) as raised, run.enter(resource):
        pytest.fail("creation is not allowed")
    name = resource.lifecycle.name
    assert raised.value.code in ("AccessDenied", "AccessDeniedException")
    assert raised.value.operation == CREATE[kind] and name in str(raised.value)
    assert len(calls(proxy, kind, CREATE[kind], name)) == 1, "AccessDenied is not retried"
    nothing_left(upstream)
