"""The sync front door: ``with ephemeral_table(...) as t:`` and friends, on boto3.

Each context manager also offers ``create()`` / ``delete()`` for frameworks that cannot use ``with``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sandboxres._doors.lifecycle import ResourceLifecycle, front_door, report_many
from sandboxres._engine.errors import CleanupError, ConfigurationError
from sandboxres._engine.steps import Plan
from sandboxres._kinds import Facts, Spec
from sandboxres._kinds.bucket import BucketHandle, bucket_spec
from sandboxres._kinds.queue import QueueHandle, queue_spec
from sandboxres._kinds.table import TableHandle, table_spec
from sandboxres._kinds.topic import TopicHandle, topic_spec
from sandboxres._runtime.clients import active_target, client_pool
from sandboxres._runtime.drivers import SyncDriver
from sandboxres._runtime.table_slots import TABLE_SLOTS
from sandboxres._safety.signals import armed

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.service_resource import Bucket
    from mypy_boto3_sqs.client import SQSClient

    SyncTableHandle = TableHandle[DynamoDBClient, Table]
    SyncBucketHandle = BucketHandle[S3Client, Bucket]
    SyncQueueHandle = QueueHandle[SQSClient]
    SyncTopicHandle = TopicHandle[Any]  # no SNS stubs among the typing dependencies
else:
    SyncTableHandle = TableHandle
    SyncBucketHandle = BucketHandle
    SyncQueueHandle = QueueHandle
    SyncTopicHandle = TopicHandle

H = TypeVar("H")
T = TypeVar("T")


def guard_target(target: Any) -> None:
    """Checks that run before the first resource is created on a target (extended by the safety guards)."""
    from sandboxres._safety.guards import check_target

    check_target(target)


def check_served(target: Any, lifecycle: ResourceLifecycle) -> None:
    """Refuse, before anything is registered or sent, a resource whose services the target has no endpoint for
    (an external emulator without SNS asked for a topic): ConfigurationError naming the kind and the variables."""
    for service in lifecycle.resource_kind.services(lifecycle.spec):
        try:
            target.endpoint(service)
        except ConfigurationError as exc:
            raise ConfigurationError(f"cannot create a {lifecycle.kind}: {exc}") from None


class Ephemeral(Generic[H]):
    """A resource that exists between ``create()`` (or ``__enter__``) and ``delete()`` (or ``__exit__``).

    Deletion happens on every way out of the block: return, exception, KeyboardInterrupt. A failed deletion is
    never swallowed: it is attached to the exception leaving the block (``exc.sandboxres_cleanup_errors`` and a
    note), or raised as :class:`~sandboxres.CleanupError` when the block succeeded.
    """

    def __init__(self, spec: Spec) -> None:
        self.lifecycle = ResourceLifecycle(spec)
        self.handle: H | None = None
        self._driver: SyncDriver | None = None
        self._clients: Any = None

    def __repr__(self) -> str:
        return f"<Ephemeral {self.lifecycle.resource} {self.lifecycle.state.value}>"

    def _slot(self) -> contextlib.AbstractContextManager[None]:
        return TABLE_SLOTS.hold() if self.lifecycle.resource_kind.bounded else contextlib.nullcontext()

    def create(self) -> H:
        """Create the resource, wait until it is usable, and return its handle."""
        target = active_target()
        guard_target(target)
        check_served(target, self.lifecycle)
        pool = client_pool(target)
        self._driver = SyncDriver(pool, refused_is_final=target.kind != "aws")
        plan = self.lifecycle.begin(target)
        try:
            with self._slot():
                facts = self._driver.run(plan)
        except BaseException as exc:
            self.lifecycle.create_failed(exc, self._delete_now())
        self.lifecycle.created(facts)
        self._clients = pool
        self.handle = self._make_handle()
        return self.handle

    def adopt(self, facts: Facts) -> H:
        """Take over the existing resource ``facts`` names, of this spec's shape (a warm pool's, leased from an
        earlier run): live, deleted on every way out like a created one, with its handle."""
        target = active_target()
        guard_target(target)
        check_served(target, self.lifecycle)
        self._clients = client_pool(target)
        self._driver = SyncDriver(self._clients, refused_is_final=target.kind != "aws")
        self.lifecycle.adopted(target, facts)
        self.handle = self._make_handle()
        return self.handle

    def _make_handle(self) -> H:
        pool = self._clients
        made_by, name = self.lifecycle.resource_kind.resource, self.lifecycle.name

        def make_resource() -> Any:
            if made_by is None:
                raise AttributeError(f"{self.lifecycle.kind} handles have no resource object")
            service, factory = made_by
            return getattr(pool.resource(service), factory)(name)

        client = pool.client(self.lifecycle.service)
        return self.lifecycle.handle(client, make_resource, self._run)  # type: ignore[no-any-return]

    def _run(self, plan: Plan[T], stop: threading.Event | None = None) -> T:
        """Run a further plan on the live resource with its driver (a pool's baseline and recycling); ``stop``
        ends its waits and retries early (see ``SyncDriver``)."""
        if self._driver is None:
            raise RuntimeError(f"{self.lifecycle.resource} is not created")
        return (self._driver if stop is None else self._driver.stopping(stop)).run(plan)

    def _delete_now(self) -> CleanupError | None:
        driver = self._driver
        plan = self.lifecycle.deletion(can_run=driver is not None)
        if plan is None or driver is None:
            return None
        try:
            with self._slot():
                driver.run(plan)
        except Exception as exc:
            return self.lifecycle.delete_ran(exc)
        return self.lifecycle.delete_ran(None)

    def delete(self) -> None:
        """Delete the resource (a no-op when it was never created, is kept, or is already gone)."""
        self.lifecycle.report(None, self._delete_now())

    def __enter__(self) -> H:
        return self.create()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.lifecycle.report(exc, self._delete_now())


ephemeral_table = front_door(
    table_spec, Ephemeral[SyncTableHandle], "ephemeral_table", "sandboxres", "Ephemeral[TableHandle]"
)
ephemeral_bucket = front_door(
    bucket_spec, Ephemeral[SyncBucketHandle], "ephemeral_bucket", "sandboxres", "Ephemeral[BucketHandle]"
)
ephemeral_queue = front_door(
    queue_spec, Ephemeral[SyncQueueHandle], "ephemeral_queue", "sandboxres", "Ephemeral[QueueHandle]"
)
ephemeral_topic = front_door(
    topic_spec, Ephemeral[SyncTopicHandle], "ephemeral_topic", "sandboxres", "Ephemeral[TopicHandle]"
)


@contextlib.contextmanager
def ephemeral_all(*resources: Ephemeral[Any], max_workers: int = 16) -> Iterator[list[Any]]:
    """Create several resources concurrently (threads) and delete them all at the end.

    ``with ephemeral_all(ephemeral_table("a"), ephemeral_bucket("b")) as (table, bucket): ...``
    If any creation fails, the others are deleted and the first error is raised. Cleanup failures of several
    resources are reported together in one :class:`~sandboxres.CleanupError`.
    """
    workers = max(1, min(max_workers, len(resources)))
    # The workers register the resources; SIGTERM can only be caught from here, the main thread.
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandboxres") as pool, armed():
        futures = [pool.submit(resource.create) for resource in resources]
        try:
            handles = [future.result() for future in futures]
        except BaseException as exc:
            for future in futures:  # let every creation finish (each cleans up after its own failure)
                with contextlib.suppress(BaseException):
                    future.result()
            report_many(exc, list(pool.map(_delete_collect, resources)))
            raise
        try:
            yield handles
        except BaseException as exc:
            report_many(exc, list(pool.map(_delete_collect, resources)))
            raise
        report_many(None, list(pool.map(_delete_collect, resources)))


def _delete_collect(resource: Ephemeral[Any]) -> CleanupError | None:
    return resource._delete_now()
