"""What a ``with ephemeral_bucket(...)`` block receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, TypeVar

from sandboxres._engine.wiring import HandleContext

ClientT = TypeVar("ClientT")
ResourceT = TypeVar("ResourceT")


@dataclass(frozen=True, repr=False)
class BucketHandle(Generic[ClientT, ResourceT]):
    """A live S3 bucket. Attributes: ``name``, ``arn``, ``client`` (S3 client), ``bucket`` (``Bucket`` resource)."""

    name: str
    arn: str
    client: ClientT
    make_bucket: Callable[[], ResourceT] = field(compare=False)
    context: HandleContext | None = field(default=None, compare=False, kw_only=True)  # what its helpers run on

    @cached_property
    def bucket(self) -> ResourceT:
        """The ``Bucket`` resource (built on first use)."""
        return self.make_bucket()

    def __repr__(self) -> str:
        return f"BucketHandle(name={self.name!r}, arn={self.arn!r})"


@dataclass(frozen=True, repr=False)
class AsyncBucketHandle(BucketHandle[ClientT, ResourceT]):
    """The handle an ``async with`` block receives: the same attributes, and helpers that are coroutines."""
