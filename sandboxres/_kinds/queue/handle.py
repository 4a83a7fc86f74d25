"""What a ``with ephemeral_queue(...)`` block receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sandboxres._engine.wiring import HandleContext

ClientT = TypeVar("ClientT")


@dataclass(frozen=True, repr=False)
class QueueHandle(Generic[ClientT]):
    """A live SQS queue.

    Attributes: ``name``, ``url``, ``arn``, ``client`` (SQS client), ``dead_letter`` (the dead-letter queue's
    handle when ``dead_letter=`` was given, else None).
    """

    name: str
    url: str
    arn: str
    client: ClientT
    dead_letter: QueueHandle[ClientT] | None = field(default=None)
    context: HandleContext | None = field(default=None, compare=False, kw_only=True)  # what its helpers run on

    def __repr__(self) -> str:
        return f"QueueHandle(name={self.name!r}, url={self.url!r}, dead_letter={self.dead_letter!r})"


@dataclass(frozen=True, repr=False)
class AsyncQueueHandle(QueueHandle[ClientT]):
    """The handle an ``async with`` block receives: the same attributes, and helpers that are coroutines."""
