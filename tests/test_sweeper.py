"""The sweeper: after a program using the library is killed with SIGKILL, one sweep removes all of its resources
and nothing else. Look-alikes created directly with boto3 (``test_`` names without tags, ``testing_x``,
``Test_x``, a ``test-`` bucket without tags, even with the library's tags on a wrong prefix) survive.

Everything runs against a moto server process of this module (reset before each test), over HTTP.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import sandboxres
from sandboxres import ForeignResourceError, GuardError, SpecError, SweepReport, sweep
from sandboxres._doors.sweep import SweepProgress, parse_age
from sandboxres._kinds import KINDS
from sandboxres._kinds.queue import QUEUE
from sandboxres._kinds.table import TABLE
from sandboxres._runtime.clients import active_target, client_pool
from sandboxres._runtime.drivers import SyncDriver
from sandboxres._safety.ownership import delete_owned, ownership
from sandboxres._simulator import access_denied
from tests.support.child_processes import CHILDREN, child, child_env, script
from tests.support.inventory import Inventory
from tests.support.moto_server import reset
from tests.support.planted import library_tags, make_bucket, make_queue, make_table

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

CHILD_RUN = "childrun1"


@pytest.fixture
def emulator(upstream_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The module's moto server, empty, and the target of this process (``sweep()`` reads the environment)."""
    reset(upstream_url)
    point_at(monkeypatch, upstream_url)
    yield upstream_url
    reset(upstream_url)


def point_at(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")


def now_tag(delta: timedelta = timedelta()) -> str:
    moment = (datetime.now(timezone.utc) - delta).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def make_lookalikes(url: str) -> set[str]:
    """Resources a sweep must never touch: wrong prefix (even with the library's tags), or no tags."""
    tags = library_tags(CHILD_RUN, now_tag(timedelta(hours=5)))
    make_table(url, "test_untagged_lookalike")
    make_table(url, "testing_x", tags)
    make_table(url, "Test_x", tags)
    make_bucket(url, "test-untagged-lookalike")
    make_bucket(url, "testing-x", tags)
    make_queue(url, "test_untagged_lookalike")
    make_queue(url, "testing_x", tags)
    make_queue(url, "Test_x", tags)
    make_table(url, "test_half_tagged", {"sandboxres:managed": "true"})  # no run id, no creation time
    make_queue(url, "test_not_managed", {**tags, "sandboxres:managed": "false"})
    make_bucket(url, "test-bad-date", {**tags, "sandboxres:created-at": "yesterday"})
    return {
        "test_untagged_lookalike",
        "testing_x",
        "Test_x",
        "test-untagged-lookalike",
        "testing-x",
        "test_half_tagged",
        "test_not_managed",
        "test-bad-date",
    }


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandboxres", *args], env=env, capture_output=True, text=True, timeout=120
    )


# ---------------------------------------------------------------------------------------------------------
# SIGKILL, then one sweep


def test_sigkill_mid_suite_then_one_sweep_removes_exactly_its_resources(
    emulator: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookalikes = make_lookalikes(emulator)
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (tmp_path / "test_victim.py").write_text((CHILDREN / "victim_suite.py").read_text())
    args = ["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "test_victim.py"]
    with child(args, child_env(emulator, SANDBOXRES_RUN_ID=CHILD_RUN), cwd=tmp_path) as suite:
        finished = set(json.loads(suite.wait_for("DONE")))
        victims = set(json.loads(suite.wait_for("READY")))
        suite.process.send_signal(signal.SIGKILL)
        assert suite.finish() == -signal.SIGKILL

    # A resource of another, still running, program (another run id) must survive too.
    monkeypatch.setenv("SANDBOXRES_RUN_ID", "bystander")
    with sandboxres.ephemeral_queue("bystander") as bystander:
        before = Inventory(emulator).names()
        assert victims <= before, "SIGKILL left nothing to sweep?"
        assert not finished & before, "the finished test cleaned up after itself"

        dry = sweep(run_id=CHILD_RUN)
        assert {r.name for r in dry.resources} == victims
        assert {r.status for r in dry.resources} == {"would delete"}
        assert Inventory(emulator).names() == before  # a dry run deletes nothing

        report = sweep(run_id=CHILD_RUN, dry_run=False)
        assert (report.found, report.deleted, report.failed) == (5, 5, 0)
        after = Inventory(emulator).names()
        assert after == before - victims
        assert lookalikes | {bystander.name} <= after
        ignored = {item.name for item in report.ignored}
        assert {"test_untagged_lookalike", "test-untagged-lookalike", "test_half_tagged", bystander.name} <= ignored
        assert not {"testing_x", "Test_x", "testing-x"} & ignored  # never even candidates: wrong prefix


def test_sweep_cli_finds_deletes_and_summarises(emulator: str) -> None:
    lookalikes = make_lookalikes(emulator)
    env = child_env(emulator, SANDBOXRES_RUN_ID=CHILD_RUN)
    with child([script("hold.py"), "--kinds", "table,bucket,queue,fifo"], env) as program:
        victims = set(program.wait_json("READY"))
        program.process.send_signal(signal.SIGKILL)
        program.finish()
    env = child_env(emulator)

    dry = run_cli("sweep", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout
    for name in victims:
        assert "would delete" in dry.stdout and name in dry.stdout
    assert "summary: found 5, deleted 0, failed 0" in dry.stdout
    assert Inventory(emulator).names() >= victims

    young = run_cli("sweep", "--yes", "--older-than", "2h", env=env)
    assert young.returncode == 0, young.stderr
    assert "summary: found 0, deleted 0, failed 0" in young.stdout
    assert Inventory(emulator).names() >= victims

    done = run_cli("sweep", "--yes", "--older-than", "0s", "--json", env=env)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["summary"] == {"found": 5, "deleted": 5, "failed": 0, "ignored": 6}
    assert {r["name"] for r in document["resources"]} == victims
    assert {r["status"] for r in document["resources"]} == {"deleted"}
    assert Inventory(emulator).names() == lookalikes

    again = run_cli("sweep", "--yes", env=env)
    assert again.returncode == 0 and "summary: found 0, deleted 0, failed 0" in again.stdout


# ---------------------------------------------------------------------------------------------------------
# filters


def test_age_and_run_id_filters_use_the_tags(emulator: str) -> None:
    old_a = library_tags("run-a", now_tag(timedelta(hours=3)))
    new_a = library_tags("run-a", now_tag())
    old_b = library_tags("run-b", now_tag(timedelta(days=2)))
    make_table(emulator, "test_old_a", old_a)
    make_bucket(emulator, "test-old-a", old_a)
    make_queue(emulator, "test_old_a", old_a)
    make_table(emulator, "test_new_a", new_a)
    make_queue(emulator, "test_old_b", old_b)

    def names(report: SweepReport) -> set[str]:
        return {f"{r.kind}:{r.name}" for r in report.resources}

    assert names(sweep(older_than="2h")) == {
        "table:test_old_a",
        "bucket:test-old-a",
        "queue:test_old_a",
        "queue:test_old_b",
    }
    assert names(sweep(run_id="run-a")) == {
        "table:test_old_a",
        "bucket:test-old-a",
        "queue:test_old_a",
        "table:test_new_a",
    }
    assert names(sweep(older_than="1d", run_id="run-b")) == {"queue:test_old_b"}
    assert names(sweep(older_than=timedelta(hours=2), kinds=["queue"])) == {"queue:test_old_a", "queue:test_old_b"}
    ages = {r.name: r.age_seconds for r in sweep(kinds="table").resources}
    assert 3 * 3600 <= ages["test_old_a"] < 3 * 3600 + 600
    assert ages["test_new_a"] < 600

    report = sweep(older_than="2h", run_id="run-a", dry_run=False)
    assert (report.found, report.deleted, report.failed) == (3, 3, 0)
    assert Inventory(emulator).names() == {"test_new_a", "test_old_b"}


def test_progress_is_reported_for_every_phase(emulator: str) -> None:
    for index in range(3):
        make_queue(emulator, f"test_progress_{index}", library_tags("run-p", now_tag()))
    events: list[SweepProgress] = []
    report = sweep(dry_run=False, kinds=["queue"], progress=events.append)
    assert report.deleted == 3
    inspected = [e for e in events if e.phase == "inspect"]
    deleted = [e for e in events if e.phase == "delete"]
    assert [e.done for e in inspected] == [1, 2, 3] and {e.total for e in inspected} == {3}
    assert sorted(e.done for e in deleted) == [1, 2, 3]
    assert {e.name for e in deleted} == {f"test_progress_{i}" for i in range(3)}
    assert events[0].phase == "list"


# ---------------------------------------------------------------------------------------------------------
# the deleting layer refuses what is not ours


def test_delete_owned_refuses_untagged_and_unprefixed_before_any_delete_call(
    emulator: str, fault_proxy: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_table(emulator, "test_untagged")
    make_queue(emulator, "test_untagged")
    make_bucket(emulator, "test-untagged")
    make_table(emulator, "testing_tagged", library_tags("r", now_tag()))
    proxy = fault_proxy(emulator)
    point_at(monkeypatch, proxy.url)
    driver = SyncDriver(client_pool(active_target()))

    with pytest.raises(SpecError, match="lacks the table prefix"):
        driver.run(delete_owned(TABLE, TABLE.named("testing_tagged")))
    assert proxy.requests == []  # refused by name: not even a read

    for kind, name in (("table", "test_untagged"), ("queue", "test_untagged"), ("bucket", "test-untagged")):
        with pytest.raises(ForeignResourceError, match="sandboxres:managed=true"):
            driver.run(delete_owned(KINDS[kind], KINDS[kind].named(name)))
    assert [r.operation for r in proxy.requests if r.operation.startswith("Delete")] == []
    assert {"test_untagged", "test-untagged", "testing_tagged"} <= Inventory(emulator).names()

    make_queue(emulator, "test_ours", library_tags("r", now_tag()))
    assert driver.run(delete_owned(QUEUE, QUEUE.named("test_ours"))) is True
    assert driver.run(delete_owned(QUEUE, QUEUE.named("test_ours"))) is False  # already gone


def test_ownership_needs_all_three_tags() -> None:
    good = library_tags("r1", "2024-05-01T12:00:00Z")
    assert ownership(good).ours and ownership(good).run_id == "r1"
    assert not ownership({}).ours
    assert not ownership({**good, "sandboxres:managed": "True"}).ours
    assert not ownership({k: v for k, v in good.items() if k != "sandboxres:run-id"}).ours
    assert not ownership({**good, "sandboxres:created-at": "not a date"}).ours


# ---------------------------------------------------------------------------------------------------------
# failures, guards and bad input


def test_failed_deletion_is_reported_and_exits_1(emulator: str, fault_proxy: Callable[[str], Any]) -> None:
    make_queue(emulator, "test_stuck", library_tags("r", now_tag()))
    make_table(emulator, "test_fine", library_tags("r", now_tag()))
    proxy = fault_proxy(emulator)
    proxy.add(access_denied("sqs", "DeleteQueue"))
    result = run_cli("sweep", "--yes", env=child_env(proxy.url))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "summary: found 2, deleted 1, failed 1" in result.stdout
    assert "failed" in result.stdout and "AccessDenied" in result.stdout
    assert Inventory(emulator).names() == {"test_stuck"}


def test_sweep_on_aws_is_guarded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOXRES_TARGET", "aws")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with pytest.raises(GuardError, match="SANDBOXRES_AWS_ACCOUNTS"):
        sweep()
    env = child_env(None, SANDBOXRES_TARGET="aws", CI="true")
    result = run_cli("sweep", "--yes", env=env)
    assert result.returncode == 2
    assert "refusing real AWS in CI" in result.stderr and "SANDBOXRES_ALLOW_CI=1" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0s", 0), ("45", 45), ("90m", 5400), ("2h", 7200), ("1h30m", 5400), ("7d", 604800), ("1w", 604800)],
)
def test_parse_age(text: str, seconds: float) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize("bad", ["2 hours", "h", "-1h", "1y", "", True])
def test_bad_arguments_fail_before_any_call(bad: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: a call would fail
    with pytest.raises(SpecError):
        sweep(older_than=bad)
    with pytest.raises(SpecError):
        sweep(kinds=["tables"])
    with pytest.raises(SpecError):
        sweep(run_id="")


def test_cli_usage_errors_exit_2(emulator: str) -> None:
    result = run_cli("sweep", "--older-than", "soon", env=child_env(emulator))
    assert result.returncode == 2 and "not an age" in result.stderr
    result = run_cli("sweep", "--kind", "stream", env=child_env(emulator))
    assert result.returncode == 2


def test_sweep_works_on_the_embedded_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded emulator of this process is shared with other tests: sweep only a run id of our own."""
    monkeypatch.setenv("SANDBOXRES_RUN_ID", "embeddedsweep1")
    leftover = sandboxres.ephemeral_queue("sweptembedded")
    handle = leftover.create()
    report = sweep(run_id="embeddedsweep1", dry_run=False)
    assert [(r.name, r.status) for r in report.resources] == [(handle.name, "deleted")]
    leftover.delete()  # its own deletion finds it gone: no error


def test_cli_progress_shows_on_long_phases_only(capsys: pytest.CaptureFixture[str]) -> None:
    from sandboxres._doors.cli.sweep import ProgressLine

    line = ProgressLine()
    line(SweepProgress("inspect", 10, 10))  # a phase that ended at once: nothing to show
    assert capsys.readouterr().err == ""
    line.last -= 5  # the last line is five seconds old: a long phase
    line(SweepProgress("delete", 3, 40))
    line(SweepProgress("delete", 4, 40))  # less than a second later: quiet
    line(SweepProgress("delete", 40, 40))  # the end of a phase that showed progress
    assert capsys.readouterr().err.splitlines() == ["sweep: deleted or tried 3/40", "sweep: deleted or tried 40/40"]


@pytest.mark.parametrize(
    "tagged, wanted, same",
    [
        ("ci-7", "ci-7", True),
        ("ci-7-gw0", "ci-7", True),
        ("ci-7-gw12", "ci-7", True),
        ("ci-70", "ci-7", False),
        ("ci-7-gwx", "ci-7", False),
        ("ci-7", "ci-7-gw0", False),
        ("other-gw0", "ci-7", False),
    ],
)
def test_a_run_id_also_selects_its_xdist_workers(tagged: str, wanted: str, same: bool) -> None:
    from sandboxres._doors.sweep import same_run

    assert same_run(tagged, wanted) is same


def test_sweep_against_a_dead_endpoint_fails_fast() -> None:
    """Nothing listens on the endpoint: exit 2 within seconds, naming the endpoint and how to start one, instead
    of three listings retried until their deadlines."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    for args in (["sweep"], ["sweep", "--yes", "--kind", "queue"]):
        result = subprocess.run(
            [sys.executable, "-m", "sandboxres", *args],
            env=child_env(dead),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        assert dead in result.stderr and "sandboxres emulator" in result.stderr
        assert "nothing was swept" in result.stderr
