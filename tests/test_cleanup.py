"""What happens on the way out: deletion on exception and KeyboardInterrupt (inside the block and during create),
cleanup failures that are never swallowed, keeping resources, and the refusal to delete foreign names.

Faults are injected over HTTP by the fault proxy in front of the embedded emulator (no in-process patching).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

import pytest

import sandboxres
from sandboxres import AWSCallError, CleanupError, SpecError
from sandboxres import _simulator as faultproxy
from sandboxres._engine.plans import Progress
from sandboxres._kinds import KINDS as RESOURCE_KINDS
from sandboxres._runtime.clients import active_target, client_pool
from sandboxres._runtime.drivers import SyncDriver
from sandboxres._simulator import FaultProxy
from tests.support.inventory import InventoryAt
from tests.support.runner import Runner

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

# kind -> options, service, create operation, delete operation
KINDS: dict[str, tuple[dict[str, Any], str, str, str]] = {
    "table": ({"range_key": "sk"}, "dynamodb", "CreateTable", "DeleteTable"),
    "bucket": ({"versioning": True}, "s3", "CreateBucket", "DeleteBucket"),
    "queue": ({"dead_letter": 2}, "sqs", "CreateQueue", "DeleteQueue"),
}


def _ephemeral(run: Runner, kind: str, label: str, **options: Any) -> Any:
    return getattr(run.api, f"ephemeral_{kind}")(label, **{**KINDS[kind][0], **options})


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch, fault_proxy: Callable[[str], FaultProxy], embedded_url: str) -> FaultProxy:
    """A fault proxy in front of the embedded emulator, made the target through AWS_ENDPOINT_URL."""
    proxy = fault_proxy(embedded_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    return proxy


# ---------------------------------------------------------------------------------------------------------
# deletion on every way out


class Boom(Exception):
    sandboxres_cleanup_errors: list[CleanupError]  # attached by the library on the way out


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("error", [Boom, KeyboardInterrupt], ids=["exception", "KeyboardInterrupt"])
def test_the_resource_is_deleted_when_the_block_raises(
    run: Runner, inventory: InventoryAt, kind: str, error: type[BaseException]
) -> None:
    before = inventory().snapshot()
    with pytest.raises(error):
        with run.enter(_ephemeral(run, kind, "raising")) as handle:
            assert handle.name
            raise error("inside the block")
    assert inventory().snapshot() == before


@pytest.mark.parametrize("kind", KINDS)
def test_keyboard_interrupt_during_create_deletes_what_was_created(
    kind: str,
    proxied: FaultProxy,
    hold_reply: Callable[..., threading.Event],
    inventory: InventoryAt,
    embedded_url: str,
) -> None:
    """Ctrl-C (a real SIGINT) arrives after the server carried out the create call, before its answer."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread only")
    _, service, create_operation, _ = KINDS[kind]
    before = inventory().snapshot()
    done = hold_reply(proxied, service, create_operation, seconds=2.0)
    main = threading.main_thread().ident
    assert main is not None

    def interrupt() -> None:
        if done.wait(30):
            signal.pthread_kill(main, signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    watcher = threading.Thread(target=interrupt, daemon=True)
    resource = getattr(sandboxres, f"ephemeral_{kind}")("interrupted", **KINDS[kind][0])
    try:
        watcher.start()
        with pytest.raises(KeyboardInterrupt):
            with resource:
                pytest.fail("the block must not run")
    finally:
        signal.signal(signal.SIGINT, previous)
        watcher.join(5)
    assert done.is_set(), "the create call never reached the emulator"
    assert resource.lifecycle.state == "deleted"
    assert inventory().snapshot() == before


# ---------------------------------------------------------------------------------------------------------
# cleanup failures are never swallowed


@pytest.mark.parametrize("kind", KINDS)
def test_a_cleanup_failure_is_attached_to_the_error_leaving_the_block(
    run: Runner, kind: str, proxied: FaultProxy, inventory: InventoryAt
) -> None:
    before = inventory().snapshot()
    _, service, _, delete_operation = KINDS[kind]
    resource = _ephemeral(run, kind, "undeletable")
    with pytest.raises(Boom) as caught:
        with run.enter(resource) as handle:
            proxied.add(faultproxy.access_denied(service, delete_operation))
            raise Boom("the test failed")
    (failure,) = caught.value.sandboxres_cleanup_errors
    assert isinstance(failure, CleanupError)
    assert handle.name in str(failure) and handle.name in failure.resource
    assert any("AccessDenied" in str(e) for e in failure.errors)
    assert handle.name not in str(before)
    # The resource is still known: once the fault is gone, delete() finishes the job.
    proxied.clear_rules()
    run.call(resource.delete())
    assert inventory().snapshot() == before


@pytest.mark.parametrize("kind", KINDS)
def test_a_cleanup_failure_is_raised_when_the_block_succeeded(
    run: Runner, kind: str, proxied: FaultProxy, inventory: InventoryAt
) -> None:
    before = inventory().snapshot()
    _, service, _, delete_operation = KINDS[kind]
    resource = _ephemeral(run, kind, "leaky")
    with pytest.raises(CleanupError) as caught:
        with run.enter(resource) as handle:
            proxied.add(faultproxy.access_denied(service, delete_operation))
    assert handle.name in str(caught.value)
    assert "may be left behind" in str(caught.value)
    proxied.clear_rules()
    run.call(resource.delete())
    assert inventory().snapshot() == before


def test_transient_delete_failures_are_retried_until_the_timeout_then_raised(
    run: Runner, monkeypatch: pytest.MonkeyPatch, proxied: FaultProxy, inventory: InventoryAt
) -> None:
    """HTTP 500 on every DeleteTable: retried (it is transient), but not beyond the table's timeout."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # no botocore retries: every retry seen is this library's
    before = inventory().snapshot()
    resource = run.api.ephemeral_table("flaky", timeout=1)
    with pytest.raises(CleanupError) as caught:
        with run.enter(resource) as handle:
            proxied.add(faultproxy.server_error("dynamodb", "DeleteTable"))
    assert handle.name in str(caught.value)
    assert proxied.count("dynamodb", "DeleteTable", faulted=True) >= 2  # it was retried
    proxied.clear_rules()
    run.call(resource.delete())
    assert inventory().snapshot() == before


def test_ephemeral_all_reports_every_cleanup_failure_together(proxied: FaultProxy, inventory: InventoryAt) -> None:
    before = inventory().snapshot()
    resources: list[sandboxres.Ephemeral[Any]] = [
        sandboxres.ephemeral_table("all_a"),
        sandboxres.ephemeral_table("all_b"),
        sandboxres.ephemeral_queue(),
    ]
    with pytest.raises(CleanupError) as caught:
        with sandboxres.ephemeral_all(*resources) as (a, b, q):
            proxied.add(faultproxy.access_denied("dynamodb", "DeleteTable"))
    assert len(caught.value.errors) == 2
    assert a.name in str(caught.value) and b.name in str(caught.value)
    assert q.name not in str(caught.value)  # the queue was deleted
    proxied.clear_rules()
    for resource in resources:
        resource.delete()
    assert inventory().snapshot() == before


# ---------------------------------------------------------------------------------------------------------
# failures during create leave nothing behind


@pytest.mark.parametrize(
    "kind, options, service, operation",
    [
        ("table", {}, "dynamodb", "CreateTable"),
        ("table", {"ttl_attribute": "ttl"}, "dynamodb", "UpdateTimeToLive"),  # after the table exists
        ("bucket", {"versioning": True}, "s3", "PutBucketVersioning"),  # after the bucket exists
        ("queue", {"dead_letter": 3}, "sqs", "CreateQueue"),  # the DLQ exists, the main queue fails
    ],
)
def test_a_failing_create_deletes_what_it_made(
    run: Runner,
    proxied: FaultProxy,
    inventory: InventoryAt,
    kind: str,
    options: dict[str, Any],
    service: str,
    operation: str,
) -> None:
    before = inventory().snapshot()
    if kind == "queue":  # the first CreateQueue (the dead-letter queue) goes through untouched
        proxied.add(faultproxy.Rule(faultproxy.Fault(), service="sqs", operations="CreateQueue", times=1))
    proxied.add(faultproxy.access_denied(service, operation))
    resource = getattr(run.api, f"ephemeral_{kind}")("failing", **options)
    with pytest.raises(AWSCallError) as caught:
        with run.enter(resource):
            pytest.fail("the block must not run")
    assert resource.lifecycle.name in str(caught.value)
    assert operation in str(caught.value) or "AccessDenied" in str(caught.value)
    assert not getattr(caught.value, "sandboxres_cleanup_errors", [])
    assert inventory().snapshot() == before


# ---------------------------------------------------------------------------------------------------------
# keeping


def test_sandboxres_keep_keeps_the_resource(
    run: Runner, monkeypatch: pytest.MonkeyPatch, raw: Callable[..., Any]
) -> None:
    monkeypatch.setenv("SANDBOXRES_KEEP", "1")
    kept_before = sandboxres.STATS.kept
    with run.lifecycle("table", "kept") as t:
        name = t.name
    try:
        assert raw("dynamodb").describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
        assert sandboxres.STATS.kept == kept_before + 1
    finally:
        raw("dynamodb").delete_table(TableName=name)


def test_keep_false_wins_over_sandboxres_keep(
    run: Runner, monkeypatch: pytest.MonkeyPatch, inventory: InventoryAt
) -> None:
    monkeypatch.setenv("SANDBOXRES_KEEP", "1")
    before = inventory().snapshot()
    with run.lifecycle("bucket", "not_kept", keep=False):
        pass
    assert inventory().snapshot() == before


@pytest.mark.parametrize("kind", KINDS)
def test_keep_true_keeps_every_kind(run: Runner, kind: str, inventory: InventoryAt, raw: Callable[..., Any]) -> None:
    before = inventory().snapshot()
    with run.enter(_ephemeral(run, kind, "kept", keep=True)) as handle:
        pass
    left = inventory().snapshot() - before
    try:
        if kind == "table":
            assert left == {f"table us-east-1/{handle.name}"}
        elif kind == "bucket":
            assert left == {f"bucket {handle.name}"}
        else:
            assert left == {f"queue us-east-1/{handle.name}", f"queue us-east-1/{handle.dead_letter.name}"}
    finally:
        if kind == "table":
            raw("dynamodb").delete_table(TableName=handle.name)
        elif kind == "bucket":
            raw("s3").delete_bucket(Bucket=handle.name)
        else:
            for url in (handle.url, handle.dead_letter.url):
                raw("sqs").delete_queue(QueueUrl=url)
    assert inventory().snapshot() == before


# ---------------------------------------------------------------------------------------------------------
# never touch what is not ours


@pytest.mark.parametrize("kind, name", [("table", "users_prod"), ("bucket", "prod-data-0001"), ("queue", "orders")])
def test_delete_refuses_names_without_the_prefix(kind: str, name: str, raw: Callable[..., Any]) -> None:
    if kind == "table":
        raw("dynamodb").create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    elif kind == "bucket":
        raw("s3").create_bucket(Bucket=name)
    else:
        url = raw("sqs").create_queue(QueueName=name)["QueueUrl"]
    try:
        driver = SyncDriver(client_pool(active_target()))
        with pytest.raises(SpecError, match="prefix"):
            driver.run(RESOURCE_KINDS[kind].delete(RESOURCE_KINDS[kind].named(name), Progress(), 300.0))
        if kind == "table":
            assert raw("dynamodb").describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
        elif kind == "bucket":
            raw("s3").head_bucket(Bucket=name)
        else:
            raw("sqs").get_queue_attributes(QueueUrl=url)
    finally:
        if kind == "table":
            raw("dynamodb").delete_table(TableName=name)
        elif kind == "bucket":
            raw("s3").delete_bucket(Bucket=name)
        else:
            raw("sqs").delete_queue(QueueUrl=url)
