"""The pytest plugin's options and the state it keeps for one run (in the controller and in each xdist worker).

Options: ``--sandboxres-target`` and ``--sandboxres-keep`` / ``--sandboxres-no-keep``, with the ini settings
``sandboxres_target`` and ``sandboxres_keep``. Precedence: ``keep=`` of one factory call > command line >
environment (``SANDBOXRES_TARGET`` or an endpoint variable, ``SANDBOXRES_KEEP``, also from
``SANDBOXRES_ENV_FILE``) > ini. The chosen settings are put in the environment for the run and restored when
pytest unconfigures. Under pytest-xdist every worker's run id is the session's run id plus ``-gw<N>``, and each
worker reports what it did to the controller for the summary. On the ``simulated`` target the run's seed is fixed
when the run starts (``SANDBOXRES_SIMULATE_SEED`` is set for the run when the user gave none), so that every xdist
worker derives its own simulator's seed from the same one. The hooks are registered by
:mod:`sandboxres.pytest_plugin`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest

import sandboxres._safety.registry as _registry
from sandboxres._doors.pytest_markers import register_markers
from sandboxres._engine.errors import ConfigurationError
from sandboxres._engine.redaction import install_log_redaction
from sandboxres._runtime.settings import ENDPOINT_VARIABLES, environ_view, load_env_file
from sandboxres._runtime.target import _PROCESS_RUN_ID, TARGET_KINDS, resolve_target
from sandboxres._safety.registry import STATS

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_WORKER_KEY = "sandboxres"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sandboxres", "sandboxres (throw-away AWS resources)")
    group.addoption(
        "--sandboxres-target",
        dest="sandboxres_target",
        choices=TARGET_KINDS,
        default=None,
        help="where resources are created: embedded, emulator (needs AWS_ENDPOINT_URL*), simulated (the embedded "
        "emulator behind the AWS behaviour simulator) or aws. "
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
        "sandboxres target (embedded, emulator, simulated or aws) when the environment chooses none "
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
    if name == "sandboxres_target" and raw not in TARGET_KINDS:
        raise pytest.UsageError(f"ini setting sandboxres_target={raw!r} is not one of {', '.join(TARGET_KINDS)}")
    if name == "sandboxres_keep":
        if raw not in _TRUE + _FALSE:
            raise pytest.UsageError(f"ini setting sandboxres_keep={raw!r} is not true or false")
        raw = "1" if raw in _TRUE else "0"
    if _environment_decides(name):
        return None, ""
    return raw, f"ini {name}"


@dataclass
class Session:
    """What the plugin keeps for one pytest run (in the controller and in each xdist worker)."""

    saved_env: dict[str, str | None] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    run_id: str = ""
    stats_at_start: dict[str, Any] = field(default_factory=dict)
    live_at_start: set[int] = field(default_factory=set)
    workers: list[dict[str, Any]] = field(default_factory=list)
    seed: int | None = None  # this process's simulator seed on the simulated target

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
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        return {"stats": delta, "left_behind": left, "seed": self.seed, "worker": worker}


SESSION = pytest.StashKey[Session]()


def pytest_configure(config: pytest.Config) -> None:
    install_log_redaction()  # a test run uses the library: SDK records are redacted from the start (caplog too)
    register_markers(config)
    session = Session(stats_at_start=STATS.as_dict(), live_at_start={id(lc) for lc in _registry.live()})
    config.stash[SESSION] = session
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
    _fix_seed(session)
    try:
        environ = load_env_file(os.environ)
    except ConfigurationError:  # a wrong SANDBOXRES_ENV_FILE is reported by the first resource, not here
        environ = dict(os.environ)
    session.run_id = environ.get("SANDBOXRES_RUN_ID") or _PROCESS_RUN_ID


def _fix_seed(session: Session) -> None:
    """On ``simulated``: the run's seed in the environment (a drawn one too), for every worker to derive its own."""
    try:
        target = resolve_target()
    except ConfigurationError:  # reported by the first resource
        return
    if target.simulation is None:
        return
    if target.sources.get("seed") == "random per process":
        session.set_env("SANDBOXRES_SIMULATE_SEED", str(target.simulation.run_seed))
        session.sources["SANDBOXRES_SIMULATE_SEED"] = "drawn for this run"
    session.seed = target.simulation.seed


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION, None)
    if session is not None:
        session.restore_env()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: every worker gets this run's id, to which it appends its worker id."""
    node.workerinput["sandboxres_run_id"] = node.config.stash[SESSION].run_id


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist controller: collect what a finished worker did, for the summary."""
    report = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    if report is not None:
        node.config.stash[SESSION].workers.append(report)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workeroutput"):
        config.workeroutput[_WORKER_KEY] = config.stash[SESSION].report()
