"""Recycling a DynamoDB table between tests: read its baseline after creation; later empty it and prove it clean.

A recycled table must show its next holder nothing of its previous one. :func:`recycle_table` checks, in order:

1. ``stream=``: never recycled (stream records stay readable for 24 h through the stream ARN), before any call;
2. ``DescribeTable``: ACTIVE, every global index ACTIVE, and the definition (keys, attributes, billing and
   capacity, indexes, stream, deletion protection, class, encryption, replicas) the baseline's;
3. ``DescribeTimeToLive``: as the spec asks (a TTL change takes up to an hour and blocks the next one);
4. ``ListTagsOfResource``, every page: exactly the baseline's tags;
5. a consistent ``Scan`` of the key attributes, every page; beyond ``limits.max_deletions`` items, discard;
6. ``BatchWriteItem`` deletions in batches of 25, unprocessed ones retried a bounded number of times;
7. proof: consistent ``Scan(Limit=1)`` of the table and of each local index empty; each global index (eventually
   consistent only) polled with ``Scan(Limit=1)`` until empty within ``limits.settle_seconds``.

Anything changed or not proven gone is a reason to discard the table (returned); a failed call raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandboxres._engine.errors import ReadinessTimeoutError
from sandboxres._engine.plans import label_of
from sandboxres._engine.steps import Call, NotReady, Plan, Poll, RetryPolicy
from sandboxres._kinds.base import RecycleLimits, tag_dict
from sandboxres._kinds.table.plans import TableFacts
from sandboxres._kinds.table.spec import TableSpec

_READ = RetryPolicy(deadline=60.0)
_WRITE = RetryPolicy(deadline=60.0)
BATCH_SIZE = 25  # BatchWriteItem takes at most 25 requests
UNPROCESSED_ROUNDS = 5  # how many times deletions BatchWriteItem left unprocessed are sent again


def _capacity(throughput: Mapping[str, Any] | None) -> list[int]:
    throughput = throughput or {}
    return [int(throughput.get("ReadCapacityUnits", 0)), int(throughput.get("WriteCapacityUnits", 0))]


def _projection(projection: Mapping[str, Any] | None) -> dict[str, Any]:
    projection = projection or {}
    return {
        "type": projection.get("ProjectionType"),
        "attributes": sorted(projection.get("NonKeyAttributes", [])),
    }


def _indexes(indexes: Any, provisioned: bool) -> list[dict[str, Any]]:
    found = []
    for index in indexes or []:
        entry = {
            "name": index.get("IndexName"),
            "keys": index.get("KeySchema"),
            "projection": _projection(index.get("Projection")),
            "on-demand throughput": index.get("OnDemandThroughput"),
        }
        if provisioned:
            entry["capacity"] = _capacity(index.get("ProvisionedThroughput"))
        found.append(entry)
    return sorted(found, key=lambda e: str(e["name"]))


def definition(table: Mapping[str, Any]) -> dict[str, Any]:
    """What a holder could change in a table's DescribeTable answer, without the counters DynamoDB updates by
    itself (item count, size, warm throughput, capacity decreases of the day); plain lists and dicts, so that it
    survives a JSON round trip."""
    sse = table.get("SSEDescription") or {}
    stream = table.get("StreamSpecification") or {}
    return {
        "key schema": table.get("KeySchema"),
        "attribute definitions": sorted(
            [str(a.get("AttributeName")), str(a.get("AttributeType"))] for a in table.get("AttributeDefinitions", [])
        ),
        "billing mode": (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
        "provisioned capacity": _capacity(table.get("ProvisionedThroughput")),
        "on-demand throughput": table.get("OnDemandThroughput"),
        "global indexes": _indexes(table.get("GlobalSecondaryIndexes"), provisioned=True),
        "local indexes": _indexes(table.get("LocalSecondaryIndexes"), provisioned=False),
        # Disabling a stream leaves the old one readable for 24 h: a stream ever enabled changes LatestStreamArn.
        "stream": [bool(stream.get("StreamEnabled")), stream.get("StreamViewType"), table.get("LatestStreamArn")],
        "deletion protection": bool(table.get("DeletionProtectionEnabled", False)),
        "table class": (table.get("TableClassSummary") or {}).get("TableClass", "STANDARD"),
        "encryption": [sse.get("Status"), sse.get("SSEType"), sse.get("KMSMasterKeyArn")],
        "replicas": sorted(r.get("RegionName", "") for r in table.get("Replicas", [])),
    }


def _tags(arn: str) -> Plan[dict[str, str]]:
    """Every page of ListTagsOfResource (eventually consistent: a stale answer at worst discards)."""
    tags: dict[str, str] = {}
    params: dict[str, Any] = {"ResourceArn": arn}
    while True:
        page = yield Call("dynamodb", "list_tags_of_resource", params, _READ)
        tags.update(tag_dict(page.get("Tags")))
        if not page.get("NextToken"):
            return tags
        params = {"ResourceArn": arn, "NextToken": page["NextToken"]}


def table_baseline(facts: TableFacts) -> Plan[dict[str, Any]]:
    """The table's definition (DescribeTable) and tags (every page), read right after its creation."""
    described = yield Call("dynamodb", "describe_table", {"TableName": facts.name}, _READ)
    table = described["Table"]
    tags = yield from _tags(table["TableArn"])
    return {"definition": definition(table), "tags": tags}


def _state_problem(table: Mapping[str, Any], baseline: Mapping[str, Any]) -> str | None:
    """DescribeTable: an UpdateTable in progress (UPDATING, an index CREATING) or any change of the definition."""
    status = table.get("TableStatus", "UNKNOWN")
    if status != "ACTIVE":
        return f"the table is {status}, not ACTIVE"
    for index in table.get("GlobalSecondaryIndexes", []):
        if index.get("IndexStatus") != "ACTIVE":
            return f"its index {index.get('IndexName')} is {index.get('IndexStatus')}, not ACTIVE"
    now, then = definition(table), baseline["definition"]
    for what, value in now.items():
        if then.get(what) != value:
            return f"its {what} changed since its creation"
    return None


def _ttl_problem(spec: TableSpec, response: Mapping[str, Any]) -> str | None:
    """DescribeTimeToLive: enabled on ``spec.ttl_attribute`` when the spec asks for it, else disabled (a TTL
    change takes up to an hour and blocks any other meanwhile: a table whose TTL moved is not the one asked for)."""
    described = response.get("TimeToLiveDescription") or {}
    status = described.get("TimeToLiveStatus", "DISABLED")
    if spec.ttl_attribute:
        if status != "ENABLED" or described.get("AttributeName") != spec.ttl_attribute:
            return f"its time to live is {status} on {described.get('AttributeName')!r}, not {spec.ttl_attribute!r}"
    elif status != "DISABLED":
        return f"its time to live is {status}"
    return None


def _key_names(spec: TableSpec) -> list[str]:
    return [spec.hash_key, *([spec.range_key] if spec.range_key else [])]


def _keys_only(spec: TableSpec) -> dict[str, Any]:
    """Scan parameters projecting the key attributes only (names as placeholders: keys may be reserved words)."""
    names = {f"#k{n}": key for n, key in enumerate(_key_names(spec))}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}


def _item_keys(spec: TableSpec, name: str, limit: int) -> Plan[list[dict[str, Any]] | None]:
    """The key of every item (a consistent Scan, every page); None as soon as there are more than ``limit``."""
    keys: list[dict[str, Any]] = []
    base = {"TableName": name, "ConsistentRead": True, **_keys_only(spec)}
    params = dict(base)
    while True:
        page = yield Call("dynamodb", "scan", params, _READ)
        keys.extend({k: item[k] for k in _key_names(spec)} for item in page.get("Items", []))
        if len(keys) > limit:
            return None
        if not page.get("LastEvaluatedKey"):
            return keys
        params = {**base, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def _delete_items(name: str, keys: list[dict[str, Any]]) -> Plan[str | None]:
    """BatchWriteItem in batches of 25; deletions left unprocessed (throttling) are sent again a bounded number of
    times (plans never sleep), then the table is discarded."""
    for start in range(0, len(keys), BATCH_SIZE):
        requests = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + BATCH_SIZE]]
        for _ in range(UNPROCESSED_ROUNDS):
            response = yield Call("dynamodb", "batch_write_item", {"RequestItems": {name: requests}}, _WRITE)
            requests = (response.get("UnprocessedItems") or {}).get(name) or []
            if not requests:
                break
        else:
            return f"{len(requests)} deletions stayed unprocessed after {UNPROCESSED_ROUNDS} attempts"
    return None


def _empty_page(page: Mapping[str, Any]) -> bool:
    return not page.get("Items") and not page.get("LastEvaluatedKey")


def _index_empty(page: Mapping[str, Any]) -> None:
    if not _empty_page(page):
        raise NotReady("an item is visible")


def _proof(spec: TableSpec, name: str, limits: RecycleLimits) -> Plan[str | None]:
    """The table and its local indexes read empty (consistently); each global index, updated asynchronously and
    never read consistently, reads empty within ``limits.settle_seconds``."""
    params = {"TableName": name, "Limit": 1, "ConsistentRead": True, **_keys_only(spec)}
    page = yield Call("dynamodb", "scan", params, _READ)
    if not _empty_page(page):
        return "an item is still there after emptying (something still writes to it)"
    for index in spec.local_indexes:
        page = yield Call("dynamodb", "scan", {**params, "IndexName": index.name}, _READ)
        if not _empty_page(page):
            return f"an item is still visible in index {index.name}"
    for index in spec.global_indexes:
        eventual = {"TableName": name, "IndexName": index.name, "Limit": 1, **_keys_only(spec)}
        scan = Call("dynamodb", "scan", eventual, _READ)
        try:
            yield Poll(scan, _index_empty, label_of("table", name), limits.settle_seconds)
        except ReadinessTimeoutError:
            return f"an item is still visible in index {index.name}"
    return None


def recycle_table(
    spec: TableSpec, facts: TableFacts, baseline: Mapping[str, Any], limits: RecycleLimits
) -> Plan[str | None]:
    """Empty the table and prove it clean: None when it may be handed out again, else why to discard it."""
    if spec.stream:
        return "a table with a stream is never recycled: its stream keeps the previous holder's records for 24 h"
    name = facts.name
    described = yield Call("dynamodb", "describe_table", {"TableName": name}, _READ)
    table = described["Table"]
    problem = _state_problem(table, baseline)
    if problem:
        return problem
    ttl = yield Call("dynamodb", "describe_time_to_live", {"TableName": name}, _READ)
    problem = _ttl_problem(spec, ttl)
    if problem:
        return problem
    tags = yield from _tags(table["TableArn"])
    if tags != baseline["tags"]:
        return "its tags changed since its creation"
    keys = yield from _item_keys(spec, name, limits.max_deletions)
    if keys is None:
        return f"more than {limits.max_deletions} items: creating anew is cheaper"
    problem = yield from _delete_items(name, keys)
    if problem:
        return problem
    return (yield from _proof(spec, name, limits))
