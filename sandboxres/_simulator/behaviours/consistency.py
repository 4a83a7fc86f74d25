"""Simulated behaviours: consistency (DynamoDB's eventually consistent reads).

Before a write goes upstream, the item's state is read there (a consistent GetItem; the key schema from a cached
DescribeTable) and remembered with the write's time. An eventually consistent read (GetItem, Query, Scan,
BatchGetItem without ``ConsistentRead``, and every index read) that comes within the lag of a write sees, in place
of the item, its state before the write: dropped if it did not exist, the old item otherwise. A Query or Scan
does not bring back an item deleted within the lag (it only hides and replaces the items the upstream returns).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandboxres._simulator.behaviours.base import Behaviour, Context
from sandboxres._simulator.behaviours.dynamodb_state import TableId, Upstream, When, ok_json, region_of, tables_of
from sandboxres._simulator.faults import Fault, Trigger
from sandboxres._simulator.messages import ProxyRequest, Reply, ResetType
from sandboxres._simulator.rules import Rule

WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
READ_OPERATIONS = ("GetItem", "Query", "Scan", "BatchGetItem")
Item = dict[str, Any]


@dataclass(frozen=True)
class Schema:
    """A table's key attributes, and each index's."""

    key: tuple[str, ...]
    indexes: Mapping[str, tuple[str, ...]]

    def key_of(self, item: Mapping[str, Any]) -> str | None:
        if not all(name in item for name in self.key):
            return None
        return json.dumps({name: item[name] for name in self.key}, sort_keys=True)


@dataclass(frozen=True)
class Write:
    at: float
    before: Item | None  # the item before the write (None: it did not exist)


def _key_names(key_schema: Any) -> tuple[str, ...]:
    return tuple(entry["AttributeName"] for entry in key_schema or [] if isinstance(entry, dict))


def projected(item: Item, params: Mapping[str, Any]) -> Item:
    """``item`` cut to the top-level attributes a read's ``ProjectionExpression`` / ``AttributesToGet`` asks."""
    names: set[str] | None = None
    if isinstance(params.get("AttributesToGet"), list):
        names = set(params["AttributesToGet"])
    elif isinstance(params.get("ProjectionExpression"), str):
        aliases = params.get("ExpressionAttributeNames") or {}
        names = set()
        for path in params["ProjectionExpression"].split(","):
            top = path.strip().split(".", 1)[0].split("[", 1)[0]
            names.add(aliases.get(top, top))
    return dict(item) if names is None else {k: v for k, v in item.items() if k in names}


class Items:
    """The writes of the last moments, per table and key, and the tables' key schemas."""

    def __init__(self, upstream: Upstream, lag: float, index_lag: float, probability: float, rng: random.Random):
        self.upstream = upstream
        self.lag = lag
        self.index_lag = index_lag
        self.probability = probability
        self.rng = rng
        self._lock = threading.Lock()
        self._schemas: dict[TableId, Schema] = {}
        self._writes: dict[TableId, dict[str, list[Write]]] = {}

    # -- writes --------------------------------------------------------------------------------------------

    def known_schema(self, table: TableId) -> Schema | None:
        with self._lock:
            return self._schemas.get(table)

    def schema(self, table: TableId, like: ProxyRequest, refresh: bool = False) -> Schema | None:
        with self._lock:
            known = self._schemas.get(table)
        if known is not None and not refresh:
            return known
        described = self.upstream.call("DescribeTable", {"TableName": table[1]}, like)
        description = described.get("Table") if described else None
        if not isinstance(description, dict):
            return None
        indexes = {
            index["IndexName"]: _key_names(index.get("KeySchema"))
            for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
            for index in description.get(kind) or []
            if isinstance(index, dict) and "IndexName" in index
        }
        schema = Schema(_key_names(description.get("KeySchema")), indexes)
        with self._lock:
            self._schemas[table] = schema
        return schema

    def written_keys(self, request: ProxyRequest) -> list[tuple[str, Item]]:
        """(table name, key or whole item) of every item a write request changes."""
        params = request.params
        if request.operation in ("PutItem", "UpdateItem", "DeleteItem"):
            item = params.get("Item") if request.operation == "PutItem" else params.get("Key")
            name = params.get("TableName")
            return [(name, item)] if isinstance(name, str) and isinstance(item, dict) else []
        found: list[tuple[str, Item]] = []
        if request.operation == "BatchWriteItem":
            for name, entries in (params.get("RequestItems") or {}).items():
                for entry in entries if isinstance(entries, list) else []:
                    put, delete = (entry.get("PutRequest") or {}), (entry.get("DeleteRequest") or {})
                    item = put.get("Item") or delete.get("Key")
                    if isinstance(item, dict):
                        found.append((name, item))
        for entry in params.get("TransactItems") or []:
            for kind, action in entry.items() if isinstance(entry, dict) else []:
                item = action.get("Item") or action.get("Key") if isinstance(action, dict) else None
                if kind != "ConditionCheck" and isinstance(item, dict) and isinstance(action.get("TableName"), str):
                    found.append((action["TableName"], item))
        return found

    def before_write(self, request: ProxyRequest) -> None:
        """Remember the state of every item the write will change (read upstream before it is forwarded)."""
        region = region_of(request)
        now = time.monotonic()
        for name, item in self.written_keys(request):
            table = (region, name)
            schema = self.schema(table, request)
            if schema is not None and schema.key_of(item) is None:
                schema = self.schema(table, request, refresh=True)
            key = schema.key_of(item) if schema is not None else None
            if schema is None or key is None:
                continue
            old = self.upstream.call(
                "GetItem", {"TableName": name, "Key": json.loads(key), "ConsistentRead": True}, request
            )
            if old is None:
                continue
            before = old.get("Item") if isinstance(old.get("Item"), dict) else None
            with self._lock:
                self._writes.setdefault(table, {}).setdefault(key, []).append(Write(now, before))
        self._forget_old(now)

    def _forget_old(self, now: float) -> None:
        horizon = now - max(self.lag, self.index_lag)
        with self._lock:
            for table in list(self._writes):
                keys = self._writes[table]
                for key in list(keys):
                    keys[key] = [write for write in keys[key] if write.at > horizon]
                    if not keys[key]:
                        del keys[key]
                if not keys:
                    del self._writes[table]

    # -- reads ---------------------------------------------------------------------------------------------

    def pending(self, table: TableId) -> bool:
        horizon = time.monotonic() - max(self.lag, self.index_lag)
        with self._lock:
            return any(write.at > horizon for writes in self._writes.get(table, {}).values() for write in writes)

    def stale(self, table: TableId, key: str | None, lag: float) -> tuple[bool, Item | None]:
        """(True, the item as a read sees it) when a write to it is not visible yet, else (False, None)."""
        if key is None:
            return False, None
        horizon = time.monotonic() - lag
        with self._lock:
            for write in self._writes.get(table, {}).get(key, []):
                if write.at > horizon:  # the first write not visible yet: the read sees the state before it
                    return True, write.before
        return False, None

    def draw(self) -> bool:
        """Whether this read is served stale (``probability``)."""
        with self._lock:
            return self.rng.random() < self.probability


def eventual(request: ProxyRequest) -> bool:
    params = request.params
    if request.operation == "BatchGetItem":
        return any(
            isinstance(entry, dict) and not entry.get("ConsistentRead")
            for entry in (params.get("RequestItems") or {}).values()
        )
    return bool(params.get("IndexName")) or not params.get("ConsistentRead")


class WriteObserver(Fault):
    """Non-terminal: note the state before a write, then let the request go on (to other rules and upstream)."""

    terminal = False

    def __init__(self, items: Items) -> None:
        self.items = items

    @property
    def label(self) -> str:
        return "write noted"

    def before(self, request: ProxyRequest, trigger: Trigger) -> None:
        self.items.before_write(request)
        return None


class StaleRead(Fault):
    """Forward an eventually consistent read, then show the items whose last writes are not visible yet as they
    were before those writes."""

    def __init__(self, items: Items) -> None:
        self.items = items

    @property
    def label(self) -> str:
        return "stale read"

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        document = ok_json(reply)
        if document is None or not self.items.draw():
            return reply
        region = region_of(request)
        params = request.params
        if request.operation == "BatchGetItem":
            changed = self._batch(region, params, document)
        elif request.operation == "GetItem":
            changed = self._get(region, params, document)
        else:
            changed = self._listed(region, params, document)
        return reply.with_json(document) if changed else reply

    def _get(self, region: str, params: Mapping[str, Any], document: dict[str, Any]) -> bool:
        table = (region, str(params.get("TableName")))
        key = json.dumps(params.get("Key") or {}, sort_keys=True)
        is_stale, before = self.items.stale(table, key, self.items.lag)
        if not is_stale:
            return False
        if before is None:
            document.pop("Item", None)
        else:
            document["Item"] = projected(before, params)
        return True

    def _listed(self, region: str, params: Mapping[str, Any], document: dict[str, Any]) -> bool:
        table = (region, str(params.get("TableName")))
        schema = self.items.known_schema(table)
        items = document.get("Items")
        if schema is None or not isinstance(items, list):
            return False
        index = params.get("IndexName")
        lag = self.items.index_lag if index else self.items.lag
        index_key = schema.indexes.get(index, ()) if isinstance(index, str) else ()
        searched = index_key or schema.key
        partition = searched[0] if params.get("KeyConditionExpression") or params.get("KeyConditions") else None
        shown: list[Item] = []
        changed = False
        for item in items:
            is_stale, before = self.items.stale(table, schema.key_of(item), lag)
            if not is_stale:
                shown.append(item)
                continue
            changed = True
            if before is None or not all(name in before for name in index_key):
                continue  # not there before the write (or not in the index then)
            if partition is not None and before.get(partition) != item.get(partition):
                continue  # the query's partition did not hold it before the write
            if index or "ProjectionExpression" in params or "AttributesToGet" in params:
                keep = set(item) | set(schema.key) | set(index_key)
                shown.append({name: value for name, value in before.items() if name in keep})
            else:
                shown.append(dict(before))
        if changed:
            document["Items"] = shown
            if "Count" in document:
                document["Count"] = len(shown)
        return changed

    def _batch(self, region: str, params: Mapping[str, Any], document: dict[str, Any]) -> bool:
        responses = document.setdefault("Responses", {})
        unprocessed = document.get("UnprocessedKeys") or {}
        changed = False
        for name, entry in (params.get("RequestItems") or {}).items():
            if not isinstance(entry, dict) or entry.get("ConsistentRead"):
                continue
            table = (region, name)
            schema = self.items.known_schema(table)
            if schema is None:
                continue
            skipped = {schema.key_of(key) for key in (unprocessed.get(name) or {}).get("Keys") or []}
            returned = {schema.key_of(item): item for item in responses.get(name) or []}
            shown: list[Item] = []
            for key_item in entry.get("Keys") or []:
                key = schema.key_of(key_item)
                if key in skipped:
                    continue
                is_stale, before = self.items.stale(table, key, self.items.lag)
                if not is_stale:
                    if key in returned:
                        shown.append(returned[key])
                    continue
                changed = True
                if before is not None:
                    shown.append(projected(before, entry))
            if changed:
                responses[name] = shown
        return changed


def _install_eventual_reads(ctx: Context) -> list[Rule]:
    items = Items(
        Upstream(ctx.upstream_url),
        ctx.seconds("lag_seconds"),
        ctx.seconds("index_lag_seconds"),
        ctx.settings["probability"],
        ctx.rng("stale reads"),
    )

    def read_of_written(request: ProxyRequest) -> bool:
        if not eventual(request):
            return False
        return any(items.pending(table) for table in tables_of(request))

    return [
        When(WriteObserver(items), operations=WRITE_OPERATIONS),
        When(StaleRead(items), operations=READ_OPERATIONS, when=read_of_written),
    ]


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        "eventual_reads",
        "GetItem, Query, Scan and BatchGetItem are eventually consistent unless ConsistentRead is true: a read "
        "right after a write can return the item as it was (usually for well under a second). Reads of a "
        "secondary index are never strongly consistent and lag the table further.",
        "Amazon DynamoDB Developer Guide: Read consistency; Using Global Secondary Indexes (Reading data from a "
        "Global Secondary Index, Data synchronization between tables and Global Secondary Indexes)",
        {"lag_seconds": 1.0, "index_lag_seconds": 2.0, "probability": 1.0},
        _install_eventual_reads,
    ),
)
