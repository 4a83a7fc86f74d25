"""The example suites on the embedded emulator and on ``simulated`` (default speed), and the AWS-only failures the
naive examples reproduce.

    python benchmarks/simulated.py [--seed 3] [--speed 20] [--no-docs]
    python benchmarks/simulated.py --table     # only rewrite the behaviour table of docs/simulated.md

Each suite under examples/ (examples/README.md) runs in its own pytest subprocess, one after the other, first with
no target variable (the embedded emulator), then with ``SANDBOXRES_TARGET=simulated`` and a fixed seed. Printed:
the wall time of each run and the ratio simulated / embedded (goal: <= 3x for the suites of application code), and
for the naive examples (examples/naive) each kind of AWS-only failure the issue lists: reproduced when its naive
test passes on the embedded emulator and fails on ``simulated``, as it does on AWS. Writes a section
"Simulated target" in docs/performance.md and the behaviour table of docs/simulated.md unless ``--no-docs``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.performance_page import paragraph, write_section
from sandboxres._simulator.behaviours import BEHAVIOURS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SUITES = ("record_store", "upload_notifier", "order_service")
SIMULATED_PAGE = ROOT / "docs" / "simulated.md"
RATIO_GOAL = 3.0
DEFAULT_SPEED = 20.0

# The AWS-only failure kinds of the issue, each with the naive test of examples/naive that shows it (None: none can,
# since the emulator already behaves as AWS there)
KINDS: dict[str, str | None] = {
    "table CREATING after CreateTable": "test_naive_put_right_after_create_table",
    "table DELETING after DeleteTable": "test_naive_create_again_right_after_delete_table",
    "table UPDATING after UpdateTable": "test_naive_two_table_updates_in_a_row",
    "bucket invisible after CreateBucket": "test_naive_put_right_after_create_bucket",
    "QueueDeletedRecently (60 s)": "test_naive_queue_name_reused_right_after_delete",
    "PurgeQueue once a minute (moto enforces it too)": None,
    "short poll empty while messages exist": "test_naive_receive_right_after_a_send",
    "long poll returning fewer messages": "test_naive_one_long_poll_brings_every_message",
    "eventually consistent GetItem": "test_naive_get_right_after_a_put",
    "index read lagging the write": "test_naive_index_read_right_after_a_write",
    "stream records delayed": "test_naive_stream_read_right_after_a_write",
    "S3 notification refused without queue policy": "test_naive_notification_without_a_queue_policy",
    "throttling and 5xx on control-plane calls": "test_naive_control_plane_calls_without_retries",
}

# -- the behaviour table of docs/simulated.md ------------------------------------------------------------------

TABLE_HEADER = (
    "| Behaviour | What AWS does | Source | Settings (default, AWS seconds) | At the default speed (20) |\n"
    "|---|---|---|---|---|"
)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _setting(name: str, value: float, speed: float) -> tuple[str, str]:
    if name.endswith("seconds"):
        return f"`{name}` = {value:g}", f"{value / speed:g} s"
    return f"`{name}` = {value:g}", f"{value:g} (not scaled)"


def behaviour_table(speed: float = DEFAULT_SPEED) -> str:
    """The table of every registered behaviour, from the code: name, fact, source, settings, scaled durations."""
    rows = [TABLE_HEADER]
    for behaviour in BEHAVIOURS:
        pairs = {name: _setting(name, value, speed) for name, value in behaviour.settings.items()}
        settings = ", ".join(p[0] for p in pairs.values()) or "none"
        scaled = ", ".join(f"`{name}` {p[1]}" for name, p in pairs.items()) or "-"
        rows.append(
            f"| `{behaviour.name}` | {_cell(behaviour.imitates)} | {_cell(behaviour.source)} | {settings} | {scaled} |"
        )
    return "\n".join(rows)


def docs_table(page: str) -> str:
    """The behaviour table as it stands in ``page`` (from its header row to the first line not a row)."""
    lines = page.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Behaviour |"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end])


def write_table(page: Path = SIMULATED_PAGE) -> None:
    text = page.read_text()
    page.write_text(text.replace(docs_table(text), behaviour_table()))


# -- the runs ---------------------------------------------------------------------------------------------------

CLEARED = ("AWS_ENDPOINT_URL", "SANDBOXRES_TARGET", "SANDBOXRES_ENV_FILE", "SANDBOXRES_RUN_ID", "PYTEST_ADDOPTS")


def run_suite(example: str, simulated: bool, seed: int, speed: float) -> tuple[float, dict[str, str]]:
    """Wall time of one suite's pytest run, and each test's outcome (passed / failed / skipped)."""
    prefixes = ("AWS_ENDPOINT_URL_", "SANDBOXRES_SIMULATE")
    env = {k: v for k, v in os.environ.items() if k not in CLEARED and not k.startswith(prefixes)}
    if simulated:
        env |= {"SANDBOXRES_TARGET": "simulated", "SANDBOXRES_SIMULATE_SEED": str(seed)}
        env |= {"SANDBOXRES_SIMULATE_SPEED": f"{speed:g}"} if speed != DEFAULT_SPEED else {}
    with tempfile.TemporaryDirectory(prefix="sandboxres-bench-") as scratch:
        report = Path(scratch) / "junit.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
        started = time.perf_counter()
        subprocess.run([*command, f"--junitxml={report}"], cwd=EXAMPLES / example, env=env, capture_output=True)
        seconds = time.perf_counter() - started
        outcomes: dict[str, str] = {}
        for case in ElementTree.parse(report).iter("testcase"):
            kinds = {child.tag for child in case}
            outcome = "failed" if kinds & {"failure", "error"} else "skipped" if "skipped" in kinds else "passed"
            outcomes[case.get("name", "")] = outcome
    return seconds, outcomes


def _count(outcomes: dict[str, str]) -> str:
    counts = {k: sum(1 for v in outcomes.values() if v == k) for k in ("passed", "failed", "skipped")}
    return ", ".join(f"{n} {k}" for k, n in counts.items() if n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=3, help="SANDBOXRES_SIMULATE_SEED of the simulated runs")
    parser.add_argument("--speed", type=float, default=DEFAULT_SPEED, help="SANDBOXRES_SIMULATE_SPEED")
    parser.add_argument("--table", action="store_true", help="only rewrite the behaviour table of docs/simulated.md")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave the docs alone")
    args = parser.parse_args(argv)
    if args.table:
        write_table()
        return 0
    run_suite("record_store", False, args.seed, args.speed)  # warm-up: imports and caches
    suites = [
        "| suite | tests | embedded (s) | simulated (s) | simulated / embedded | outcomes on simulated |",
        "|---|---:|---:|---:|---:|---|",
    ]
    totals = [0.0, 0.0]
    for example in (*SUITES, "naive"):
        plain, plain_outcomes = run_suite(example, False, args.seed, args.speed)
        sim, sim_outcomes = run_suite(example, True, args.seed, args.speed)
        if example != "naive":
            totals[0] += plain
            totals[1] += sim
        else:
            naive = (plain_outcomes, sim_outcomes)
        suites.append(
            f"| `{example}` | {len(plain_outcomes)} | {plain:.1f} | {sim:.1f} | {sim / plain:.2f}x "
            f"| {_count(sim_outcomes)} |"
        )
    ratio = totals[1] / totals[0]
    suites.append(f"| the three application suites | | {totals[0]:.1f} | {totals[1]:.1f} | {ratio:.2f}x | |")
    kinds = ["| AWS-only failure kind | naive test | embedded | simulated | reproduced |", "|---|---|---|---|---|"]
    reproduced = 0
    for kind, test in KINDS.items():
        if test is None:
            kinds.append(f"| {kind} | - | fails already | - | n/a |")
            continue
        before, after = naive[0].get(test, "missing"), naive[1].get(test, "missing")
        hit = before == "passed" and after == "failed"
        reproduced += hit
        kinds.append(f"| {kind} | `{test}` | {before} | {after} | {'yes' if hit else 'no'} |")
    possible = sum(1 for test in KINDS.values() if test is not None)
    verdicts = [
        f"goal: the application suites on simulated <= {RATIO_GOAL:g}x embedded: "
        f"{'met' if ratio <= RATIO_GOAL else 'NOT met'} ({ratio:.2f}x)",
        f"goal: every AWS-only failure kind reproduced: {'met' if reproduced == possible else 'NOT met'} "
        f"({reproduced} of {possible}; {len(KINDS) - possible} the embedded emulator shows already)",
    ]
    print(f"speed {args.speed:g}, seed {args.seed}\n")
    print("\n".join([*suites, "", *kinds, "", *verdicts]))
    if not args.no_docs:
        write_table()
        write_section("Simulated target", _docs_body(args, "\n".join(suites), "\n".join(kinds), verdicts))
    return 0


def _docs_body(args: argparse.Namespace, suites: str, kinds: str, verdicts: list[str]) -> str:
    intro = paragraph(
        "`python benchmarks/simulated.py [--seed 3] [--speed 20]`: each example suite (examples/) in a pytest "
        "subprocess of its own, one after the other, on the embedded emulator and on `SANDBOXRES_TARGET=simulated` "
        "(every behaviour on, a fixed seed). The wall time includes starting Python, moto and the simulator. The "
        "naive examples (examples/naive) show one AWS-only failure kind each: reproduced when the naive test passes "
        "on the embedded emulator and fails on simulated. See [simulated AWS](simulated.md)."
    )
    where = paragraph(
        f"Measured {datetime.date.today().isoformat()} on a shared 2-CPU machine ({platform.system()}, Python "
        f"{platform.python_version()}), speed {args.speed:g}, seed {args.seed}:"
    )
    return "\n\n".join([intro, where, suites, kinds, "\n".join(f"- {v}" for v in verdicts)])


if __name__ == "__main__":
    sys.exit(main())
