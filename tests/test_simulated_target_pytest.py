"""The ``simulated`` target under pytest: the ini setting and the option, the markers, the seed and the replay line in
the summary and in a failed test's report, and xdist workers deriving their seeds from the run's (the same seed twice
gives the same worker seeds). Each inner run is a pytest process of its own (``runpytest_subprocess``)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sandboxres._runtime.target import worker_seed
from tests.test_pytest_plugin import RECORD, inner, records

pytest_plugins = ["pytester"]
__all__ = ["inner"]

PROBE = (
    RECORD
    + """
import os
import pytest
import sandboxres

def _record(name):
    target = sandboxres.describe_target()
    record(test=name, kind=target.kind, seed=target.simulation.seed, worker=os.environ.get("PYTEST_XDIST_WORKER", ""),
           endpoint=target.endpoints["sqs"], redirected=os.environ.get("AWS_ENDPOINT_URL"))
"""
)


def _lines(result: pytest.RunResult, prefix: str) -> list[str]:
    return [line for line in result.outlines if line.startswith(prefix)]


def test_ini_simulated_runs_the_emulator_only_tests_and_prints_the_seed(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.makeini("[pytest]\nsandboxres_target = simulated\nasyncio_default_fixture_loop_scope = function\n")
    inner.makepyfile(
        PROBE
        + """
def test_queue(sandboxres_queue):
    sandboxres_queue("q")
    _record("queue")

@pytest.mark.sandboxres_emulator_only
def test_emulator_only():
    _record("emulator_only")

@pytest.mark.sandboxres_aws_only
def test_aws_only():
    _record("aws_only")

def test_fails():
    assert False, "the code under test failed"
"""
    )
    monkeypatch.setenv("SANDBOXRES_SIMULATE_SEED", "555")
    result = inner.runpytest_subprocess("-p", "no:randomly", "-rs")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    seen = {r["test"]: r for r in records(inner.path / "records.jsonl")}
    assert set(seen) == {"queue", "emulator_only"}
    assert {r["kind"] for r in seen.values()} == {"simulated"} and {r["seed"] for r in seen.values()} == {555}
    assert seen["queue"]["redirected"] == seen["queue"]["endpoint"]  # the code under test reaches the simulator
    result.stdout.fnmatch_lines(["*needs real AWS, the sandboxres target is simulated*"])
    assert _lines(result, "simulator: ") == ["simulator: speed 20, seed 555 (SANDBOXRES_SIMULATE_SEED)"]
    assert _lines(result, "replay: ") == [
        # the failed test's section, then the summary's
        "replay: SANDBOXRES_TARGET=simulated SANDBOXRES_SIMULATE_SEED=555 pytest ...",
        "replay: SANDBOXRES_TARGET=simulated SANDBOXRES_SIMULATE_SEED=555",
    ]
    result.stdout.fnmatch_lines(["*- sandboxres -*", "simulated target: speed 20, seed 555"])
    result.stdout.fnmatch_lines(["target: simulated (AWS behaviour simulator in front of a moto server*"])


def test_a_drawn_seed_is_printed(inner: pytest.Pytester) -> None:
    inner.makepyfile(PROBE + "\ndef test_one(sandboxres_queue):\n    sandboxres_queue('q')\n    _record('one')\n")
    result = inner.runpytest_subprocess("--sandboxres-target=simulated", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    (line,) = _lines(result, "simulator: ")
    (seen,) = records(inner.path / "records.jsonl")
    assert line == f"simulator: speed 20, seed {seen['seed']} (drawn for this run)"


XDIST_SUITE = PROBE + "".join(
    f"\ndef test_{n}(sandboxres_queue):\n    sandboxres_queue('q')\n    _record('{n}')\n" for n in range(6)
)


def _xdist_run(inner: pytest.Pytester, name: str) -> tuple[list[str], list[dict[str, Any]]]:
    inner.makepyfile(**{name: XDIST_SUITE})
    result = inner.runpytest_subprocess("--sandboxres-target=simulated", "-n", "2", "-p", "no:randomly", name + ".py")
    result.assert_outcomes(passed=6)
    path = inner.path / "records.jsonl"
    seen = records(path)
    path.unlink()
    return [*_lines(result, "simulator: "), *_lines(result, "replay: ")], seen


@pytest.mark.slow  # about ten seconds, not Python-version specific
def test_xdist_workers_derive_their_seeds_from_the_runs_alike_each_time(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOXRES_SIMULATE_SEED", "1234")
    first, seen = _xdist_run(inner, "test_first")
    second, _ = _xdist_run(inner, "test_second")
    assert first == second
    workers = sorted({(r["worker"], r["seed"]) for r in seen})
    assert [w for w, _ in workers] == ["gw0", "gw1"]
    assert all(seed == worker_seed(1234, worker) for worker, seed in workers)
    expected = ", ".join(f"{worker} {seed}" for worker, seed in workers)
    assert first == [
        f"simulator: speed 20, seed 1234 (SANDBOXRES_SIMULATE_SEED); worker seeds derived from it: {expected}",
        "replay: SANDBOXRES_TARGET=simulated SANDBOXRES_SIMULATE_SEED=1234 (with the same number of xdist workers)",
    ]


def test_a_bad_simulator_setting_is_a_usage_error(inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    inner.makepyfile("def test_never(sandboxres_queue):\n    sandboxres_queue('q')\n")
    monkeypatch.setenv("SANDBOXRES_SIMULATE_SPEED", "0")
    result = inner.runpytest_subprocess("--sandboxres-target=simulated")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert re.search(r"SANDBOXRES_SIMULATE_SPEED='0': must be a positive", str(result.stderr) + str(result.stdout))
