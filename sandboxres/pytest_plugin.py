"""The pytest plugin: fixtures that make throw-away tables, buckets, queues and topics, two markers, options, a summary.

Registered through the ``pytest11`` entry point ``sandboxres`` (``-p no:sandboxres`` turns it off). The library
works without it: the plugin only wraps :func:`sandboxres.ephemeral_table` and friends in fixtures.

Fixtures (each is a factory: call it for a handle; what it made is deleted when the fixture's scope ends)::

    sandboxres_table  sandboxres_bucket  sandboxres_queue  sandboxres_topic          function scope
    sandboxres_session_table  sandboxres_session_bucket  sandboxres_session_queue
    sandboxres_session_topic                                                         session scope
    sandboxres_async_table  sandboxres_async_bucket  sandboxres_async_queue
    sandboxres_async_topic                                                           function scope, async

Fixtures of other scopes come from the factory functions this module exports (written in ``_doors.fixtures``), assigned
to a name in a conftest: ``table_factory(scope="module")`` (a factory fixture) or ``table_fixture("users",
scope="module", range_key="sk")`` (a fixture that is one handle), the same for buckets, queues and topics, and their
``async_`` twins.

Markers: ``sandboxres_aws_only`` (skip unless the target is real AWS: also skipped on ``simulated``) and
``sandboxres_emulator_only`` (skip unless it is an emulator, embedded, external or simulated). On ``simulated`` the
summary prints the simulator's seed and speed, and a failed test's report a ``sandboxres`` section with the line
that replays the run. Options: ``--sandboxres-target`` and ``--sandboxres-keep`` /
``--sandboxres-no-keep``, with the ini settings ``sandboxres_target`` and ``sandboxres_keep``. Precedence:
``keep=`` of one factory call > command line > environment (``SANDBOXRES_TARGET`` or an endpoint variable,
``SANDBOXRES_KEEP``, also from ``SANDBOXRES_ENV_FILE``) > ini.

Pool: ``--sandboxres-pool`` (``SANDBOXRES_POOL=1``, ini ``sandboxres_pool = true``) makes the function-scoped
factory fixtures draw from one session pool (one per xdist worker) and recycle at teardown; each shape's demand is
recorded in pytest's cache and pre-provisioned at the start of the next run (``_doors.pytest_pool``).

pytest-xdist: names carry the worker id (``test_users_gw0_<unique>``), each worker's run id is the session's run id
plus ``-gw<N>``, and each worker is a process with its own embedded emulator on its own free port. The terminal
summary adds up what every worker created, deleted, kept and left behind.

The options and the run's state are written in ``_doors.pytest_options``, the markers in ``_doors.pytest_markers``,
the summary in ``_doors.pytest_summary``; their hooks are registered here, where pytest looks for them.

A :class:`~sandboxres.GuardError` (real AWS refused) or a :class:`~sandboxres.ConfigurationError` (the
environment cannot be used, an emulator that does not answer) escaping a test or a fixture ends the session
after that test, with its message and exit status 4 (a usage error): every other test would fail the same way.
The test's report carries that message alone, without a traceback.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandboxres._doors.fixtures import (
    AsyncFactory,
    Factory,
    async_bucket_factory,
    async_bucket_fixture,
    async_queue_factory,
    async_queue_fixture,
    async_table_factory,
    async_table_fixture,
    async_topic_factory,
    async_topic_fixture,
    bucket_factory,
    bucket_fixture,
    queue_factory,
    queue_fixture,
    table_factory,
    table_fixture,
    topic_factory,
    topic_fixture,
)
from sandboxres._doors.pytest_markers import pytest_collection_modifyitems as pytest_collection_modifyitems
from sandboxres._doors.pytest_options import pytest_addoption as pytest_addoption
from sandboxres._doors.pytest_options import pytest_configure as pytest_configure
from sandboxres._doors.pytest_options import pytest_configure_node as pytest_configure_node
from sandboxres._doors.pytest_options import pytest_sessionfinish as pytest_sessionfinish
from sandboxres._doors.pytest_options import pytest_testnodedown as pytest_testnodedown
from sandboxres._doors.pytest_options import pytest_unconfigure as pytest_unconfigure
from sandboxres._doors.pytest_summary import pytest_terminal_summary as pytest_terminal_summary
from sandboxres._doors.pytest_summary import replay_section
from sandboxres._engine.errors import ConfigurationError, GuardError

__all__ = [
    "AsyncFactory",
    "Factory",
    "async_bucket_factory",
    "async_bucket_fixture",
    "async_queue_factory",
    "async_queue_fixture",
    "async_table_factory",
    "async_table_fixture",
    "async_topic_factory",
    "async_topic_fixture",
    "bucket_factory",
    "bucket_fixture",
    "queue_factory",
    "queue_fixture",
    "table_factory",
    "table_fixture",
    "topic_factory",
    "topic_fixture",
]

# The plugin's other parts: the session-wide redirect and the sandboxres_redirect fixture; --sandboxres-pool (the
# session pool, its demand, pre-provisioning). Registered as plugins when this one is, not through
# ``pytest_plugins``: that would ask pytest to rewrite their asserts, and they are imported already (a warning).
_PARTS = ("sandboxres._doors.redirect_plugin", "sandboxres._doors.pytest_pool")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    import importlib

    for name in _PARTS:
        if pluginmanager.get_plugin(name) is None:
            pluginmanager.register(importlib.import_module(name), name)


_SESSION_ENDING = (GuardError, ConfigurationError)
_STOP = pytest.StashKey[str]()


# ---------------------------------------------------------------------------------------------------------
# built-in fixtures

sandboxres_table = table_factory(name="sandboxres_table")
sandboxres_bucket = bucket_factory(name="sandboxres_bucket")
sandboxres_queue = queue_factory(name="sandboxres_queue")
sandboxres_topic = topic_factory(name="sandboxres_topic")
sandboxres_session_table = table_factory(scope="session", name="sandboxres_session_table")
sandboxres_session_bucket = bucket_factory(scope="session", name="sandboxres_session_bucket")
sandboxres_session_queue = queue_factory(scope="session", name="sandboxres_session_queue")
sandboxres_session_topic = topic_factory(scope="session", name="sandboxres_session_topic")
sandboxres_async_table = async_table_factory(name="sandboxres_async_table")
sandboxres_async_bucket = async_bucket_factory(name="sandboxres_async_bucket")
sandboxres_async_queue = async_queue_factory(name="sandboxres_async_queue")
sandboxres_async_topic = async_topic_factory(name="sandboxres_async_topic")


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
    if report.failed:
        replay = replay_section(item)  # on the simulated target: the seed and how to replay the run
        if replay is not None:
            report.sections.append(("sandboxres", replay))
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    result = yield
    message = item.config.stash.get(_STOP, None)
    if message is not None:
        pytest.exit(message, returncode=pytest.ExitCode.USAGE_ERROR)
    return result
