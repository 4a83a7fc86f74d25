"""``table.put_items``: plain Python items written with BatchWriteItem, 25 at a time, unprocessed items sent again.

Items are given as the ``Table`` resource takes them (``{"pk": "u1", "n": 3, "tags": {"a", "b"}}``) and
serialised here to DynamoDB's typed attribute values with boto3's rules (``boto3.dynamodb.types.TypeSerializer``,
which this layer may not import: the tests check that both agree): None, bool, int and Decimal (never float),
str, bytes, sets of numbers, strings or bytes, lists and tuples, mappings. Anything else raises SpecError before
any call.

BatchWriteItem may leave items unprocessed (``UnprocessedItems``: throttled, or over the partition's capacity); they
are sent again with exponential backoff, as AWS asks, until none is left or the deadline passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from decimal import Decimal
from typing import Any

from sandboxres._engine.errors import SpecError
from sandboxres._engine.helpers import EntryOutcome, chunks, helper_deadline, send_batch
from sandboxres._engine.plans import label_of
from sandboxres._engine.steps import Plan
from sandboxres._engine.wiring import HandleContext

BATCH_WRITE_MAX = 25  # items per BatchWriteItem


def attribute_value(value: Any, where: str = "value") -> dict[str, Any]:
    """``value`` as a DynamoDB AttributeValue (boto3's TypeSerializer rules); SpecError naming ``where``."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, Decimal)):
        return {"N": _number(value, where)}
    if isinstance(value, float):
        raise SpecError(f"{where} is a float ({value!r}): DynamoDB numbers are given as int or Decimal")
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    if isinstance(value, Set):
        return _set(value, where)
    if isinstance(value, Mapping):
        return {"M": {_key(k, where): attribute_value(v, f"{where}[{k!r}]") for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [attribute_value(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    raise SpecError(f"{where} is a {type(value).__name__}, which DynamoDB cannot store: {value!r}")


def _number(value: int | Decimal, where: str) -> str:
    if isinstance(value, Decimal) and not value.is_finite():
        raise SpecError(f"{where} is {value}: DynamoDB numbers are finite")
    return str(value)


def _set(value: Set[Any], where: str) -> dict[str, Any]:
    members = list(value)
    if not members:
        raise SpecError(f"{where} is an empty set: DynamoDB sets hold at least one member")
    if all(isinstance(m, (int, Decimal)) and not isinstance(m, bool) for m in members):
        return {"NS": [_number(m, where) for m in members]}
    if all(isinstance(m, str) for m in members):
        return {"SS": members}
    if all(isinstance(m, (bytes, bytearray)) for m in members):
        return {"BS": [bytes(m) for m in members]}
    raise SpecError(f"{where} is a set mixing kinds of members: DynamoDB sets hold numbers, strings or bytes")


def _key(key: object, where: str) -> str:
    if not isinstance(key, str):
        raise SpecError(f"{where} has a key that is not a str: {key!r}")
    return key


def serialise_items(items: object) -> list[dict[str, Any]]:
    """``items`` (plain Python mappings) as typed DynamoDB items; SpecError for anything else."""
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise SpecError(f"items must be a list (or other iterable) of items (mappings), not {type(items).__name__}")
    typed = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or not item:
            raise SpecError(f"items[{i}] must be a non-empty mapping of attribute names to values, not {item!r}")
        typed.append({_key(k, f"items[{i}]"): attribute_value(v, f"items[{i}][{k!r}]") for k, v in item.items()})
    return typed


def _read_unprocessed(table: str) -> Any:
    def read(entries: Sequence[Mapping[str, Any]], response: Mapping[str, Any]) -> EntryOutcome[Any]:
        unprocessed = list((response.get("UnprocessedItems") or {}).get(table) or [])
        done = len(entries) - len(unprocessed)
        return EntryOutcome(
            retry=unprocessed, retry_codes={"UnprocessedItems"} if unprocessed else set(), results=[1] * done
        )

    return read


def put_items(context: HandleContext | None, table: str, items: object, timeout: float | None = None) -> Plan[int]:
    """Write ``items`` with BatchWriteItem, 25 at a time, unprocessed items sent again; how many were written."""
    typed = serialise_items(items)
    deadline = helper_deadline(context, timeout)
    resource = label_of("table", table)
    written = 0
    for chunk in chunks([{"PutRequest": {"Item": item}} for item in typed], BATCH_WRITE_MAX):
        done = yield from send_batch(
            "dynamodb",
            "batch_write_item",
            chunk,
            lambda requests: {"RequestItems": {table: list(requests)}},
            _read_unprocessed(table),
            resource,
            deadline,
        )
        written += len(done)
    return written
