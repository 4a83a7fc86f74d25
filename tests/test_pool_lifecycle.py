"""Pool lifecycle guarantees, sync and async, on a moto server of the module's own over HTTP (the shape and the
exception tests on the target the run was started with, when it was: the ``emulators`` session of ``noxfile.py``
runs them on dynalite and local-aws-sqs; see the ``pool_target`` fixture).

Shapes never mix; a block that raises gives back a resource that is recycled or discarded, never dirty; Ctrl-C
discards and deletes at once; a cancelled async holder (or acquisition) discards; closing deletes everything,
creations in progress included; ``keep=True`` / ``SANDBOXRES_KEEP=1`` keep; pooled resources carry
``sandboxres:pooled=true`` and the sweeper finds a leftover one; with the fault proxy, a failing recycling
discards and logs, and a failing deletion is reported (``CleanupError``) when the pool closes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import sandboxres
import sandboxres._safety.registry as _registry
import sandboxres.aio
from sandboxres import TAG_MANAGED, TAG_POOLED, CleanupError
from sandboxres._simulator import FaultProxy, access_denied
from tests.support.inventory import Inventory
from tests.support.pool_residue_kinds import observe_table
from tests.support.pool_residues import FAST, PoolTarget, lease, open_pool
from tests.support.runner import Runner, SyncRunner


@pytest.fixture
def on_moto(emulator: str, monkeypatch: pytest.MonkeyPatch) -> Inventory:
    """The target is the module's moto server (emptied around the test); what it holds, seen directly."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator)
    return Inventory(endpoint=emulator)


def _put(run: Runner, t: Any) -> None:
    run.call(t.client.put_item(TableName=t.name, Item={"pk": {"S": "a"}}))


# (kind, label and options of shape A, of shape B): B must never be handed a resource of A.
SHAPES = [
    pytest.param("table", ("s", {"range_key": "sk"}), ("s", {}), id="range-key-or-not"),
    pytest.param("table", ("a", {}), ("b", {}), id="label-or-label"),
    pytest.param("queue", ("q", {"fifo": True}), ("q", {}), id="fifo-or-not", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("kind", "a", "b"), SHAPES)
def test_shapes_never_mix(
    run: Runner, pool_target: PoolTarget, request: pytest.FixtureRequest, kind: str, a: Any, b: Any
) -> None:
    case = request.node.callspec.id  # the mode and the pair of shapes
    label_a, label_b = (pool_target.label(label, case) for label in (a[0], b[0]))
    with open_pool(run) as pool:
        with lease(run, pool, kind, label_a, **a[1]) as first:
            pass
        with lease(run, pool, kind, label_b, **b[1]) as other:
            assert other.name != first.name
        with lease(run, pool, kind, label_a, **a[1]) as again:
            assert again.name == first.name  # the idle one of its shape
        with lease(run, pool, kind, label_b, **b[1]) as other_again:
            assert other_again.name == other.name
    pool_target.assert_nothing_left(label_a, label_b)


def test_an_exception_in_the_block_never_leaves_it_dirty(run: Runner, pool_target: PoolTarget) -> None:
    label = pool_target.label("raises", run.mode)
    with open_pool(run) as pool:
        with pytest.raises(ValueError, match="boom"), lease(run, pool, "table", label) as first:
            _put(run, first)
            raise ValueError("boom")
        with lease(run, pool, "table", label) as second:
            assert observe_table(run, second, pool_target.look) == []
        counters = pool.counters["table"]
        assert counters.recycled + counters.discarded == 1
    pool_target.assert_nothing_left(label)


def test_ctrl_c_discards_and_deletes_at_once(run: Runner, on_moto: Inventory) -> None:
    with open_pool(run) as pool:
        with pytest.raises(KeyboardInterrupt), lease(run, pool, "table", "interrupted") as first:
            _put(run, first)
            raise KeyboardInterrupt
        assert on_moto.table_status(first.name) is None, "deleted before the pool closes"
        assert pool.counters["table"].discarded == 1
        with lease(run, pool, "table", "interrupted") as second:
            assert second.name != first.name
    assert not on_moto.prefixed_names()


def test_a_cancelled_async_holder_discards(on_moto: Inventory) -> None:
    async def main() -> tuple[str, sandboxres.aio.Pool]:
        pool = sandboxres.aio.Pool(limits=FAST)
        entered = asyncio.Event()
        names: list[str] = []

        async def holder() -> None:
            async with pool.table("cancelled") as t:
                await t.client.put_item(TableName=t.name, Item={"pk": {"S": "a"}})
                names.append(t.name)
                entered.set()
                await asyncio.sleep(60)

        task = asyncio.create_task(holder())
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert on_moto.table_status(names[0]) is None, "deleted at once"
        async with pool.table("cancelled") as t:
            assert t.name != names[0]
        await pool.close()
        return names[0], pool

    _, pool = asyncio.run(main())
    assert pool.counters["table"].discarded == 1
    assert not on_moto.prefixed_names()


def test_an_acquisition_cancelled_while_creating_discards(
    through_proxy: FaultProxy, emulator: str, hold_reply: Callable[..., threading.Event]
) -> None:
    created = hold_reply(through_proxy, "dynamodb", "CreateTable", 1.0)  # the creation is surely under way

    async def main() -> sandboxres.aio.Pool:
        pool = sandboxres.aio.Pool(limits=FAST)

        async def holder() -> None:
            async with pool.table("early"):
                raise AssertionError("the block must not run")

        task = asyncio.create_task(holder())
        assert await asyncio.to_thread(created.wait, 10.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await pool.close()  # waits for the creation, then deletes what it made
        return pool

    pool = asyncio.run(main())
    assert pool.counters["table"].discarded == 1
    assert not Inventory(endpoint=emulator).prefixed_names()


@pytest.mark.slow
def test_close_deletes_everything_even_while_preparing(run: Runner, on_moto: Inventory) -> None:
    with open_pool(run) as pool:
        with lease(run, pool, "queue", "idle") as q:
            pass
        pool.prepare_table("prepared", count=2, range_key="sk")
        pool.prepare_bucket("prepared", count=2)
        pool.prepare_queue("prepared", count=1, dead_letter=2)
    assert not on_moto.prefixed_names(), "closing left resources behind"
    assert not on_moto.queue_exists(q.name)


@pytest.mark.parametrize("how", ["keep=True", "SANDBOXRES_KEEP=1"])
def test_keep_keeps_the_pools_resources(
    run: Runner, on_moto: Inventory, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {"keep": True} if how == "keep=True" else {}
    if how == "SANDBOXRES_KEEP=1":
        monkeypatch.setenv("SANDBOXRES_KEEP", "1")
    with open_pool(run) as pool:
        with lease(run, pool, "table", "kept", **options) as t:
            pass
        with lease(run, pool, "bucket", "kept", **options) as b:
            pass
    assert on_moto.table_status(t.name) == "ACTIVE"
    assert on_moto.bucket_exists(b.name)
    on_moto.dynamodb.delete_table(TableName=t.name)
    on_moto.s3.delete_bucket(Bucket=b.name)


def _tags(look: Inventory, kind: str, handle: Any) -> dict[str, str]:
    if kind == "table":
        arn = look.dynamodb.describe_table(TableName=handle.name)["Table"]["TableArn"]
        return {t["Key"]: t["Value"] for t in look.dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]}
    if kind == "bucket":
        return {t["Key"]: t["Value"] for t in look.s3.get_bucket_tagging(Bucket=handle.name)["TagSet"]}
    return dict(look.sqs.list_queue_tags(QueueUrl=handle.url)["Tags"])


@pytest.mark.parametrize("kind", ["table", "bucket", "queue"])
def test_pooled_resources_are_tagged_and_swept(on_moto: Inventory, kind: str) -> None:
    run = SyncRunner()
    with open_pool(run) as pool, lease(run, pool, kind, "leftover", keep=True) as handle:
        tags = _tags(on_moto, kind, handle)
    assert tags[TAG_POOLED] == "true" and tags[TAG_MANAGED] == "true"
    found = sandboxres.sweep(older_than="0s", dry_run=True, kinds=kind)
    assert [r.name for r in found.resources] == [handle.name]
    swept = sandboxres.sweep(older_than="0s", dry_run=False, kinds=kind)
    assert swept.deleted == 1
    assert not on_moto.exists(kind, handle.name)


# ---------------------------------------------------------------------------------------------------------
# failures, with the fault proxy


@pytest.fixture
def through_proxy(proxy: FaultProxy, emulator: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    proxy.clear()
    yield proxy
    proxy.clear()


@pytest.mark.parametrize(
    ("kind", "service", "operation"),
    [
        ("table", "dynamodb", "DescribeTimeToLive"),
        ("bucket", "s3", "GetBucketCors"),
        ("queue", "sqs", "ListDeadLetterSourceQueues"),
    ],
)
def test_a_failed_recycling_discards_and_logs(
    run: Runner,
    through_proxy: FaultProxy,
    emulator: str,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    service: str,
    operation: str,
) -> None:
    caplog.set_level(logging.INFO, logger="sandboxres")
    with open_pool(run) as pool:
        with lease(run, pool, kind, "failing") as first:
            through_proxy.add(access_denied(service, operation, times=1))  # on its recycling
        with lease(run, pool, kind, "failing") as second:
            assert second.name != first.name, "a resource whose recycling failed was handed out again"
        assert through_proxy.count(service, operation, faulted=True) == 1
        assert pool.counters[kind].discarded == 1
    assert any("recycling" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)
    assert not Inventory(endpoint=emulator).prefixed_names()


def test_a_failed_deletion_is_reported_when_the_pool_closes(
    run: Runner, through_proxy: FaultProxy, emulator: str
) -> None:
    upstream = Inventory(endpoint=emulator)
    with pytest.raises(CleanupError) as raised, open_pool(run) as pool:
        with lease(run, pool, "table", "undeletable") as t:
            pass
        through_proxy.add(access_denied("dynamodb", "DeleteTable"))
    assert t.name in str(raised.value)
    assert upstream.table_status(t.name) == "ACTIVE"
    through_proxy.clear_rules()
    upstream.dynamodb.delete_table(TableName=t.name)
    for lifecycle in _registry.live():  # deleted by hand: the exit cleanup has nothing left to do
        if lifecycle.name == t.name:
            _registry.unregister(lifecycle)


@pytest.mark.parametrize("finished_before_close", [True, False])
def test_a_failed_preparation_that_left_a_resource_is_reported_when_the_pool_closes(
    monkeypatch: pytest.MonkeyPatch, finished_before_close: bool
) -> None:
    """A creation that failed and could not delete what it made carries a CleanupError: the pool reports it at close,
    whether the preparation ended before the close or during it (never swallowed)."""
    from sandboxres._doors.pool import PoolEngine
    from sandboxres._engine.errors import attach_cleanup_failure

    left = CleanupError("table test_left_0123456789abcdef", [RuntimeError("DeleteTable denied")])
    release = threading.Event()

    def failing_create(self: PoolEngine, spec: Any) -> Any:
        if not finished_before_close:
            release.wait(5.0)
        error = RuntimeError("CreateTable failed")
        attach_cleanup_failure(error, left)
        raise error

    monkeypatch.setattr(PoolEngine, "create", failing_create)
    pool = sandboxres.Pool()
    pool.prepare_table("left")
    if finished_before_close:  # wait (at most 5 s) until the preparation's done-callback has recorded it
        for _ in range(500):
            if pool._engine._left_by_preparations:
                break
            threading.Event().wait(0.01)
    else:
        threading.Timer(0.2, release.set).start()
    with pytest.raises(CleanupError) as raised:
        pool.close()
    assert raised.value is left
