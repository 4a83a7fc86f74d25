"""The pytest side of :func:`sandboxres.redirect`: on by default for the whole session, and a fixture.

Loaded by :mod:`sandboxres.pytest_plugin`. The session-wide redirect starts before the initial conftest files are
imported (so a client built while importing the application from a conftest is redirected too) and is re-checked
once the plugin's own settings (``--sandboxres-target``...) apply. It ends, restoring every variable, when pytest
unconfigures. Turned off by ``--sandboxres-no-redirect``, ``SANDBOXRES_REDIRECT=0`` or the ini setting
``sandboxres_redirect = false`` (precedence in that order). The xdist controller runs no tests: it is
redirected only while it imports the initial conftest files, and its environment is restored before it starts
the workers, each of which redirects to its own embedded emulator (or the external one; on ``simulated``, to its
own simulator in front of it).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

from sandboxres._engine.errors import ConfigurationError
from sandboxres._runtime.redirect import Redirect, redirect
from sandboxres._runtime.settings import environ_view
from sandboxres._runtime.target import Target, resolve_target

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_STATE = pytest.StashKey["_SessionRedirect"]()


class _SessionRedirect:
    def __init__(self) -> None:
        self.stack = contextlib.ExitStack()
        self.current: Redirect | None = None

    def start(self, target: Target) -> None:
        self.stop()
        self.current = self.stack.enter_context(redirect(target))

    def stop(self) -> None:
        self.stack.close()
        self.current = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sandboxres")
    group.addoption(
        "--sandboxres-redirect",
        dest="sandboxres_redirect",
        action="store_true",
        default=None,
        help="point SDK clients the code under test builds itself (boto3.client(...)) at the sandboxres target "
        "through AWS_ENDPOINT_URL_* and related variables, for the whole session (the default).",
    )
    group.addoption(
        "--sandboxres-no-redirect",
        dest="sandboxres_redirect",
        action="store_false",
        default=None,
        help="leave the process environment alone. Overrides SANDBOXRES_REDIRECT and the ini setting "
        "sandboxres_redirect.",
    )
    parser.addini(
        "sandboxres_redirect",
        "sandboxres: point the code under test's own SDK clients at the target (true/false, default true)",
        default="",
    )


def _wanted(config: pytest.Config, namespace: Any) -> bool:
    """Whether the session-wide redirect is on: command line > SANDBOXRES_REDIRECT > ini > on."""
    option = getattr(namespace, "sandboxres_redirect", None)
    if option is not None:
        return bool(option)
    for raw, where in (
        (os.environ.get("SANDBOXRES_REDIRECT", ""), "SANDBOXRES_REDIRECT"),
        (str(config.getini("sandboxres_redirect") or ""), "ini setting sandboxres_redirect"),
    ):
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        if value:
            raise pytest.UsageError(f"sandboxres: {where}={raw!r} is not true or false")
    return True


def _xdist_controller(config: pytest.Config, namespace: Any) -> bool:
    """True in the xdist process that only distributes tests (its workers inherit its environment)."""
    if os.environ.get("PYTEST_XDIST_WORKER") or hasattr(config, "workerinput"):
        return False
    return bool(
        getattr(namespace, "numprocesses", None)
        or getattr(namespace, "tx", None)
        or getattr(namespace, "dist", "no") not in ("no", None)
    )


def _target(override: str | None = None) -> Target:
    from sandboxres._runtime.clients import active_target

    if not override:
        return active_target()
    from sandboxres._runtime.clients import started

    return started(resolve_target({**environ_view(), "SANDBOXRES_TARGET": override}))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Start the session-wide redirect before conftest files import the application (best effort: a target that
    cannot be resolved yet is reported by ``pytest_configure``)."""
    namespace = early_config.known_args_namespace
    try:
        if not _wanted(early_config, namespace):
            return
        state = _SessionRedirect()
        state.start(_target(getattr(namespace, "sandboxres_target", None)))
    except ConfigurationError:
        return
    early_config.stash[_STATE] = state
    # Also when pytest stops before configuring (a conftest that cannot be imported, a usage error): the environment
    # is restored whatever happens next.
    early_config.add_cleanup(state.stop)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Once the plugin's settings apply: redirect to the target they select (or stop, when turned off)."""
    state = config.stash.get(_STATE, None)
    if not _wanted(config, config.option) or _xdist_controller(config, config.option):
        if state is not None:
            state.stop()
        return
    try:
        target = _target()
    except ConfigurationError:
        # Nothing to point at: a run that makes no resource goes on; the first resource reports the error (and the
        # plugin then ends the session with it).
        if state is not None:
            state.stop()
        return
    if state is None:
        state = config.stash[_STATE] = _SessionRedirect()
    if state.current is None or state.current.target != target:
        state.start(target)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.stop()


@pytest.fixture
def sandboxres_redirect() -> Iterator[Redirect]:
    """The process environment points at the sandboxres target for this test (see :func:`sandboxres.redirect`).

    SDK clients the code under test builds during the test (``boto3.client("s3")``, at call time or on import)
    reach the same emulator as the throw-away resources; every variable is restored afterwards. Nothing changes on
    real AWS. Needed only when the session-wide redirect is off (``--sandboxres-no-redirect``).
    """
    with redirect() as active:
        yield active
