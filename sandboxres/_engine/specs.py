"""Validated options of each resource kind, and the create requests built from them.

Every check happens when a spec is built, before any I/O: bad input raises :class:`SpecError` and creates
nothing.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandboxres._engine.durations import check_duration
from sandboxres._engine.errors import SpecError
from sandboxres._engine.naming import Kind, make_name
from sandboxres._runtime.target import timeout_from_env

ATTRIBUTE_TYPES = ("S", "N", "B")
STREAM_VIEWS = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
BILLING_MODES = ("PAY_PER_REQUEST", "PROVISIONED")
PROJECTIONS = ("ALL", "KEYS_ONLY")
DEFAULT_TIMEOUTS = {"table": 300.0, "bucket": 120.0, "queue": 120.0}
INDEX_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{3,255}")
MAX_CAPACITY_UNITS = 40_000  # DynamoDB's default per-table quota of read (and of write) capacity units
MANAGED_TAG_PREFIX = "sandboxres:"
MAX_TABLE_TAGS = 50
_TABLE_TAG_RE = re.compile(r"[\w\s+\-=.:/]*")  # DynamoDB: letters, digits, spaces and + - = . _ : /


@dataclass(frozen=True)
class Index:
    """A secondary index: ``Index("by_email", hash_key="email")``.

    ``projection`` is ``"ALL"``, ``"KEYS_ONLY"`` or a list of non-key attributes to include.
    For a local index ``hash_key`` must be the table's hash key (it defaults to it).
    """

    name: str
    hash_key: str | None = None
    range_key: str | None = None
    projection: str | Sequence[str] = "ALL"


def _check_attr_name(what: str, value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 255:
        raise SpecError(f"{what} must be a non-empty string of at most 255 characters, got {value!r}")
    return value


def _check_keep(keep: bool | None) -> bool | None:
    if keep is not None and not isinstance(keep, bool):
        raise SpecError(f"keep must be True, False or None, got {keep!r}")
    return keep


@functools.cache
def _input_shape(service: str, operation: str) -> Any:
    # The model files alone: a session would read the shared config (and fail on a missing AWS_PROFILE).
    from botocore.loaders import create_loader
    from botocore.model import ServiceModel

    model = ServiceModel(create_loader().load_service_model(service, "service-2"), service_name=service)
    return model.operation_model(operation).input_shape


def _check_request(service: str, operation: str, request: Mapping[str, Any]) -> None:
    """Validate a whole request (``create_args`` included) against the SDK's model, before any call.

    botocore checks names, types, required members and minimums; the enums, maximums and patterns of the same
    model are checked here too, so that a value AWS would refuse is refused on every tier alike.
    """
    from botocore.exceptions import ParamValidationError
    from botocore.validate import validate_parameters

    shape = _input_shape(service, operation)
    try:
        validate_parameters(dict(request), shape)
    except ParamValidationError as exc:
        raise SpecError(f"the {operation} request is not valid (check create_args): {exc}") from None
    problems = list(_model_problems(request, shape, ""))
    if problems:
        raise SpecError(f"the {operation} request is not valid (check create_args): {'; '.join(problems)}")


@functools.cache
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:  # pragma: no cover - a model pattern Python cannot read is left to the service
        return None


def _model_problems(value: Any, shape: Any, path: str) -> Iterator[str]:
    """What the model's enums, maximums and patterns say about ``value`` (whose types botocore has checked)."""
    meta, kind, where = shape.metadata, shape.type_name, path or "request"
    if kind == "structure":
        for key, item in value.items():
            if key in shape.members:
                yield from _model_problems(item, shape.members[key], f"{path}.{key}" if path else key)
    elif kind in ("list", "map"):
        if "max" in meta and len(value) > meta["max"]:
            yield f"{where} has {len(value)} entries, at most {meta['max']} are allowed"
        if kind == "list":
            for i, item in enumerate(value):
                yield from _model_problems(item, shape.member, f"{path}[{i}]")
        else:
            for key, item in value.items():
                yield from _model_problems(key, shape.key, f"{path} key {key!r}")
                yield from _model_problems(item, shape.value, f"{path}[{key!r}]")
    elif kind == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            yield f"{where}={value!r} is not one of {', '.join(shape.enum)}"
        if "max" in meta and len(value) > meta["max"]:
            yield f"{where} is {len(value)} characters long, at most {meta['max']} are allowed"
        pattern = _pattern(meta["pattern"]) if "pattern" in meta else None
        if pattern is not None and not pattern.fullmatch(value):
            yield f"{where}={value!r} does not match {meta['pattern']}"
    elif kind in ("integer", "long", "float", "double") and "max" in meta and value > meta["max"]:
        yield f"{where}={value!r} is above the maximum {meta['max']}"


def call_spec(factory: Callable[..., Any], public_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
    """``factory(*args, **kwargs)``, but a wrong argument is a TypeError that names the public function the caller
    used (``ephemeral_table()``) and suggests the parameter a typo was meant for."""
    signature = _signature(factory)
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        message = f"{public_name}() {exc}"
        for name in kwargs:
            if name not in signature.parameters:
                close = difflib.get_close_matches(name, list(signature.parameters), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                message = f"{public_name}() got an unexpected keyword argument {name!r}{hint}"
                break
        raise TypeError(message) from None
    return factory(*args, **kwargs)


@functools.cache
def _signature(factory: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(factory)


def _check_timeout(kind: str, timeout: float | None) -> float:
    if timeout is None:
        return timeout_from_env(kind, DEFAULT_TIMEOUTS[kind])
    return check_duration("timeout", timeout)


def _check_user_tags(tags: object) -> None:
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


def _projection(index: Index) -> dict[str, Any]:
    if isinstance(index.projection, str):
        if index.projection not in PROJECTIONS:
            raise SpecError(f"index {index.name!r}: projection must be 'ALL', 'KEYS_ONLY' or a list of attribute names")
        return {"ProjectionType": index.projection}
    attrs = [_check_attr_name(f"index {index.name!r} projected attribute", a) for a in index.projection]
    return {"ProjectionType": "INCLUDE", "NonKeyAttributes": attrs}


def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


@dataclass(frozen=True)
class Spec:
    """What every resource spec has: the kind, a label, its deadline and whether to keep it."""

    kind: Kind = field(init=False)
    label: str
    timeout: float
    keep: bool | None

    def new_name(self, scope: str = "") -> str:
        return make_name(self.kind, self.label, scope=scope)


@dataclass(frozen=True)
class TableSpec(Spec):
    kind: Kind = field(init=False, default="table")
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
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
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
                "Projection": _projection(index),
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
                    "Projection": _projection(index),
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


@dataclass(frozen=True)
class BucketSpec(Spec):
    kind: Kind = field(init=False, default="bucket")
    versioning: bool = False


@dataclass(frozen=True)
class QueueSpec(Spec):
    kind: Kind = field(init=False, default="queue")
    fifo: bool = False
    dead_letter: int | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    def new_name(self, scope: str = "") -> str:
        return make_name("queue", self.label, fifo=self.fifo, scope=scope)

    def dead_letter_name(self, scope: str = "") -> str:
        return make_name("queue", f"{self.label}_dlq", fifo=self.fifo, scope=scope)

    def queue_attributes(self, dead_letter_arn: str | None = None) -> dict[str, str]:
        attrs = dict(self.attributes)
        if self.fifo:
            attrs["FifoQueue"] = "true"
        if dead_letter_arn is not None and self.dead_letter is not None:
            attrs["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": str(self.dead_letter)}
            )
        return attrs

    def dead_letter_attributes(self) -> dict[str, str]:
        return {"FifoQueue": "true"} if self.fifo else {}


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
    make_name("table", label)  # label check
    _check_attr_name("hash_key", hash_key)
    if range_key is not None:
        _check_attr_name("range_key", range_key)
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
        _check_attr_name("ttl_attribute", ttl_attribute)
    gsis, lsis = tuple(global_indexes), tuple(local_indexes)
    if len(gsis) > 20:
        raise SpecError(f"at most 20 global secondary indexes, got {len(gsis)}")
    if len(lsis) > 5:
        raise SpecError(f"at most 5 local secondary indexes, got {len(lsis)}")
    if lsis and range_key is None:
        raise SpecError("local secondary indexes need a table with a range_key")
    names: set[str] = set()
    for index in (*gsis, *lsis):
        if not isinstance(index, Index):
            raise SpecError(f"indexes must be sandboxres.Index objects, got {type(index).__name__}")
        if not isinstance(index.name, str) or not INDEX_NAME_RE.fullmatch(index.name):
            raise SpecError(f"index name must be 3-255 characters of A-Z a-z 0-9 _ . -, got {index.name!r}")
        if index.name in names:
            raise SpecError(f"index name {index.name!r} is used twice")
        names.add(index.name)
        _projection(index)
    for index in gsis:
        _check_attr_name(f"index {index.name!r} hash_key", index.hash_key)
        if index.range_key is not None:
            _check_attr_name(f"index {index.name!r} range_key", index.range_key)
            if index.range_key == index.hash_key:
                raise SpecError(
                    f"index {index.name!r}: range_key must differ from hash_key, both are {index.hash_key!r}"
                )
    fixed_lsis = []
    for index in lsis:
        if index.hash_key not in (None, hash_key):
            raise SpecError(f"local index {index.name!r} must use the table's hash key {hash_key!r}")
        _check_attr_name(f"local index {index.name!r} range_key", index.range_key)
        if index.range_key in (hash_key, range_key):
            raise SpecError(
                f"local index {index.name!r}: its range_key {index.range_key!r} is the table's "
                f"{'hash' if index.range_key == hash_key else 'range'} key; a local index sorts by another attribute"
            )
        fixed_lsis.append(Index(index.name, hash_key, index.range_key, index.projection))
    if create_args is not None and not isinstance(create_args, Mapping):
        raise SpecError(f"create_args must be a mapping of CreateTable parameters, got {type(create_args).__name__}")
    extra = dict(create_args or {})
    clash = _TABLE_RESERVED & set(extra)
    if clash:
        raise SpecError(f"create_args may not set {', '.join(sorted(clash))}: use the named parameters")
    if "Tags" in extra:
        _check_user_tags(extra["Tags"])
    spec = TableSpec(
        label=label,
        timeout=_check_timeout("table", timeout),
        keep=_check_keep(keep),
        hash_key=hash_key,
        range_key=range_key,
        attribute_types=types,
        global_indexes=gsis,
        local_indexes=tuple(fixed_lsis),
        stream=stream,
        ttl_attribute=ttl_attribute,
        billing_mode=billing_mode,
        capacity=(capacity[0], capacity[1]),
        extra=extra,
    )
    request = spec.create_request("test_check_0000000000000000", {})
    _check_request("dynamodb", "CreateTable", request)
    unknown = set(types) - {a["AttributeName"] for a in request["AttributeDefinitions"]}
    if unknown:
        raise SpecError(f"attribute_types names attributes that are not keys: {', '.join(sorted(unknown))}")
    return spec


def bucket_spec(
    label: str = "bucket", *, versioning: bool = False, timeout: float | None = None, keep: bool | None = None
) -> BucketSpec:
    """A throw-away S3 bucket: ``with ephemeral_bucket("uploads") as b:`` gives a :class:`BucketHandle`.

    The bucket is named ``test-<label>-<unique>``, tagged and answering when the block starts; at the end it is
    emptied of every object version, delete marker and unfinished upload, and deleted. Every option is checked
    here, before any call: bad input raises :class:`SpecError`.

    :param label: readable part of the name (lower-case letters and digits; anything else becomes ``-``).
    :param versioning: enable versioning before the block starts.
    :param timeout: readiness deadline in seconds (default ``SANDBOXRES_BUCKET_TIMEOUT``, else 120).
    :param keep: keep the bucket after the block (default ``SANDBOXRES_KEEP``, else delete it).
    """
    make_name("bucket", label)
    if not isinstance(versioning, bool):
        raise SpecError(f"versioning must be True or False, got {versioning!r}")
    timeout = _check_timeout("bucket", timeout)
    return BucketSpec(label=label, timeout=timeout, keep=_check_keep(keep), versioning=versioning)


_QUEUE_RESERVED = {"FifoQueue", "RedrivePolicy"}

# The attributes CreateQueue takes, by the SQS API reference: whole seconds/bytes within a range, booleans, JSON.
QUEUE_INT_ATTRIBUTES = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 1_048_576),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43_200),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
QUEUE_BOOL_ATTRIBUTES = ("SqsManagedSseEnabled", "ContentBasedDeduplication")
QUEUE_ENUM_ATTRIBUTES = {
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
QUEUE_FIFO_ONLY = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
_REDRIVE_PERMISSIONS = ("allowAll", "denyAll", "byQueue")


def _check_queue_attribute(key: str, value: str, fifo: bool) -> None:
    """One queue attribute, by the SQS API reference's rules (CreateQueue)."""
    if key in QUEUE_FIFO_ONLY and not fifo:
        raise SpecError(f"the queue attribute {key} is for FIFO queues only: set fifo=True or drop it")
    if key in QUEUE_INT_ATTRIBUTES:
        low, high = QUEUE_INT_ATTRIBUTES[key]
        if not re.fullmatch(r"[0-9]+", value) or not low <= int(value) <= high:
            raise SpecError(f"the queue attribute {key} must be a whole number from {low} to {high}, got {value!r}")
    elif key in QUEUE_BOOL_ATTRIBUTES:
        if value.lower() not in ("true", "false"):
            raise SpecError(f"the queue attribute {key} must be 'true' or 'false', got {value!r}")
    elif key in QUEUE_ENUM_ATTRIBUTES:
        if value not in QUEUE_ENUM_ATTRIBUTES[key]:
            raise SpecError(
                f"the queue attribute {key} must be one of {', '.join(QUEUE_ENUM_ATTRIBUTES[key])}, got {value!r}"
            )
    elif key == "KmsMasterKeyId":
        if not value.strip():
            raise SpecError("the queue attribute KmsMasterKeyId must name a KMS key (id, alias or ARN)")
    elif key == "Policy":
        _json_object(key, value)
    elif key == "RedriveAllowPolicy":
        policy = _json_object(key, value)
        permission = policy.get("redrivePermission")
        if permission not in _REDRIVE_PERMISSIONS:
            raise SpecError(
                f"RedriveAllowPolicy: redrivePermission must be one of {', '.join(_REDRIVE_PERMISSIONS)}, "
                f"got {permission!r}"
            )
        arns = policy.get("sourceQueueArns")
        if permission == "byQueue" and not (isinstance(arns, list) and 1 <= len(arns) <= 10):
            raise SpecError("RedriveAllowPolicy: byQueue needs sourceQueueArns, a list of 1-10 queue ARNs")
        if permission != "byQueue" and arns:
            raise SpecError(f"RedriveAllowPolicy: sourceQueueArns goes with byQueue only, not {permission}")
    else:
        known = [
            *QUEUE_INT_ATTRIBUTES,
            *QUEUE_BOOL_ATTRIBUTES,
            *QUEUE_ENUM_ATTRIBUTES,
            "KmsMasterKeyId",
            "Policy",
            "RedriveAllowPolicy",
        ]
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(sorted(known))}"
        raise SpecError(f"{key!r} is not a queue attribute SQS accepts at creation{hint}")


def _json_object(key: str, value: str) -> dict[str, Any]:
    try:
        document = json.loads(value)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise SpecError(f"the queue attribute {key} must be a JSON object (a string), got {value[:60]!r}")
    return document


def queue_spec(
    label: str = "queue",
    *,
    fifo: bool = False,
    dead_letter: int | None = None,
    attributes: Mapping[str, str] | None = None,
    timeout: float | None = None,
    keep: bool | None = None,
) -> QueueSpec:
    """A throw-away SQS queue: ``with ephemeral_queue("jobs") as q:`` gives a :class:`QueueHandle`.

    The queue is named ``test_<label>_<unique>`` (``.fifo`` for FIFO queues), tagged and answering when the block
    starts, and deleted (with its dead-letter queue) when it ends. Every option is checked here, before any call:
    bad input raises :class:`SpecError`.

    :param label: readable part of the name (letters and digits; anything else becomes ``_``).
    :param fifo: a FIFO queue (the name ends in ``.fifo``).
    :param dead_letter: create a dead-letter queue ``test_<label>_dlq_<unique>`` first and move a message there
        after this many receives (1-1000); its handle is ``q.dead_letter``.
    :param attributes: further queue attributes (``VisibilityTimeout``, ``ContentBasedDeduplication``...), as
        strings, checked by the SQS API reference's rules (names, ranges, FIFO-only attributes);
        ``FifoQueue`` and ``RedrivePolicy`` come from ``fifo`` and ``dead_letter``.
    :param timeout: readiness deadline in seconds (default ``SANDBOXRES_QUEUE_TIMEOUT``, else 120).
    :param keep: keep the queue after the block (default ``SANDBOXRES_KEEP``, else delete it).
    """
    make_name("queue", label, fifo=fifo)
    make_name("queue", f"{label}_dlq", fifo=fifo)
    if not isinstance(fifo, bool):
        raise SpecError(f"fifo must be True or False, got {fifo!r}")
    if dead_letter is not None and (
        isinstance(dead_letter, bool) or not isinstance(dead_letter, int) or not 1 <= dead_letter <= 1000
    ):
        raise SpecError(f"dead_letter is the max receive count, 1-1000, got {dead_letter!r}")
    attrs = dict(attributes or {})
    for key, value in attrs.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise SpecError(f"queue attributes must map strings to strings, got {key!r}: {value!r}")
    clash = _QUEUE_RESERVED & set(attrs)
    if clash:
        raise SpecError(f"attributes may not set {', '.join(sorted(clash))}: use fifo= and dead_letter=")
    for key, value in attrs.items():
        _check_queue_attribute(key, value, fifo)
    return QueueSpec(
        label=label,
        timeout=_check_timeout("queue", timeout),
        keep=_check_keep(keep),
        fifo=fifo,
        dead_letter=dead_letter,
        attributes=attrs,
    )
