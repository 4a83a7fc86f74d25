"""Fixtures shared by the test suite.

- ``clean_env`` (autouse): every test starts without SANDBOXRES_* / AWS_* / endpoint variables and leaves
  ``os.environ`` as it found it, so targets never leak from one test into another.
- ``run``: runs a test through the sync API (``sandboxres``) or the async one (``sandboxres.aio``); a test is
  written once, as plain code, and parametrised over both front doors (:mod:`tests.support.runner`).
- ``moto_server`` / ``moto_server_b``: separately started ``moto_server`` processes (127.0.0.1, free port),
  selected by endpoint variables alone; ``upstream_url``: one of the test module's own, ``emulator`` the same
  emptied around each test, ``proxy`` a fault proxy in front of it; ``dynalite``: a DynamoDB emulator that
  keeps tables CREATING for a while.
- ``pool_target``: where a pool test runs: the module's own moto server (``emulator``) when the run was started
  without a target, else the target it was started with (third-party emulators chosen by endpoint variables,
  :mod:`tests.support.target_env`), with what it holds (:class:`tests.support.pool_residues.PoolTarget`).
- ``inventory``: what an emulator holds (tables, buckets, queues), read over HTTP with plain boto3
  (:class:`tests.support.inventory.Inventory`).
- Nothing may be left behind: each server fixture checks that its emulator holds no resource when the session
  ends, and an autouse session fixture does the same for the embedded emulator.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import sandboxres
import sandboxres._runtime.embedded as _embedded
import sandboxres.aio
from sandboxres._runtime.settings import ENDPOINT_VARIABLES
from sandboxres._runtime.table_slots import TABLE_SLOTS
from sandboxres._safety.guard_settings import CI_VARIABLES

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # ``tests.support`` and ``tests.emulators`` however pytest is started
    sys.path.insert(0, _ROOT)

from tests.support.inventory import (  # noqa: E402
    DEFAULT_REGION,
    LISTED_KINDS,
    REGIONS,
    Inventory,
    InventoryAt,
    raw_client,
)
from tests.support.moto_server import moto_process, reset  # noqa: E402
from tests.support.pool_residues import PoolTarget  # noqa: E402
from tests.support.runner import MODES, Runner, runner  # noqa: E402
from tests.support.target_env import EXTERNAL, restore  # noqa: E402

if TYPE_CHECKING:
    from sandboxres._simulator import FaultProxy

_ENV_PREFIXES = ("SANDBOXRES_", "AWS_")


# ---------------------------------------------------------------------------------------------------------
# environment


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No SANDBOXRES_* / AWS_* / endpoint / CI variable during the test; ``os.environ`` restored afterwards.

    The CI variables go too (CI runs this suite with ``CI=true``): a test of the CI guard sets them itself.

    Restoring the whole snapshot also undoes what the library itself wrote (a ``SANDBOXRES_ENV_FILE`` is
    loaded into ``os.environ``).
    """
    snapshot = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in ENDPOINT_VARIABLES or name in CI_VARIABLES:
            monkeypatch.delenv(name)
    yield
    for name in [n for n in os.environ if n not in snapshot]:
        del os.environ[name]
    for name, value in snapshot.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


@pytest.fixture
def table_concurrency() -> Iterator[Callable[[int], None]]:
    """``set_table_concurrency`` for one test; the previous bound is restored afterwards."""
    previous = TABLE_SLOTS.limit
    yield sandboxres.set_table_concurrency
    sandboxres.set_table_concurrency(previous)


# ---------------------------------------------------------------------------------------------------------
# what an emulator holds


@pytest.fixture
def embedded_url() -> str:
    """The embedded emulator's URL (started now if it was not running)."""
    return _embedded.ensure_embedded()


@pytest.fixture
def inventory() -> InventoryAt:
    """``inventory(url=None)``: what the emulator at ``url`` (default: the embedded one) holds, in every region."""

    def look(url: str | None = None) -> Inventory:
        return Inventory(url or _embedded.ensure_embedded(), regions=REGIONS)

    return look


@pytest.fixture
def raw() -> Callable[..., Any]:
    """``raw(service, url=None, region="us-east-1")``: a plain boto3 client (default: on the embedded emulator)."""

    def make(service: str, url: str | None = None, region: str = DEFAULT_REGION) -> Any:
        return raw_client(service, url or _embedded.ensure_embedded(), region)

    return make


def check_managed_tags(tags: Mapping[str, str], run_id: str | None = None) -> None:
    """The tags every resource carries: the marker, the run id, the creation time (UTC, ISO 8601, recent)."""
    assert tags.get(sandboxres.TAG_MANAGED) == "true", tags
    assert tags.get(sandboxres.TAG_RUN_ID) == (run_id or sandboxres.describe_target().run_id), tags
    stamp = tags.get(sandboxres.TAG_CREATED, "")
    assert stamp.endswith("Z"), f"creation time {stamp!r} is not marked UTC"
    created = datetime.fromisoformat(stamp[:-1] + "+00:00")
    assert abs(datetime.now(timezone.utc) - created) < timedelta(minutes=10), stamp


@pytest.fixture
def managed_tags() -> Callable[..., None]:
    """``managed_tags(tags_dict, run_id=None)`` asserts the tags every resource must carry."""
    return check_managed_tags


def _assert_nothing_left(what: str, url: str, kinds: tuple[str, ...] = LISTED_KINDS) -> None:
    left = Inventory(url, regions=REGIONS).snapshot(kinds)
    if left:
        pytest.fail(f"resources left on {what} after the test session: {left}", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def nothing_left_on_embedded() -> Iterator[None]:
    """When the session ends, the embedded emulator (if it ran) must hold nothing."""
    yield
    url = _embedded.embedded_url()
    if url is not None:
        _assert_nothing_left("the embedded emulator", url)


# ---------------------------------------------------------------------------------------------------------
# separately started emulators


def _launch() -> Any:
    try:
        from tests.emulators import launch
    except ImportError as error:  # pragma: no cover - the launcher ships with the repository
        pytest.skip(f"tests/emulators/launch.py cannot be imported: {error}")
    return launch


@contextlib.contextmanager
def _checked_moto_process(what: str) -> Iterator[str]:
    """A ``moto_server`` process that must hold nothing when the session is done with it."""
    with moto_process() as url:
        yield url
        _assert_nothing_left(what, url)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The URL of a ``moto_server`` process started for this test session."""
    with _checked_moto_process("the moto_server process") as url:
        yield url


@pytest.fixture(scope="session")
def moto_server_b() -> Iterator[str]:
    """A second, independent ``moto_server`` process (per-service endpoints on different servers)."""
    with _checked_moto_process("the second moto_server process") as url:
        yield url


@pytest.fixture(scope="module")
def upstream_url() -> Iterator[str]:
    """A ``moto_server`` process of this test module's own (its state is the module's alone to reset)."""
    with moto_process() as url:
        yield url


@pytest.fixture
def emulator(upstream_url: str) -> Iterator[str]:
    """The module's moto server, emptied before and after the test."""
    reset(upstream_url)
    yield upstream_url
    reset(upstream_url)


@pytest.fixture
def emulator_target(emulator: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The module's moto server (emptied around the test) as this process's target, with dummy credentials and a
    region, as a user would point a run at an emulator."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return emulator


@pytest.fixture
def pool_target(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> PoolTarget:
    """The module's moto server (emptied around the test) as the target, or, when the run was started with a target
    (endpoint variables, ``SANDBOXRES_TARGET``), that one; and what it holds, seen directly."""
    if EXTERNAL:
        restore(monkeypatch)
        return PoolTarget(Inventory(), shared=True)
    url: str = request.getfixturevalue("emulator")
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    return PoolTarget(Inventory(endpoint=url), shared=False)


@pytest.fixture(scope="module")
def proxy(upstream_url: str) -> Iterator[FaultProxy]:
    """A fault proxy in front of the module's moto server, for the whole module (its tests clear it)."""
    from sandboxres._simulator import start_fault_proxy

    with start_fault_proxy(upstream_url) as started:
        yield started


@pytest.fixture(scope="session")
def dynalite() -> Iterator[str]:
    """The URL of a dynalite process keeping tables CREATING for 2 s and DELETING for 0.3 s."""
    launch = _launch()
    try:
        emulator = launch.start_dynalite(create_ms=2000, delete_ms=300)
    except launch.EmulatorError as error:
        pytest.skip(f"dynalite is not available: {error}")
    try:
        yield emulator.url
        _assert_nothing_left("dynalite", emulator.url, ("table",))
    finally:
        emulator.stop()


@pytest.fixture
def counted(
    moto_server: str, fault_proxy: Callable[[str], FaultProxy], monkeypatch: pytest.MonkeyPatch
) -> Iterator[FaultProxy]:
    """The target is a moto server reached through a proxy that records every request; after the test, the proxy
    saw no request and nothing new is registered (bad input and bad configuration are refused before any call)."""
    import sandboxres._safety.registry as _registry

    proxy = fault_proxy(moto_server)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    live_before = _registry.live_count()
    yield proxy
    assert proxy.requests == [], [(r.service, r.operation) for r in proxy.requests]
    assert _registry.live_count() == live_before


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[str], FaultProxy]]:
    """``fault_proxy(upstream_url)``: a started fault-injecting proxy, stopped after the test."""
    try:
        from sandboxres import _simulator as faultproxy
    except ImportError as error:  # pragma: no cover - the proxy ships with the repository
        pytest.skip(f"sandboxres/_simulator.py cannot be imported: {error}")
    proxies: list[FaultProxy] = []

    def start(upstream: str) -> FaultProxy:
        proxy = faultproxy.start_fault_proxy(upstream)
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def hold_reply() -> Callable[..., threading.Event]:
    """``hold_reply(proxy, service, operation, seconds=2.0)``: the proxy forwards the next such request, then holds
    its answer for ``seconds``. The returned event is set once the upstream has carried the request out, so a
    test can interrupt the caller while the operation is done but not yet answered."""
    from sandboxres._simulator import Rule, SlowReply

    def add(proxy: FaultProxy, service: str, operation: str, seconds: float = 2.0) -> threading.Event:
        fault = SlowReply(seconds)
        proxy.add(Rule(fault, service=service, operations=operation, times=1))
        return fault.started

    return add


# ---------------------------------------------------------------------------------------------------------
# the two front doors


@pytest.fixture(params=MODES)
def run(request: pytest.FixtureRequest) -> Iterator[Runner]:
    """The test runs through the sync front door (``sandboxres``), then through the async one (``sandboxres.aio``)."""
    active = runner(request.param)
    try:
        yield active
    finally:
        active.close()
