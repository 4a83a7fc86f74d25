"""The naive example tests (examples/naive): green on the embedded emulator, red on ``simulated`` as on AWS, with
their correct versions green on both; and the behaviour table of docs/simulated.md, which lists exactly the
registered behaviours.

Each example runs as an inner pytest run in a subprocess (its own embedded emulator and simulator), once per target.
The seed is fixed so that the random decisions (a short poll coming back empty) are the same on every run; the
index lag is lengthened by a profile so that the naive read falls inside it on a loaded machine too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.simulated import behaviour_table, docs_table
from sandboxres._runtime.settings import ENDPOINT_VARIABLES
from sandboxres._simulator.behaviours import BY_NAME

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NAIVE = ROOT / "examples" / "naive" / "tests"
SEED = "3"
PROFILE = {"eventual_reads": {"lag_seconds": 30, "index_lag_seconds": 60}}  # 1.5 s and 3 s at speed 20

# The example module, its naive test, what its failure says on simulated, and its correct version
EXAMPLES = {
    "test_queue_receive.py": (
        "test_naive_receive_right_after_a_send",
        "assert [] == ['job 1']",
        "test_receive_by_long_polling_until_a_deadline",
    ),
    "test_index_read.py": (
        "test_naive_index_read_right_after_a_write",
        "assert [] == ['u1']",
        "test_consistent_read_then_index_read_until_a_deadline",
    ),
    "test_s3_notification.py": (
        "test_naive_notification_without_a_queue_policy",
        "InvalidArgument) when calling the PutBucketNotificationConfiguration operation: Unable to validate the "
        "following destination configurations",
        "test_notification_with_the_queue_policy",
    ),
}


def isolate(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, profile: dict[str, Any]) -> None:
    """Inner runs see no target or simulator settings from outside: the seed fixed, ``profile`` in force."""
    for name in (
        *ENDPOINT_VARIABLES,
        "SANDBOXRES_TARGET",
        "SANDBOXRES_RUN_ID",
        "SANDBOXRES_ENV_FILE",
        "PYTEST_ADDOPTS",
    ):
        monkeypatch.delenv(name, raising=False)
    for name in ("", "_SPEED", "_OFF", "_ONLY"):
        monkeypatch.delenv(f"SANDBOXRES_SIMULATE{name}", raising=False)
    monkeypatch.setenv("SANDBOXRES_SIMULATE_SEED", SEED)
    path = pytester.path / "profile.json"
    path.write_text(json.dumps(profile))
    monkeypatch.setenv("SANDBOXRES_SIMULATE_PROFILE", str(path))


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester with the three naive examples, whose runs see no target or simulator settings from outside."""
    isolate(pytester, monkeypatch, PROFILE)
    pytester.makeini("[pytest]\nfilterwarnings = ignore::DeprecationWarning\n")
    for module in ("conftest.py", *EXAMPLES):
        (pytester.path / module).write_text((NAIVE / module).read_text())
    return pytester


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """Test name -> PASSED / FAILED / ERROR, from the ``-rA`` summary."""
    found: dict[str, str] = {}
    for line in result.stdout.lines:
        word, _, rest = line.partition(" ")
        if word in ("PASSED", "FAILED", "ERROR") and "::" in rest:
            found[rest.split("::", 1)[1].split(" ", 1)[0]] = word
    return found


def run(inner: pytest.Pytester, target: str) -> pytest.RunResult:
    return inner.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:cacheprovider", "-rA", f"--sandboxres-target={target}", *EXAMPLES
    )  # fmt: skip


def test_naive_examples_pass_on_the_embedded_emulator(inner: pytest.Pytester) -> None:
    result = run(inner, "embedded")
    expected = {test: "PASSED" for naive, _, correct in EXAMPLES.values() for test in (naive, correct)}
    assert outcomes(result) == expected, result.stdout.str()
    result.stdout.fnmatch_lines(["*resources: 8 created, 8 deleted, 0 kept, 0 left behind*"])


def test_naive_examples_fail_on_simulated_and_their_correct_versions_pass(inner: pytest.Pytester) -> None:
    result = run(inner, "simulated")
    expected = {naive: "FAILED" for naive, _, _ in EXAMPLES.values()}
    expected |= {correct: "PASSED" for _, _, correct in EXAMPLES.values()}
    output = result.stdout.str()
    assert outcomes(result) == expected, output
    for naive, failure, _ in EXAMPLES.values():
        report = output.split(f"_ {naive} _", 1)[1].split("\n___", 1)[0]  # this test's failure section
        assert failure in report, report
        assert f"replay: SANDBOXRES_TARGET=simulated SANDBOXRES_SIMULATE_SEED={SEED}" in report
    result.stdout.fnmatch_lines(["*resources: 8 created, 8 deleted, 0 kept, 0 left behind*"])


# ---------------------------------------------------------------------------------------------------------
# docs/simulated.md


def test_the_behaviour_table_lists_exactly_the_registered_behaviours() -> None:
    documented = docs_table((ROOT / "docs" / "simulated.md").read_text())
    names = [row.split("|")[1].strip().strip("`") for row in documented.splitlines()[2:]]
    assert sorted(names) == sorted(BY_NAME)
    assert documented == behaviour_table()  # settings, defaults and texts as in the code


# ---------------------------------------------------------------------------------------------------------
# examples/upload_worker and examples/stream_consumer: one flow written with the handle helpers and naively

BOTH_TIERS = ("upload_worker", "stream_consumer")
# Stream records 3 s late at speed 20 (AWS: under a second; 50 ms at speed 20, which a loaded machine's naive read
# may take longer than reaching), so that the naive read falls inside the delay on any machine
BOTH_TIERS_PROFILE = {**PROFILE, "stream_delay": {"seconds": 60}}


@pytest.fixture(params=BOTH_TIERS)
def example(request: pytest.FixtureRequest, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> str:
    """A pytester holding one example (its package and its tests), whose runs see no outside target settings."""
    isolate(pytester, monkeypatch, BOTH_TIERS_PROFILE)
    name: str = request.param
    source = ROOT / "examples" / name
    for path in source.rglob("*.py"):
        copy = pytester.path / path.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(path.read_text())
    pytester.makeini("[pytest]\npythonpath = .\ntestpaths = tests\nfilterwarnings = ignore::DeprecationWarning\n")
    return name


def test_both_tiers_examples_pass_on_the_embedded_emulator(example: str, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-rA")
    found = outcomes(result)
    assert found and set(found.values()) == {"PASSED"}, result.stdout.str()
    assert any(test.startswith("test_naive_") for test in found)
    result.stdout.fnmatch_lines(["*0 kept, 0 left behind*"])


def test_both_tiers_examples_naive_fail_on_simulated_helpers_pass(example: str, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:cacheprovider", "-rA", "--sandboxres-target=simulated"
    )  # fmt: skip
    found = outcomes(result)
    expected = {test: "FAILED" if test.startswith("test_naive_") else "PASSED" for test in found}
    assert found and found == expected, result.stdout.str()
    assert "FAILED" in found.values() and "PASSED" in found.values()
    result.stdout.fnmatch_lines(["*0 kept, 0 left behind*"])
