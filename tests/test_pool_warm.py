"""Warm pools (``Pool(warm=True)``) across runs, on a moto server of the module's own over HTTP (the shared
account): what one run releases the next one leases, clean; a lease whose holder vanished is taken over after it
expires and its resource recycled before use; idle resources past ``SANDBOXRES_POOL_IDLE`` are deleted; a warm pool
keeps its size; on the embedded emulator a warm pool is an in-run one."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

import sandboxres
import sandboxres.aio
from sandboxres import SpecError
from sandboxres._doors.warm_leases import WarmLeases
from sandboxres._leases.records import IDLE, LEASE_TABLE, LEASED, LeaseRecord
from sandboxres._runtime.clients import active_target, client_pool
from sandboxres._runtime.drivers import SyncDriver
from tests.support.inventory import Inventory
from tests.support.pool_residues import FAST


@pytest.fixture
def account(emulator: str, monkeypatch: pytest.MonkeyPatch) -> Inventory:
    """The module's moto server as the shared account, seen directly."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator)
    return Inventory(endpoint=emulator)


def _new_run(monkeypatch: pytest.MonkeyPatch, run_id: str) -> None:
    """What a new process would see: another run id (the target is resolved at each use)."""
    monkeypatch.setenv("SANDBOXRES_RUN_ID", run_id)


def _records(look: Inventory) -> dict[str, dict[str, Any]]:
    items = look.dynamodb.scan(TableName=LEASE_TABLE, ConsistentRead=True)["Items"]
    return {item["name"]["S"]: item for item in items}


def _one_run(items: int = 1) -> dict[str, Any]:
    """A run: one table (with ``items`` written), one bucket, one queue; the names it got, and its counters."""
    with sandboxres.Pool(warm=True, limits=FAST) as pool:
        with pool.table("users", range_key="sk") as t:
            assert t.table.scan(ConsistentRead=True)["Items"] == [], "a leased table held a previous run's items"
            for n in range(items):
                t.table.put_item(Item={"pk": f"a{n}", "sk": "b"})
        with pool.bucket("files") as b:
            assert b.client.list_objects_v2(Bucket=b.name).get("KeyCount", 0) == 0
            b.client.put_object(Bucket=b.name, Key="k", Body=b"x")
        with pool.queue("jobs") as q:
            pass
        return {
            "table": t.name,
            "bucket": b.name,
            "queue": q.name,
            "counters": {k: v.as_dict() for k, v in pool.counters.items()},
        }


def test_the_next_run_leases_what_the_first_released(account: Inventory, monkeypatch: pytest.MonkeyPatch) -> None:
    _new_run(monkeypatch, "first")
    first = _one_run()
    assert first["counters"]["table"]["created"] == 1
    records = _records(account)
    assert {first["table"], first["bucket"], first["queue"]} <= set(records)
    assert all(item["state"]["S"] == IDLE for item in records.values())
    assert account.table_status(first["table"]) == "ACTIVE", "a released resource was deleted"

    _new_run(monkeypatch, "second")
    second = _one_run()
    counters: Any = second["counters"]
    assert {k: second[k] for k in ("table", "bucket", "queue")} == {k: first[k] for k in ("table", "bucket", "queue")}
    assert [counters[k]["created"] for k in ("table", "bucket", "queue")] == [0, 0, 0]
    assert [counters[k]["leased"] for k in ("table", "bucket", "queue")] == [1, 1, 1]
    assert counters["table"]["saved_seconds"] > 0


def test_the_async_pool_leases_too(account: Inventory, monkeypatch: pytest.MonkeyPatch) -> None:
    _new_run(monkeypatch, "first")
    first = _one_run()

    async def main() -> tuple[str, Any]:
        async with sandboxres.aio.Pool(warm=True) as pool:
            async with pool.table("users", range_key="sk") as t:
                assert (await t.client.scan(TableName=t.name, ConsistentRead=True))["Items"] == []
                name = t.name
        return name, pool.counters["table"]

    import asyncio

    _new_run(monkeypatch, "second")
    name, counters = asyncio.run(main())
    assert name == first["table"] and (counters.created, counters.leased) == (0, 1)


def _leases() -> WarmLeases:
    """This run's side of the lease table, used directly (as another process would)."""
    target = active_target()
    return WarmLeases(target, SyncDriver(client_pool(target), refused_is_final=True))


def test_an_expired_lease_is_taken_over_and_its_resource_recycled_first(
    account: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _new_run(monkeypatch, "first")
    first = _one_run()
    # A holder that leases the table, writes into it, and vanishes without releasing (its lease lapses)
    monkeypatch.setenv("SANDBOXRES_POOL_LEASE", "1")
    _new_run(monkeypatch, "vanished")
    holder = _leases()
    record = next(r for r in _records_of(holder) if r.name == first["table"])
    taken = holder.lease(record.shape)
    assert taken is not None and taken.name == first["table"]
    holder.close()  # no heartbeat any more: as if the process were killed
    account.dynamodb.put_item(TableName=first["table"], Item={"pk": {"S": "left"}, "sk": {"S": "behind"}})

    monkeypatch.delenv("SANDBOXRES_POOL_LEASE")
    _new_run(monkeypatch, "before-expiry")
    with sandboxres.Pool(warm=True) as pool, pool.table("users", range_key="sk") as t:
        assert t.name != first["table"], "a live lease was taken"  # 1 s has not passed yet: a new table
    time.sleep(1.2)
    _new_run(monkeypatch, "after-expiry")
    with sandboxres.Pool(warm=True) as pool:
        # both idle tables of the shape at once: the one released before and the taken-over one
        with pool.table("users", range_key="sk") as a, pool.table("users", range_key="sk") as b:
            for t in (a, b):
                assert t.table.scan(ConsistentRead=True)["Items"] == [], "a dirty table was handed out"
        counters = pool.counters["table"]
    assert first["table"] in {a.name, b.name}
    assert (counters.created, counters.leased) == (0, 2)


def _records_of(leases: WarmLeases) -> list[LeaseRecord]:
    from sandboxres._leases.plans import read_records

    leases.open()
    return leases._driver.run(read_records())


def test_idle_resources_past_their_age_are_deleted_by_the_next_run(
    account: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _new_run(monkeypatch, "first")
    first = _one_run()
    time.sleep(1.1)
    monkeypatch.setenv("SANDBOXRES_POOL_IDLE", "1s")
    _new_run(monkeypatch, "second")
    with sandboxres.Pool(warm=True) as pool, pool.queue("other") as q:  # another shape: the old ones only expire
        pass
    left = set(_records(account))
    assert left == {q.name}
    assert account.table_status(first["table"]) is None
    assert not account.queue_exists(first["queue"])


def test_a_warm_pool_keeps_its_size(account: Inventory, monkeypatch: pytest.MonkeyPatch) -> None:
    _new_run(monkeypatch, "first")
    with sandboxres.Pool(warm=True) as pool:
        with pool.table("ttl") as t:
            t.client.update_time_to_live(
                TableName=t.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
            )  # discarded at give-back: a replacement is created for the next run
        pool._engine.settle()
        counters = pool.counters["table"]
    assert (counters.created, counters.discarded) == (2, 1)
    records = _records(account)
    assert t.name not in records and len(records) == 1
    assert account.table_status(t.name) is None


def test_on_the_embedded_emulator_a_warm_pool_is_an_in_run_one(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="sandboxres"), sandboxres.Pool(warm=True) as pool:
        with pool.table("users") as t:
            pass
    assert any("embedded emulator" in r.getMessage() for r in caplog.records)
    assert pool.counters["table"].released == 0
    look = Inventory()
    assert look.table_status(t.name) is None
    assert LEASE_TABLE not in look.tables("test_")


@pytest.mark.parametrize("warm", ["yes", 1, None])
def test_warm_must_be_a_bool(warm: Any) -> None:
    with pytest.raises(SpecError, match="warm must be True or False"):
        sandboxres.Pool(warm=warm)
    with pytest.raises(SpecError, match="warm must be True or False"):
        sandboxres.aio.Pool(warm=warm)


def test_a_lease_lost_to_another_run_is_dropped_not_deleted(
    account: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOXRES_POOL_LEASE", "0.6")
    _new_run(monkeypatch, "hung")
    pool = sandboxres.Pool(warm=True)
    block = pool.table("users")
    t = block.__enter__()
    hung = pool._engine.warm.leases
    assert hung is not None
    hung.close()  # its heartbeat stops while the block runs: the lease lapses
    time.sleep(0.8)
    _new_run(monkeypatch, "taker")
    taker = _leases()
    record = next(r for r in _records_of(taker) if r.name == t.name)
    assert record.state == LEASED and taker.lease(record.shape) is not None
    taker.close()
    hung.renew_all()  # the hung run's next heartbeat finds the lease taken over
    block.__exit__(None, None, None)
    pool.close()
    assert account.table_status(t.name) == "ACTIVE", "a resource another run holds was deleted"
    now = next(r for r in _records_of(taker) if r.name == t.name)
    assert (now.state, now.holder) == (LEASED, "taker"), "the run that lost the lease released it anyway"


def test_on_dynalite_the_lease_table_and_tables_wait_like_on_aws(
    dynalite: str, emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dynalite keeps tables CREATING for 2 s: the lease table's creation is waited for, and the next run leases
    the table the first released. dynalite keeps no tags, so ``drain`` cannot prove the table is the library's and
    refuses to delete it (the test deletes what it made)."""
    from sandboxres._doors.warm_status import drain

    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynalite)
    tables = Inventory(endpoint=dynalite)
    names = []
    try:
        for run in ("first", "second"):
            _new_run(monkeypatch, run)
            with sandboxres.Pool(warm=True) as pool, pool.table("users") as t:
                assert t.table.scan(ConsistentRead=True)["Items"] == []
                t.table.put_item(Item={"pk": run})
                names.append(t.name)
        assert names[0] == names[1]
        assert (pool.counters["table"].created, pool.counters["table"].leased) == (0, 1)
        drained = drain(dry_run=False)
        assert [(r.name, r.status) for r in drained.resources] == [(names[0], "failed")]
        assert "sandboxres:managed" in str(drained.resources[0].error)
        assert tables.table_status(names[0]) == "ACTIVE"
    finally:
        made = {*names, LEASE_TABLE} & tables.tables("test_")
        for name in made:
            tables.dynamodb.delete_table(TableName=name)
        for name in made:
            tables.dynamodb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})
