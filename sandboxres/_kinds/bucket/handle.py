"""What a ``with ephemeral_bucket(...)`` block receives."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, TypeVar, cast

from sandboxres._engine.wiring import HandleContext, run_helper
from sandboxres._kinds.bucket.uploads import upload_objects

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

    def upload(
        self, path_or_mapping: str | os.PathLike[str] | Mapping[str, bytes | str], *, timeout: float | None = None
    ) -> list[str]:
        """Upload a directory (recursively, keys relative to it with ``/``) or a ``{key: bytes | str}`` mapping;
        the keys uploaded, sorted. A missing path or a value neither bytes nor str: SpecError before any call."""
        plan = upload_objects(self.context, self.name, path_or_mapping, timeout)
        return cast("list[str]", run_helper(self.context, plan))


@dataclass(frozen=True, repr=False)
class AsyncBucketHandle(BucketHandle[ClientT, ResourceT]):
    """The handle an ``async with`` block receives: the same attributes, and helpers that are coroutines."""

    async def upload(  # type: ignore[override]
        self, path_or_mapping: str | os.PathLike[str] | Mapping[str, bytes | str], *, timeout: float | None = None
    ) -> list[str]:
        plan = upload_objects(self.context, self.name, path_or_mapping, timeout)
        return cast("list[str]", await run_helper(self.context, plan))
