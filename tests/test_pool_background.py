"""Background recycling, on a moto server of the module's own over HTTP: giving a resource back returns at once;
the next caller waits for a recycling or creates anew by measured costs; a recycling that discards sends its
waiting caller to a new resource; closing stops the recyclings in progress and deletes everything."""

from __future__ import annotations

import time
from typing import Any

import pytest

import sandboxres
from sandboxres._kinds.base import RecycleLimits
from tests.support.inventory import Inventory


@pytest.fixture
def on_moto(emulator: str, monkeypatch: pytest.MonkeyPatch) -> Inventory:
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator)
    return Inventory(endpoint=emulator)


def _coming(pool: sandboxres.Pool) -> int:
    return sum(len(items) for items in pool._engine.state._coming.values())


def test_a_slow_queue_recycling_is_replaced_and_its_queue_reused_later(on_moto: Inventory) -> None:
    # recycling (3 s of settled counters, then a 1 s poll) is far slower than a creation, however loaded the machine
    with sandboxres.Pool(limits=RecycleLimits(settle_seconds=3.0)) as pool:
        with pool.queue("jobs") as first:
            pass
        assert _coming(pool) == 1, "giving back should return while the recycling runs"
        with pool.queue("jobs") as second:  # the recycling needs seconds, a creation milliseconds
            assert second.name != first.name
            assert on_moto.queue_exists(first.name)
        pool._engine.settle()
        with pool.queue("jobs") as third:  # both recycled meanwhile: one of them, proven empty
            assert third.name in {first.name, second.name}
        counters = pool.counters["queue"]
        assert (counters.created, counters.recycled, counters.discarded) == (2, 1, 0)
    assert not on_moto.prefixed_names()


def test_a_table_recycling_is_waited_for(on_moto: Inventory) -> None:
    with sandboxres.Pool() as pool:
        for _ in range(3):
            with pool.table("users") as t:
                t.table.put_item(Item={"pk": "a"})
        assert pool.counters["table"].created == 1  # each caller waited for the previous holder's recycling
        assert pool.counters["table"].recycled == 2
    assert not on_moto.prefixed_names()


def test_a_waited_for_recycling_that_discards_sends_the_caller_to_a_new_resource(on_moto: Inventory) -> None:
    with sandboxres.Pool() as pool:
        with pool.table("users") as first:
            first.client.update_time_to_live(
                TableName=first.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
            )
        with pool.table("users") as second:  # waits for the recycling, which discards: a new table
            assert second.name != first.name
            ttl = second.client.describe_time_to_live(TableName=second.name)["TimeToLiveDescription"]
            assert ttl["TimeToLiveStatus"] == "DISABLED"
        pool._engine.settle()
        assert on_moto.table_status(first.name) is None, "the discarded table was deleted"
        assert (pool.counters["table"].discarded, pool.counters["table"].recycled) == (1, 0)
    assert not on_moto.prefixed_names()


def test_close_stops_a_recycling_in_progress_and_deletes_its_resource(on_moto: Inventory) -> None:
    settle = 600.0  # a recycling that would settle for ten minutes unless the closing pool stops it
    pool = sandboxres.Pool(limits=RecycleLimits(settle_seconds=settle))
    with pool.queue("jobs") as q:
        pass
    assert _coming(pool) == 1
    started = time.monotonic()
    pool.close()
    assert time.monotonic() - started < settle / 10, "close waited for the recycling's settle time"
    assert not on_moto.queue_exists(q.name)
    assert not on_moto.prefixed_names()


def test_giving_back_after_close_deletes_at_once(on_moto: Inventory) -> None:
    pool = sandboxres.Pool()
    lease: Any = pool.table("late")
    handle = lease.__enter__()
    pool.close()
    lease.__exit__(None, None, None)
    assert on_moto.table_status(handle.name) is None
    assert pool.counters["table"].discarded == 1
