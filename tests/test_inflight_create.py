"""A create still in flight when the program is interrupted: its request has left, it has not reached the
emulator yet, and it lands after the cleanup began. The cleanup must treat it as possibly landed: keep
retrying "not found" within the grace and delete it once it appears, or report it as possibly left behind --
never count it as deleted.

Each case runs ``tests/safety_children/hold.py`` against a moto server process through the fault proxy, which
holds the create request back before forwarding it (:class:`HeldRequest`), and interrupts the child at that
moment: Ctrl-C (a real SIGINT), SIGTERM, or a cancellation by timeout in the async API. Afterwards the server
is read over HTTP with plain boto3.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from sandboxres._simulator import HeldRequest, Rule
from tests.support.child_processes import SIGNALS, child, child_env, script
from tests.support.inventory import Inventory

CREATE_OPERATION = {
    "table": ("dynamodb", "CreateTable"),
    "bucket": ("s3", "CreateBucket"),
    "queue": ("sqs", "CreateQueue"),  # hold.py's queue has a dead-letter queue: it is created first
    "dead-letter": ("sqs", "CreateQueue"),
}
HOLD = 2.0  # the create lands this long after the child was interrupted


def held_rule(kind: str, hold: HeldRequest) -> Rule:
    service, operation = CREATE_OPERATION[kind]
    if kind == "queue":  # the main queue (its dead-letter queue, created first, goes through at once)
        return Rule(hold, service=service, operations=operation, resource=lambda n: "_dlq_" not in n, times=1)
    if kind == "dead-letter":
        return Rule(hold, service=service, operations=operation, resource=lambda n: "_dlq_" in n, times=1)
    return Rule(hold, service=service, operations=operation, times=1)


def hold_kind(kind: str) -> str:
    return "queue" if kind == "dead-letter" else kind


def stats_of(stdout: list[str]) -> dict[str, Any]:
    lines = [line for line in stdout if line.startswith("STATS ")]
    assert lines, f"no STATS line in {stdout}"
    stats: dict[str, Any] = json.loads(lines[-1][len("STATS ") :])
    return stats


def wait_landed(hold: HeldRequest) -> None:
    """Wait until the held create reached the emulator (then it has happened, whatever the child did)."""
    assert hold.forwarded.wait(HOLD + 30), "the held create never went upstream"
    time.sleep(0.2)


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("kind", ["table", "bucket", "queue", "dead-letter"])
def test_interrupted_in_flight_create_is_deleted_once_it_lands(
    emulator: str, fault_proxy: Callable[[str], Any], kind: str, api: str, signal_name: str
) -> None:
    proxy = fault_proxy(emulator)
    hold = HeldRequest(HOLD).after_interruption()
    proxy.add(held_rule(kind, hold))
    args = [script("hold.py"), "--kinds", hold_kind(kind), "--api", api, "--stats"]
    with child(args, child_env(proxy.url)) as program:
        assert hold.started.wait(60), f"the child never sent its create:\n{program.stderr}"
        assert not Inventory(emulator).prefixed_names() - _dead_letters(emulator, kind), "the create landed early"
        program.send(SIGNALS[signal_name])
        hold.interrupted.set()
        outcome = program.finish()
    wait_landed(hold)
    assert "READY" not in "".join(program.stdout)
    left = Inventory(emulator).prefixed_names()
    assert not left, f"left behind after {signal_name} during the create: {sorted(left)}\n{program.stderr}"
    assert outcome == -SIGNALS[signal_name], program.stderr
    if signal_name == "SIGINT":  # (SIGTERM's status is restored by killing the process: no exit output)
        stats = stats_of(program.stdout)
        assert stats["left_behind"] == 0 and stats["deleted"] >= 1, stats


def _dead_letters(url: str, kind: str) -> frozenset[str]:
    """The dead-letter queue already created when the main queue's create is held."""
    names = Inventory(url).prefixed_names()
    return frozenset(n for n in names if "_dlq_" in n) if kind == "queue" else frozenset()


@pytest.mark.parametrize("kind", ["table", "bucket", "queue", "dead-letter"])
def test_cancelled_in_flight_create_is_deleted_once_it_lands(
    emulator: str, fault_proxy: Callable[[str], Any], kind: str
) -> None:
    """The task is cancelled (task.cancel(), as a timeout does) while the create is held: same guarantee."""
    proxy = fault_proxy(emulator)
    hold = HeldRequest(HOLD).after_interruption()
    proxy.add(held_rule(kind, hold))
    args = [script("hold.py"), "--kinds", hold_kind(kind), "--api", "async", "--cancel-on-line", "--stats"]
    with child(args, child_env(proxy.url)) as program:
        assert hold.started.wait(60), f"the child never sent its create:\n{program.stderr}"
        program.say("cancel")
        hold.interrupted.set()
        outcome = program.finish()
    wait_landed(hold)
    assert outcome == 0, program.stderr
    assert "CANCELLED" in "".join(program.stdout), program.stdout
    left = Inventory(emulator).prefixed_names()
    assert not left, f"left behind after a cancellation during the create: {sorted(left)}\n{program.stderr}"
    stats = stats_of(program.stdout)
    assert stats["left_behind"] == 0 and stats["deleted"] >= 1, stats


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("kind", ["table", "bucket", "dead-letter"])
def test_create_landing_after_the_grace_is_reported_not_counted_deleted(
    emulator: str, fault_proxy: Callable[[str], Any], kind: str, api: str
) -> None:
    """The create is held longer than the grace (SANDBOXRES_UNSEEN_GRACE=1): the cleanup cannot see it, so
    it reports the resource as possibly left behind (naming it, saying to sweep) and never counts it deleted."""
    proxy = fault_proxy(emulator)
    hold = HeldRequest(6.0).after_interruption()
    proxy.add(held_rule(kind, hold))
    args = [script("hold.py"), "--kinds", hold_kind(kind), "--api", api, "--stats", "--exit-budget", "10"]
    with child(args, child_env(proxy.url, SANDBOXRES_UNSEEN_GRACE="1")) as program:
        assert hold.started.wait(60), f"the child never sent its create:\n{program.stderr}"
        program.send(SIGNALS["SIGINT"])
        hold.interrupted.set()
        program.finish()
    wait_landed(hold)
    # (a queue whose dead-letter queue is held is never sent: its create needs the dead-letter queue's ARN)
    landed = Inventory(emulator).prefixed_names()
    assert len(landed) == 1, landed
    (name,) = landed
    assert name in program.stderr, f"the report does not name {name}:\n{program.stderr}"
    assert "may still appear" in program.stderr and "sandboxres sweep" in program.stderr, program.stderr
    stats = stats_of(program.stdout)
    assert stats["left_behind"] >= 1 and stats["deleted"] == 0, stats
