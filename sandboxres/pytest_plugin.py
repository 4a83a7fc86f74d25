"""The pytest plugin: fixtures that make throw-away tables, buckets and queues, two markers, options, a summary.

Registered through the ``pytest11`` entry point ``sandboxres`` (``-p no:sandboxres`` turns it off). The library
works without it: the plugin only wraps :func:`sandboxres.ephemeral_table` and friends in fixtures.

Fixtures (each is a factory: call it for a handle; what it made is deleted when the fixture's scope ends)::

    sandboxres_table  sandboxres_bucket  sandboxres_queue                            function scope
    sandboxres_session_table  sandboxres_session_bucket  sandboxres_session_queue    session scope
    sandboxres_async_table  sandboxres_async_bucket  sandboxres_async_queue          function scope, async

Fixtures of other scopes come from the factory functions this module exports (written in ``_fixtures``), assigned
to a name in a conftest: ``table_factory(scope="module")`` (a factory fixture) or ``table_fixture("users",
scope="module", range_key="sk")`` (a fixture that is one handle), the same for buckets and queues, and their
``async_`` twins.

Markers: ``sandboxres_aws_only`` (skip unless the target is real AWS) and ``sandboxres_emulator_only`` (skip unless
it is an emulator, embedded or external). Options: ``--sandboxres-target`` and ``--sandboxres-keep`` /
``--sandboxres-no-keep``, with the ini settings ``sandboxres_target`` and ``sandboxres_keep``. Precedence:
``keep=`` of one factory call > command line > environment (``SANDBOXRES_TARGET`` or an endpoint variable,
``SANDBOXRES_KEEP``, also from ``SANDBOXRES_ENV_FILE``) > ini.

pytest-xdist: names carry the worker id (``test_users_gw0_<unique>``), each worker's run id is the session's run id
plus ``-gw<N>``, and each worker is a process with its own embedded emulator on its own free port. The terminal
summary adds up what every worker created, deleted, kept and left behind.

A :class:`~sandboxres.GuardError` (real AWS refused) or a :class:`~sandboxres.ConfigurationError` (the
environment cannot be used, an emulator that does not answer) escaping a test or a fixture ends the session
after that test, with its message and exit status 4 (a usage error): every other test would fail the same way.
The test's report carries that message alone, without a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

import sandboxres._safety.registry as _registry
from sandboxres._doors.fixtures import (
    AsyncFactory,
    Factory,
    async_bucket_factory,
    async_bucket_fixture,
    async_queue_factory,
    async_queue_fixture,
    async_table_factory,
    async_table_fixture,
    bucket_factory,
    bucket_fixture,
    queue_factory,
    queue_fixture,
    table_factory,
    table_fixture,
)
from sandboxres._engine.errors import ConfigurationError, GuardError, SandboxresError
from sandboxres._engine.redaction import install_log_redaction
from sandboxres._runtime.target import _PROCESS_RUN_ID, ENDPOINT_VARIABLES, Target, load_env_file, resolve_target
from sandboxres._runtime.target_report import describe_target
from sandboxres._safety.registry import STATS

__all__ = [
    "AsyncFactory",
    "Factory",
    "async_bucket_factory",
    "async_bucket_fixture",
    "async_queue_factory",
    "async_queue_fixture",
    "async_table_factory",
    "async_table_fixture",
    "bucket_factory",
    "bucket_fixture",
    "queue_factory",
    "queue_fixture",
    "table_factory",
    "table_fixture",
]

pytest_plugins = ["sandboxres._doors.redirect_plugin"]  # the session-wide redirect and the sandboxres_redirect fixture

AWS_ONLY = "sandboxres_aws_only"
EMULATOR_ONLY = "sandboxres_emulator_only"
_TARGET_KINDS = ("embedded", "emulator", "aws")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_WORKER_KEY = "sandboxres"
_SESSION_ENDING = (GuardError, ConfigurationError)
_STOP = pytest.StashKey[str]()


# ---------------------------------------------------------------------------------------------------------
# built-in fixtures

sandboxres_table = table_factory(name="sandboxres_table")
sandboxres_bucket = bucket_factory(name="sandboxres_bucket")
sandboxres_queue = queue_factory(name="sandboxres_queue")
sandboxres_session_table = table_factory(scope="session", name="sandboxres_session_table")
sandboxres_session_bucket = bucket_factory(scope="session", name="sandboxres_session_bucket")
sandboxres_session_queue = queue_factory(scope="session", name="sandboxres_session_queue")
sandboxres_async_table = async_table_factory(name="sandboxres_async_table")
sandboxres_async_bucket = async_bucket_factory(name="sandboxres_async_bucket")
sandboxres_async_queue = async_queue_factory(name="sandboxres_async_queue")


# ---------------------------------------------------------------------------------------------------------
# options and session state


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sandboxres", "sandboxres (throw-away AWS resources)")
    group.addoption(
        "--sandboxres-target",
        dest="sandboxres_target",
        choices=_TARGET_KINDS,
        default=None,
        help="where resources are created: embedded, emulator (needs AWS_ENDPOINT_URL*) or aws. "
        "Overrides SANDBOXRES_TARGET and the ini setting sandboxres_target.",
    )
    group.addoption(
        "--sandboxres-keep",
        dest="sandboxres_keep",
        action="store_true",
        default=None,
        help="keep the resources after the tests (for inspection) instead of deleting them. "
        "Overrides SANDBOXRES_KEEP and the ini setting sandboxres_keep; keep= of a factory call overrides it.",
    )
    group.addoption(
        "--sandboxres-no-keep",
        dest="sandboxres_keep",
        action="store_false",
        default=None,
        help="delete the resources even if the ini setting sandboxres_keep or SANDBOXRES_KEEP says keep.",
    )
    parser.addini(
        "sandboxres_target",
        "sandboxres target (embedded, emulator or aws) when the environment chooses none "
        "(SANDBOXRES_TARGET and the endpoint variables win over it)",
        default="",
    )
    parser.addini(
        "sandboxres_keep",
        "sandboxres: keep resources after the tests (true/false) unless SANDBOXRES_KEEP is set",
        default="",
    )


def _environment_decides(name: str) -> bool:
    """Whether the environment (with ``SANDBOXRES_ENV_FILE``) already decides the setting ``name``: as the user set
    it, not the variables the session-wide redirect set."""
    from sandboxres._runtime.redirect import environ_view

    user_environ = environ_view()
    try:
        environ = load_env_file(user_environ)
    except ConfigurationError:
        environ = user_environ
    if name == "sandboxres_target":
        return any((environ.get(v) or "").strip() for v in ("SANDBOXRES_TARGET", *ENDPOINT_VARIABLES))
    return bool((environ.get("SANDBOXRES_KEEP") or "").strip())


def _setting(config: pytest.Config, name: str) -> tuple[str | None, str]:
    """The value of the option ``name`` from the command line, else (when the environment does not decide it) the
    ini file; and where it came from. Command line > environment > ini, as for pytest-postgresql."""
    value = config.getoption(name)
    if value is not None:
        return (value if isinstance(value, str) else ("1" if value else "0")), f"--{name.replace('_', '-')}"
    raw = str(config.getini(name) or "").strip().lower()
    if not raw:
        return None, ""
    if name == "sandboxres_target" and raw not in _TARGET_KINDS:
        raise pytest.UsageError(f"ini setting sandboxres_target={raw!r} is not one of {', '.join(_TARGET_KINDS)}")
    if name == "sandboxres_keep":
        if raw not in _TRUE + _FALSE:
            raise pytest.UsageError(f"ini setting sandboxres_keep={raw!r} is not true or false")
        raw = "1" if raw in _TRUE else "0"
    if _environment_decides(name):
        return None, ""
    return raw, f"ini {name}"


@dataclass
class _Session:
    """What the plugin keeps for one pytest run (in the controller and in each xdist worker)."""

    saved_env: dict[str, str | None] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    run_id: str = ""
    stats_at_start: dict[str, Any] = field(default_factory=dict)
    live_at_start: set[int] = field(default_factory=set)
    workers: list[dict[str, Any]] = field(default_factory=list)

    def set_env(self, name: str, value: str) -> None:
        self.saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def restore_env(self) -> None:
        for name, value in self.saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.saved_env.clear()

    def report(self) -> dict[str, Any]:
        """What this process did since the run started: counters and the resources still live."""
        now = STATS.as_dict()
        delta = {key: now[key] - self.stats_at_start.get(key, 0) for key in now}
        left = [lc.resource for lc in _registry.live() if id(lc) not in self.live_at_start]
        return {"stats": delta, "left_behind": left}


_SESSION = pytest.StashKey[_Session]()


def pytest_configure(config: pytest.Config) -> None:
    install_log_redaction()  # a test run uses the library: SDK records are redacted from the start (caplog too)
    config.addinivalue_line(
        "markers",
        f"{AWS_ONLY}(reason=None): run only when the sandboxres target is real AWS "
        "(behaviour emulators cannot show); skipped on the embedded and external emulators.",
    )
    config.addinivalue_line(
        "markers",
        f"{EMULATOR_ONLY}(reason=None): run only when the sandboxres target is an emulator (embedded or external); "
        "skipped on real AWS.",
    )
    session = _Session(stats_at_start=STATS.as_dict(), live_at_start={id(lc) for lc in _registry.live()})
    config.stash[_SESSION] = session
    try:
        for option, variable in (("sandboxres_target", "SANDBOXRES_TARGET"), ("sandboxres_keep", "SANDBOXRES_KEEP")):
            value, source = _setting(config, option)
            if value is not None:
                session.set_env(variable, value)
                session.sources[variable] = source
    except pytest.UsageError:
        session.restore_env()
        raise
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and workerinput.get("sandboxres_run_id"):
        session.set_env("SANDBOXRES_RUN_ID", f"{workerinput['sandboxres_run_id']}-{workerinput['workerid']}")
    if session.sources:
        try:
            resolve_target()  # a wrong setting given to pytest stops the run here, before any test or call
        except ConfigurationError as exc:
            session.restore_env()
            raise pytest.UsageError(f"sandboxres: {exc}") from None
    try:
        environ = load_env_file(os.environ)
    except ConfigurationError:  # a wrong SANDBOXRES_ENV_FILE is reported by the first resource, not here
        environ = dict(os.environ)
    session.run_id = environ.get("SANDBOXRES_RUN_ID") or _PROCESS_RUN_ID


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.restore_env()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: every worker gets this run's id, to which it appends its worker id."""
    node.workerinput["sandboxres_run_id"] = node.config.stash[_SESSION].run_id


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist controller: collect what a finished worker did, for the summary."""
    report = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    if report is not None:
        node.config.stash[_SESSION].workers.append(report)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workeroutput"):
        config.workeroutput[_WORKER_KEY] = config.stash[_SESSION].report()


# ---------------------------------------------------------------------------------------------------------
# a refused or unusable target ends the session once


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    error = call.excinfo.value if call.excinfo is not None else None
    # A failure while creating (setup, the test's body) ends the session; one at teardown is a cleanup failure of
    # that test, reported with the others.
    if call.when != "teardown" and isinstance(error, _SESSION_ENDING) and _STOP not in item.config.stash:
        message = (
            f"sandboxres: {type(error).__name__}: {error}\n"
            "sandboxres: stopping the session: every test that creates a resource would fail the same way"
        )
        item.config.stash[_STOP] = message
        report.longrepr = message  # the message alone: no traceback, no frame locals
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    result = yield
    message = item.config.stash.get(_STOP, None)
    if message is not None:
        pytest.exit(message, returncode=pytest.ExitCode.USAGE_ERROR)
    return result


# ---------------------------------------------------------------------------------------------------------
# markers


def _marker_skip(item: pytest.Item, kind: str) -> str | None:
    """Why ``item`` is skipped on a target of ``kind``, or None when it runs."""
    for name, runs, needs in ((AWS_ONLY, kind == "aws", "real AWS"), (EMULATOR_ONLY, kind != "aws", "an emulator")):
        marker = item.get_closest_marker(name)
        if marker is not None and not runs:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            return f"needs {needs}, the sandboxres target is {kind}" + (f": {reason}" if reason else "")
    return None


def _marker_misuse(item: pytest.Item) -> str | None:
    """What is wrong with the sandboxres markers of ``item`` (a keyword other than ``reason``...), or None."""
    for name in (AWS_ONLY, EMULATOR_ONLY):
        for marker in item.iter_markers(name):
            unknown = sorted(set(marker.kwargs) - {"reason"})
            if unknown:
                return f"{item.nodeid}: @pytest.mark.{name} takes reason= only, not {', '.join(unknown)}"
            if (
                len(marker.args) > 1
                or any(not isinstance(a, str) for a in marker.args)
                or (marker.args and "reason" in marker.kwargs)
            ):
                return f"{item.nodeid}: @pytest.mark.{name} takes one reason (a string), got {marker.args!r}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip marked tests at collection, so a skipped test never sets up its fixtures (and creates nothing)."""
    marked = [item for item in items if item.get_closest_marker(AWS_ONLY) or item.get_closest_marker(EMULATOR_ONLY)]
    if not marked:
        return
    for item in marked:
        problem = _marker_misuse(item)
        if problem is not None:
            raise pytest.UsageError(f"sandboxres: {problem}")
    try:
        kind = resolve_target().kind
    except ConfigurationError as exc:
        raise pytest.UsageError(
            f"sandboxres: cannot tell the target for the {AWS_ONLY} / {EMULATOR_ONLY} markers: {exc}"
        ) from None
    for item in marked:
        if item.get_closest_marker(AWS_ONLY) and item.get_closest_marker(EMULATOR_ONLY):
            item.warn(
                pytest.PytestWarning(
                    f"{item.nodeid} is marked both {AWS_ONLY} and {EMULATOR_ONLY}, so it is skipped on every "
                    "target: keep one of the two markers"
                )
            )
        reason = _marker_skip(item, kind)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


# ---------------------------------------------------------------------------------------------------------
# terminal summary


def _safe_url(url: str) -> str:
    """``url`` without any user:password part."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _describe(target: Target, session: _Session) -> list[str]:
    """The target lines of the summary: kind and where, what chose it, the run id. No credentials."""
    if target.kind == "embedded":
        where = "moto server on 127.0.0.1, one per " + ("xdist worker" if session.workers else "process")
    elif target.kind == "emulator":
        urls = {s: _safe_url(u) for s, u in target.endpoints.items() if u and s in ("dynamodb", "s3", "sqs")}
        where = ", ".join(f"{s} {u}" for s, u in urls.items())
    else:
        where = f"real AWS, region {target.region or 'from the SDK configuration'}"
    chosen_by = session.sources.get("SANDBOXRES_TARGET") or target.sources.get("kind", "")
    run_id = session.run_id + ("-gw<N>" if session.workers else "")
    return [f"target: {target.kind} ({where})", f"chosen by: {chosen_by}; run id: {run_id}"]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is None or hasattr(config, "workerinput"):
        return
    reports = [session.report(), *session.workers]
    totals = {key: sum(r["stats"].get(key, 0) for r in reports) for key in STATS.as_dict()}
    left = [name for r in reports for name in r["left_behind"]]
    if not (totals["created"] or totals["kept"] or totals["left_behind"] or left):
        return
    embedded = False
    try:
        target = describe_target()
        target_lines, embedded = _describe(target, session), target.kind == "embedded"
    except SandboxresError as exc:
        target_lines = [f"target: not resolved ({exc})"]
    write = terminalreporter.write_line
    terminalreporter.write_sep("-", "sandboxres")
    for line in target_lines:
        write(line)
    write(
        f"resources: {totals['created']} created, {totals['deleted']} deleted, {totals['kept']} kept, "
        f"{len(left)} left behind"
    )
    write(f"waiting for readiness: {totals['ready_wait_seconds']:.2f} s")
    if totals["kept"] and embedded:
        write(
            "kept on purpose (keep=True, --sandboxres-keep or SANDBOXRES_KEEP): kept resources live only as long as "
            "this process's embedded emulator; to inspect them after the run, use an external emulator "
            "(sandboxres emulator)"
        )
    elif totals["kept"]:
        write("kept on purpose (keep=True, --sandboxres-keep or SANDBOXRES_KEEP): delete them when done")
    for name in left:
        write(f"left behind: {name} (see the errors above; delete it by hand or with the sweep command)")
