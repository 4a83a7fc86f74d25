"""Cancelling an async block at each phase leaves nothing behind: during the create call, during the readiness
wait (dynalite keeps tables CREATING like AWS), during use, during deletion, and under asyncio.wait_for."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

import sandboxres.aio as aio
from sandboxres._simulator import FaultProxy
from tests.support.inventory import InventoryAt


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch, fault_proxy: Callable[[str], FaultProxy], embedded_url: str) -> FaultProxy:
    """A fault proxy in front of the embedded emulator, made the target through AWS_ENDPOINT_URL."""
    proxy = fault_proxy(embedded_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    return proxy


@pytest.fixture
def on_dynalite(monkeypatch: pytest.MonkeyPatch, dynalite: str, raw: Callable[..., Any]) -> Any:
    """DynamoDB on dynalite (tables stay CREATING for 2 s); returns a plain client on it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynalite)
    return raw("dynamodb", dynalite)


async def _until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait (without blocking the event loop) until ``predicate()`` - run in a thread - is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(predicate):
        assert loop.time() < deadline, "the condition never came true"
        await asyncio.sleep(0.02)


def _test_tables(client: Any) -> list[str]:
    return [n for n in client.list_tables()["TableNames"] if n.startswith("test_")]


KINDS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "table": ("dynamodb", "CreateTable", {}),
    "bucket": ("s3", "CreateBucket", {"versioning": True}),
    "queue": ("sqs", "CreateQueue", {"dead_letter": 2}),
}


@pytest.mark.parametrize("kind", KINDS)
async def test_cancelled_during_the_create_call(
    kind: str, proxied: FaultProxy, hold_reply: Callable[..., threading.Event], inventory: InventoryAt
) -> None:
    """The create call reached the emulator and was carried out; its answer is late; the task is cancelled."""
    service, operation, options = KINDS[kind]
    before = inventory().snapshot()
    done = hold_reply(proxied, service, operation, seconds=2.0)
    resource = getattr(aio, f"ephemeral_{kind}")("cancel_create", **options)

    async def use() -> None:
        async with resource:
            pytest.fail("the block must not run")

    task = asyncio.create_task(use())
    await _until(done.is_set)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert resource.lifecycle.state == "deleted"
    assert inventory().snapshot() == before


async def test_cancelled_during_the_readiness_wait(on_dynalite: Any) -> None:
    resource = aio.ephemeral_table("cancel_wait")

    async def use() -> None:
        async with resource:
            pytest.fail("the block must not run")

    task = asyncio.create_task(use())
    await _until(lambda: bool(_test_tables(on_dynalite)))  # created, and CREATING for 2 s
    assert resource.lifecycle.state == "creating"  # so the task is waiting for ACTIVE
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _test_tables(on_dynalite) == []  # deleted, and waited for until gone, before the cancellation went on


async def test_wait_for_timeout_during_the_readiness_wait(on_dynalite: Any) -> None:
    async def use() -> None:
        async with aio.ephemeral_table("wait_for"):
            pytest.fail("the block must not run: the table is CREATING for longer than the timeout")

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(use(), timeout=0.5)
    assert _test_tables(on_dynalite) == []


async def test_cancelled_during_use(inventory: InventoryAt) -> None:
    before = inventory().snapshot()
    entered = asyncio.Event()

    async def use() -> None:
        async with aio.ephemeral_table("cancel_use") as t, aio.ephemeral_queue("cancel_use") as q:
            await t.client.put_item(TableName=t.name, Item={"pk": {"S": "x"}})
            await q.client.send_message(QueueUrl=q.url, MessageBody="x")
            entered.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(use())
    await asyncio.wait_for(entered.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert inventory().snapshot() == before


async def test_wait_for_timeout_during_use(inventory: InventoryAt) -> None:
    before = inventory().snapshot()
    entered: list[str] = []

    async def use() -> None:
        async with aio.ephemeral_bucket("timed_out") as b:
            await b.client.put_object(Bucket=b.name, Key="k", Body=b"v")
            entered.append(b.name)
            await asyncio.sleep(60)

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(use(), timeout=2.0)
    assert entered, "the timeout struck before the block was entered"
    assert inventory().snapshot() == before


async def test_cancelled_during_deletion_still_deletes(on_dynalite: Any) -> None:
    """Deletion is shielded: a cancellation that arrives while the table is DELETING waits for it to go."""
    leaving = asyncio.Event()
    resource = aio.ephemeral_table("cancel_delete")

    async def use() -> None:
        async with resource:
            leaving.set()

    task = asyncio.create_task(use())
    await asyncio.wait_for(leaving.wait(), 30)
    # The task has left the block and is awaiting the deletion (the table stays DELETING for a while).
    assert resource.lifecycle.state == "live"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert resource.lifecycle.state == "deleted"
    assert _test_tables(on_dynalite) == []


async def test_ephemeral_all_cancelled_during_creation(on_dynalite: Any) -> None:
    async def use() -> None:
        async with aio.ephemeral_all(*(aio.ephemeral_table(f"all_{i}") for i in range(4))):
            pytest.fail("the block must not run")

    task = asyncio.create_task(use())
    await _until(lambda: len(_test_tables(on_dynalite)) == 4)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _test_tables(on_dynalite) == []
