"""Handles: what a ``with`` block receives. Clients are already pointed at the target in force.

The same classes serve the sync API (boto3 clients and resources) and the async one (aioboto3 clients and
resources, open for the duration of the block).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar

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

    @cached_property
    def table(self) -> ResourceT:
        """The ``Table`` resource (built on first use: most tests only need the client)."""
        return self.make_table()

    def __repr__(self) -> str:
        return f"TableHandle(name={self.name!r}, arn={self.arn!r}, stream_arn={self.stream_arn!r})"


@dataclass(frozen=True, repr=False)
class BucketHandle(Generic[ClientT, ResourceT]):
    """A live S3 bucket. Attributes: ``name``, ``arn``, ``client`` (S3 client), ``bucket`` (``Bucket`` resource)."""

    name: str
    arn: str
    client: ClientT
    make_bucket: Callable[[], ResourceT] = field(compare=False)

    @cached_property
    def bucket(self) -> ResourceT:
        """The ``Bucket`` resource (built on first use)."""
        return self.make_bucket()

    def __repr__(self) -> str:
        return f"BucketHandle(name={self.name!r}, arn={self.arn!r})"


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

    def __repr__(self) -> str:
        return f"QueueHandle(name={self.name!r}, url={self.url!r}, dead_letter={self.dead_letter!r})"


def build_handle(kind: str, name: str, facts: Mapping[str, Any], client: Any, make_resource: Callable[[], Any]) -> Any:
    """The handle of a created resource, from its facts and the SDK objects the driver opened."""
    if kind == "table":
        return TableHandle(name, facts["arn"], client, make_resource, facts.get("stream_arn"))
    if kind == "bucket":
        return BucketHandle(name, facts["arn"], client, make_resource)
    dead = facts.get("dead_letter")
    dead_handle = QueueHandle(dead["name"], dead["url"], dead["arn"], client) if dead else None
    return QueueHandle(name, facts["url"], facts["arn"], client, dead_handle)


# What each kind needs from the SDK: its client's service, and the resource service for ``.table``/``.bucket``.
CLIENT_OF = {"table": "dynamodb", "bucket": "s3", "queue": "sqs"}
RESOURCE_OF = {"table": ("dynamodb", "Table"), "bucket": ("s3", "Bucket")}
