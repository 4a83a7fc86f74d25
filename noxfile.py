"""Development sessions: nox on uv. `uv run nox -l` lists them; `uv run nox -s NAME` runs one.

Every session except ``latest`` installs from ``uv.lock`` (``uv sync --locked`` into the session's virtualenv), so
what the tests run on changes only with a commit that changes the lock (``uv lock --upgrade``).

- ``lint``: ruff on everything; ``types``: mypy --strict on the package, on the tests and on each example.
- ``tests``: the whole suite (``tests/``) on moto's server, in two workers.
- ``fast-3.10`` ... ``fast-3.13``: the tests not marked ``slow`` on each supported Python (pyenv's or on PATH).
- ``plans``: the plan tests (``tests/plans``, no I/O) and the branch coverage they give the plans, the error
  classification and the ownership check, which must be 100 %.
- ``emulators``: the lifecycle tiers and the pool isolation tests on third-party emulators (dynalite,
  local-aws-sqs, s3rver).
- ``examples``: the examples' own suites on the embedded emulator and on external emulators.
- ``docs``: the documentation site in strict mode.
- ``latest``: the suite on the newest release of every dependency, ignoring the lock, to see drift early.
- ``ci``: all of the above but ``latest``, two at a time, then a table of the parts' times (what
  ``bash scripts/test.sh`` runs).

Emulator processes are started by tests/emulators/launch.py, the one launcher the tests use too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from tests.emulators.launch import emulators, start_emulator, tier_environment  # noqa: E402

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv"
nox.options.download_python = "never"  # the interpreters are the machine's (pyenv or PATH)
nox.options.error_on_missing_interpreters = False
nox.options.sessions = ["ci"]

PYTHON = "{}.{}".format(*sys.version_info)  # the main sessions run on the Python nox runs on (.venv's)
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
EXAMPLES = ("record_store", "upload_notifier", "order_service")
# Examples of flows the external emulators cannot run (S3 event notifications to SQS, DynamoDB streams), each with
# a suite written with the handle helpers and its naive twin (test_naive_*): run on the embedded emulator, and the
# helpers' suites again on the simulated target (the naive ones fail there, as on AWS: tests/test_simulated_examples.py)
BOTH_TIERS_EXAMPLES = ("upload_worker", "stream_consumer")
# Variables that select a target or carry credentials: each test run starts without them.
TARGET_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SQS",
    "DYNAMODB_ENDPOINT",
    "S3_ENDPOINT",
    "SQS_ENDPOINT",
    "SANDBOXRES_TARGET",
    "SANDBOXRES_KEEP",
    "SANDBOXRES_ENV_FILE",
    "SANDBOXRES_EMULATOR_LACKS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
)
PYTEST = ("python", "-m", "pytest", "-q", "-p", "no:cacheprovider")
# What the plan tests (tests/plans) alone must cover, every branch: the plans, the error classification, ownership.
PLAN_MODULES = (
    "sandboxres/_engine/classify.py",
    "sandboxres/_engine/plans.py",
    "sandboxres/_engine/steps.py",
    "sandboxres/_kinds/bucket/emptying.py",
    "sandboxres/_kinds/bucket/plans.py",
    "sandboxres/_kinds/bucket/recycling.py",
    "sandboxres/_kinds/queue/plans.py",
    "sandboxres/_kinds/queue/recycling.py",
    "sandboxres/_kinds/table/plans.py",
    "sandboxres/_kinds/table/recycling.py",
    "sandboxres/_kinds/topic/plans.py",
    "sandboxres/_kinds/topic/recycling.py",
    "sandboxres/_leases/plans.py",
    "sandboxres/_leases/records.py",
    "sandboxres/_safety/ownership.py",
)
# What dynalite, local-aws-sqs and s3rver lack together (the words of tests/support/target_env.py's FEATURES).
EMULATORS_LACK = (
    "streams",
    "ttl",
    "table_tags",
    "index_updates",
    "deletion_protection",
    "versioning",
    "bucket_tags",
    "bucket_policy",
    "bucket_lifecycle",
    "multipart_listing",
)
# The pool tests that run on the target the run was started with (the `pool_target` fixture of tests/conftest.py).
POOL_ON_TARGET = (
    "tests/test_pool_isolation.py::test_next_holder_observes_nothing",
    "tests/test_pool_isolation.py::test_without_recycling_the_trace_is_observed",
    "tests/test_pool_lifecycle.py::test_shapes_never_mix",
    "tests/test_pool_lifecycle.py::test_an_exception_in_the_block_never_leaves_it_dirty",
)
# Tests of SIMULATED_TESTS that assert an emulator's instant behaviour, which AWS does not promise (and the
# simulator does not give): a global index queried at once after the writes (its reads are eventually consistent).
SIMULATED_DESELECTED = ("tests/test_lifecycle_tiers.py::test_table_range_key_and_indexes",)
# Python 3.11's line tracing loses the lines a generator runs after a throw() into a `yield from`, which is how
# every plan receives a step's error: the plan coverage is measured on 3.12 or later.
PLANS_PYTHON = "3.13"


def _pyenv_interpreters() -> None:
    """Put pyenv's newest X.Y.Z of each supported X.Y first on PATH, so uv finds ``pythonX.Y`` (pyenv's shims
    answer only for the version selected in the shell)."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = []
    for version in PYTHONS:
        candidates = [p for p in root.glob(f"{version}.*") if re.fullmatch(rf"{re.escape(version)}\.\d+", p.name)]
        candidates.sort(key=lambda p: int(p.name.rsplit(".", 1)[1]))
        if candidates and (candidates[-1] / "bin" / f"python{version}").is_file():
            found.append(str(candidates[-1] / "bin"))
    if found:
        os.environ["PATH"] = os.pathsep.join([*found, os.environ.get("PATH", "")])


_pyenv_interpreters()
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")


def sync(session: nox.Session, *args: str) -> None:
    """Install the locked environment (the package, the ``test`` extra, nox) into the session's virtualenv."""
    session.run_install(
        "uv",
        "sync",
        "--locked",
        "--quiet",
        f"--python={session.virtualenv.location}",
        *args,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        external=True,
    )


def clean_env(**extra: str) -> dict[str, str | None]:
    """The session's environment without the target variables (None unsets), plus ``extra``."""
    env: dict[str, str | None] = dict.fromkeys(TARGET_VARIABLES)
    env.update(extra)
    return env


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff on the package, the tests, the benchmarks, the examples and this file."""
    sync(session)
    session.run("ruff", "check", "sandboxres", "tests", "benchmarks", "examples", "noxfile.py")


@nox.session(python=PYTHON)
def types(session: nox.Session) -> None:
    """mypy --strict (pyproject's settings) on the package, on the tests (every file under tests/), and on each
    example with its tests."""
    sync(session)
    session.run("mypy")
    session.run("mypy", "tests")
    for example in (*EXAMPLES, *BOTH_TIERS_EXAMPLES):
        with session.chdir(ROOT / "examples" / example):
            session.run(
                "mypy", "--strict", "--python-version", "3.10", "--no-error-summary", example, "tests",
                env={"MYPYPATH": f".{os.pathsep}{ROOT}"},
            )  # fmt: skip


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole suite (tests/) on moto's server, in two workers. Arguments go to pytest."""
    sync(session)
    session.run(*PYTEST, "-n", "2", *session.posargs, env=clean_env())


@nox.session(python=PLANS_PYTHON)
def plans(session: nox.Session) -> None:
    """The plan tests (tests/plans: every plan stepped by a scripted driver, no I/O), their five slowest tests, then
    the branch coverage of PLAN_MODULES from these tests alone (fails under 100 %). Arguments go to pytest."""
    sync(session)
    include = "--include=" + ",".join(PLAN_MODULES)
    env = clean_env(COVERAGE_FILE=str(Path(session.virtualenv.location) / ".coverage"))
    session.run("coverage", "erase", env=env)
    session.run(
        "coverage", "run", "--branch", include, "-m", *PYTEST[2:], "--durations=5", "tests/plans", *session.posargs,
        env=env,
    )  # fmt: skip
    session.run("coverage", "report", "--show-missing", include, "--fail-under=100", env=env)


@nox.session(python=PYTHONS)
def fast(session: nox.Session) -> None:
    """The tests not marked ``slow`` on one supported Python. Arguments go to pytest."""
    sync(session)
    session.run(*PYTEST, "-n", "2", "-m", "not slow", *session.posargs, env=clean_env())


@nox.session(python=PYTHON, name="emulators")
def emulator_tiers(session: nox.Session) -> None:
    """The lifecycle tiers (tests/test_lifecycle_tiers.py) and the pool isolation and shape tests (POOL_ON_TARGET)
    on third-party emulators, selected by endpoint variables: dynalite (tables CREATING / DELETING for 500 ms, then
    2,000 ms for the tiers' table tests; no TTL, streams, deletion protection or index added by UpdateTable),
    local-aws-sqs (new queues unusable for ~1.15 s, QueueDeletedRecently for 60 s), s3rver (no versioning, bucket
    tagging, policy, lifecycle or multipart listing). Arguments go to pytest."""
    sync(session)
    lacks = ",".join(EMULATORS_LACK)
    tiers = ("tests/test_lifecycle_tiers.py",)
    with emulators(dynalite={"create_ms": 500, "delete_ms": 500}, sqs={}, s3rver={}) as running:
        env = clean_env(SANDBOXRES_TARGET="emulator", SANDBOXRES_EMULATOR_LACKS=lacks, **tier_environment(running))
        session.log("dynalite (500 ms), local-aws-sqs, s3rver: the tiers and the pools")
        session.run(*PYTEST, "-n", "2", "-rs", *tiers, *POOL_ON_TARGET, *session.posargs, env=env)
        with start_emulator("dynalite", create_ms=2000, delete_ms=2000) as slow_dynalite:
            session.log("dynalite (2,000 ms): the table tests")
            env["AWS_ENDPOINT_URL_DYNAMODB"] = slow_dynalite.url
            session.run(*PYTEST, "-n", "2", *tiers, "-k", "table", *session.posargs, env=env)


# The tests of the `simulated` session: those that run on the target in force. Left out, with why: the pool tests
# whose holders read a queue with a short poll (`_in_flight`: AWS may answer it empty, and the simulator does) or
# that expect a resource handed out again (a throttled probe at the end of a recycling's settle time discards it).
SIMULATED_TESTS = (
    "tests/test_lifecycle_tiers.py",
    "tests/test_pool_lifecycle.py::test_an_exception_in_the_block_never_leaves_it_dirty",
)
# Tests of SIMULATED_TESTS that assert an emulator's instant behaviour, which AWS does not promise (and the
# simulator does not give): a global index queried at once after the writes (its reads are eventually consistent).
SIMULATED_DESELECTED = ("tests/test_lifecycle_tiers.py::test_table_range_key_and_indexes",)


@nox.session(python=PYTHON)
def simulated(session: nox.Session) -> None:
    """The lifecycle tiers and the pool test of SIMULATED_TESTS on the `simulated` target (the embedded emulator
    behind the AWS behaviour simulator, every behaviour on, default speed), in two workers; the seed is printed in
    pytest's summary (SANDBOXRES_SIMULATE_SEED replays it). Arguments go to pytest."""
    sync(session)
    env = clean_env(SANDBOXRES_TARGET="simulated")
    deselected = [f"--deselect={test}" for test in SIMULATED_DESELECTED]
    session.run(*PYTEST, "-n", "2", "-rs", *SIMULATED_TESTS, *deselected, *session.posargs, env=env)


def _example_suites(session: nox.Session, env: dict[str, str | None]) -> None:
    for example in EXAMPLES:
        with session.chdir(ROOT / "examples" / example):
            session.run(*PYTEST, "-rs", env=env)


@nox.session(python=PYTHON)
def examples(session: nox.Session) -> None:
    """The examples' own suites (examples/*/tests), the same test code on two tiers: the embedded emulator (no
    target variable at all), then dynalite, local-aws-sqs and s3rver chosen by endpoint variables alone; the
    examples of BOTH_TIERS_EXAMPLES on the embedded emulator and on the simulated target."""
    sync(session)
    session.log("tier 1: embedded emulator (no target variables)")
    _example_suites(session, clean_env())
    for example in BOTH_TIERS_EXAMPLES:
        with session.chdir(ROOT / "examples" / example):
            session.run(*PYTEST, "-rs", env=clean_env())
    session.log("tier 2: external emulators, selected by environment variables only")
    with emulators(dynalite={}, sqs={}, s3rver={}) as running:
        _example_suites(session, clean_env(**tier_environment(running)))
    session.log("the simulated target (AWS's delays and checks): the suites written with the handle helpers")
    for example in BOTH_TIERS_EXAMPLES:
        with session.chdir(ROOT / "examples" / example):
            session.run(*PYTEST, "-rs", "-k", "not naive", env=clean_env(SANDBOXRES_TARGET="simulated"))


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """The documentation site: mkdocs in strict mode (a broken page, link, nav entry or docstring fails)."""
    sync(session)
    with tempfile.TemporaryDirectory(prefix="sandboxres-site-") as site:
        # Not --quiet: it hides the warnings strict mode counts.
        session.run("mkdocs", "build", "--strict", "--site-dir", site, env={"NO_MKDOCS_2_WARNING": "1"})
        pages = sum(1 for _ in Path(site).rglob("index.html"))
    session.log(f"docs: {pages} pages built in strict mode")


@nox.session(python=PYTHON)
def latest(session: nox.Session) -> None:
    """The whole suite on the newest release of every dependency (not the lock), then what differs from the lock.

    A failure here is drift to look into before users meet it; refreshing the lock (`uv lock --upgrade`) is a
    separate, deliberate commit."""
    session.run_install(
        "uv", "pip", "install", "--quiet", "--upgrade", "--refresh", f"--python={session.virtualenv.location}",
        "-e", ".[test]",
        external=True,
    )  # fmt: skip
    _report_drift(session)
    session.run(*PYTEST, "-n", "2", *session.posargs, env=clean_env())


def _report_drift(session: nox.Session) -> None:
    """Log every installed package whose version is not one of those in uv.lock."""
    import tomllib

    locked: dict[str, set[str]] = {}  # a package can be locked at several versions (one per Python range)
    for package in tomllib.loads((ROOT / "uv.lock").read_text())["package"]:
        locked.setdefault(package["name"], set()).add(package.get("version", ""))
    frozen = session.run("uv", "pip", "freeze", f"--python={session.virtualenv.location}", silent=True, external=True)
    drift = []
    for line in str(frozen).splitlines():
        name, sep, version = line.partition("==")
        key = re.sub(r"[-_.]+", "-", name).lower()
        if sep and key in locked and version not in locked[key]:
            drift.append(f"{key} {' / '.join(sorted(locked[key]))} -> {version}")
    session.log("not the locked version: " + (", ".join(drift) if drift else "nothing"))


# ------------------------------------------------------------------------------------------------------------
# ci: every part, two at a time, and a table of their times


@nox.session(python=False)
def ci(session: nox.Session) -> None:
    """Every part but `latest` as its own nox run, two at a time (longest first), each one's output printed whole
    when it ends, then a table: part, seconds, status (with the set-up of scripts/test.sh first when it ran it).
    Fails when any part fails."""
    parts = session.posargs or [
        "tests",
        "plans",
        "emulators",
        "simulated",
        "examples",
        *(f"fast-{version}" for version in PYTHONS if version != PYTHON),
        "types",
        "docs",
        "lint",
    ]
    results = _run_parts(session, parts, lanes=int(os.environ.get("SANDBOXRES_CI_LANES", "2")))
    setup = os.environ.get("SANDBOXRES_CI_SETUP_SECONDS")  # scripts/test.sh: uv and the locked .venv
    if setup:
        results = {"setup": (float(setup), "passed", ""), **results}
    width = max(len(part) for part in results)
    print(f"\n{'part':<{width}}  {'seconds':>8}  status", flush=True)
    for part, (seconds, status, _) in results.items():
        print(f"{part:<{width}}  {seconds:8.1f}  {status}", flush=True)
    total = _pytest_totals([log for _, _, log in results.values()])
    if total:
        print("total: " + ", ".join(f"{count} {word}" for word, count in total.items()), flush=True)
    failed = [part for part, (_, status, _) in results.items() if status == "failed"]
    if failed:
        session.error(f"failed: {', '.join(failed)}")


def _run_parts(session: nox.Session, parts: list[str], lanes: int) -> dict[str, tuple[float, str, str]]:
    results: dict[str, tuple[float, str, str]] = {}
    queue = list(parts)
    lock = threading.Lock()
    nox_command = [sys.executable, "-m", "nox", "--no-color", "--noxfile", str(ROOT / "noxfile.py")]

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                part = queue.pop(0)
            started = time.monotonic()
            done = subprocess.run(
                [*nox_command, "-s", part],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )
            seconds = time.monotonic() - started
            if done.returncode == 0:
                status = "skipped" if re.search(rf"Session {re.escape(part)} skipped", done.stdout) else "passed"
            else:
                status = "failed"
            with lock:
                results[part] = (seconds, status, done.stdout)
                print(f"\n=== {part}: {status} in {seconds:.1f} s\n{done.stdout.rstrip()}", flush=True)

    threads = [threading.Thread(target=worker, name=f"ci-lane-{n}") for n in range(max(1, lanes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {part: results[part] for part in parts if part in results}


_PYTEST_SUMMARY = re.compile(r"^=*\s*(\d+ \w+(?:, \d+ \w+)*) in [\d.]+s", re.MULTILINE)


def _pytest_totals(logs: list[str]) -> dict[str, int]:
    """passed / failed / skipped ... summed over every pytest summary line in ``logs``."""
    totals = {"passed": 0, "failed": 0}
    for log in logs:
        for match in _PYTEST_SUMMARY.finditer(log):
            for count, word in re.findall(r"(\d+) (\w+)", match.group(1)):
                word = {"error": "errors"}.get(word, word)
                totals[word] = totals.get(word, 0) + int(count)
    return totals if any(totals.values()) else {}
