"""Interruptions of a pooled run: Ctrl-C (SIGINT) and SIGTERM delivered to a program holding a ``sandboxres.Pool``
or a ``sandboxres.aio.Pool`` -- while a holder is inside its block with creations still in flight, or between
holders with only idle resources in the pool -- and to a pytest run with ``--sandboxres-pool`` in the middle of a
test. The program exits as it would without the library, and nothing with the library's prefix is left: idle,
held, prepared or being created.

Each case runs ``tests/safety_children/pool_hold.py`` (or a small pytest suite) as a child process against a moto
server process of this module -- directly, or through the fault-injecting proxy, which holds the replies to the
creations of the ``late`` shapes back so that they are still in flight when the signal arrives -- and inspects the
server over HTTP with plain boto3 afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sandboxres._simulator import Rule, SlowReply
from tests.support.child_processes import SIGNALS, Child, child, child_env, script
from tests.support.inventory import Inventory

# Seconds long (a child process, a pool of six to ten resources, a queue's recycling) and not Python-version
# specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

CREATE_OPERATION = {
    "table": ("dynamodb", "CreateTable"),
    "bucket": ("s3", "CreateBucket"),
    "queue": ("sqs", "CreateQueue"),
}

# The last line of a traceback that the interruption itself explains; any other line of stderr outside a traceback
# (an exception, a log record, the exit cleanup's report of what the pool left live) is unexpected.
INTERRUPTION_LINES = (
    "KeyboardInterrupt",
    "sandboxres._safety.signals.Terminated: SIGTERM received",
    "asyncio.exceptions.CancelledError",  # asyncio.run cancels the main task on Ctrl-C, then raises KeyboardInterrupt
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
    "Traceback (most recent call last):",
)


def _late(name: str) -> bool:
    return "late" in name  # the shapes ``pool_hold.py`` prepares while holding (hex digits never spell it)


def unexpected(stderr: str) -> list[str]:
    """The lines of ``stderr`` that are neither inside a traceback nor one of :data:`INTERRUPTION_LINES`."""
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not line[0].isspace() and not line.startswith(INTERRUPTION_LINES)
    ]


def interrupted_cleanly(url: str, program: Child, outcome: int, signal_name: str, status: int | None = None) -> None:
    left = Inventory(url).prefixed_names()
    assert not left, f"left behind after {signal_name}: {sorted(left)}\n{program.stderr}"
    expected = -SIGNALS[signal_name] if status is None else status
    assert outcome == expected, f"exit status {outcome} after {signal_name}:\n{program.stderr}"
    assert "NOT INTERRUPTED" not in "".join(program.stdout)
    assert not unexpected(program.stderr), program.stderr


def _cases() -> list[Any]:
    return [pytest.param(api, name, id=f"{api}-{name}") for api in ("sync", "async") for name in ("SIGINT", "SIGTERM")]


# ---------------------------------------------------------------------------------------------------------
# a holder inside its block, creations in flight


@pytest.mark.parametrize(("api", "signal_name"), _cases())
def test_signal_while_a_holder_is_in_its_block_and_creations_are_in_flight(
    emulator: str, fault_proxy: Callable[[str], Any], api: str, signal_name: str
) -> None:
    proxy = fault_proxy(emulator)
    held_back = {kind: SlowReply(60.0) for kind in CREATE_OPERATION}
    for kind, fault in held_back.items():
        service, operation = CREATE_OPERATION[kind]
        proxy.add(Rule(fault, service=service, operations=operation, resource=_late))
    with child([script("pool_hold.py"), "--api", api, "--phase", "held"], child_env(proxy.url)) as program:
        held = program.wait_json("READY")
        for kind, fault in held_back.items():
            assert fault.started.wait(60), f"no {kind} of a late shape is being created:\n{program.stderr}"
        before = Inventory(emulator)
        assert set(held) <= before.names()  # held: a table, a range-key table, a bucket, a queue
        assert len(before.tables("test_pt_")) == 3  # one held, two idle (or still being prepared)
        late = {name for name in before.prefixed_names() if _late(name)}
        assert len(late) == 4, late  # created upstream, their creators still waiting for the reply
        program.send(SIGNALS[signal_name])
        # The interrupted block discards what it held at once; the closing pool then waits for the creations.
        while program.process.poll() is None and set(held) & Inventory(emulator).names():
            time.sleep(0.05)
        for fault in held_back.values():
            fault.release.set()
        outcome = program.finish()
    interrupted_cleanly(emulator, program, outcome, signal_name)


# ---------------------------------------------------------------------------------------------------------
# between holders: only idle resources


@pytest.mark.parametrize(("api", "signal_name"), _cases())
def test_signal_between_holders_with_idle_resources(emulator: str, api: str, signal_name: str) -> None:
    with child([script("pool_hold.py"), "--api", api, "--phase", "idle"], child_env(emulator)) as program:
        recycled = program.wait_json("READY")
        idle = Inventory(emulator).prefixed_names()
        assert set(recycled) <= idle and len(idle) == 6, sorted(idle)  # recycled, and the two other pt tables
        program.send(SIGNALS[signal_name])
        outcome = program.finish()
    interrupted_cleanly(emulator, program, outcome, signal_name)


# ---------------------------------------------------------------------------------------------------------
# while the pool recycles what a holder gave back


@pytest.mark.parametrize(("api", "signal_name"), _cases())
def test_signal_while_the_pool_recycles(
    emulator: str, fault_proxy: Callable[[str], Any], api: str, signal_name: str
) -> None:
    """The reply to the first table's recycling scan is held back: the signal arrives during the recycling."""
    proxy = fault_proxy(emulator)
    scan = SlowReply(60.0)
    proxy.add(Rule(scan, service="dynamodb", operations="Scan", times=1))
    try:
        with child([script("pool_hold.py"), "--api", api, "--phase", "recycling"], child_env(proxy.url)) as program:
            held = program.wait_json("READY")
            assert scan.started.wait(60), f"no recycling scan:\n{program.stderr}"
            assert set(held) <= Inventory(emulator).names()
            program.send(SIGNALS[signal_name])
            program.wait_for("INTERRUPTED")  # taken while the scan's reply is still held back
            assert not scan.release.is_set() and set(held) <= Inventory(emulator).names()
            # The recycling runs in the pool's threads, to its end: closing, the pool waits for it, then deletes all.
            scan.release.set()
            outcome = program.finish()
    finally:
        scan.release.set()
    interrupted_cleanly(emulator, program, outcome, signal_name)


# ---------------------------------------------------------------------------------------------------------
# a pytest run with --sandboxres-pool

_SUITE_HEAD = """
import asyncio
import json
import os
import time

import pytest

WARM_UP = os.environ.get("POOLED_SUITE_WARM_UP") == "1"  # a first, uninterrupted run: records the demand


def ready(*handles):
    print("READY " + json.dumps([handle.name for handle in handles]), flush=True)
"""

SUITES = {
    "sync": _SUITE_HEAD
    + '''

def test_first(sandboxres_table, sandboxres_bucket):
    """Its resources are recycled: idle in the pool while the next test runs (no queue: its recycling takes 6 s)."""
    t = sandboxres_table("users", range_key="sk")
    t.table.put_item(Item={"pk": "a", "sk": "1"})
    sandboxres_bucket("files")
    sandboxres_table("spare")


def test_interrupted(sandboxres_table, sandboxres_bucket, sandboxres_queue):
    t = sandboxres_table("users", range_key="sk")
    t.table.put_item(Item={"pk": "b", "sk": "2"})
    q = sandboxres_queue("jobs")
    ready(t, sandboxres_bucket("files"), q, sandboxres_table("other"))
    if WARM_UP:  # a message left behind: the queue is discarded at once instead of recycled (6 s)
        q.client.send_message(QueueUrl=q.url, MessageBody="left")
    else:
        time.sleep(120)


def test_never_runs():
    assert WARM_UP, "the run was supposed to be interrupted before this test"
''',
    "async": _SUITE_HEAD
    + """

@pytest.mark.asyncio
async def test_first(sandboxres_async_table, sandboxres_async_bucket):
    t = await sandboxres_async_table("users", range_key="sk")
    await t.table.put_item(Item={"pk": "a", "sk": "1"})
    await sandboxres_async_bucket("files")
    await sandboxres_async_table("spare")


@pytest.mark.asyncio
async def test_interrupted(sandboxres_async_table, sandboxres_async_bucket, sandboxres_async_queue):
    t = await sandboxres_async_table("users", range_key="sk")
    await t.table.put_item(Item={"pk": "b", "sk": "2"})
    b, q = await sandboxres_async_bucket("files"), await sandboxres_async_queue("jobs")
    ready(t, b, q, await sandboxres_async_table("other"))
    if WARM_UP:
        await q.client.send_message(QueueUrl=q.url, MessageBody="left")
    else:
        await asyncio.sleep(120)


def test_never_runs():
    assert WARM_UP, "the run was supposed to be interrupted before this test"
""",
}


@pytest.mark.parametrize(
    ("fixtures", "prepared"),
    [("sync", False), ("sync", True), ("async", False)],
    ids=["sync", "sync-prepared", "async"],
)
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_signal_in_the_middle_of_a_pooled_pytest_run(
    emulator: str, tmp_path: Path, fixtures: str, prepared: bool, signal_name: str
) -> None:
    """pytest turns the interruption into its own exit (status 2, interrupted); the session pool is closed and the
    interrupted test's resources are given back after it: nothing is left. ``prepared``: a first, uninterrupted
    run records the demand, so the interrupted run's pool creates every resource in its threads, at session start.
    """
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (tmp_path / "test_pooled.py").write_text(SUITES[fixtures])
    args = ["-m", "pytest", "-q", "-s", "-p", "no:randomly", "--sandboxres-pool", "test_pooled.py"]
    if prepared:
        with child(args, child_env(emulator, POOLED_SUITE_WARM_UP="1"), cwd=tmp_path) as warm_up:
            assert warm_up.finish() == 0, "".join(warm_up.stdout) + warm_up.stderr
        assert not Inventory(emulator).prefixed_names()
    with child(args, child_env(emulator), cwd=tmp_path) as run:
        held = run.wait_json("READY")
        before = Inventory(emulator).prefixed_names()
        assert set(held) <= before
        assert any(name.startswith("test_spare_") for name in before)  # idle: the first test's spare table
        run.send(SIGNALS[signal_name])
        outcome = run.finish()
    left = Inventory(emulator).prefixed_names()
    output = "".join(run.stdout)
    assert not left, f"left behind after {signal_name}: {sorted(left)}\n{output}\n{run.stderr}"
    assert outcome == pytest.ExitCode.INTERRUPTED, f"exit status {outcome} after {signal_name}:\n{output}\n{run.stderr}"
    assert "test_never_runs" not in output and "AssertionError" not in output, output
    assert "0 left behind" in output, output  # the plugin's summary: the pool deleted everything itself
    if prepared:
        assert "pool: pre-provisioned 5 from the demand recorded by the last run" in output, output
