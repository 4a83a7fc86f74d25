"""Drive a resource lifecycle through the sync or the async front door with one piece of test code, and look at
the target with clients of its own to tell what exists and what is gone.

* :class:`SyncRunner` / :class:`AsyncRunner` (see :func:`runner`): ``with runner.lifecycle("table", "users",
  range_key="sk") as handle:`` enters ``sandboxres.ephemeral_table`` or ``sandboxres.aio.ephemeral_table``.
  The async runner keeps an event loop on a thread of its own: the test body stays plain code, and
  ``runner.call(handle.client.put_item(...))`` works in both modes (it awaits on that loop what the aioboto3
  client returns). ``runner.make(...)`` + ``runner.enter(resource)`` do the same in two steps, for tests that
  need the ``Ephemeral`` object (the name it drew) when creation fails.
* :class:`TargetView`: plain boto3 clients on the target in force (or on an explicit endpoint, e.g. the emulator
  behind a fault proxy), independent of the library's client pool: ``exists(kind, name)`` and
  ``leftovers(prefix)`` say whether anything was left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from typing import Any, Literal, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

import sandboxres
from sandboxres import aio
from sandboxres._runtime.clients import active_target

__all__ = ["KINDS", "MODES", "AsyncRunner", "Kind", "Mode", "Runner", "SyncRunner", "TargetView", "runner"]

Kind = Literal["table", "bucket", "queue"]
Mode = Literal["sync", "async"]
KINDS: tuple[Kind, ...] = ("table", "bucket", "queue")
MODES: tuple[Mode, ...] = ("sync", "async")
T = TypeVar("T")

_SYNC_DOORS: dict[str, Callable[..., Any]] = {
    "table": sandboxres.ephemeral_table,
    "bucket": sandboxres.ephemeral_bucket,
    "queue": sandboxres.ephemeral_queue,
}
_ASYNC_DOORS: dict[str, Callable[..., Any]] = {
    "table": aio.ephemeral_table,
    "bucket": aio.ephemeral_bucket,
    "queue": aio.ephemeral_queue,
}


class Runner:
    """Runs lifecycles through one of the two front doors; see the module docstring."""

    mode: Mode

    def make(self, kind: str, label: str, **options: Any) -> Any:
        """The front door's ephemeral object (not entered yet)."""
        raise NotImplementedError

    def enter(self, resource: Any) -> contextlib.AbstractContextManager[Any]:
        """Enter ``resource`` (create, wait), yield its handle, delete it on the way out."""
        raise NotImplementedError

    def call(self, value: T | Awaitable[T]) -> T:
        """The result of a handle client's call: awaited on the runner's loop in async mode."""
        raise NotImplementedError

    def lifecycle(self, kind: str, label: str, **options: Any) -> contextlib.AbstractContextManager[Any]:
        return self.enter(self.make(kind, label, **options))

    def close(self) -> None:
        """Release what the runner holds (the async runner's loop)."""


class SyncRunner(Runner):
    mode: Mode = "sync"

    def make(self, kind: str, label: str, **options: Any) -> Any:
        return _SYNC_DOORS[kind](label, **options)

    def enter(self, resource: Any) -> contextlib.AbstractContextManager[Any]:
        return resource  # type: ignore[no-any-return]

    def call(self, value: T | Awaitable[T]) -> T:
        assert not inspect.isawaitable(value), "a sync handle's client returned an awaitable"
        return value


class AsyncRunner(Runner):
    """Runs ``sandboxres.aio`` on an event loop owned by a daemon thread; the caller blocks on each step."""

    mode: Mode = "async"

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="async-runner", daemon=True)
        self._thread.start()

    def run(self, awaitable: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await awaitable

        future: Future[T] = asyncio.run_coroutine_threadsafe(wrapped(), self.loop)
        return future.result()

    def make(self, kind: str, label: str, **options: Any) -> Any:
        return _ASYNC_DOORS[kind](label, **options)

    @contextlib.contextmanager
    def enter(self, resource: Any) -> Iterator[Any]:
        handle = self.run(resource.__aenter__())
        try:
            yield handle
        except BaseException as exc:
            self.run(resource.__aexit__(type(exc), exc, exc.__traceback__))
            raise
        self.run(resource.__aexit__(None, None, None))

    def call(self, value: T | Awaitable[T]) -> T:
        assert inspect.isawaitable(value), "an async handle's client returned a plain value"
        result: T = self.run(value)
        return result

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5.0)
        self.loop.close()


def runner(mode: str) -> Runner:
    """A runner for ``mode`` ("sync" or "async"); close it when done."""
    if mode == "sync":
        return SyncRunner()
    if mode == "async":
        return AsyncRunner()
    raise ValueError(f"mode must be sync or async, got {mode!r}")


class TargetView:
    """boto3 clients of its own on the target in force, or on ``endpoint`` for every service.

    Credentials: the environment's when set (an external emulator may insist on its own pair), else dummy ones.
    botocore retries in standard mode, so a look at the target is not itself disturbed by a passing fault.
    """

    def __init__(self, endpoint: str | None = None) -> None:
        target = active_target() if endpoint is None else None
        self.region = (target.region if target else None) or "us-east-1"
        session_args: dict[str, Any] = {"region_name": self.region}
        if target is None or target.kind != "aws":
            session_args["aws_access_key_id"] = os.environ.get("AWS_ACCESS_KEY_ID") or "testing"
            session_args["aws_secret_access_key"] = os.environ.get("AWS_SECRET_ACCESS_KEY") or "testing"
        session = boto3.session.Session(**session_args)
        config = Config(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 5})

        def make(service: str) -> Any:
            url = target.endpoints.get(service) if target else endpoint
            return session.client(service, endpoint_url=url, config=config)  # type: ignore[call-overload]

        self.dynamodb = make("dynamodb")
        self.s3 = make("s3")
        self.sqs = make("sqs")
        self.streams = make("dynamodbstreams")

    # -- one resource ------------------------------------------------------------------------------

    def table_status(self, name: str) -> str | None:
        """The table's status, or None when it does not exist."""
        try:
            return str(self.dynamodb.describe_table(TableName=name)["Table"]["TableStatus"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise

    def bucket_exists(self, name: str) -> bool:
        try:
            self.s3.head_bucket(Bucket=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchBucket", "NotFound"):
                return False
            raise
        return True

    def queue_exists(self, name: str) -> bool:
        """Whether GetQueueUrl finds the queue (a deleted queue may stay listed for up to 60 s, as on AWS)."""
        try:
            self.sqs.get_queue_url(QueueName=name)
        except ClientError as exc:
            error = exc.response["Error"]
            if "NonExistentQueue" in error.get("Code", "") or error.get("QueryErrorCode") == "QueueDoesNotExist":
                return False
            raise
        return True

    def exists(self, kind: str, name: str) -> bool:
        if kind == "table":
            return self.table_status(name) is not None
        if kind == "bucket":
            return self.bucket_exists(name)
        if kind == "queue":
            return self.queue_exists(name)
        raise ValueError(f"unknown kind {kind!r}")

    # -- listings ----------------------------------------------------------------------------------

    def tables(self, prefix: str = "") -> list[str]:
        names: list[str] = []
        params: dict[str, Any] = {}
        while True:
            page = self.dynamodb.list_tables(**params)
            names += [n for n in page.get("TableNames", []) if n.startswith(prefix)]
            if not page.get("LastEvaluatedTableName"):
                return names
            params = {"ExclusiveStartTableName": page["LastEvaluatedTableName"]}

    def buckets(self, prefix: str = "") -> list[str]:
        return [b["Name"] for b in self.s3.list_buckets().get("Buckets", []) if b["Name"].startswith(prefix)]

    def queues(self, prefix: str = "") -> list[str]:
        params: dict[str, Any] = {"QueueNamePrefix": prefix} if prefix else {}
        urls: list[str] = []
        while True:
            page = self.sqs.list_queues(**params)
            urls += page.get("QueueUrls", [])
            if not page.get("NextToken"):
                break
            params["NextToken"] = page["NextToken"]
        return [name for name in (url.rstrip("/").rsplit("/", 1)[-1] for url in urls) if name.startswith(prefix)]

    def leftovers(self, prefix: str, kinds: tuple[str, ...] = KINDS) -> list[str]:
        """Every resource of ``kinds`` whose name starts with ``prefix`` (a table/queue prefix; buckets are looked
        up with ``_`` turned into ``-``), as ``"kind name"`` strings. A target may serve only some kinds."""
        found: list[str] = []
        if "table" in kinds:
            found += [f"table {n}" for n in self.tables(prefix)]
        if "bucket" in kinds:
            found += [f"bucket {n}" for n in self.buckets(prefix.replace("_", "-").lower())]
        if "queue" in kinds:
            found += [f"queue {n}" for n in self.queues(prefix) if self.queue_exists(n)]
        return found
