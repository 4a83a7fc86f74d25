"""Factory functions that make pytest fixtures of throw-away tables, buckets, queues and topics (sync and async).

Used by the plugin (:mod:`sandboxres.pytest_plugin`) for its built-in fixtures, and by test suites for fixtures of
their own scopes, assigned to a name in a conftest::

    from sandboxres.pytest_plugin import table_factory, table_fixture

    module_tables = table_factory(scope="module")                  # module_tables("users") -> TableHandle
    users = table_fixture("users", scope="module", range_key="sk")  # users -> TableHandle

A factory fixture deletes everything it made when its scope ends; a single-resource fixture deletes its resource.
With ``--sandboxres-pool``, function-scoped factory fixtures draw from the session pool instead and give their
resources back (recycled) when the test ends.
Async twins (``async_table_factory``...) need pytest-asyncio and hand out handles with aioboto3 clients.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Literal

import pytest

from sandboxres import aio
from sandboxres._doors import sync
from sandboxres._doors.pytest_pool import session_pool
from sandboxres._engine.errors import SpecError
from sandboxres._engine.validation import call_spec
from sandboxres._kinds import KINDS

Scope = Literal["session", "package", "module", "class", "function"]
Kind = str  # a name of sandboxres._kinds.KINDS: "table", "bucket", "queue", "topic"
Factory = Callable[..., Any]
"""What a factory fixture returns: ``factory(label, **options) -> handle`` (options of ``ephemeral_*``)."""
AsyncFactory = Callable[..., Awaitable[Any]]
"""What an async factory fixture returns: ``await factory(label, **options) -> handle``."""

# Each kind's front doors (``ephemeral_<kind>`` of the sync and async API) and spec factory.
_SYNC: dict[Kind, Callable[..., Any]] = {name: getattr(sync, f"ephemeral_{name}") for name in KINDS}
_ASYNC: dict[Kind, Callable[..., Any]] = {name: getattr(aio, f"ephemeral_{name}") for name in KINDS}
_SPEC: dict[Kind, Callable[..., Any]] = {name: kind.spec_factory for name, kind in KINDS.items()}
_SCOPES = ("session", "package", "module", "class", "function")


def _check_scope(scope: str) -> None:
    if scope not in _SCOPES:
        raise SpecError(f"scope must be one of {', '.join(_SCOPES)}, got {scope!r}")


def _async_fixture(function: Callable[..., Any], scope: str, loop_scope: str | None, name: str | None) -> Any:
    """``function`` as a pytest-asyncio fixture; without pytest-asyncio, a fixture that says what to install."""
    try:
        import pytest_asyncio
    except ImportError:

        def missing() -> None:
            pytest.fail("sandboxres async fixtures need pytest-asyncio: pip install pytest-asyncio", pytrace=False)

        return pytest.fixture(scope=scope, name=name)(missing)  # type: ignore[call-overload]
    kwargs: dict[str, Any] = {"scope": scope, "name": name}
    if loop_scope is not None:
        kwargs["loop_scope"] = loop_scope
    decorate: Callable[[Callable[..., Any]], Any] = pytest_asyncio.fixture(**kwargs)
    return decorate(function)


def _factory(kind: Kind, scope: Scope, name: str | None) -> Any:
    _check_scope(scope)
    door = _SYNC[kind]

    def factory_fixture(request: pytest.FixtureRequest) -> Iterator[Factory]:
        pool = session_pool(request.config) if scope == "function" else None
        with contextlib.ExitStack() as stack:

            def make(*args: Any, **options: Any) -> Any:
                if pool is not None:  # --sandboxres-pool: drawn from the session pool, recycled at teardown
                    return stack.enter_context(pool.lease(kind, args, options))
                return stack.enter_context(door(*args, **options))

            yield make

    factory_fixture.__doc__ = (
        f"Call ``make(label, **options)`` (options of ``ephemeral_{kind}``) for a throw-away {kind}'s handle; "
        f"every {kind} it made is deleted when the {scope} scope ends."
    )
    return pytest.fixture(scope=scope, name=name)(factory_fixture)


def _async_factory(kind: Kind, scope: Scope, loop_scope: Scope | None, name: str | None) -> Any:
    _check_scope(scope)
    door = _ASYNC[kind]

    async def async_factory_fixture(request: pytest.FixtureRequest) -> AsyncIterator[AsyncFactory]:
        pool = session_pool(request.config) if scope == "function" else None
        async with contextlib.AsyncExitStack() as stack:

            async def make(*args: Any, **options: Any) -> Any:
                if pool is not None:
                    return await stack.enter_async_context(pool.async_lease(kind, args, options))
                return await stack.enter_async_context(door(*args, **options))

            yield make

    async_factory_fixture.__doc__ = (
        f"Call ``await make(label, **options)`` for a throw-away {kind}'s handle with aioboto3 clients; "
        f"every {kind} it made is deleted when the {scope} scope ends (needs pytest-asyncio)."
    )
    return _async_fixture(async_factory_fixture, scope, loop_scope, name)


def _single(kind: Kind, label: str, scope: Scope, name: str | None, options: dict[str, Any]) -> Any:
    _check_scope(scope)
    call_spec(_SPEC[kind], f"{kind}_fixture", (label,), options)  # bad options fail where it is declared
    door = _SYNC[kind]

    def single_fixture() -> Iterator[Any]:
        with door(label, **options) as handle:
            yield handle

    single_fixture.__doc__ = f"A throw-away {kind} ({label!r}), deleted when the {scope} scope ends."
    return pytest.fixture(scope=scope, name=name)(single_fixture)


def _async_single(
    kind: Kind, label: str, scope: Scope, loop_scope: Scope | None, name: str | None, options: dict[str, Any]
) -> Any:
    _check_scope(scope)
    call_spec(_SPEC[kind], f"async_{kind}_fixture", (label,), options)
    door = _ASYNC[kind]

    async def async_single_fixture() -> AsyncIterator[Any]:
        async with door(label, **options) as handle:
            yield handle

    async_single_fixture.__doc__ = (
        f"A throw-away {kind} ({label!r}) with aioboto3 clients, deleted when the {scope} scope ends."
    )
    return _async_fixture(async_single_fixture, scope, loop_scope, name)


def table_factory(*, scope: Scope = "function", name: str | None = None) -> Any:
    """A fixture returning ``make(label, **ephemeral_table options) -> TableHandle``; tables die with the scope."""
    return _factory("table", scope, name)


def bucket_factory(*, scope: Scope = "function", name: str | None = None) -> Any:
    """A fixture returning ``make(label, **ephemeral_bucket options) -> BucketHandle``."""
    return _factory("bucket", scope, name)


def queue_factory(*, scope: Scope = "function", name: str | None = None) -> Any:
    """A fixture returning ``make(label, **ephemeral_queue options) -> QueueHandle``."""
    return _factory("queue", scope, name)


def topic_factory(*, scope: Scope = "function", name: str | None = None) -> Any:
    """A fixture returning ``make(label, **ephemeral_topic options) -> TopicHandle``."""
    return _factory("topic", scope, name)


def async_table_factory(*, scope: Scope = "function", loop_scope: Scope | None = None, name: str | None = None) -> Any:
    """An async fixture returning ``await make(label, **options) -> TableHandle`` (aioboto3 clients).

    A scope wider than ``function`` needs an event loop that lives as long: pass ``loop_scope`` (pytest-asyncio)
    and run the tests using it in that loop (``@pytest.mark.asyncio(loop_scope=...)``).
    """
    return _async_factory("table", scope, loop_scope, name)


def async_bucket_factory(*, scope: Scope = "function", loop_scope: Scope | None = None, name: str | None = None) -> Any:
    """An async fixture returning ``await make(label, **options) -> BucketHandle``."""
    return _async_factory("bucket", scope, loop_scope, name)


def async_queue_factory(*, scope: Scope = "function", loop_scope: Scope | None = None, name: str | None = None) -> Any:
    """An async fixture returning ``await make(label, **options) -> QueueHandle``."""
    return _async_factory("queue", scope, loop_scope, name)


def async_topic_factory(*, scope: Scope = "function", loop_scope: Scope | None = None, name: str | None = None) -> Any:
    """An async fixture returning ``await make(label, **options) -> TopicHandle``."""
    return _async_factory("topic", scope, loop_scope, name)


def table_fixture(label: str = "table", *, scope: Scope = "function", name: str | None = None, **options: Any) -> Any:
    """A fixture that is one table: ``users = table_fixture("users", scope="module", range_key="sk")``."""
    return _single("table", label, scope, name, options)


def bucket_fixture(label: str = "bucket", *, scope: Scope = "function", name: str | None = None, **options: Any) -> Any:
    """A fixture that is one bucket."""
    return _single("bucket", label, scope, name, options)


def queue_fixture(label: str = "queue", *, scope: Scope = "function", name: str | None = None, **options: Any) -> Any:
    """A fixture that is one queue."""
    return _single("queue", label, scope, name, options)


def topic_fixture(label: str = "topic", *, scope: Scope = "function", name: str | None = None, **options: Any) -> Any:
    """A fixture that is one topic."""
    return _single("topic", label, scope, name, options)


def async_table_fixture(
    label: str = "table",
    *,
    scope: Scope = "function",
    loop_scope: Scope | None = None,
    name: str | None = None,
    **options: Any,
) -> Any:
    """An async fixture that is one table (aioboto3 clients)."""
    return _async_single("table", label, scope, loop_scope, name, options)


def async_bucket_fixture(
    label: str = "bucket",
    *,
    scope: Scope = "function",
    loop_scope: Scope | None = None,
    name: str | None = None,
    **options: Any,
) -> Any:
    """An async fixture that is one bucket."""
    return _async_single("bucket", label, scope, loop_scope, name, options)


def async_queue_fixture(
    label: str = "queue",
    *,
    scope: Scope = "function",
    loop_scope: Scope | None = None,
    name: str | None = None,
    **options: Any,
) -> Any:
    """An async fixture that is one queue."""
    return _async_single("queue", label, scope, loop_scope, name, options)


def async_topic_fixture(
    label: str = "topic",
    *,
    scope: Scope = "function",
    loop_scope: Scope | None = None,
    name: str | None = None,
    **options: Any,
) -> Any:
    """An async fixture that is one topic (aioboto3 clients)."""
    return _async_single("topic", label, scope, loop_scope, name, options)
