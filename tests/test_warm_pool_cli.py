"""Warm pools from the outside: ``sandboxres pool status`` and ``sandboxres pool drain``, and the sweeper's rule
for them (a leased resource and a lease table holding records are in use; an idle resource is aged by how long it
has been idle).

A warm pool is made by real ``Pool(warm=True)`` runs against a moto server of this module, over HTTP; the verbs
run through the command line's ``main`` in this process, against the same server.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

import sandboxres
from sandboxres import sweep
from sandboxres._doors.cli import main
from sandboxres._leases.records import LEASE_TABLE
from tests.support.inventory import Inventory, raw_client

TWO_HOURS = 7200.0


@pytest.fixture
def target(emulator_target: str) -> str:
    """The module's moto server, empty, as the target of this process."""
    return emulator_target


def warm_run() -> tuple[str, str, str]:
    """A warm pool's run that uses a table and a queue with a dead-letter queue and leaves them idle."""
    with sandboxres.Pool(warm=True) as pool:
        with pool.table("users") as table:
            table.table.put_item(Item={"pk": "a"})
        with pool.queue("jobs", dead_letter=1) as queue:
            assert queue.dead_letter is not None
            names = (table.name, queue.name, queue.dead_letter.name)
    return names


@contextlib.contextmanager
def holding_a_table() -> Iterator[str]:
    """A warm pool's run in progress, holding an ``orders`` table (leased by this run until the block ends)."""
    with sandboxres.Pool(warm=True) as pool, pool.table("orders") as table:
        yield table.name


def records(url: str) -> dict[str, dict[str, Any]]:
    """The lease table's items, by key, read with a plain client."""
    items = raw_client("dynamodb", url).scan(TableName=LEASE_TABLE, ConsistentRead=True)["Items"]
    return {item["resource"]["S"]: item for item in items}


def idle_for(url: str, kind: str, name: str, seconds: float) -> None:
    """Make a record say its resource was released ``seconds`` ago."""
    dynamodb = raw_client("dynamodb", url)
    items = dynamodb.scan(TableName=LEASE_TABLE, ConsistentRead=True)["Items"]
    item = next(i for i in items if i["resource"]["S"] == f"{kind}#{name}")
    dynamodb.update_item(
        TableName=LEASE_TABLE,
        Key={"shape": item["shape"], "resource": item["resource"]},
        UpdateExpression="SET idle_since = :since",
        ExpressionAttributeValues={":since": {"N": f"{time.time() - seconds:.3f}"}},
    )


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.mark.slow  # about ten seconds, not Python-version specific
def test_status_drain_dry_run_and_drain(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    table, queue, dead_letter = warm_run()
    run_id = sandboxres.describe_target().run_id
    inventory = Inventory(target)
    with holding_a_table() as orders:
        code, out = cli(capsys, "pool", "status", "--json")
        assert code == 0, out
        report = json.loads(out)
        assert report["lease_table"] == LEASE_TABLE and report["dry_run"] is None
        assert report["summary"] == {"resources": 3, "idle": 2, "leased": 1, "expired": 0}
        by_kind = {(s["kind"], s["resources"][0]["name"]): s for s in report["shapes"]}
        assert set(by_kind) == {("table", table), ("queue", queue), ("table", orders)}
        users = by_kind[("table", table)]
        assert "label='users'" in users["shape"] and (users["idle"], users["leased"]) == (1, 0)
        assert users["resources"][0]["state"] == "idle" and users["resources"][0]["clean"] is True
        assert users["resources"][0]["idle_since"].endswith("Z") and users["resources"][0]["expires_in"] is None
        held = by_kind[("table", orders)]["resources"][0]
        assert (held["state"], held["holder"], held["idle_since"]) == ("leased", run_id, None)
        assert held["expires_in"] > 0

        code, text = cli(capsys, "pool", "status")
        assert code == 0
        assert f"  idle     {table}" in text and f"  leased   {orders}" in text and f"by run {run_id}" in text
        assert "table TableSpec(label='users'" in text and "1 idle, 0 leased, 0 expired" in text
        assert "summary: 3 resource(s): 2 idle, 1 leased, 0 expired" in text

        before = (inventory.snapshot(), records(target))
        code, out = cli(capsys, "pool", "drain", "--json")
        assert code == 0, out
        dry = json.loads(out)
        statuses = {r["name"]: r["status"] for s in dry["shapes"] for r in s["resources"]}
        assert statuses == {table: "would delete", queue: "would delete", orders: "in use"}
        assert dry["dry_run"] is True and dry["summary"]["would_delete"] == 2
        assert (inventory.snapshot(), records(target)) == before, "a dry run changed something"
        code, text = cli(capsys, "pool", "drain")
        assert "dry run: nothing is deleted" in text and "summary: would delete 2, in use 1, failed 0" in text

        code, out = cli(capsys, "pool", "drain", "--yes", "--json")
        assert code == 0, out
        done = json.loads(out)
        statuses = {r["name"]: r["status"] for s in done["shapes"] for r in s["resources"]}
        assert statuses == {table: "deleted", queue: "deleted", orders: "in use"}
        assert set(records(target)) == {f"table#{orders}"}
        assert inventory.tables() == {orders, LEASE_TABLE}
        assert not inventory.queues() & {queue, dead_letter}
    # The held table went back to the warm pool when its run ended: a second drain takes it.
    code, text = cli(capsys, "pool", "drain", "--yes")
    assert code == 0 and "summary: deleted 1, in use 0, failed 0" in text, text
    assert records(target) == {} and inventory.tables() == {LEASE_TABLE}
    code, text = cli(capsys, "pool", "status")
    assert "summary: 0 resource(s)" in text


def test_status_without_a_lease_table(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = cli(capsys, "pool", "status")
    assert code == 0 and f"no warm pool: the lease table {LEASE_TABLE} does not exist" in text
    code, out = cli(capsys, "pool", "drain", "--yes", "--json")
    assert code == 0 and json.loads(out)["lease_table"] is None


@pytest.mark.slow  # about ten seconds, not Python-version specific
def test_sweep_leaves_leased_resources_and_the_lease_table_and_ages_idle_ones_by_idle_time(target: str) -> None:
    table, queue, dead_letter = warm_run()
    inventory = Inventory(target)
    with holding_a_table() as orders:
        # Created seconds ago, but idle for two hours: old enough for a sweep of what is older than an hour.
        idle_for(target, "table", table, TWO_HOURS)
        idle_for(target, "queue", queue, TWO_HOURS)
        report = sweep(older_than="0s")
        reasons = {i.name: i.reason for i in report.ignored}
        assert orders not in {r.name for r in report.resources}
        assert reasons[orders].startswith("in use: leased from the warm pool by run ")
        assert reasons[LEASE_TABLE].startswith("in use: the warm pools' lease table (it holds 3 record(s))")
        assert reasons[dead_letter] == f"goes with queue {queue} of the warm pool"

        report = sweep(older_than="1h", dry_run=False)
        assert report.ok, report.as_dict()
        swept = {(r.kind, r.name): r for r in report.resources}
        assert set(swept) == {("table", table), ("queue", queue)}
        assert all(r.status == "deleted" and r.age_seconds >= TWO_HOURS - 60 for r in swept.values())
        assert set(records(target)) == {f"table#{orders}"}, "the swept resources' records must go"
        assert inventory.tables() == {orders, LEASE_TABLE}
        assert not inventory.queues() & {queue, dead_letter}

    # Released just now: idle for seconds, so not older than an hour; the lease table holds its record.
    report = sweep(older_than="1h", dry_run=False)
    assert report.resources == [] and inventory.tables() == {orders, LEASE_TABLE}
    assert {i.name: i.reason for i in report.ignored}[orders].startswith("idle in the warm pool for only ")
    # Drained, the lease table is empty: swept like any other table, by its age.
    assert main(["pool", "drain", "--yes"]) == 0
    report = sweep(older_than="0s", dry_run=False)
    assert [(r.name, r.status) for r in report.resources] == [(LEASE_TABLE, "deleted")]
    assert inventory.tables() == frozenset()
