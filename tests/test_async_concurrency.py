"""Many resources at once: 30+ tables through asyncio.gather, aio.ephemeral_all, AsyncExitStack and the sync
ephemeral_all (threads); and the bound set by set_table_concurrency, observed while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

import sandboxres
import sandboxres.aio as aio
from sandboxres import _simulator as faultproxy
from sandboxres._runtime.table_slots import TABLE_SLOTS
from sandboxres._simulator import FaultProxy
from tests.support.inventory import Inventory, InventoryAt

N = 32


def _names(inventory_result: Inventory) -> set[str]:
    return set(inventory_result.tables())


async def _round_trip(t: Any, value: str) -> None:
    await t.client.put_item(TableName=t.name, Item={"pk": {"S": value}})
    got = await t.client.get_item(TableName=t.name, Key={"pk": {"S": value}}, ConsistentRead=True)
    assert got["Item"]["pk"]["S"] == value


async def test_gather_of_independent_blocks(inventory: InventoryAt) -> None:
    seen: list[str] = []

    async def one(i: int) -> None:
        async with aio.ephemeral_table(f"gather_{i}") as t:
            seen.append(t.name)
            await _round_trip(t, str(i))
            await asyncio.sleep(0.05)  # let the blocks overlap

    await asyncio.gather(*(one(i) for i in range(N)))
    assert len(set(seen)) == N
    assert not set(seen) & _names(inventory())


async def test_aio_ephemeral_all(inventory: InventoryAt) -> None:
    resources: list[aio.AsyncEphemeral[Any]] = [aio.ephemeral_table(f"all_{i}") for i in range(N)]
    resources += [aio.ephemeral_bucket("all"), aio.ephemeral_queue("all", fifo=True)]
    async with aio.ephemeral_all(*resources) as handles:
        *tables, bucket, queue = handles
        assert len({t.name for t in tables}) == N
        assert bucket.name.startswith("test-all-") and queue.name.endswith(".fifo")  # handles in argument order
        assert all(t.name in _names(inventory()) for t in tables)
        await asyncio.gather(*(_round_trip(t, t.name) for t in tables))
    assert not {t.name for t in tables} & _names(inventory())


async def test_async_exit_stack(inventory: InventoryAt) -> None:
    async with contextlib.AsyncExitStack() as stack:
        tables = await asyncio.gather(*(stack.enter_async_context(aio.ephemeral_table(f"stack_{i}")) for i in range(N)))
        assert {t.name for t in tables} <= _names(inventory())
        await asyncio.gather(*(_round_trip(t, "x") for t in tables))
    assert not {t.name for t in tables} & _names(inventory())


def test_sync_ephemeral_all_with_threads(inventory: InventoryAt) -> None:
    resources = [sandboxres.ephemeral_table(f"threads_{i}") for i in range(N)]
    with sandboxres.ephemeral_all(*resources, max_workers=8) as tables:
        assert len({t.name for t in tables}) == N
        for t in tables:
            t.table.put_item(Item={"pk": t.name})
        assert {t.name for t in tables} <= _names(inventory())
    assert not {t.name for t in tables} & _names(inventory())


@pytest.mark.parametrize("api", [sandboxres, aio], ids=["sync", "async"])
async def test_ephemeral_all_deletes_the_others_when_one_creation_fails(
    api: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    fault_proxy: Callable[[str], FaultProxy],
    embedded_url: str,
    inventory: InventoryAt,
) -> None:
    proxy = fault_proxy(embedded_url)
    proxy.add(faultproxy.access_denied("dynamodb", "CreateTable", resource=lambda name: "_fails_" in name))
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    before = inventory().snapshot()
    resources = [api.ephemeral_table(f"fine_{i}") for i in range(3)] + [api.ephemeral_table("fails")]
    with pytest.raises(sandboxres.AWSCallError, match="test_fails_"):
        if api is aio:
            async with aio.ephemeral_all(*resources):
                pytest.fail("the block must not run")
        else:
            with sandboxres.ephemeral_all(*resources):
                pytest.fail("the block must not run")
    assert proxy.count("dynamodb", "CreateTable") == 4
    assert inventory().snapshot() == before


# ---------------------------------------------------------------------------------------------------------
# the bound on table operations in flight


class Sampler:
    """Samples TABLE_SLOTS.in_use from a thread while the work runs."""

    def __init__(self) -> None:
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, TABLE_SLOTS.in_use)
            self.samples += 1
            time.sleep(0.001)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _peak_tables_in_flight(proxy: FaultProxy) -> int:
    """The most distinct tables the emulator saw requests for at one moment (from the proxy's records)."""
    events = []
    for r in proxy.seen("dynamodb"):
        if r.resource and r.operation in ("CreateTable", "DescribeTable", "DeleteTable"):
            events.append((r.started, r.started + r.duration, r.resource))
    peak = 0
    for start, _, _ in events:
        peak = max(peak, len({name for s, e, name in events if s <= start < e}))
    return peak


@pytest.fixture
def slow_dynamodb(
    monkeypatch: pytest.MonkeyPatch, fault_proxy: Callable[[str], FaultProxy], embedded_url: str
) -> FaultProxy:
    """The target behind a recording proxy that adds 80 ms to every DynamoDB call, so operations overlap."""
    proxy = fault_proxy(embedded_url)
    proxy.add(faultproxy.latency(0.08, "dynamodb"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    return proxy


async def test_set_table_concurrency_bounds_async_table_operations(
    table_concurrency: Callable[[int], None], slow_dynamodb: FaultProxy, inventory: InventoryAt
) -> None:
    table_concurrency(3)

    async def one(i: int) -> None:
        async with aio.ephemeral_table(f"bounded_{i}"):
            pass

    with Sampler() as sampler:
        await asyncio.gather(*(one(i) for i in range(10)))
    assert sampler.samples > 10
    assert sampler.peak == 3, f"at most 3 table operations at once, and 10 blocks reach the bound (saw {sampler.peak})"
    assert 1 <= _peak_tables_in_flight(slow_dynamodb) <= 3
    assert slow_dynamodb.count("dynamodb", "CreateTable") == 10
    assert TABLE_SLOTS.in_use == 0


def test_set_table_concurrency_bounds_threads_too(
    table_concurrency: Callable[[int], None], slow_dynamodb: FaultProxy
) -> None:
    table_concurrency(3)
    with Sampler() as sampler:
        with sandboxres.ephemeral_all(*(sandboxres.ephemeral_table(f"bounded_{i}") for i in range(10))):
            pass
    assert sampler.peak == 3
    assert 1 <= _peak_tables_in_flight(slow_dynamodb) <= 3
    assert TABLE_SLOTS.in_use == 0


def test_set_table_concurrency_rejects_bad_values(table_concurrency: Callable[[int], None]) -> None:
    for bad in (0, -1, 1.5, "3", True):
        with pytest.raises(ValueError):
            table_concurrency(bad)  # type: ignore[arg-type]  # a float, a str and a bool: each refused
