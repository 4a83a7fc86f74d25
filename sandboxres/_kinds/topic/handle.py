"""What a ``with ephemeral_topic(...)`` block receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sandboxres._engine.wiring import HandleContext

ClientT = TypeVar("ClientT")


@dataclass(frozen=True, repr=False)
class TopicHandle(Generic[ClientT]):
    """A live SNS topic. Attributes: ``name``, ``arn``, ``client`` (SNS client)."""

    name: str
    arn: str
    client: ClientT
    context: HandleContext | None = field(default=None, compare=False, kw_only=True)  # what its helpers run on

    def __repr__(self) -> str:
        return f"TopicHandle(name={self.name!r}, arn={self.arn!r})"


@dataclass(frozen=True, repr=False)
class AsyncTopicHandle(TopicHandle[ClientT]):
    """The handle an ``async with`` block receives: the same attributes, and helpers that are coroutines."""
