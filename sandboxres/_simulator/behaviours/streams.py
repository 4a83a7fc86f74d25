"""Simulated behaviours: streams (DynamoDB Streams records arrive late).

Every write notes the time of its answer on its tables. A GetRecords on a stream whose table was written less
than ``seconds`` ago is answered with no records and the same ShardIterator, without reaching the upstream (whose
iterators advance on a call): nothing is skipped, the records come with a later call. One iterator is held back at
most ``seconds``, so a table written without pause still delivers.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from sandboxres._simulator.behaviours.base import Behaviour, Context
from sandboxres._simulator.behaviours.dynamodb_state import (
    TableId,
    When,
    json_reply,
    ok_json,
    table_in_arn,
    tables_of,
)
from sandboxres._simulator.faults import Fault, Trigger
from sandboxres._simulator.messages import Action, ProxyRequest, Reply, ResetType
from sandboxres._simulator.rules import Rule

WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
_REMEMBERED_ITERATORS = 10_000


class StreamClock:
    """When each table was last written, which table each shard iterator reads, how long each was held."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._written: dict[TableId, float] = {}
        self._iterators: OrderedDict[str, TableId] = OrderedDict()
        self._held_since: OrderedDict[str, float] = OrderedDict()

    def written(self, tables: list[TableId]) -> None:
        now = time.monotonic()
        with self._lock:
            for table in tables:
                self._written[table] = now
            for table in [t for t, at in self._written.items() if now - at >= self.seconds]:
                del self._written[table]

    def learn(self, iterator: object, table: TableId | None) -> None:
        if not isinstance(iterator, str) or table is None:
            return
        with self._lock:
            self._iterators[iterator] = table
            while len(self._iterators) > _REMEMBERED_ITERATORS:
                self._iterators.popitem(last=False)

    def table_of(self, iterator: str) -> TableId | None:
        with self._lock:
            return self._iterators.get(iterator) or table_in_arn(iterator)

    def hold(self, iterator: str) -> bool:
        """Whether a GetRecords with this iterator comes too early (and is answered empty)."""
        table = self.table_of(iterator)
        now = time.monotonic()
        with self._lock:
            written = self._written.get(table) if table is not None else None
            if written is None or now - written >= self.seconds:
                self._held_since.pop(iterator, None)
                return False
            since = self._held_since.setdefault(iterator, now)
            while len(self._held_since) > _REMEMBERED_ITERATORS:
                self._held_since.popitem(last=False)
            if now - since >= self.seconds:
                del self._held_since[iterator]
                return False
            return True


class WriteTime(Fault):
    """Non-terminal: note the time of a write on its tables."""

    terminal = False

    def __init__(self, clock: StreamClock) -> None:
        self.clock = clock

    @property
    def label(self) -> str:
        return "write time noted"

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        # From the write's answer, as AWS's delay runs from the write's commit (a slow write must not use it up)
        if 200 <= reply.status < 300:
            self.clock.written(tables_of(request))
        return reply


class ShardIterators(Fault):
    """Forward GetShardIterator, then remember which table the iterator reads."""

    def __init__(self, clock: StreamClock) -> None:
        self.clock = clock

    @property
    def label(self) -> str:
        return "shard iterator noted"

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        document = ok_json(reply)
        if document is not None:
            self.clock.learn(document.get("ShardIterator"), table_in_arn(request.resource or ""))
        return reply


class LateRecords(Fault):
    """GetRecords: empty (same iterator back) while the table's last write is too recent; else forwarded."""

    def __init__(self, clock: StreamClock) -> None:
        self.clock = clock

    @property
    def label(self) -> str:
        return "records not yet"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        iterator = request.params.get("ShardIterator")
        if isinstance(iterator, str) and self.clock.hold(iterator):
            return json_reply({"Records": [], "NextShardIterator": iterator})
        return None

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        document = ok_json(reply)
        iterator = request.params.get("ShardIterator")
        if document is not None and isinstance(iterator, str):
            self.clock.learn(document.get("NextShardIterator"), self.clock.table_of(iterator))
        return reply


def _install_stream_delay(ctx: Context) -> list[Rule]:
    clock = StreamClock(ctx.seconds("seconds"))
    return [
        When(WriteTime(clock), operations=WRITE_OPERATIONS),
        When(ShardIterators(clock), service="dynamodbstreams", operations="GetShardIterator"),
        When(LateRecords(clock), service="dynamodbstreams", operations="GetRecords"),
    ]


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        "stream_delay",
        "A write's stream record is not readable at once: GetRecords returns it after a short delay (typically "
        "under a second), meanwhile an empty Records list with a NextShardIterator to call again.",
        "Amazon DynamoDB Developer Guide: Change data capture for DynamoDB Streams (Reading and processing a "
        "stream); Amazon DynamoDB Streams API Reference: GetRecords",
        {"seconds": 1.0},
        _install_stream_delay,
    ),
)
