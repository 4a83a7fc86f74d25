"""``--sandboxres-pool=warm`` (``SANDBOXRES_POOL=warm``, ini ``sandboxres_pool = warm``): the session pool outlives
the run. Inner runs (pytester) target this module's moto server over HTTP (``AWS_ENDPOINT_URL``), which outlives
them, so a second run can lease what the first one released; the server is emptied around each test.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from sandboxres._leases.records import LEASE_TABLE
from sandboxres._simulator import FaultProxy
from tests import test_pytest_plugin as _plugin_tests
from tests.support.inventory import Inventory
from tests.test_pytest_plugin import RECORD, records, write_ini

# In-process inner runs here target the module's moto server, but they still remove from sys.modules whatever was
# imported during them, and this process's embedded emulator (other modules' tests start it) imports moto's
# modules lazily: import them all first, as test_pytest_plugin.py does.
_emulator_fully_imported = _plugin_tests._emulator_fully_imported

pytest_plugins = ["pytester"]

inner = _plugin_tests.inner  # a pytester without the outer run's target settings

# Two tables of one shape held at once, then one again (recycled), and a bucket: a run needs 2 tables, 1 bucket.
_SUITE = (
    RECORD
    + """
def test_two_at_once(sandboxres_table, sandboxres_bucket):
    a, b = sandboxres_table("users", range_key="sk"), sandboxres_table("users", range_key="sk")
    assert a.table.scan()["Items"] == [] and b.table.scan()["Items"] == []
    a.table.put_item(Item={"pk": "a", "sk": "1"})
    bucket = sandboxres_bucket("files")
    assert bucket.client.list_objects_v2(Bucket=bucket.name).get("Contents", []) == []
    bucket.client.put_object(Bucket=bucket.name, Key="k", Body=b"x")
    record(test="two", tables=[a.name, b.name], bucket=bucket.name)


def test_one(sandboxres_table):
    t = sandboxres_table("users", range_key="sk")
    assert t.table.scan()["Items"] == []
    t.table.put_item(Item={"pk": "b", "sk": "2"})
    record(test="one", tables=[t.name])
"""
)


def _warm(inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, spelling: str) -> list[str]:
    """Ask for a warm pool the ``spelling`` way; the arguments of the inner runs."""
    if spelling == "option":
        return ["--sandboxres-pool=warm"]
    if spelling == "environment":
        monkeypatch.setenv("SANDBOXRES_POOL", "warm")
    else:
        write_ini(inner, sandboxres_pool="warm")
    return []


@pytest.fixture
def target(inner: pytest.Pytester, emulator: str, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> Inventory:
    """Inner runs create on the module's moto server (emptied around the test); what it holds, seen with plain
    boto3.

    moto checks a write's condition and applies it without a lock: two runs (or workers) leasing at once could both
    win one record there, never on DynamoDB. The inner runs' DynamoDB requests go through the proxy, which forwards
    the lease table's one at a time."""
    proxy.clear()
    proxy.serialize(lambda request: request.service == "dynamodb" and request.resource == LEASE_TABLE)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return Inventory(emulator)


def _names(path: Path) -> tuple[set[str], set[str]]:
    """The tables and buckets the inner run's tests recorded (the file is then removed for the next run)."""
    made = records(path / "records.jsonl")
    (path / "records.jsonl").unlink()
    return {n for r in made for n in r["tables"]}, {r["bucket"] for r in made if "bucket" in r}


def _pooled(inventory: Inventory) -> tuple[set[str], set[str]]:
    """The tables (but the lease table) and buckets on the server."""
    return {t for t in inventory.tables() if "pool_leases" not in t}, set(inventory.buckets())


@pytest.mark.parametrize("spelling", ["option", "environment", "ini"])
def test_a_second_warm_run_creates_nothing_when_the_first_left_enough_idle_resources(
    inner: pytest.Pytester, target: Inventory, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    args = _warm(inner, monkeypatch, spelling)
    inner.makepyfile(_SUITE)

    first = inner.runpytest("-p", "no:randomly", *args)
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(
        [
            "resources: 3 created, 0 deleted, 0 kept, 0 left behind",
            "pool tables: 2 created, 0 leased, 1 recycled, 0 discarded, 2 released, * s saved",
            "pool buckets: 1 created, 0 leased, 0 recycled, 0 discarded, 1 released, * s saved",
        ]
    )
    tables, buckets = _names(inner.path)
    assert len(tables) == 2 and len(buckets) == 1
    assert _pooled(target) == (tables, buckets)  # released, not deleted: still there for the next run

    second = inner.runpytest("-p", "no:randomly", *args)
    second.assert_outcomes(passed=2)
    second.stdout.fnmatch_lines(
        [
            "resources: 0 created, 0 deleted, 0 kept, 0 left behind",
            "pool: pre-provisioned 3 from the demand recorded by the last run",
            "pool tables: 0 created, 2 leased, 1 recycled, 0 discarded, 2 released, * s saved",
            "pool buckets: 0 created, 1 leased, 0 recycled, 0 discarded, 1 released, * s saved",
        ]
    )
    assert _names(inner.path) == (tables, buckets)  # the first run's resources, emptied (the tests check)
    assert _pooled(target) == (tables, buckets)


def test_without_the_recorded_demand_the_fixtures_lease_at_first_use(inner: pytest.Pytester, target: Inventory) -> None:
    inner.makepyfile(_SUITE)
    inner.runpytest("-p", "no:randomly", "-p", "no:cacheprovider", "--sandboxres-pool=warm").assert_outcomes(passed=2)
    tables, buckets = _names(inner.path)
    second = inner.runpytest("-p", "no:randomly", "-p", "no:cacheprovider", "--sandboxres-pool=warm")
    second.assert_outcomes(passed=2)
    assert "pre-provisioned" not in second.stdout.str()
    second.stdout.fnmatch_lines(
        [
            "resources: 0 created, 0 deleted, 0 kept, 0 left behind",
            "pool tables: 0 created, 2 leased, 1 recycled, 0 discarded, 2 released, * s saved",
        ]
    )
    assert _names(inner.path) == (tables, buckets)


def test_an_in_run_pool_leaves_the_warm_pools_resources_alone(inner: pytest.Pytester, target: Inventory) -> None:
    """The in-run pool neither leases nor releases: it creates its own and deletes them; the warm pool's idle
    resources stay for the next warm run."""
    inner.makepyfile(_SUITE)
    inner.runpytest("-p", "no:randomly", "--sandboxres-pool=warm").assert_outcomes(passed=2)
    warm = _names(inner.path)
    result = inner.runpytest("-p", "no:randomly", "--sandboxres-pool")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["resources: 3 created, 3 deleted, 0 kept, 0 left behind", "pool tables: 2 created, 1 recycled, *"]
    )
    assert "leased" not in result.stdout.str()
    in_run = _names(inner.path)
    assert not (in_run[0] & warm[0]) and _pooled(target) == warm


# Each worker's sandboxres log (leases taken, lost, recycled, discarded), shown when the test fails
_WORKER_LOGS = """
import logging, os

handler = logging.FileHandler(f"sandboxres-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log")
handler.setFormatter(logging.Formatter("%(asctime)s %(threadName)s %(levelname)s %(message)s"))
logging.getLogger("sandboxres").addHandler(handler)
logging.getLogger("sandboxres").setLevel(logging.DEBUG)
"""


# Each worker's first test holds its table until the other worker holds one too: both hold a lease at once
_BARRIER = """
import os, pathlib, time

_waited = []

def both_workers_hold_a_table():
    if _waited:
        return
    _waited.append(True)
    here = pathlib.Path(__file__).parent
    (here / f"holding-{os.environ['PYTEST_XDIST_WORKER']}").touch()
    deadline = time.monotonic() + 60
    while len(list(here.glob("holding-gw*"))) < 2:
        assert time.monotonic() < deadline, "the other worker never held a table"
        time.sleep(0.05)
"""


def _holdings(made: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[float, float]]:
    """When each worker held each table, at least: a pooled table is held from its first use to the end of the
    worker's session, so from its first test's start to its last test's end."""
    held: dict[tuple[str, str], tuple[float, float]] = {}
    for r in made:
        for table in r["tables"]:
            start, end = held.get((r["worker"], table), (r["start"], r["end"]))
            held[(r["worker"], table)] = (min(start, r["start"]), max(end, r["end"]))
    return held


@pytest.mark.slow
def test_under_xdist_each_worker_leases_its_own(
    inner: pytest.Pytester, target: Inventory, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers holding leases at once never hold one table. A worker may lease a table another worker
    released (one that ended its session first): that is reuse, not sharing, so the check is on when each worker
    held each table, not on which tables it used."""
    assert proxy.url == os.environ["AWS_ENDPOINT_URL_DYNAMODB"]  # the lease table's requests one at a time (target)
    suite = (
        RECORD
        + _BARRIER
        + "".join(
            f"""
def test_{n}(sandboxres_table):
    start = time.time()
    t = sandboxres_table("users")
    both_workers_hold_a_table()
    assert t.table.scan()["Items"] == []
    t.table.put_item(Item={{"pk": "{n}"}})
    record(test="{n}", tables=[t.name], worker=os.environ["PYTEST_XDIST_WORKER"], start=start, end=time.time())
"""
            for n in range(8)
        )
    )
    inner.makepyfile(suite)
    inner.makeconftest(_WORKER_LOGS)

    def run() -> tuple[Any, dict[str, set[str]]]:
        result = inner.runpytest_subprocess("-n", "2", "--sandboxres-pool=warm")
        result.assert_outcomes(passed=8)
        made = records(inner.path / "records.jsonl")
        logs = "".join(f"--- {log.name}\n{log.read_text()}" for log in sorted(inner.path.glob("sandboxres-gw*.log")))
        for path in [
            inner.path / "records.jsonl",
            *inner.path.glob("sandboxres-gw*.log"),
            *inner.path.glob("holding-*"),
        ]:
            path.unlink()
        by_worker: dict[str, set[str]] = {}
        for r in made:
            by_worker.setdefault(r["worker"], set()).update(r["tables"])
        assert len(by_worker) == 2, by_worker  # both workers ran tests
        held = _holdings(made)
        for (worker, table), (start, end) in held.items():
            for (other, same), (other_start, other_end) in held.items():
                if worker < other and table == same:
                    assert end < other_start or other_end < start, (
                        f"{table} held by {worker} and {other} at once:\n{made}\n{logs}"
                    )
        first, second = by_worker.values()
        assert first - second and second - first, by_worker  # held at once (the barrier): a table each
        return result, by_worker

    first, made = run()
    first.stdout.fnmatch_lines(["pool tables: 2 created, 0 leased, 6 recycled, 0 discarded, 2 released, * s saved"])
    tables = set().union(*made.values())
    assert _pooled(target)[0] == tables

    second, leased = run()
    second.stdout.fnmatch_lines(
        [
            "resources: 0 created, 0 deleted, 0 kept, 0 left behind",
            "pool tables: 0 created, 2 leased, 6 recycled, 0 discarded, 2 released, * s saved",
        ]
    )
    assert set().union(*leased.values()) == tables  # the first run's tables, one for each worker
    assert all(len(names) == 1 for names in leased.values())


_TWO_FILES = {
    "test_a": RECORD + '\ndef test_a(sandboxres_table):\n    record(test="a", tables=[sandboxres_table().name])\n',
    "test_b": "def test_b():\n    raise AssertionError('not selected')\n",
}


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--sandboxres-pool", "test_a.py"), "pool tables: 1 created, 0 recycled, 0 discarded, * s saved"),
        (("test_a.py", "--sandboxres-pool"), "pool tables: 1 created, 0 recycled, 0 discarded, * s saved"),
        (
            ("--sandboxres-pool=warm", "test_a.py"),
            "pool tables: 1 created, 0 leased, 0 recycled, 0 discarded, 1 released, * s saved",
        ),
        (("--sandboxres-pool=yes", "test_a.py"), "pool tables: 1 created, 0 recycled, 0 discarded, * s saved"),
    ],
)
def test_the_option_never_takes_the_next_argument(
    inner: pytest.Pytester, target: Inventory, args: tuple[str, ...], line: str
) -> None:
    inner.makepyfile(**_TWO_FILES)
    result = inner.runpytest(*args)
    result.assert_outcomes(passed=1)  # test_b.py was not collected: test_a.py was taken as the path
    result.stdout.fnmatch_lines(["*test_a.py .*", line])


@pytest.mark.parametrize(("value", "pooled"), [("no", False), ("off", False), ("1", True), ("true", True)])
def test_the_option_takes_the_yes_no_values_after_an_equals_sign(
    inner: pytest.Pytester, target: Inventory, monkeypatch: pytest.MonkeyPatch, value: str, pooled: bool
) -> None:
    monkeypatch.setenv("SANDBOXRES_POOL", "warm" if not pooled else "no")  # the command line wins
    inner.makepyfile(**_TWO_FILES)
    result = inner.runpytest(f"--sandboxres-pool={value}", "test_a.py")
    result.assert_outcomes(passed=1)
    assert ("pool tables: 1 created, 0 recycled" in result.stdout.str()) is pooled
    assert "leased" not in result.stdout.str()


@pytest.mark.parametrize(("arg", "value"), [("--sandboxres-pool=maybe", "maybe"), ("--sandboxres-pool=", "")])
def test_a_bad_option_value_is_a_usage_error_naming_the_accepted_spellings(
    inner: pytest.Pytester, arg: str, value: str
) -> None:
    inner.makepyfile("def test_x():\n    pass\n")
    result = inner.runpytest(arg)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*error: argument --sandboxres-pool/--sandboxres-pool=warm: ignored explicit argument {value!r}"]
    )


@pytest.mark.parametrize(("env", "ini"), [("hot", ""), ("", "warmer")])
def test_a_bad_env_or_ini_value_names_warm_too(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, env: str, ini: str
) -> None:
    if env:
        monkeypatch.setenv("SANDBOXRES_POOL", env)
    if ini:
        write_ini(inner, sandboxres_pool=ini)
    inner.makepyfile("def test_x():\n    pass\n")
    result = inner.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    named = "SANDBOXRES_POOL='hot'" if env else "ini setting sandboxres_pool='warmer'"
    result.stderr.fnmatch_lines([f"*{named} is neither warm nor a yes/no value: use warm (a warm pool, *"])
