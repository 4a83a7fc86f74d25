"""What a ``with ephemeral_table(...)`` block receives."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar, cast

from sandboxres._engine.wiring import HandleContext, run_helper
from sandboxres._kinds.table.items import put_items
from sandboxres._kinds.table.stream_reader import read_stream

ClientT = TypeVar("ClientT")
ResourceT = TypeVar("ResourceT")


@dataclass(frozen=True, repr=False)
class TableHandle(Generic[ClientT, ResourceT]):
    """A live DynamoDB table.

    Attributes: ``name``; ``arn``; ``client`` (DynamoDB client); ``table`` (boto3 ``Table`` resource, or
    aioboto3's in the async API); ``stream_arn`` (None without ``stream=``).
    """

    name: str
    arn: str
    client: ClientT
    make_table: Callable[[], ResourceT] = field(compare=False)
    stream_arn: str | None = None
    context: HandleContext | None = field(default=None, compare=False, kw_only=True)  # what its helpers run on

    @cached_property
    def table(self) -> ResourceT:
        """The ``Table`` resource (built on first use: most tests only need the client)."""
        return self.make_table()

    def __repr__(self) -> str:
        return f"TableHandle(name={self.name!r}, arn={self.arn!r}, stream_arn={self.stream_arn!r})"

    def stream_records(self, count: int | None = None, timeout: float | None = None) -> list[dict[str, Any]]:
        """The stream's records since the table was handed out, every shard read, in order per key. With ``count``:
        polls until that many arrived, else ReceiveTimeoutError; without: what is there once the stream is quiet.
        ``timeout``: default the target's (or SANDBOXRES_HELPER_TIMEOUT). A table without ``stream=``: SpecError."""
        plan = read_stream(self.context, self.name, self.stream_arn, count, timeout)
        return cast("list[dict[str, Any]]", run_helper(self.context, plan))

    def put_items(self, items: Iterable[Mapping[str, Any]], *, timeout: float | None = None) -> int:
        """Write ``items`` (plain Python values, as the ``Table`` resource takes them) with BatchWriteItem, 25 at
        a time, unprocessed items sent again with backoff; how many were written."""
        plan = put_items(self.context, self.name, items, timeout)
        return cast("int", run_helper(self.context, plan))


@dataclass(frozen=True, repr=False)
class AsyncTableHandle(TableHandle[ClientT, ResourceT]):
    """The handle an ``async with`` block receives: the same attributes, and helpers that are coroutines."""

    async def stream_records(  # type: ignore[override]
        self, count: int | None = None, timeout: float | None = None
    ) -> list[dict[str, Any]]:
        plan = read_stream(self.context, self.name, self.stream_arn, count, timeout)
        return cast("list[dict[str, Any]]", await run_helper(self.context, plan))

    async def put_items(  # type: ignore[override]
        self, items: Iterable[Mapping[str, Any]], *, timeout: float | None = None
    ) -> int:
        plan = put_items(self.context, self.name, items, timeout)
        return cast("int", await run_helper(self.context, plan))
