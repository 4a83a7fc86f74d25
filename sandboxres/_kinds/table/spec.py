"""The options of a throw-away DynamoDB table, checked before any call, and the CreateTable request built
from them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandboxres._engine.errors import SpecError
from sandboxres._engine.naming import NameRules
from sandboxres._engine.plans import tag_list
from sandboxres._engine.validation import check_attr_name, check_keep, check_request, check_timeout
from sandboxres._kinds.base import Spec
from sandboxres._kinds.table.indexes import Index, check_indexes, projection

TABLE_PREFIX = "test_"
_TABLE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


def table_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid DynamoDB table name, or None when it is."""
    if not _TABLE_RE.match(name):
        return "must be 3-255 characters of A-Z a-z 0-9 _ . -"
    return None


TABLE_NAMES = NameRules("table", TABLE_PREFIX, "_", 255, table_name_problem)
ATTRIBUTE_TYPES = ("S", "N", "B")
STREAM_VIEWS = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
BILLING_MODES = ("PAY_PER_REQUEST", "PROVISIONED")
DEFAULT_TIMEOUT = 300.0
MAX_CAPACITY_UNITS = 40_000  # DynamoDB's default per-table quota of read (and of write) capacity units
MANAGED_TAG_PREFIX = "sandboxres:"
MAX_TABLE_TAGS = 50
_TABLE_TAG_RE = re.compile(r"[\w\s+\-=.:/]*")  # DynamoDB: letters, digits, spaces and + - = . _ : /


def check_user_tags(tags: object) -> None:
    """``create_args["Tags"]``: never one of the library's own tags (the sweeper and the delete-only-our-own
    check rely on them), and within DynamoDB's rules."""
    if not isinstance(tags, (list, tuple)):
        return  # the model check reports the type
    user = [t for t in tags if isinstance(t, Mapping)]
    for tag in user:
        key, value = tag.get("Key"), tag.get("Value", "")
        if not isinstance(key, str) or not isinstance(value, str):
            continue
        if key.startswith(MANAGED_TAG_PREFIX):
            raise SpecError(
                f"create_args Tags may not set {key!r}: the {MANAGED_TAG_PREFIX}* tags are set by the library, and "
                "the sweeper and the delete-only-our-own check rely on them"
            )
        if key.lower().startswith("aws:"):
            raise SpecError(f"create_args Tags may not set {key!r}: the aws: prefix is reserved by AWS")
        for what, text in (("key", key), ("value", value)):
            if not _TABLE_TAG_RE.fullmatch(text):
                raise SpecError(
                    f"create_args tag {what} {text!r} has characters DynamoDB refuses: use letters, digits, spaces "
                    "and + - = . _ : /"
                )
    keys = [t.get("Key") for t in user]
    if len(set(keys)) != len(keys):
        raise SpecError("create_args Tags names a key twice")
    if len(user) > MAX_TABLE_TAGS - 3:
        raise SpecError(
            f"create_args Tags: at most {MAX_TABLE_TAGS - 3} tags (a table has {MAX_TABLE_TAGS}, the library sets 3)"
        )


def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


@dataclass(frozen=True)
class TableSpec(Spec):
    kind: str = field(init=False, default="table")
    hash_key: str = "pk"
    range_key: str | None = None
    attribute_types: Mapping[str, str] = field(default_factory=dict)
    global_indexes: tuple[Index, ...] = ()
    local_indexes: tuple[Index, ...] = ()
    stream: str | None = None
    ttl_attribute: str | None = None
    billing_mode: str = "PAY_PER_REQUEST"
    capacity: tuple[int, int] = (1, 1)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def create_request(self, name: str, tags: Mapping[str, str]) -> dict[str, Any]:
        attrs = dict.fromkeys([self.hash_key, *([self.range_key] if self.range_key else [])], "S")
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": _key_schema(self.hash_key, self.range_key),
            "BillingMode": self.billing_mode,
            "Tags": tag_list(tags),
        }
        throughput = {"ReadCapacityUnits": self.capacity[0], "WriteCapacityUnits": self.capacity[1]}
        if self.billing_mode == "PROVISIONED":
            request["ProvisionedThroughput"] = throughput
        gsis = []
        for index in self.global_indexes:
            assert index.hash_key is not None
            attrs.setdefault(index.hash_key, "S")
            if index.range_key:
                attrs.setdefault(index.range_key, "S")
            gsi: dict[str, Any] = {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.hash_key, index.range_key),
                "Projection": projection(index),
            }
            if self.billing_mode == "PROVISIONED":
                gsi["ProvisionedThroughput"] = throughput
            gsis.append(gsi)
        lsis = []
        for index in self.local_indexes:
            assert index.range_key is not None
            attrs.setdefault(index.range_key, "S")
            lsis.append(
                {
                    "IndexName": index.name,
                    "KeySchema": _key_schema(self.hash_key, index.range_key),
                    "Projection": projection(index),
                }
            )
        if gsis:
            request["GlobalSecondaryIndexes"] = gsis
        if lsis:
            request["LocalSecondaryIndexes"] = lsis
        for attr in attrs:
            attrs[attr] = self.attribute_types.get(attr, "S")
        request["AttributeDefinitions"] = [{"AttributeName": a, "AttributeType": t} for a, t in attrs.items()]
        if self.stream:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": self.stream}
        extra = dict(self.extra)
        extra_tags = extra.pop("Tags", [])
        request["Tags"] = request["Tags"] + list(extra_tags)
        request.update(extra)
        return request


_TABLE_RESERVED = {
    "TableName",
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
}


def table_spec(
    label: str = "table",
    *,
    hash_key: str = "pk",
    range_key: str | None = None,
    attribute_types: Mapping[str, str] | None = None,
    global_indexes: Sequence[Index] = (),
    local_indexes: Sequence[Index] = (),
    stream: str | None = None,
    ttl_attribute: str | None = None,
    billing_mode: str = "PAY_PER_REQUEST",
    capacity: tuple[int, int] | None = None,
    create_args: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    keep: bool | None = None,
) -> TableSpec:
    """A throw-away DynamoDB table: ``with ephemeral_table("users") as t:`` gives a :class:`TableHandle`.

    The table is named ``test_<label>_<unique>``, tagged, created on demand (``PAY_PER_REQUEST``) and ready
    (``ACTIVE``, indexes, TTL and stream included) when the block starts; it is deleted when the block ends.
    Every option is checked here, before any call: bad input raises :class:`SpecError`.

    :param label: readable part of the name (letters and digits; anything else becomes ``_``).
    :param hash_key: partition key attribute.
    :param range_key: sort key attribute, if any.
    :param attribute_types: ``S`` (default), ``N`` or ``B`` per key attribute, e.g. ``{"ts": "N"}``.
    :param global_indexes: :class:`Index` objects with their own ``hash_key`` (and ``range_key``).
    :param local_indexes: :class:`Index` objects with a ``range_key``; the table needs a ``range_key``.
    :param stream: stream view type: ``NEW_IMAGE``, ``OLD_IMAGE``, ``NEW_AND_OLD_IMAGES`` or ``KEYS_ONLY``.
    :param ttl_attribute: attribute holding the expiry time; TTL is enabled before the block starts.
    :param billing_mode: ``PAY_PER_REQUEST`` or ``PROVISIONED`` (which bills while the table exists).
    :param capacity: ``(read_units, write_units)`` for ``PROVISIONED`` tables and their indexes (default
        ``(1, 1)``; each 1-40000, DynamoDB's default per-table quota). Refused with ``PAY_PER_REQUEST``.
    :param create_args: further CreateTable parameters (``SSESpecification``, ``TableClass``, ``Tags``...),
        checked against the SDK's model (types, enums, ranges); the name, key schema, attribute definitions,
        billing, indexes and stream come from the options above, and ``Tags`` may not use the library's own
        ``sandboxres:`` keys.
    :param timeout: readiness deadline in seconds (default ``SANDBOXRES_TABLE_TIMEOUT``, else 300).
    :param keep: keep the table after the block (default ``SANDBOXRES_KEEP``, else delete it).
    """
    TABLE_NAMES.make(label)  # label check
    check_attr_name("hash_key", hash_key)
    if range_key is not None:
        check_attr_name("range_key", range_key)
        if range_key == hash_key:
            raise SpecError(f"range_key must differ from hash_key, both are {hash_key!r}")
    types = dict(attribute_types or {})
    for attr, typ in types.items():
        if typ not in ATTRIBUTE_TYPES:
            raise SpecError(f"attribute_types[{attr!r}] must be one of S, N, B, got {typ!r}")
    if billing_mode not in BILLING_MODES:
        raise SpecError(f"billing_mode must be PAY_PER_REQUEST or PROVISIONED, got {billing_mode!r}")
    if capacity is not None and billing_mode != "PROVISIONED":
        raise SpecError(
            f"capacity={capacity!r} applies to billing_mode='PROVISIONED' only; a {billing_mode} table has no "
            "provisioned capacity (drop capacity=, or set billing_mode='PROVISIONED')"
        )
    capacity = (1, 1) if capacity is None else capacity
    if (
        not isinstance(capacity, (tuple, list))
        or len(capacity) != 2
        or not all(isinstance(c, int) and not isinstance(c, bool) and 1 <= c <= MAX_CAPACITY_UNITS for c in capacity)
    ):
        raise SpecError(
            f"capacity must be (read_units, write_units), each 1-{MAX_CAPACITY_UNITS} (DynamoDB's default "
            f"per-table quota), got {capacity!r}"
        )
    if stream is not None and stream not in STREAM_VIEWS:
        raise SpecError(f"stream must be one of {', '.join(STREAM_VIEWS)}, got {stream!r}")
    if ttl_attribute is not None:
        check_attr_name("ttl_attribute", ttl_attribute)
    gsis, lsis = check_indexes(global_indexes, local_indexes, hash_key, range_key)
    if create_args is not None and not isinstance(create_args, Mapping):
        raise SpecError(f"create_args must be a mapping of CreateTable parameters, got {type(create_args).__name__}")
    extra = dict(create_args or {})
    clash = _TABLE_RESERVED & set(extra)
    if clash:
        raise SpecError(f"create_args may not set {', '.join(sorted(clash))}: use the named parameters")
    if "Tags" in extra:
        check_user_tags(extra["Tags"])
    spec = TableSpec(
        label=label,
        timeout=check_timeout("table", timeout, DEFAULT_TIMEOUT),
        keep=check_keep(keep),
        hash_key=hash_key,
        range_key=range_key,
        attribute_types=types,
        global_indexes=gsis,
        local_indexes=lsis,
        stream=stream,
        ttl_attribute=ttl_attribute,
        billing_mode=billing_mode,
        capacity=(capacity[0], capacity[1]),
        extra=extra,
    )
    request = spec.create_request("test_check_0000000000000000", {})
    check_request("dynamodb", "CreateTable", request)
    unknown = set(types) - {a["AttributeName"] for a in request["AttributeDefinitions"]}
    if unknown:
        raise SpecError(f"attribute_types names attributes that are not keys: {', '.join(sorted(unknown))}")
    return spec
