"""The sync front door: ``with ephemeral_table(...) as t:`` and friends, on boto3.

Each context manager also offers ``create()`` / ``delete()`` for frameworks that cannot use ``with``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from sandboxres._doors.lifecycle import ResourceLifecycle, report_many
from sandboxres._engine.errors import CleanupError
from sandboxres._engine.handles import CLIENT_OF, RESOURCE_OF, BucketHandle, QueueHandle, TableHandle, build_handle
from sandboxres._engine.specs import Spec, bucket_spec, call_spec, queue_spec, table_spec
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
else:
    SyncTableHandle = TableHandle
    SyncBucketHandle = BucketHandle
    SyncQueueHandle = QueueHandle

H = TypeVar("H")
P = ParamSpec("P")


def guard_target(target: Any) -> None:
    """Checks that run before the first resource is created on a target (extended by the safety guards)."""
    from sandboxres._safety.guards import check_target

    check_target(target)


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

    def __repr__(self) -> str:
        return f"<Ephemeral {self.lifecycle.resource} {self.lifecycle.state}>"

    def _slot(self) -> contextlib.AbstractContextManager[None]:
        return TABLE_SLOTS.hold() if self.lifecycle.kind == "table" else contextlib.nullcontext()

    def create(self) -> H:
        """Create the resource, wait until it is usable, and return its handle."""
        target = active_target()
        guard_target(target)
        pool = client_pool(target)
        self._driver = SyncDriver(pool, refused_is_final=target.kind != "aws")
        plan = self.lifecycle.begin(target)
        try:
            with self._slot():
                facts = self._driver.run(plan)
        except BaseException as exc:
            self.lifecycle.create_failed(exc, self._delete_now())
        self.lifecycle.created(facts)
        kind, name = self.lifecycle.kind, self.lifecycle.name

        def make_resource() -> Any:
            service, factory = RESOURCE_OF[kind]
            return getattr(pool.resource(service), factory)(name)

        self.handle = build_handle(kind, name, facts, pool.client(CLIENT_OF[kind]), make_resource)
        return self.handle

    def _delete_now(self) -> CleanupError | None:
        plan = self.lifecycle.delete_plan()
        if plan is None:
            return None
        if self._driver is None:  # failed before its first call: nothing can exist
            plan.close()
            self.lifecycle.abandoned()
            return None
        try:
            with self._slot():
                self._driver.run(plan)
        except Exception as exc:
            return self.lifecycle.cleanup_failed(exc)
        self.lifecycle.deleted()
        return None

    def delete(self) -> None:
        """Delete the resource (a no-op when it was never created, is kept, or is already gone)."""
        self.lifecycle.report(None, self._delete_now())

    def __enter__(self) -> H:
        return self.create()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.lifecycle.report(exc, self._delete_now())


def _front_door(spec_factory: Callable[P, Spec], handle: type[H], name: str) -> Callable[P, Ephemeral[H]]:
    """A public ``ephemeral_*`` function with exactly the parameters of its spec factory."""

    @functools.wraps(spec_factory)
    def door(*args: P.args, **kwargs: P.kwargs) -> Ephemeral[H]:
        return Ephemeral(call_spec(spec_factory, name, args, kwargs))

    door.__name__ = door.__qualname__ = name
    door.__module__ = "sandboxres"  # where users import it from
    door.__signature__ = inspect.signature(spec_factory).replace(  # type: ignore[attr-defined]
        return_annotation=f"Ephemeral[{handle.__name__}]"
    )
    return door


ephemeral_table = _front_door(table_spec, SyncTableHandle, "ephemeral_table")
ephemeral_bucket = _front_door(bucket_spec, SyncBucketHandle, "ephemeral_bucket")
ephemeral_queue = _front_door(queue_spec, SyncQueueHandle, "ephemeral_queue")


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
