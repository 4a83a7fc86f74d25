"""Interruptions: Ctrl-C (SIGINT) and SIGTERM delivered to a program using the library during create, during the
readiness wait and during use leave nothing behind, without a sweep; at interpreter exit, whatever is still
registered is deleted and reported; the SIGTERM handler is in force only while resources are live.

Each case runs ``tests/safety_children/hold.py`` (or ``handlers.py``) as a child process against a moto server
process of this module -- directly, or through the fault-injecting proxy to hold the child inside a create
call or a readiness wait -- and inspects the server over HTTP with plain boto3 afterwards.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from sandboxres._simulator import (
    Rule,
    SlowReply,
    aws_error,
    bucket_not_found_after_create,
    server_error,
    table_creating,
)
from tests.support.child_processes import SIGNALS, child, child_env, script
from tests.support.inventory import Inventory

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

CREATE_OPERATION = {
    "table": ("dynamodb", "CreateTable"),
    "bucket": ("s3", "CreateBucket"),
    "queue": ("sqs", "CreateQueue"),
}


def expected_status(name: str) -> int:
    """Killed by the signal, as a program without the library would be: SIGINT's KeyboardInterrupt makes
    Python exit by SIGINT; SIGTERM's cleanup ends with SIGTERM's status."""
    return -SIGNALS[name]


def interrupted_cleanly(url: str, outcome: int, name: str, stderr: str) -> None:
    left = Inventory(url).prefixed_names()
    assert not left, f"left behind after {name}: {sorted(left)}\n{stderr}"
    assert outcome == expected_status(name), f"exit status {outcome} after {name}:\n{stderr}"


# ---------------------------------------------------------------------------------------------------------
# during use


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize(
    "mode", [["--api", "sync"], ["--api", "async"], ["--together"]], ids=["with", "async-with", "ephemeral_all"]
)
def test_signal_during_use_deletes_everything(emulator: str, signal_name: str, mode: list[str]) -> None:
    args = [script("hold.py"), "--kinds", "table,bucket,queue,fifo", *mode]
    with child(args, child_env(emulator)) as program:
        names = program.wait_json("READY")
        # table, versioned bucket with two object versions, queue and its dead-letter queue, FIFO queue
        assert len(names) == 5
        assert set(names) <= Inventory(emulator).names()
        program.send(SIGNALS[signal_name])
        outcome = program.finish()
    assert "NOT INTERRUPTED" not in "".join(program.stdout)
    interrupted_cleanly(emulator, outcome, signal_name, program.stderr)


# ---------------------------------------------------------------------------------------------------------
# during the create call: the resource exists upstream, its create response has not arrived yet


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("kind", ["table", "bucket", "queue"])
def test_signal_during_create_call(
    emulator: str, fault_proxy: Callable[[str], Any], signal_name: str, kind: str
) -> None:
    proxy = fault_proxy(emulator)
    service, operation = CREATE_OPERATION[kind]
    slow = SlowReply(30.0)
    proxy.add(Rule(slow, service=service, operations=operation, times=1))
    with child([script("hold.py"), "--kinds", kind], child_env(proxy.url)) as program:
        assert slow.started.wait(60), f"the child never sent {operation}:\n{program.stderr}"
        assert Inventory(emulator).prefixed_names(), "the create call has not reached the emulator"
        program.send(SIGNALS[signal_name])
        outcome = program.finish()
        slow.release.set()
    assert "READY" not in "".join(program.stdout)
    interrupted_cleanly(emulator, outcome, signal_name, program.stderr)


# ---------------------------------------------------------------------------------------------------------
# during the readiness wait


def _wait_rules(kind: str) -> tuple[list[Rule], tuple[str, str]]:
    """Faults that keep a new resource "not ready" (and the probe to watch for) without hiding it from
    deletion: a CREATING table (DeleteTable refused with ResourceInUseException for 2 s, as on AWS), a
    bucket whose tagging (the readiness probe) says NoSuchBucket, a queue whose attributes are not readable yet."""
    if kind == "table":
        return table_creating(2.0), ("dynamodb", "DescribeTable")
    if kind == "bucket":
        return [bucket_not_found_after_create(60.0, operations="PutBucketTagging")], ("s3", "PutBucketTagging")
    rule = aws_error(
        "sqs",
        "GetQueueAttributes",
        "QueueDoesNotExist",
        "The specified queue does not exist.",
        query_code="AWS.SimpleQueueService.NonExistentQueue",
        for_seconds=60.0,
        after="CreateQueue",
    )
    return [rule], ("sqs", "GetQueueAttributes")


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("kind", ["table", "bucket", "queue"])
def test_signal_during_readiness_wait(
    emulator: str, fault_proxy: Callable[[str], Any], signal_name: str, kind: str
) -> None:
    proxy = fault_proxy(emulator)
    rules, (service, probe) = _wait_rules(kind)
    proxy.add(rules)
    with child([script("hold.py"), "--kinds", kind], child_env(proxy.url)) as program:
        deadline = time.monotonic() + 60
        while proxy.count(service, probe, faulted=True) == 0:
            if program.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the child never waited on {probe}:\n{program.stderr}")
            time.sleep(0.02)
        assert Inventory(emulator).prefixed_names()
        program.send(SIGNALS[signal_name])
        outcome = program.finish()
    assert "READY" not in "".join(program.stdout)
    interrupted_cleanly(emulator, outcome, signal_name, program.stderr)


# ---------------------------------------------------------------------------------------------------------
# the SIGTERM handler


def test_sigterm_handler_only_while_resources_are_live(emulator: str) -> None:
    with child([script("handlers.py")], child_env(emulator)) as program:
        outcome = program.finish()
    lines = [line.strip() for line in program.stdout]
    assert outcome == 0, program.stderr
    assert lines == [
        "BEFORE default",
        "DURING sandboxres",
        "NESTED sandboxres",
        "AFTER-NESTED sandboxres",
        "AFTER default",
        "DURING-ALL sandboxres",
        "AFTER-ALL default",
        *(f"CUSTOM-{phase} custom" for phase in ("BEFORE", "DURING", "NESTED", "AFTER-NESTED", "AFTER")),
        "CUSTOM-DURING-ALL custom",
        "CUSTOM-AFTER-ALL custom",
        "CUSTOM HANDLER RAN",
        "WORKER-LIVE custom",
    ], program.stderr
    # the worker's queue was left live: the exit cleanup deleted it
    assert "deleted at exit 1 resource(s)" in program.stderr
    assert not Inventory(emulator).prefixed_names()


# ---------------------------------------------------------------------------------------------------------
# interpreter exit


@pytest.mark.parametrize("api", ["sync", "async"])
def test_exit_deletes_and_reports_what_is_still_registered(emulator: str, api: str) -> None:
    args = [script("hold.py"), "--kinds", "table,bucket,queue", "--api", api, "--leave", "--then", "exit"]
    with child(args, child_env(emulator)) as program:
        names = program.wait_json("READY")
        outcome = program.finish()
    assert outcome == 0, program.stderr
    assert "deleted at exit 3 resource(s) still live" in program.stderr
    for name in names[:3]:  # table, bucket, queue (the dead-letter queue goes with its queue)
        assert name in program.stderr
    assert not Inventory(emulator).prefixed_names()


def test_exit_cleanup_runs_before_the_embedded_emulator_stops() -> None:
    """On the embedded target the exit cleanup must run while the emulator still serves: an exit hook of the
    child, registered between the emulator's start and the first resource, lists what is left."""
    args = [script("hold.py"), "--kinds", "table,queue", "--leave", "--then", "exit", "--embedded-report"]
    with child(args, child_env(None)) as program:
        program.wait_json("READY")
        outcome = program.finish()
    assert outcome == 0, program.stderr
    assert program.wait_for("EMBEDDED-AT-EXIT") == "[]"
    assert "deleted at exit 2 resource(s) still live" in program.stderr
    assert "gone with the embedded emulator" not in program.stderr


def test_exit_cleanup_moves_after_a_late_embedded_emulator(emulator: str) -> None:
    """The first resource goes to an external emulator (exit hook registered), then one to the embedded
    emulator, which starts only then: the exit hook is registered again, so it still runs before the
    embedded emulator stops and both resources are really deleted."""
    args = [script("hold.py"), "--kinds", "queue", "--leave", "--then", "exit", "--embedded-too"]
    with child(args, child_env(emulator)) as program:
        program.wait_json("READY")
        late = program.wait_json("LATE")
        outcome = program.finish()
    assert outcome == 0, program.stderr
    assert "deleted at exit 2 resource(s) still live" in program.stderr
    assert late[0] in program.stderr
    assert "gone with the embedded emulator" not in program.stderr
    assert not Inventory(emulator).prefixed_names()


def test_exit_cleanup_is_bounded_and_reports_what_it_could_not_delete(
    emulator: str, fault_proxy: Callable[[str], Any]
) -> None:
    proxy = fault_proxy(emulator)
    args = [script("hold.py"), "--kinds", "queue", "--leave", "--then", "stdin", "--exit-budget", "1.5"]
    with child(args, child_env(proxy.url)) as program:
        names = program.wait_json("READY")
        proxy.add(server_error("sqs"))  # every call fails with a retryable 500 from now on
        program.say()
        outcome = program.finish(60)
    assert outcome == 0, program.stderr
    assert "could NOT delete at exit 1 resource(s)" in program.stderr
    assert "out of time" in program.stderr
    assert "sandboxres sweep --yes" in program.stderr
    assert set(names) <= Inventory(emulator).queues()  # really left behind (the module fixture resets it)


def test_sigterm_with_nothing_live_keeps_the_default_action(emulator: str) -> None:
    """After the last resource is gone the previous disposition (here the default) is back: SIGTERM ends the
    process at once, no KeyboardInterrupt, no traceback."""
    args = [script("hold.py"), "--kinds", "queue", "--then", "exit"]
    code = (
        "import runpy, sys, time; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__');"
        " print('IDLE', flush=True); time.sleep(60)"
    )
    with child(["-c", code, *args], child_env(emulator)) as program:
        program.wait_for("IDLE")
        program.send(signal.SIGTERM)
        outcome = program.finish()
    assert outcome == -signal.SIGTERM
    assert "Traceback" not in program.stderr
    assert not Inventory(emulator).prefixed_names()


def test_exit_cleanup_reports_a_dead_emulator_without_retrying(
    emulator: str, fault_proxy: Callable[[str], Any]
) -> None:
    proxy = fault_proxy(emulator)
    args = [script("hold.py"), "--kinds", "queue", "--leave", "--then", "stdin"]
    with child(args, child_env(proxy.url)) as program:
        names = program.wait_json("READY")
        proxy.stop()  # the child's emulator is gone
        program.say()
        outcome = program.finish()
    assert outcome == 0, program.stderr
    assert "could NOT delete at exit 1 resource(s)" in program.stderr
    assert "its endpoint no longer answers" in program.stderr
    assert set(names) <= Inventory(emulator).queues()


# ---------------------------------------------------------------------------------------------------------
# the program's own SIGTERM disposition is kept


@pytest.mark.parametrize(
    ("mode", "status", "last_line"),
    [
        ("ignore", 0, "SURVIVED"),
        ("exit-handler", 3, "CUSTOM HANDLER RAN"),
        ("flag-handler", 0, "STOPPED BY FLAG"),
        ("default", -signal.SIGTERM, None),
    ],
)
def test_sigterm_defers_to_the_programs_disposition(
    emulator: str, mode: str, status: int, last_line: str | None
) -> None:
    """SIG_IGN: the program keeps running (and its resources keep working); its own handler runs and decides
    (exit 3, or a flag it polls); only the default disposition ends the process with SIGTERM's status. In
    every case nothing is left behind."""
    with child([script("disposition.py"), mode], child_env(emulator)) as program:
        names = program.wait_json("READY")
        assert set(names) <= Inventory(emulator).names()
        program.send(signal.SIGTERM)
        if mode == "ignore":
            time.sleep(0.5)
            assert program.process.poll() is None, f"killed by an ignored SIGTERM:\n{program.stderr}"
            program.say()
        outcome = program.finish()
    lines = [line.strip() for line in program.stdout]
    assert outcome == status, program.stderr
    if last_line is not None:
        assert lines[-1] == last_line, lines
    if mode != "default":
        assert "Terminated" not in program.stderr and "KeyboardInterrupt" not in program.stderr
    assert "NOT INTERRUPTED" not in lines
    assert not Inventory(emulator).prefixed_names()
