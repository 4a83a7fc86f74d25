"""The lease table's plans: make sure it exists, read it, and lease, register, renew, release and forget records
with conditional writes.

Every write carries a condition on what its writer knows: the ``version`` it read (taking a lease) or the
``token`` of its own lease (renewing, releasing, forgetting). The driver retries a write whose answer was lost
(a reset, a 5xx, a throttle) and the retry may then meet its own earlier effect as a failed condition
(``ConditionalCheckFailedException``). A failed condition is therefore never taken at its word: the record is
read back (consistently) and the token decides whether the earlier attempt landed. Nothing is retried blindly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code
from sandboxres._engine.plans import Progress
from sandboxres._engine.steps import Call, Plan, RetryPolicy
from sandboxres._kinds.table.plans import TableFacts, create_table
from sandboxres._kinds.table.spec import TableSpec
from sandboxres._leases.records import BRIEF, IDLE, KEY, LEASE_TABLE, LEASED, SHAPE, LeaseRecord

_READ = RetryPolicy(deadline=60.0)
_WRITE = RetryPolicy(deadline=60.0)
FAILED_CONDITION = "ConditionalCheckFailedException"
TABLE_TIMEOUT = 120.0  # the lease table's readiness deadline (AWS: seconds)


class LeaseConflict(RuntimeError):
    """A record to register already exists under another lease (two creations of one name: never expected)."""


def _failed_condition(exc: ClientError) -> bool:
    return error_code(exc) == FAILED_CONDITION


def lease_table_spec() -> TableSpec:
    return TableSpec(label="pool_leases", timeout=TABLE_TIMEOUT, keep=None, hash_key=SHAPE, range_key=KEY)


def ensure_lease_table(tags: Mapping[str, str], region: str | None) -> Plan[bool]:
    """Create the lease table unless it exists, and wait until it is ACTIVE (another run creating it at the same
    time is fine: its create wins, this one waits). True when this plan created it."""
    try:
        described = yield Call("dynamodb", "describe_table", {"TableName": LEASE_TABLE}, _READ)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        described = None
    if described is not None and described["Table"].get("TableStatus") == "ACTIVE":
        return False
    progress = Progress()
    yield from create_table(lease_table_spec(), TableFacts(LEASE_TABLE), tags, region, progress)
    return described is None


def read_record(record: LeaseRecord) -> Plan[LeaseRecord | None]:
    """``record`` as it is now (a consistent read), or None."""
    params = {"TableName": LEASE_TABLE, "Key": record.item_key(), "ConsistentRead": True}
    response = yield Call("dynamodb", "get_item", params, _READ)
    item = response.get("Item")
    return LeaseRecord.from_item(item) if item else None


def read_records(shape: str | None = None, brief: bool = False) -> Plan[list[LeaseRecord]]:
    """Every record (of ``shape``: one Query of its partition, else a Scan), every page, consistently read.
    ``brief``: without facts and baseline (a tenth of the read capacity: enough to choose one to lease)."""
    params: dict[str, Any] = {"TableName": LEASE_TABLE, "ConsistentRead": True}
    names: dict[str, str] = {}
    if shape is not None:
        names["#shape"] = SHAPE
        params.update(KeyConditionExpression="#shape = :shape", ExpressionAttributeValues={":shape": {"S": shape}})
    if brief:
        names.update({f"#b{i}": name for i, name in enumerate(BRIEF)})
        params["ProjectionExpression"] = ", ".join(f"#b{i}" for i in range(len(BRIEF)))
    if names:
        params["ExpressionAttributeNames"] = names
    operation = "query" if shape is not None else "scan"
    found: list[LeaseRecord] = []
    while True:
        page = yield Call("dynamodb", operation, params, _READ)
        found += [LeaseRecord.from_item(item) for item in page.get("Items", [])]
        if not page.get("LastEvaluatedKey"):
            return found
        params = {**params, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def _update(record: LeaseRecord, changes: Mapping[str, Any], condition: str, values: Mapping[str, Any]) -> Call:
    """UpdateItem: SET each of ``changes`` (attribute-value dicts), under ``condition`` (``#name``/``:value``
    placeholders: ``#version``, ``#token``, ``#state`` are defined)."""
    names = {f"#a{i}": name for i, name in enumerate(changes)}
    names.update({"#version": "version", "#token": "token", "#state": "state"})
    sets = ", ".join(f"#a{i} = :a{i}" for i in range(len(changes)))
    params = {
        "TableName": LEASE_TABLE,
        "Key": record.item_key(),
        "UpdateExpression": f"SET {sets}",
        "ReturnValues": "ALL_NEW",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {k: v for k, v in names.items() if k in f"{sets} {condition}"},
        "ExpressionAttributeValues": {**{f":a{i}": v for i, v in enumerate(changes.values())}, **values},
    }
    return Call("dynamodb", "update_item", params, _WRITE)


def _changes(record: LeaseRecord, *fields: str) -> dict[str, Any]:
    item = record.to_item()
    return {name: item[name] for name in fields}


def take_lease(record: LeaseRecord, holder: str, token: str, now: float, seconds: float) -> Plan[LeaseRecord | None]:
    """Lease ``record`` as read (idle, or its lease expired; a brief read will do) for ``holder``: the whole record
    now leased by this ``token``, or None when another run changed it first."""
    leased = dataclasses.replace(
        record,
        state=LEASED,
        holder=holder,
        token=token,
        expires=now + seconds,
        clean=record.clean and record.state == IDLE,  # a lease taken over: its holder never recycled it
        version=record.version + 1,
    )
    changes = _changes(leased, "state", "holder", "token", "expires", "clean", "version")
    try:
        response = yield _update(record, changes, "#version = :seen", {":seen": {"N": str(record.version)}})
    except ClientError as exc:
        if not _failed_condition(exc):
            raise
        now_there = yield from read_record(record)
        if now_there is None or now_there.token != token or now_there.state != LEASED:
            return None
        return now_there  # an earlier attempt of this very write landed
    return LeaseRecord.from_item(response["Attributes"])


def register(record: LeaseRecord) -> Plan[None]:
    """Record a resource this run just created, leased by it (``record.token``)."""
    params = {
        "TableName": LEASE_TABLE,
        "Item": record.to_item(),
        "ConditionExpression": "attribute_not_exists(#key)",
        "ExpressionAttributeNames": {"#key": KEY},
    }
    try:
        yield Call("dynamodb", "put_item", params, _WRITE)
    except ClientError as exc:
        if not _failed_condition(exc):
            raise
        now_there = yield from read_record(record)
        if now_there is None or now_there.token != record.token:
            raise LeaseConflict(f"{record.key} is already recorded under another lease") from exc


def _held(record: LeaseRecord) -> tuple[str, dict[str, Any]]:
    """The condition (and its values) of a write only the lease's holder may make: leased, by this token."""
    return "#token = :token AND #state = :leased", {":token": {"S": record.token}, ":leased": {"S": LEASED}}


def renew(record: LeaseRecord, now: float, seconds: float) -> Plan[bool]:
    """Push the lease's expiry forward; False when the lease is no longer ours (it expired and was taken)."""
    changes = {"expires": {"N": f"{now + seconds:.3f}"}}
    try:
        yield _update(record, changes, *_held(record))
    except ClientError as exc:
        if not _failed_condition(exc):
            raise
        return False  # a renewal changes no token: a lost answer's retry cannot fail the condition
    record.expires = now + seconds
    return True


def release(record: LeaseRecord, now: float, clean: bool) -> Plan[bool]:
    """Give the resource back to the warm pool: idle since ``now``, with ``record``'s facts and baseline; False
    when the lease was lost before (the resource is another run's now: leave it alone)."""
    idle = dataclasses.replace(
        record, state=IDLE, idle_since=now, clean=clean, version=record.version + 1, released=record.token
    )
    changes = _changes(idle, "state", "idle_since", "clean", "facts", "baseline", "version", "released")
    try:
        yield _update(record, changes, *_held(record))
    except ClientError as exc:
        if not _failed_condition(exc):
            raise
        now_there = yield from read_record(record)
        # A takeover does not touch "released": only another lease's release (after ours) could hide ours
        return now_there is not None and now_there.released == record.token
    return True


def forget(record: LeaseRecord) -> Plan[bool]:
    """Remove the record of a resource this lease deleted; False when the lease was lost before."""
    params = {
        "TableName": LEASE_TABLE,
        "Key": record.item_key(),
        "ConditionExpression": "#token = :token",
        "ExpressionAttributeNames": {"#token": "token"},
        "ExpressionAttributeValues": {":token": {"S": record.token}},
    }
    try:
        yield Call("dynamodb", "delete_item", params, _WRITE)
    except ClientError as exc:
        if not _failed_condition(exc):
            raise
        now_there = yield from read_record(record)
        return now_there is None
    return True
