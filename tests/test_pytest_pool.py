"""``--sandboxres-pool``: the function-scoped factory fixtures draw from a session pool, recycle at teardown, and the
demand recorded in pytest's cache is pre-provisioned by the next run. Inner runs (pytester) use the embedded
emulator over HTTP, as in tests/test_pytest_plugin.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import test_pytest_plugin as _plugin_tests
from tests.test_pytest_plugin import RECORD, bucket_exists, queue_exists, records, table_exists, write_ini

pytest_plugins = ["pytester"]

inner = _plugin_tests.inner  # a pytester without the outer run's target settings
_emulator_fully_imported = _plugin_tests._emulator_fully_imported  # moto's modules imported before inner runs

# Two tests of the same table shape, run in order: the second must get the first's table, emptied. The other
# fixtures and kinds are used too, so the file passes with and without the pool.
_SUITE = (
    RECORD
    + """
import pytest


def test_first(sandboxres_table, sandboxres_bucket, sandboxres_queue):
    t = sandboxres_table("users", range_key="sk")
    t.table.put_item(Item={"pk": "a", "sk": "1", "secret": "first"})
    b = sandboxres_bucket("files")
    b.client.put_object(Bucket=b.name, Key="k", Body=b"first")
    q = sandboxres_queue("jobs")
    q.client.send_message(QueueUrl=q.url, MessageBody="first")
    for message in q.client.receive_message(QueueUrl=q.url, WaitTimeSeconds=1)["Messages"]:  # a queue left with
        q.client.delete_message(QueueUrl=q.url, ReceiptHandle=message["ReceiptHandle"])  # messages is discarded
    record(test="first", table=t.name, bucket=b.name, queue=q.name)


def test_second(sandboxres_table, sandboxres_bucket, sandboxres_queue):
    t = sandboxres_table("users", range_key="sk")
    b = sandboxres_bucket("files")
    q = sandboxres_queue("jobs")
    items = t.table.scan()["Items"]
    objects = b.client.list_objects_v2(Bucket=b.name).get("Contents", [])
    messages = q.client.receive_message(QueueUrl=q.url, WaitTimeSeconds=0).get("Messages", [])
    record(test="second", table=t.name, bucket=b.name, queue=q.name, items=len(items), objects=len(objects),
           messages=len(messages))
    assert not items and not objects and not messages


def test_session_scoped_are_not_pooled(sandboxres_session_table):
    t = sandboxres_session_table("shared")
    record(test="session", table=t.name)


@pytest.mark.asyncio
async def test_async(sandboxres_async_table):
    t = await sandboxres_async_table("users", range_key="sk")
    assert (await t.client.scan(TableName=t.name))["Items"] == []
    await t.client.put_item(TableName=t.name, Item={"pk": {"S": "z"}, "sk": {"S": "z"}})
    record(test="async", table=t.name)
"""
)


def _by_test(path: Path) -> dict[str, dict[str, Any]]:
    return {r["test"]: r for r in records(path / "records.jsonl")}


def _demand(path: Path) -> dict[str, Any]:
    return json.loads((path / ".pytest_cache" / "v" / "sandboxres" / "pool-demand").read_text())  # type: ignore[no-any-return]


def test_without_the_pool_each_test_gets_new_resources(inner: pytest.Pytester) -> None:
    inner.makepyfile(_SUITE)
    result = inner.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4)
    made = _by_test(inner.path)
    assert made["first"]["table"] != made["second"]["table"] != made["async"]["table"]
    assert "pool tables" not in result.stdout.str()
    assert not (inner.path / ".pytest_cache" / "v" / "sandboxres").exists()


def test_with_the_pool_the_same_shape_is_recycled_and_clean(inner: pytest.Pytester) -> None:
    inner.makepyfile(_SUITE)
    result = inner.runpytest("-p", "no:randomly", "--sandboxres-pool")
    result.assert_outcomes(passed=4)
    made = _by_test(inner.path)
    first, second = made["first"], made["second"]
    for kind in ("table", "bucket"):
        assert first[kind] == second[kind]  # recycled: the same resource...
    # ...but a queue's recycling needs seconds of settled counters, a creation milliseconds: a new one
    assert first["queue"] != second["queue"]
    assert second["items"] == second["objects"] == second["messages"] == 0  # ...with nothing of the first test
    assert made["async"]["table"] == first["table"]  # the async fixture draws from the same pool
    assert made["session"]["table"] != first["table"]
    # everything deleted at session end, before the summary
    for name in (first["table"], made["session"]["table"]):
        assert not table_exists(name)
    assert not bucket_exists(first["bucket"]) and not queue_exists(first["queue"]) and not queue_exists(second["queue"])
    result.stdout.fnmatch_lines(
        [
            "resources: 5 created, 5 deleted, 0 kept, 0 left behind",
            "pool tables: 1 created, 2 recycled, 0 discarded, * s saved",
            "pool buckets: 1 created, 1 recycled, 0 discarded, * s saved",
            "pool queues: 2 created, 0 recycled, 0 discarded, * s saved",
        ]
    )
    shapes = _demand(inner.path)["shapes"]
    assert {(s["kind"], s["label"], json.dumps(s["options"]), s["count"]) for s in shapes} == {
        ("table", "users", '{"range_key": "sk"}', 1),
        ("bucket", "files", "{}", 1),
        ("queue", "jobs", "{}", 1),
    }


def test_the_next_run_pre_provisions_the_recorded_demand(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        RECORD
        + """
def test_two_at_once(sandboxres_table):
    a, b = sandboxres_table("users", range_key="sk"), sandboxres_table("users", range_key="sk")
    assert a.name != b.name
    record(test="two", tables=[a.name, b.name])


def test_one(sandboxres_table):
    record(test="one", tables=[sandboxres_table("users", range_key="sk").name])
"""
    )
    write_ini(inner, sandboxres_pool="true")  # the ini setting turns the pool on
    inner.runpytest("-p", "no:randomly").assert_outcomes(passed=2)
    assert _demand(inner.path)["shapes"] == [
        {"kind": "table", "label": "users", "options": {"range_key": "sk"}, "count": 2}  # the peak held at once
    ]
    (inner.path / "records.jsonl").unlink()
    result = inner.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "pool: pre-provisioned 2 from the demand recorded by the last run",
            "pool tables: 2 created, 1 recycled, 0 discarded, * s saved",  # no creation besides the prepared two
        ]
    )
    made = _by_test(inner.path)
    assert set(made["one"]["tables"]) <= set(made["two"]["tables"])


@pytest.mark.parametrize(
    ("args", "env", "ini", "pooled"),
    [
        ((), "1", "", True),
        ((), "off", "true", False),  # the environment beats the ini setting
        (("--sandboxres-no-pool",), "yes", "", False),  # the command line beats the environment
        (("--sandboxres-pool",), "", "false", True),
    ],
)
def test_pool_precedence(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], env: str, ini: str, pooled: bool
) -> None:
    if env:
        monkeypatch.setenv("SANDBOXRES_POOL", env)
    if ini:
        write_ini(inner, sandboxres_pool=ini)
    inner.makepyfile(_SUITE)
    inner.runpytest("-p", "no:randomly", *args).assert_outcomes(passed=4)
    made = _by_test(inner.path)
    assert (made["first"]["table"] == made["second"]["table"]) is pooled


@pytest.mark.parametrize(("env", "ini"), [("maybe", ""), ("", "sometimes")])
def test_a_bad_pool_value_is_a_usage_error(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, env: str, ini: str
) -> None:
    if env:
        monkeypatch.setenv("SANDBOXRES_POOL", env)
    if ini:
        write_ini(inner, sandboxres_pool=ini)
    inner.makepyfile("def test_x():\n    pass\n")
    result = inner.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    named = "SANDBOXRES_POOL='maybe'" if env else "ini setting sandboxres_pool='sometimes'"
    assert named in result.stderr.str() and "is neither warm nor a yes/no value" in result.stderr.str()


def test_warm_on_the_embedded_emulator_is_an_in_run_pool_and_the_summary_says_so(inner: pytest.Pytester) -> None:
    inner.makepyfile(_SUITE)
    result = inner.runpytest("-p", "no:randomly", "--sandboxres-pool=warm")
    result.assert_outcomes(passed=4)
    made = _by_test(inner.path)
    assert made["first"]["table"] == made["second"]["table"]  # pooled...
    assert not table_exists(made["first"]["table"]) and not bucket_exists(made["first"]["bucket"])  # ...and deleted
    result.stdout.fnmatch_lines(
        [
            "resources: 5 created, 5 deleted, 0 kept, 0 left behind",
            "pool: warm asked, but the embedded emulator ends with the run: an in-run pool *",
            "pool tables: 1 created, 2 recycled, 0 discarded, * s saved",  # the in-run pool's lines
        ]
    )
    assert result.stdout.str().count("warm asked") == 1 and "leased" not in result.stdout.str()


def test_help_lists_the_pool_option(inner: pytest.Pytester) -> None:
    result = inner.runpytest("--help")
    result.stdout.fnmatch_lines(
        ["*--sandboxres-pool, --sandboxres-pool=warm*", "*--sandboxres-no-pool*", "*sandboxres_pool*"]
    )
    assert "--sandboxres-pool=yes" not in result.stdout.str()  # the yes/no spellings are accepted, not listed


@pytest.mark.slow
def test_under_xdist_each_worker_has_its_own_pool(inner: pytest.Pytester) -> None:
    suite = RECORD + "".join(
        f"""
def test_{n}(sandboxres_table):
    import os
    t = sandboxres_table("users")
    assert t.table.scan()["Items"] == []
    t.table.put_item(Item={{"pk": "{n}"}})
    record(test="{n}", table=t.name, worker=os.environ["PYTEST_XDIST_WORKER"])
"""
        for n in range(6)
    )
    inner.makepyfile(suite)
    result = inner.runpytest_subprocess("-n", "2", "--sandboxres-pool")
    result.assert_outcomes(passed=6)
    made = list(_by_test(inner.path).values())
    for worker in {r["worker"] for r in made}:
        tables = {r["table"] for r in made if r["worker"] == worker}
        assert len(tables) == 1 and f"_{worker}_" in tables.pop()  # one table per worker, recycled
    result.stdout.fnmatch_lines(["resources: * created, * deleted, 0 kept, 0 left behind", "pool tables: *"])
    assert _demand(inner.path)["shapes"] == [{"kind": "table", "label": "users", "options": {}, "count": 1}]
    # the same file passes under xdist without the pool too
    inner.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider").assert_outcomes(passed=6)
