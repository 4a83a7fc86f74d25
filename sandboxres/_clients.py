"""SDK clients pointed at the target in force: the settings (pure), a cached boto3 pool, aioboto3 sessions."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator
from typing import Any

import boto3
from botocore.config import Config

from ._embedded import ensure_embedded
from ._target import EMBEDDED_CREDENTIALS, Target, resolve_target

USER_AGENT = "sandboxres"


def active_target() -> Target:
    """The target in force now; starts the embedded emulator when that is the target."""
    target = resolve_target()
    if target.kind == "embedded":
        target = target.with_endpoint(ensure_embedded())
    return target


def session_kwargs(target: Target) -> dict[str, Any]:
    """Arguments for a boto3 / aioboto3 Session. Credentials are passed only for emulators, never logged."""
    kwargs: dict[str, Any] = {}
    if target.region:
        kwargs["region_name"] = target.region
    if target.kind == "embedded" or (target.kind == "emulator" and target.credentials == "dummy"):
        kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = EMBEDDED_CREDENTIALS
    elif target.kind == "emulator":
        kwargs["aws_access_key_id"] = os.environ.get("AWS_ACCESS_KEY_ID")
        kwargs["aws_secret_access_key"] = os.environ.get("AWS_SECRET_ACCESS_KEY")
        if os.environ.get("AWS_SESSION_TOKEN"):
            kwargs["aws_session_token"] = os.environ["AWS_SESSION_TOKEN"]
    return kwargs


def _retries() -> Any:
    """botocore's own retries, made explicit: ``standard`` mode (3 attempts, AWS_MAX_ATTEMPTS honoured) unless
    AWS_RETRY_MODE says otherwise. The version-dependent default (legacy: 10 attempts and ~25 s of backoff per
    DynamoDB call) would make an unreachable endpoint outlast any ``SANDBOXRES_*_TIMEOUT``; lifecycle steps
    are retried by this library anyway, under each resource's deadline."""
    return {"mode": os.environ.get("AWS_RETRY_MODE") or "standard"}


def client_kwargs(target: Target, service: str) -> dict[str, Any]:
    """Arguments for ``session.client(service, ...)`` on ``target``."""
    if target.kind == "aws":
        config = Config(  # type: ignore[call-arg]
            user_agent_extra=USER_AGENT, ignore_configured_endpoint_urls=True, retries=_retries()
        )
        return {"config": config}
    config = Config(user_agent_extra=USER_AGENT, s3={"addressing_style": "path"}, retries=_retries())
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
        self.target = target
        self._lock = threading.Lock()
        self._session = boto3.session.Session(**session_kwargs(target))
        self._clients: dict[str, Any] = {}
        self._resources: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._session.client(service, **client_kwargs(self.target, service))  # type: ignore[call-overload]
            return self._clients[service]

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
        """Drivers look clients up by service name; each is created on first use."""
        return self.client(service)


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
            session = _aio_sessions[key] = aioboto3.Session(**session_kwargs(target))
        return session


class _Shared:
    """One open aioboto3 client or resource, and how many blocks use it."""

    def __init__(self) -> None:
        self.ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.users = 0
        self.context: Any = None


_shared: dict[tuple[Any, ...], _Shared] = {}


@contextlib.asynccontextmanager
async def shared_aio(target: Target, service: str, *, resource: bool = False) -> AsyncIterator[Any]:
    """An aioboto3 client (or resource) for ``service``, shared by the blocks running at once in this event loop.

    Opening an aiobotocore client costs tens of milliseconds of CPU; fifty blocks entered together share one.
    It is opened by the first block and closed when the last block using it ends.
    """
    key = (id(asyncio.get_running_loop()), _pool_key(target), service, resource)
    entry = _shared.get(key)
    if entry is None:
        entry = _shared[key] = _Shared()
        try:
            session = aio_session(target)
            factory = session.resource if resource else session.client
            entry.context = factory(service, **client_kwargs(target, service))
            entry.ready.set_result(await entry.context.__aenter__())
        except BaseException as exc:
            del _shared[key]
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
        if entry.users == 0 and _shared.get(key) is entry:
            del _shared[key]
            await entry.context.__aexit__(None, None, None)


def client(service: str, **overrides: Any) -> Any:
    """A boto3 client of ``service`` on the target in force, for code that wants one of its own.

    Same endpoint, region and credentials as the throw-away resources; the embedded emulator is started if it is
    the target, and on real AWS the safety guards run first. ``overrides`` go to ``session.client`` (a ``config``
    is merged into the library's: path-style S3 on emulators, explicit retries). The client is the caller's.
    """
    from ._guards import check_target

    target = active_target()
    check_target(target)
    return client_pool(target).new_client(service, **overrides)
