"""What a ``with ephemeral_table(...)`` block receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, TypeVar

from sandboxres._engine.wiring import HandleContext

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


@dataclass(frozen=True, repr=False)
class AsyncTableHandle(TableHandle[ClientT, ResourceT]):
    """The handle an ``async with`` block receives: the same attributes, and helpers that are coroutines."""
