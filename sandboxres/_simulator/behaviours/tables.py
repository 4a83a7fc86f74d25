"""Simulated behaviours: tables (DynamoDB's CREATING, UPDATING and DELETING states).

The three behaviours keep their states in the upstream's :class:`TableClock`; their rules apply only while a table
is in the state they imitate, so the states combine: a CreateTable of a name being deleted is refused, a DeleteTable
of a table still CREATING or UPDATING too, whichever behaviour made the state.
"""

from __future__ import annotations

import time
from typing import Any

from sandboxres._simulator.aws_errors import AwsError
from sandboxres._simulator.behaviours.base import Behaviour, Context
from sandboxres._simulator.behaviours.dynamodb_state import (
    TableClock,
    When,
    json_reply,
    ok_json,
    region_of,
    table_in_arn,
    tables_of,
)
from sandboxres._simulator.constructors import TABLE_IN_USE_MESSAGE, TABLE_NOT_FOUND_MESSAGE
from sandboxres._simulator.faults import Fault, Trigger
from sandboxres._simulator.messages import Action, ProxyRequest, Reply, ResetType
from sandboxres._simulator.rules import Rule

# The calls AWS answers with ResourceNotFoundException while a table is CREATING.
ITEM_OPERATIONS = (
    "PutItem",
    "GetItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchWriteItem",
    "BatchGetItem",
    "TransactWriteItems",
    "TransactGetItems",
)
TAG_OPERATIONS = ("TagResource", "UntagResource", "ListTagsOfResource")
# The calls that change a table: refused (ResourceInUseException) while it is CREATING, UPDATING or DELETING.
CHANGE_OPERATIONS = ("DeleteTable", "UpdateTable", "UpdateTimeToLive")
TTL_CHANGED_MESSAGE = "Time to live has been modified multiple times within a fixed interval"
ITEM_NOT_FOUND_MESSAGE = "Requested resource not found"


def in_use(what: str) -> AwsError:
    return AwsError("ResourceInUseException", TABLE_IN_USE_MESSAGE.format(what=what))


class TableStatus(Fault):
    """Forward, then report ``status`` in a successful table reply (and ``index_status`` for its global indexes,
    unless None)."""

    def __init__(self, status: str, index_status: str | None = None) -> None:
        self.status = status
        self.index_status = index_status

    @property
    def label(self) -> str:
        return f"TableStatus={self.status}"

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        document = ok_json(reply)
        if document is None:
            return reply
        return reply.with_json(with_status(document, self.status, self.index_status))


def with_status(document: dict[str, Any], status: str, index_status: str | None = None) -> dict[str, Any]:
    for key in ("Table", "TableDescription"):
        table = document.get(key)
        if isinstance(table, dict):
            table["TableStatus"] = status
            if index_status is not None:
                for index in table.get("GlobalSecondaryIndexes") or []:
                    if isinstance(index, dict):
                        index["IndexStatus"] = index_status
    return document


class StreamStatus(Fault):
    """Forward a DescribeStream, then report the stream ``status``."""

    def __init__(self, status: str) -> None:
        self.status = status

    @property
    def label(self) -> str:
        return f"StreamStatus={self.status}"

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        document = ok_json(reply)
        if document is None or not isinstance(document.get("StreamDescription"), dict):
            return reply
        document["StreamDescription"]["StreamStatus"] = self.status
        return reply.with_json(document)


# -- table_creating ----------------------------------------------------------------------------------------


class CreateTable(Fault):
    """CreateTable: refused while the name is being deleted; once created upstream, CREATING for ``seconds`` and
    ``per_index_seconds`` more per global secondary index."""

    def __init__(self, clock: TableClock, seconds: float, per_index_seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds
        self.per_index_seconds = per_index_seconds

    @property
    def label(self) -> str:
        return "TableStatus=CREATING"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        if self.clock.deleting(*tables_of(request)):
            return in_use("deleted").render(request)
        return None

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        document = ok_json(reply)
        table = document.get("TableDescription") if document else None
        if document is None or not isinstance(table, dict) or not request.resource:
            return reply
        indexes = len(table.get("GlobalSecondaryIndexes") or request.params.get("GlobalSecondaryIndexes") or [])
        until = time.monotonic() + self.seconds + indexes * self.per_index_seconds
        self.clock.record((region_of(request), request.resource), fresh=True, creating_until=until)
        return reply.with_json(with_status(document, "CREATING", "CREATING"))


def _install_creating(ctx: Context) -> list[Rule]:
    clock = TableClock.of(ctx.upstream_url)

    def creating(request: ProxyRequest) -> bool:
        return clock.creating(*tables_of(request))

    def stream_creating(request: ProxyRequest) -> bool:
        table = table_in_arn(request.resource or "")
        return table is not None and clock.creating(table)

    return [
        When(in_use("created"), operations=CHANGE_OPERATIONS, when=creating),
        When(AwsError("ResourceNotFoundException", ITEM_NOT_FOUND_MESSAGE), operations=ITEM_OPERATIONS, when=creating),
        When(AwsError("ResourceNotFoundException", TABLE_NOT_FOUND_MESSAGE), operations=TAG_OPERATIONS, when=creating),
        When(TableStatus("CREATING", "CREATING"), operations="DescribeTable", when=creating),
        When(StreamStatus("ENABLING"), service="dynamodbstreams", operations="DescribeStream", when=stream_creating),
        Rule(
            CreateTable(clock, ctx.seconds("seconds"), ctx.seconds("per_index_seconds")),
            service="dynamodb",
            operations="CreateTable",
        ),
    ]


# -- table_updating ----------------------------------------------------------------------------------------


class UpdateTable(Fault):
    """UpdateTable / UpdateTimeToLive: refused while the table is UPDATING (ResourceInUseException) and, for a TTL
    change, within the cooldown of the last one (ValidationException); once done upstream, UPDATING for
    ``seconds``."""

    def __init__(self, clock: TableClock, seconds: float, ttl_cooldown_seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds
        self.ttl_cooldown_seconds = ttl_cooldown_seconds

    @property
    def label(self) -> str:
        return "TableStatus=UPDATING"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        tables = tables_of(request)
        if request.operation == "UpdateTimeToLive" and self.clock.ttl_cooling(*tables):
            return AwsError("ValidationException", TTL_CHANGED_MESSAGE).render(request)
        if self.clock.updating(*tables) or self.clock.deleting(*tables):
            return in_use("updated" if self.clock.updating(*tables) else "deleted").render(request)
        return None

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        document = ok_json(reply)
        if document is None or not request.resource:
            return reply
        now = time.monotonic()
        changes: dict[str, Any] = {"updating_until": now + self.seconds}
        if request.operation == "UpdateTimeToLive":
            changes.update(ttl_until=now + self.seconds, ttl_cooldown_until=now + self.ttl_cooldown_seconds)
        self.clock.record((region_of(request), request.resource), **changes)
        return reply.with_json(with_status(document, "UPDATING"))


class TtlStatus(Fault):
    """Forward a DescribeTimeToLive, then report the change in progress (ENABLING / DISABLING)."""

    @property
    def label(self) -> str:
        return "TimeToLiveStatus changing"

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        document = ok_json(reply)
        description = document.get("TimeToLiveDescription") if document else None
        if document is None or not isinstance(description, dict):
            return reply
        status = str(description.get("TimeToLiveStatus"))
        description["TimeToLiveStatus"] = {"ENABLED": "ENABLING", "DISABLED": "DISABLING"}.get(status, status)
        return reply.with_json(document)


def _install_updating(ctx: Context) -> list[Rule]:
    clock = TableClock.of(ctx.upstream_url)

    def updating(request: ProxyRequest) -> bool:
        return clock.updating(*tables_of(request))

    def ttl_changing(request: ProxyRequest) -> bool:
        return clock.ttl_changing(*tables_of(request))

    return [
        When(in_use("updated"), operations="DeleteTable", when=updating),
        When(TableStatus("UPDATING"), operations="DescribeTable", when=updating),
        When(TtlStatus(), operations="DescribeTimeToLive", when=ttl_changing),
        Rule(
            UpdateTable(clock, ctx.seconds("seconds"), ctx.seconds("ttl_cooldown_seconds")),
            service="dynamodb",
            operations=("UpdateTable", "UpdateTimeToLive"),
        ),
    ]


# -- table_deleting ----------------------------------------------------------------------------------------


class DeletingTable(Fault):
    """Answer DescribeTable / DeleteTable of a table being deleted with it DELETING, without forwarding (the
    description is the one the DeleteTable reply gave)."""

    def __init__(self, clock: TableClock) -> None:
        self.clock = clock

    @property
    def label(self) -> str:
        return "TableStatus=DELETING (simulated)"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        tables = tables_of(request)
        state = self.clock.state(tables[0]) if tables else None
        table = dict(state.description) if state and state.description else {"TableName": request.resource}
        table["TableStatus"] = "DELETING"
        return json_reply({"Table" if request.operation == "DescribeTable" else "TableDescription": table})


class DeleteTable(Fault):
    """DeleteTable: once done upstream, the table is DELETING for ``seconds``."""

    def __init__(self, clock: TableClock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds

    @property
    def label(self) -> str:
        return "TableStatus=DELETING"

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        document = ok_json(reply)
        table = document.get("TableDescription") if document else None
        if document is None or not isinstance(table, dict) or not request.resource:
            return reply
        table["TableStatus"] = "DELETING"
        until = time.monotonic() + self.seconds
        self.clock.record((region_of(request), request.resource), fresh=True, deleting_until=until, description=table)
        return reply.with_json(document)


def _install_deleting(ctx: Context) -> list[Rule]:
    clock = TableClock.of(ctx.upstream_url)

    def deleting(request: ProxyRequest) -> bool:
        return clock.deleting(*tables_of(request))

    return [
        When(DeletingTable(clock), operations=("DescribeTable", "DeleteTable"), when=deleting),
        When(in_use("deleted"), operations=("CreateTable", "UpdateTable", "UpdateTimeToLive"), when=deleting),
        Rule(DeleteTable(clock, ctx.seconds("seconds")), service="dynamodb", operations="DeleteTable"),
    ]


_DEVELOPER_GUIDE = "Amazon DynamoDB Developer Guide"
_API_REFERENCE = "Amazon DynamoDB API Reference"

BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        "table_creating",
        "CreateTable returns at once with the table CREATING; it turns ACTIVE seconds later, later still with "
        "global secondary indexes (their IndexStatus is CREATING meanwhile, the stream ENABLING). Until then item "
        "and tag calls raise ResourceNotFoundException, DeleteTable / UpdateTable / UpdateTimeToLive raise "
        "ResourceInUseException.",
        f"{_API_REFERENCE}: CreateTable, DescribeTable (TableStatus), DeleteTable (ResourceInUseException); "
        f"{_DEVELOPER_GUIDE}: Working with tables, Tagging resources",
        {"seconds": 10.0, "per_index_seconds": 10.0},
        _install_creating,
    ),
    Behaviour(
        "table_updating",
        "UpdateTable and UpdateTimeToLive put the table in UPDATING for a while (TimeToLiveStatus ENABLING or "
        "DISABLING); another change meanwhile raises ResourceInUseException, and a second TTL change within an "
        "hour is refused with ValidationException.",
        f"{_API_REFERENCE}: UpdateTable, UpdateTimeToLive; {_DEVELOPER_GUIDE}: Time to Live (TTL)",
        {"seconds": 10.0, "ttl_cooldown_seconds": 3600.0},
        _install_updating,
    ),
    Behaviour(
        "table_deleting",
        "DeleteTable leaves the table DELETING for several seconds before it disappears (then "
        "ResourceNotFoundException); a repeated DeleteTable answers DELETING, a CreateTable of the name raises "
        "ResourceInUseException meanwhile.",
        f"{_API_REFERENCE}: DeleteTable",
        {"seconds": 8.0},
        _install_deleting,
    ),
)
