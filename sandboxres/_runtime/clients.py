"""The target in force and SDK clients pointed at it: the settings (pure), a cached boto3 pool, aioboto3 sessions.

:func:`active_target` resolves the target and starts the embedded emulator when it is the target (and, on
``simulated``, the simulator in front of the emulator); :func:`describe_target` is its public report.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import weakref
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from botocore.config import Config

from sandboxres._engine.redaction import install_log_redaction, redact_url
from sandboxres._runtime.embedded import embedded_url, ensure_embedded
from sandboxres._runtime.simulated import start_simulated
from sandboxres._runtime.target import EMBEDDED_CREDENTIALS, Target, resolve_target

if TYPE_CHECKING:
    import asyncio

USER_AGENT = "sandboxres"
# The library's own lifecycle calls are retried by the library alone (classified, under each resource's
# deadline); botocore's retries beneath them would send a permanent error (a quota) several times and multiply
# every transient retry. Clients handed to users keep botocore's retries.
LIFECYCLE_RETRIES: Any = {"total_max_attempts": 1, "mode": "standard"}


def active_target() -> Target:
    """The target in force now; starts the embedded emulator when that is the target, and on ``simulated`` the
    simulator in front of its emulator (every endpoint is then the simulator's).

    Also installs the log redaction (once): from here on the SDK's records can carry credentials."""
    install_log_redaction()
    return started(resolve_target())


def started(target: Target) -> Target:
    """``target`` with what it needs running started and its endpoints filled in (embedded emulator, simulator)."""
    if target.kind == "embedded":
        return target.with_endpoint(ensure_embedded())
    if target.kind == "simulated":
        return start_simulated(target, ensure_embedded() if target.upstream_kind == "embedded" else None)
    return target


def _shown(target: Target) -> Target:
    """``target`` with any ``user:password@`` part of its endpoints masked."""
    endpoints = {service: redact_url(url) if url else url for service, url in target.endpoints.items()}
    return replace(target, endpoints=endpoints) if endpoints != dict(target.endpoints) else target


def describe_target(*, start: bool = False) -> Target:
    """The resolved target: kind, per-service endpoint, region, run id, and where each value came from.

    With ``start=True`` the embedded emulator is started (when it is the target) so that its endpoint is known;
    otherwise its endpoints are reported once it runs, and as None before. Never contains credentials.
    """
    if start:
        return _shown(active_target())
    target = resolve_target()
    url = embedded_url()
    if target.kind == "embedded" and url:
        return target.with_endpoint(url)
    if target.kind == "simulated":
        upstream = url if target.upstream_kind == "embedded" else None
        if upstream is not None or target.upstream_kind == "emulator":
            target = start_simulated(target, upstream, start=False)
    return _shown(target)


def session_kwargs(target: Target) -> dict[str, Any]:
    """Arguments for a boto3 / aioboto3 Session. Credentials are passed only for emulators, never logged."""
    kwargs: dict[str, Any] = {}
    if target.region:
        kwargs["region_name"] = target.region
    if target.in_process or (target.external and target.credentials == "dummy"):
        kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = EMBEDDED_CREDENTIALS
    elif target.external:
        kwargs["aws_access_key_id"] = os.environ.get("AWS_ACCESS_KEY_ID")
        kwargs["aws_secret_access_key"] = os.environ.get("AWS_SECRET_ACCESS_KEY")
        if os.environ.get("AWS_SESSION_TOKEN"):
            kwargs["aws_session_token"] = os.environ["AWS_SESSION_TOKEN"]
    return kwargs


def sdk_session(target: Target, *, aio: bool = False) -> Any:
    """The botocore session under a boto3 / aioboto3 Session for ``target``: on emulators it ignores
    ``AWS_PROFILE`` / ``AWS_DEFAULT_PROFILE`` (emulators take dummy or explicit credentials, and a profile missing
    from this machine must not break them); on real AWS, None (the SDK's own, profile included)."""
    if target.kind == "aws":
        return None
    no_profile = {"profile": (None, None, None, None)}
    if aio:
        from aiobotocore.session import AioSession

        return AioSession(session_vars=no_profile)
    import botocore.session

    return botocore.session.Session(session_vars=no_profile)


def _retries() -> Any:
    """botocore's own retries, made explicit: ``standard`` mode (3 attempts, AWS_MAX_ATTEMPTS honoured) unless
    AWS_RETRY_MODE says otherwise. The version-dependent default (legacy: 10 attempts and ~25 s of backoff per
    DynamoDB call) would make an unreachable endpoint outlast any ``SANDBOXRES_*_TIMEOUT``; lifecycle steps
    are retried by this library anyway, under each resource's deadline."""
    return {"mode": os.environ.get("AWS_RETRY_MODE") or "standard"}


def client_kwargs(target: Target, service: str, *, lifecycle: bool = False) -> dict[str, Any]:
    """Arguments for ``session.client(service, ...)`` on ``target``; ``lifecycle=True``: for the library's own
    lifecycle calls, with botocore's retries off (one attempt per call; the library retries)."""
    retries = LIFECYCLE_RETRIES if lifecycle else _retries()
    if target.kind == "aws":
        config = Config(  # type: ignore[call-arg]
            user_agent_extra=USER_AGENT, ignore_configured_endpoint_urls=True, retries=retries
        )
        return {"config": config}
    config = Config(user_agent_extra=USER_AGENT, s3={"addressing_style": "path"}, retries=retries)
    return {"endpoint_url": target.endpoint(service), "config": config}


def merged_client_kwargs(target: Target, service: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """:func:`client_kwargs` with the caller's arguments on top; a caller's ``config`` is merged into ours."""
    kwargs = client_kwargs(target, service)
    config = overrides.pop("config", None)
    if config is not None:
        kwargs["config"] = kwargs["config"].merge(config)
    return {**kwargs, **overrides}


def _pool_key(target: Target) -> tuple[Any, ...]:
    creds = session_kwargs(target)
    return (
        target.kind,
        tuple(sorted(target.endpoints.items(), key=lambda kv: kv[0])),
        target.region,
        hash(tuple(sorted(creds.items()))),
    )


class ClientPool:
    """boto3 clients and resources for one target, created once and shared (boto3 clients are thread-safe)."""

    def __init__(self, target: Target) -> None:
        import boto3  # imported when first used: `import sandboxres` stays light

        self.target = target
        self._lock = threading.Lock()
        self._session = boto3.session.Session(botocore_session=sdk_session(target), **session_kwargs(target))
        self._clients: dict[tuple[str, bool], Any] = {}
        self._resources: dict[str, Any] = {}

    def client(self, service: str, *, lifecycle: bool = False) -> Any:
        """The shared client for ``service`` (for users: botocore's retries; ``lifecycle=True``: none)."""
        with self._lock:
            key = (service, lifecycle)
            if key not in self._clients:
                kwargs = client_kwargs(self.target, service, lifecycle=lifecycle)
                self._clients[key] = self._session.client(service, **kwargs)  # type: ignore[call-overload]
            return self._clients[key]

    def resource(self, service: str) -> Any:
        with self._lock:
            if service not in self._resources:
                kwargs = client_kwargs(self.target, service)
                self._resources[service] = self._session.resource(service, **kwargs)  # type: ignore[call-overload]
            return self._resources[service]

    def new_client(self, service: str, **overrides: Any) -> Any:
        """A client of its own (not shared), with the caller's arguments on top of the target's."""
        kwargs = merged_client_kwargs(self.target, service, dict(overrides))
        with self._lock:
            return self._session.client(service, **kwargs)  # type: ignore[call-overload]

    def __getitem__(self, service: str) -> Any:
        """Drivers look clients up by service name; each is created on first use, with botocore's retries off
        (the library's classified retries are the only layer for lifecycle calls)."""
        return self.client(service, lifecycle=True)


_pools: dict[tuple[Any, ...], ClientPool] = {}
_pools_lock = threading.Lock()


def client_pool(target: Target) -> ClientPool:
    """The shared pool for ``target`` (one per distinct target in this process)."""
    key = _pool_key(target)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ClientPool(target)
        return pool


_aio_sessions: dict[tuple[Any, ...], Any] = {}


def aio_session(target: Target) -> Any:
    """The shared aioboto3 Session for ``target`` (sessions cache service models; clients are per block)."""
    import aioboto3

    key = _pool_key(target)
    with _pools_lock:
        session = _aio_sessions.get(key)
        if session is None:
            session = _aio_sessions[key] = aioboto3.Session(
                botocore_session=sdk_session(target, aio=True), **session_kwargs(target)
            )
        return session


class _Shared:
    """One open aioboto3 client or resource, and how many blocks use it."""

    def __init__(self) -> None:
        import asyncio

        self.ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.users = 0
        self.context: Any = None


# Per event loop (the loop object, never its id: a closed loop's id can be a new loop's), then per target and
# client kind. A loop closed with blocks still open (its async generators never finalized) leaves its entries
# behind; they are dropped when a client is next opened, so neither the dead loop nor its clients stay alive.
_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], _Shared]] = (
    weakref.WeakKeyDictionary()
)


def _loop_clients(loop: asyncio.AbstractEventLoop) -> dict[tuple[Any, ...], _Shared]:
    """The shared clients of ``loop``; the first call in a loop drops those of loops closed meanwhile."""
    clients = _shared.get(loop)
    if clients is None:
        for closed in [other for other in list(_shared) if other.is_closed()]:
            _shared.pop(closed, None)
        clients = _shared[loop] = {}
    return clients


@contextlib.asynccontextmanager
async def shared_aio(
    target: Target, service: str, *, resource: bool = False, lifecycle: bool = False
) -> AsyncIterator[Any]:
    """An aioboto3 client (or resource) for ``service``, shared by the blocks running at once in this event loop.

    Opening an aiobotocore client costs tens of milliseconds of CPU; fifty blocks entered together share one.
    It is opened by the first block and closed when the last block using it ends. ``lifecycle=True``: a client
    for the library's own lifecycle calls, with botocore's retries off.
    """
    import asyncio

    if "aioboto3" not in sys.modules:  # importing it takes a few hundred ms: not on the event loop
        await asyncio.to_thread(importlib.import_module, "aioboto3")
    clients = _loop_clients(asyncio.get_running_loop())
    key = (_pool_key(target), service, resource, lifecycle)
    entry = clients.get(key)
    if entry is None:
        entry = clients[key] = _Shared()
        try:
            session = aio_session(target)
            factory = session.resource if resource else session.client
            entry.context = factory(service, **client_kwargs(target, service, lifecycle=lifecycle))
            entry.ready.set_result(await entry.context.__aenter__())
        except BaseException as exc:
            del clients[key]
            if isinstance(exc, Exception):
                entry.ready.set_exception(exc)
                entry.ready.exception()  # mark retrieved: the waiters (if any) get it too
            else:
                entry.ready.cancel()
            raise
    entry.users += 1
    try:
        yield await asyncio.shield(entry.ready)
    finally:
        entry.users -= 1
        if entry.users == 0 and clients.get(key) is entry:
            del clients[key]
            await entry.context.__aexit__(None, None, None)


class AioClients:
    """aioboto3 clients for lifecycle-style calls, each opened on first use (``shared_aio``) and closed with
    ``stack``: the async driver of a handle's helpers, which may call any service (a subscription: SNS and SQS)."""

    def __init__(self, target: Target, stack: contextlib.AsyncExitStack) -> None:
        self.target = target
        self._stack = stack
        self._opened: dict[str, Any] = {}

    async def open(self, service: str) -> Any:
        client = self._opened.get(service)
        if client is None:
            client = await self._stack.enter_async_context(shared_aio(self.target, service, lifecycle=True))
            self._opened[service] = client
        return client

    def __getitem__(self, service: str) -> Any:
        """Only the clients opened already (``open`` opens the others)."""
        return self._opened[service]
