"""What an emulator (or the target in force) holds, seen with plain boto3 clients of the tests' own, independent
of sandboxres and its client pool.

* :func:`raw_client`: one plain boto3 client on a URL, with dummy credentials.
* :class:`Inventory`: clients on one endpoint (or on the target in force) over one or more regions, and what they
  see: one resource (``exists``, ``table_status``), the names of every table, bucket, queue and topic
  (``tables()``, ``names()``, ``prefixed_names()``, ``leftovers(prefix)``), and a ``snapshot()`` to compare before
  and after. Topics are listed wherever SNS is served (an external emulator without an SNS endpoint has none).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable
from typing import Any, Literal, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from sandboxres._runtime.clients import active_target

__all__ = [
    "DEFAULT_REGION",
    "DUMMY",
    "KINDS",
    "LISTED_KINDS",
    "OTHER_REGION",
    "REGIONS",
    "Inventory",
    "InventoryAt",
    "Kind",
    "raw_client",
]

Kind = Literal["table", "bucket", "queue"]
KINDS: tuple[Kind, ...] = ("table", "bucket", "queue")  # the kinds every target serves
LISTED_KINDS = (*KINDS, "topic")  # what listings cover by default (topics where SNS is served)
DEFAULT_REGION = "us-east-1"
OTHER_REGION = "eu-central-1"
REGIONS = (DEFAULT_REGION, OTHER_REGION)  # every region a test may create resources in
DUMMY = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# boto3.client, seen as taking any keywords: its typed overloads want the service name as a literal and every
# keyword spelled out, and these helpers take both as data.
_new_client: Callable[..., Any] = boto3.client


def raw_client(service: str, url: str, region: str = DEFAULT_REGION, **options: Any) -> Any:
    """A plain boto3 client on ``url`` with dummy credentials, independent of sandboxres (to observe what really
    happened); ``options`` go to ``boto3.client`` and win over these defaults."""
    config = Config(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 2})
    arguments: dict[str, Any] = {"region_name": region, "config": config, **DUMMY, **options}
    return _new_client(service, endpoint_url=url, **arguments)


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


class Inventory:
    """boto3 clients of its own on the target in force, or on ``endpoint`` for every service; what they see.

    ``regions``: the regions that listings and snapshots cover (default: the target's region, else us-east-1);
    the attributes ``dynamodb``, ``s3``, ``sqs``, ``streams`` and the single-resource checks use the first.
    Credentials: the environment's when set (an external emulator may insist on its own pair), else dummy ones.
    botocore retries in standard mode, so a look at the target is not itself disturbed by a passing fault.
    """

    def __init__(self, endpoint: str | None = None, *, regions: Iterable[str] | None = None) -> None:
        target = active_target() if endpoint is None else None
        self.regions = tuple(regions or ((target.region if target else None) or DEFAULT_REGION,))
        self.region = self.regions[0]
        self._endpoints = dict(target.endpoints) if target else None
        # An external emulator serves only the services it has an endpoint for; others serve every one.
        self.serves_topics = target is None or not target.external or target.endpoints.get("sns") is not None
        self._endpoint = endpoint
        self._credentials: dict[str, Any] = {}
        if target is None or target.kind != "aws":
            self._credentials = {
                "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID") or "testing",
                "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or "testing",
            }
        self._config = Config(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 5})
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str | None = None) -> Any:
        """This inventory's client of ``service`` in ``region`` (default: the first region), made when first asked
        for (on boto3's default session, whose loaded service models every client shares)."""
        key = (service, region or self.region)
        if key not in self._clients:
            url = self._endpoints.get(service) if self._endpoints is not None else self._endpoint
            self._clients[key] = _new_client(
                service, endpoint_url=url, region_name=key[1], config=self._config, **self._credentials
            )
        return self._clients[key]

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def sqs(self) -> Any:
        return self.client("sqs")

    @property
    def streams(self) -> Any:
        return self.client("dynamodbstreams")

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

    def topic_exists(self, name: str) -> bool:
        return name in self.topics(name)

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
        if kind == "topic":
            return self.topic_exists(name)
        raise ValueError(f"unknown kind {kind!r}")

    # -- listings (every region of the inventory) ----------------------------------------------------

    def _region_tables(self, region: str) -> list[str]:
        pages = self.client("dynamodb", region).get_paginator("list_tables").paginate()
        return [name for page in pages for name in page.get("TableNames", [])]

    def _region_queues(self, region: str, prefix: str = "") -> list[str]:
        params = {"QueueNamePrefix": prefix} if prefix else {}
        pages = self.client("sqs", region).get_paginator("list_queues").paginate(**params)
        return [_queue_name(url) for page in pages for url in page.get("QueueUrls", [])]

    def _region_topics(self, region: str) -> list[str]:
        if not self.serves_topics:
            return []
        pages = self.client("sns", region).get_paginator("list_topics").paginate()
        return [topic["TopicArn"].rsplit(":", 1)[-1] for page in pages for topic in page.get("Topics", [])]

    def tables(self, prefix: str = "") -> frozenset[str]:
        return frozenset(n for region in self.regions for n in self._region_tables(region) if n.startswith(prefix))

    def buckets(self, prefix: str = "") -> frozenset[str]:
        listed = self.s3.list_buckets().get("Buckets", [])
        return frozenset(b["Name"] for b in listed if b["Name"].startswith(prefix))

    def queues(self, prefix: str = "") -> frozenset[str]:
        return frozenset(
            n for region in self.regions for n in self._region_queues(region, prefix) if n.startswith(prefix)
        )

    def topics(self, prefix: str = "") -> frozenset[str]:
        return frozenset(n for region in self.regions for n in self._region_topics(region) if n.startswith(prefix))

    def names(self, kinds: Collection[str] = LISTED_KINDS) -> frozenset[str]:
        """The names of every resource of ``kinds``, whatever their kind."""
        listings = {"table": self.tables, "bucket": self.buckets, "queue": self.queues, "topic": self.topics}
        return frozenset().union(*(listings[kind]() for kind in kinds))

    def prefixed_names(self) -> frozenset[str]:
        """Names with the library's prefixes (case-sensitive): ``test_`` tables, queues and topics, ``test-``
        buckets."""
        return self.tables("test_") | self.queues("test_") | self.topics("test_") | self.buckets("test-")

    def leftovers(self, prefix: str, kinds: Collection[str] = LISTED_KINDS) -> list[str]:
        """Every resource of ``kinds`` whose name starts with ``prefix`` (a table/queue prefix; buckets are looked
        up with ``_`` turned into ``-``), as ``"kind name"`` strings. A target may serve only some kinds."""
        found: list[str] = []
        if "table" in kinds:
            found += [f"table {n}" for n in sorted(self.tables(prefix))]
        if "bucket" in kinds:
            found += [f"bucket {n}" for n in sorted(self.buckets(prefix.replace("_", "-").lower()))]
        if "queue" in kinds:
            found += [f"queue {n}" for n in sorted(self.queues(prefix)) if self.queue_exists(n)]
        if "topic" in kinds:
            found += [f"topic {n}" for n in sorted(self.topics(prefix))]
        return found

    def snapshot(self, kinds: Collection[str] = LISTED_KINDS) -> frozenset[str]:
        """Every resource of ``kinds`` as ``"table <region>/<name>"``, ``"bucket <name>"``, ``"queue
        <region>/<name>"``, ``"topic <region>/<name>"``: two snapshots compare with ``==`` and ``-``; an empty one
        is false."""
        held: set[str] = set()
        for region in self.regions:
            if "table" in kinds:
                held.update(f"table {region}/{name}" for name in self._region_tables(region))
            if "queue" in kinds:
                held.update(f"queue {region}/{name}" for name in self._region_queues(region))
            if "topic" in kinds:
                held.update(f"topic {region}/{name}" for name in self._region_topics(region))
        if "bucket" in kinds:
            held.update(f"bucket {name}" for name in self.buckets())
        return frozenset(held)


class InventoryAt(Protocol):
    """The ``inventory`` fixture: ``inventory(url=None)`` is what the emulator at ``url`` (default: the embedded
    one) holds, in every region."""

    def __call__(self, url: str | None = None) -> Inventory: ...
