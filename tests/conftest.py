"""Fixtures shared by the test suite.

- ``clean_env`` (autouse): every test starts without SANDBOXRES_* / AWS_* / endpoint variables and leaves
  ``os.environ`` as it found it, so targets never leak from one test into another.
- ``door``: runs a test through the sync API (``sandboxres``) or the async one (``sandboxres.aio``); option
  tests are written once, as ``async def``, and parametrised over both front doors.
- ``moto_server`` / ``moto_server_b``: separately started ``moto_server`` processes (127.0.0.1, free port),
  selected by endpoint variables alone; ``dynalite``: a DynamoDB emulator that keeps tables CREATING for a while.
- ``inventory``: what an emulator holds (tables, buckets, queues), read over HTTP with plain boto3.
- Nothing may be left behind: each server fixture checks that its emulator holds no resource when the session
  ends, and an autouse session fixture does the same for the embedded emulator.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

import sandboxres
import sandboxres._runtime.embedded as _embedded
import sandboxres.aio
from sandboxres._runtime.settings import ENDPOINT_VARIABLES
from sandboxres._runtime.table_slots import TABLE_SLOTS
from sandboxres._safety.guard_settings import CI_VARIABLES

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # ``tests.support`` and ``tests.emulators`` however pytest is started
    sys.path.insert(0, _ROOT)

DEFAULT_REGION = "us-east-1"
OTHER_REGION = "eu-central-1"
REGIONS = (DEFAULT_REGION, OTHER_REGION)  # every region a test may create resources in
DUMMY = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
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


@dataclass(frozen=True)
class Inventory:
    tables: frozenset[str]
    buckets: frozenset[str]
    queues: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.tables or self.buckets or self.queues)

    def __sub__(self, other: Inventory) -> Inventory:
        return Inventory(self.tables - other.tables, self.buckets - other.buckets, self.queues - other.queues)


def raw_client(service: str, url: str, region: str = DEFAULT_REGION) -> Any:
    """A plain boto3 client on ``url``, independent of sandboxres (to observe what really happened)."""
    config = Config(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 2})
    return boto3.client(service, endpoint_url=url, region_name=region, config=config, **DUMMY)  # type: ignore[call-overload]


def inventory_of(
    url: str, services: tuple[str, ...] = ("dynamodb", "s3", "sqs"), regions: tuple[str, ...] = REGIONS
) -> Inventory:
    """Every table, bucket and queue (name) on the emulator at ``url``, over all ``regions``."""
    tables: set[str] = set()
    buckets: set[str] = set()
    queues: set[str] = set()
    for region in regions:
        if "dynamodb" in services:
            for page in raw_client("dynamodb", url, region).get_paginator("list_tables").paginate():
                tables.update(f"{region}/{name}" for name in page.get("TableNames", []))
        if "sqs" in services:
            for page in raw_client("sqs", url, region).get_paginator("list_queues").paginate():
                queues.update(f"{region}/{u.rsplit('/', 1)[-1]}" for u in page.get("QueueUrls", []))
    if "s3" in services:
        buckets.update(b["Name"] for b in raw_client("s3", url).list_buckets().get("Buckets", []))
    return Inventory(frozenset(tables), frozenset(buckets), frozenset(queues))


@pytest.fixture
def embedded_url() -> str:
    """The embedded emulator's URL (started now if it was not running)."""
    return _embedded.ensure_embedded()


@pytest.fixture
def inventory() -> Callable[..., Inventory]:
    """``inventory(url=None, services=...)``: what the emulator at ``url`` (default: the embedded one) holds."""

    def take(url: str | None = None, services: tuple[str, ...] = ("dynamodb", "s3", "sqs")) -> Inventory:
        return inventory_of(url or _embedded.ensure_embedded(), services)

    return take


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


def _assert_nothing_left(what: str, url: str, services: tuple[str, ...] = ("dynamodb", "s3", "sqs")) -> None:
    left = inventory_of(url, services)
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
def _moto_process(what: str) -> Iterator[str]:
    launch = _launch()
    try:
        emulator = launch.start_moto()
    except launch.EmulatorUnavailable as error:
        pytest.skip(str(error))
    try:
        yield emulator.url
        _assert_nothing_left(what, emulator.url)
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The URL of a ``moto_server`` process started for this test session."""
    with _moto_process("the moto_server process") as url:
        yield url


@pytest.fixture(scope="session")
def moto_server_b() -> Iterator[str]:
    """A second, independent ``moto_server`` process (per-service endpoints on different servers)."""
    with _moto_process("the second moto_server process") as url:
        yield url


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
        _assert_nothing_left("dynalite", emulator.url, ("dynamodb",))
    finally:
        emulator.stop()


@pytest.fixture
def counted(moto_server: str, fault_proxy: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
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
def fault_proxy() -> Iterator[Callable[[str], Any]]:
    """``fault_proxy(upstream_url)``: a started fault-injecting proxy, stopped after the test."""
    try:
        from tests.support import faultproxy
    except ImportError as error:  # pragma: no cover - the proxy ships with the repository
        pytest.skip(f"tests/support/faultproxy.py cannot be imported: {error}")
    proxies: list[Any] = []

    def start(upstream: str) -> Any:
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
    from tests.support import faultproxy

    class HoldReply(faultproxy.Fault):  # type: ignore[misc]
        def __init__(self, seconds: float) -> None:
            self.seconds = seconds
            self.done = threading.Event()

        def after(self, request: Any, reply: Any, trigger: Any) -> Any:
            self.done.set()
            time.sleep(self.seconds)
            return reply

    def add(proxy: Any, service: str, operation: str, seconds: float = 2.0) -> threading.Event:
        fault = HoldReply(seconds)
        proxy.add(faultproxy.Rule(fault, service=service, operations=operation, times=1))
        return fault.done

    return add


# ---------------------------------------------------------------------------------------------------------
# the two front doors


class Door:
    """One front door: ``sync`` (``sandboxres``, boto3) or ``async`` (``sandboxres.aio``, aioboto3).

    ``async with door.table(...) as t`` enters a resource through it; ``await door.call(fn, ...)`` calls a
    client / resource method of either SDK; ``door.api`` is the module, for ``door.api.ephemeral_table(...)``.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.api: Any = sandboxres if name == "sync" else sandboxres.aio

    def __repr__(self) -> str:
        return f"Door({self.name})"

    @contextlib.asynccontextmanager
    async def open(self, resource: Any) -> AsyncIterator[Any]:
        if isinstance(resource, sandboxres.aio.AsyncEphemeral):
            async with resource as handle:
                yield handle
        else:
            with resource as handle:
                yield handle

    def table(self, *args: Any, **kwargs: Any) -> contextlib.AbstractAsyncContextManager[Any]:
        return self.open(self.api.ephemeral_table(*args, **kwargs))

    def bucket(self, *args: Any, **kwargs: Any) -> contextlib.AbstractAsyncContextManager[Any]:
        return self.open(self.api.ephemeral_bucket(*args, **kwargs))

    def queue(self, *args: Any, **kwargs: Any) -> contextlib.AbstractAsyncContextManager[Any]:
        return self.open(self.api.ephemeral_queue(*args, **kwargs))

    @staticmethod
    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``, awaited when it returns an awaitable (aioboto3)."""
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


@pytest.fixture(params=["sync", "async"])
def door(request: pytest.FixtureRequest) -> Door:
    return Door(request.param)
