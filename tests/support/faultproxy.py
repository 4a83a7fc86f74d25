"""A scriptable, fault-injecting HTTP reverse proxy for AWS emulators.

The proxy listens on a free 127.0.0.1 port and forwards every request to an upstream emulator (typically a
moto server). It understands enough of the AWS wire protocols to name each request:

* DynamoDB -- JSON protocol, ``X-Amz-Target: DynamoDB_20120810.<Operation>``, table in ``TableName``
  (or in ``ResourceArn`` for the tagging calls);
* SQS -- JSON protocol (``X-Amz-Target: AmazonSQS.<Operation>``, queue in ``QueueName`` / ``QueueUrl``)
  and the older query protocol (``Action=<Operation>`` form);
* S3 -- REST with path-style addressing; the operation (CreateBucket, HeadBucket, PutBucketTagging,
  ListObjectVersions, DeleteObjects, PutObject, ...) is derived from method, path and query.

Tests script it with :class:`Rule` objects, usually built by the helper functions at the bottom of this
module, and read back what it saw from :attr:`FaultProxy.requests`::

    with start_fault_proxy(moto_url) as proxy:
        proxy.add(table_creating(seconds=1.5))
        proxy.add(throttling("sqs", "CreateQueue", times=2))
        ...
        assert proxy.count("dynamodb", "DescribeTable", faulted=True) >= 1

Every injected error is answered in the real AWS wire format of the request's protocol, so botocore raises
the same exception class, ``Error.Code`` and ``Error.QueryErrorCode`` as against AWS.

Matching: rules are consulted in the order they were added. Delay rules add latency and let matching go on;
the first other rule that matches decides the request. A rule applies to requests of its ``service`` and
``operations`` (``None``: all but ``exclude``), optionally only to resource names accepted by ``resource``,
and for a bounded window: ``times=N`` (the first N matching requests) and/or ``for_seconds=T``. The window
starts when the rule first applies -- or, with ``after="CreateTable"`` (an *anchor*), separately for every
resource name, when that operation last succeeded upstream for that name (the rule ignores names without
such an event). ``probability`` applies a rule to only a fraction of the requests (seeded).
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import json
import random
import re
import socket
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

__all__ = [
    "TRANSIENT_FAULTS",
    "AwsError",
    "Chaos",
    "Delay",
    "FakeDeletingTable",
    "Fault",
    "FaultProxy",
    "ProxyRequest",
    "Reply",
    "ResetConnection",
    "Rule",
    "SeenRequest",
    "ServiceError",
    "SetTableStatus",
    "access_denied",
    "aws_error",
    "bucket_not_found_after_create",
    "bucket_operation_aborted",
    "connection_reset",
    "latency",
    "queue_deleted_recently",
    "queue_not_ready",
    "random_faults",
    "server_error",
    "service_unavailable",
    "start_fault_proxy",
    "table_creating",
    "table_deleting",
    "table_limit_exceeded",
    "table_not_found_after_create",
    "throttling",
]

WireProtocol = Literal["json", "query", "rest-xml", "unknown"]
ResourceMatch = str | Callable[[str], bool] | None
Operations = str | Iterable[str] | None

DYNAMODB_TYPE_PREFIX = "com.amazonaws.dynamodb.v20120810#"
SQS_TYPE_PREFIX = "com.amazonaws.sqs#"
CORAL_SERVICE_PREFIX = "com.amazon.coral.service#"
CORAL_AVAILABILITY_PREFIX = "com.amazon.coral.availability#"
AMZ_JSON = "application/x-amz-json-1.0"

CONCURRENT_TABLE_LIMIT_MESSAGE = (
    "Subscriber limit exceeded: Only 10 tables can be created, updated, or deleted simultaneously"
)
TABLE_QUOTA_MESSAGE = "Subscriber limit exceeded: There is a limit of 2500 tables per subscriber"

# Hop-by-hop headers (RFC 9110 section 7.6.1) and those the proxy recomputes itself.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")


# ---------------------------------------------------------------------------------------------------------
# requests and replies


@dataclass
class ProxyRequest:
    """One request as the proxy understood it."""

    method: str
    target: str  # path and query, as received
    path: str
    query: dict[str, list[str]]
    headers: list[tuple[str, str]]
    body: bytes
    service: str  # "dynamodb", "sqs", "s3", or the SigV4 signing name of anything else
    operation: str  # e.g. "CreateTable", "CreateQueue", "PutBucketTagging"; "Unknown" if not recognised
    resource: str | None  # table name, queue name or bucket name
    protocol: WireProtocol
    key: str | None = None  # S3 object key
    params: dict[str, Any] = field(default_factory=dict)  # JSON body or query-protocol form values

    def header(self, name: str, default: str = "") -> str:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return default


@dataclass
class Reply:
    """A complete HTTP response, either from upstream or made by a fault."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    reason: str = ""
    from_upstream: bool = False

    def json(self) -> dict[str, Any] | None:
        try:
            value = json.loads(self.body) if self.body else None
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def with_json(self, document: dict[str, Any]) -> Reply:
        body = json.dumps(document).encode()
        headers = [(k, v) for k, v in self.headers if k.lower() != "x-amz-crc32"]
        if any(k.lower() == "x-amz-crc32" for k, _ in self.headers):
            headers.append(("x-amz-crc32", str(zlib.crc32(body))))
        return Reply(self.status, headers, body, self.reason, self.from_upstream)


@dataclass(frozen=True)
class SeenRequest:
    """What the proxy recorded about one request (see :attr:`FaultProxy.requests`)."""

    service: str
    operation: str
    resource: str | None
    status: int | None  # status sent to the client; None when the connection was reset
    fault: str | None  # label of the fault applied, None when forwarded untouched
    upstream_status: int | None  # None when the request never reached upstream
    method: str
    path: str
    key: str | None
    started: float  # time.monotonic()
    duration: float


class _ResetType:
    def __repr__(self) -> str:
        return "RESET"


RESET = _ResetType()
Action = Reply | _ResetType | None


def _request_id() -> str:
    return uuid.uuid4().hex.upper()


def _parse_json(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _queue_name_from_url(url: str) -> str | None:
    path = urlsplit(url).path.rstrip("/")
    return unquote(path.rsplit("/", 1)[-1]) if path else None


def _table_from_arn(arn: str) -> str | None:
    match = re.search(r":table/([^/]+)", arn)
    return match.group(1) if match else None


_S3_BUCKET_SUBRESOURCES: dict[str, tuple[str, str, str]] = {
    # query key: (PUT, GET, DELETE) operation names
    "tagging": ("PutBucketTagging", "GetBucketTagging", "DeleteBucketTagging"),
    "versioning": ("PutBucketVersioning", "GetBucketVersioning", ""),
    "policy": ("PutBucketPolicy", "GetBucketPolicy", "DeleteBucketPolicy"),
    "lifecycle": ("PutBucketLifecycleConfiguration", "GetBucketLifecycleConfiguration", "DeleteBucketLifecycle"),
    "cors": ("PutBucketCors", "GetBucketCors", "DeleteBucketCors"),
    "acl": ("PutBucketAcl", "GetBucketAcl", ""),
    "encryption": ("PutBucketEncryption", "GetBucketEncryption", "DeleteBucketEncryption"),
    "ownershipControls": ("PutBucketOwnershipControls", "GetBucketOwnershipControls", "DeleteBucketOwnershipControls"),
    "publicAccessBlock": ("PutPublicAccessBlock", "GetPublicAccessBlock", "DeletePublicAccessBlock"),
    "notification": ("PutBucketNotificationConfiguration", "GetBucketNotificationConfiguration", ""),
    "object-lock": ("PutObjectLockConfiguration", "GetObjectLockConfiguration", ""),
    "website": ("PutBucketWebsite", "GetBucketWebsite", "DeleteBucketWebsite"),
    "logging": ("PutBucketLogging", "GetBucketLogging", ""),
    "replication": ("PutBucketReplication", "GetBucketReplication", "DeleteBucketReplication"),
    "accelerate": ("PutBucketAccelerateConfiguration", "GetBucketAccelerateConfiguration", ""),
    "requestPayment": ("PutBucketRequestPayment", "GetBucketRequestPayment", ""),
    "location": ("", "GetBucketLocation", ""),
    "versions": ("", "ListObjectVersions", ""),
    "uploads": ("", "ListMultipartUploads", ""),
}
_S3_OBJECT_SUBRESOURCES: dict[str, tuple[str, str, str]] = {
    "tagging": ("PutObjectTagging", "GetObjectTagging", "DeleteObjectTagging"),
    "acl": ("PutObjectAcl", "GetObjectAcl", ""),
    "retention": ("PutObjectRetention", "GetObjectRetention", ""),
    "legal-hold": ("PutObjectLegalHold", "GetObjectLegalHold", ""),
    "attributes": ("", "GetObjectAttributes", ""),
}


def s3_operation(method: str, path: str, query: dict[str, list[str]], headers: Sequence[tuple[str, str]]) -> str:
    """The S3 operation name of a path-style request."""
    method = method.upper()
    parts = path.lstrip("/").split("/", 1)
    bucket = parts[0]
    key = parts[1] if len(parts) > 1 else ""
    copy_source = any(k.lower() == "x-amz-copy-source" for k, _ in headers)
    column = {"PUT": 0, "GET": 1, "DELETE": 2}.get(method)
    if not bucket:
        return "ListBuckets" if method == "GET" else "Unknown"
    if not key:
        if method == "HEAD":
            return "HeadBucket"
        if method == "POST":
            return "DeleteObjects" if "delete" in query else "Unknown"
        if column is not None:
            for name, operations in _S3_BUCKET_SUBRESOURCES.items():
                if name in query and operations[column]:
                    return operations[column]
        if method == "PUT":
            return "CreateBucket"
        if method == "DELETE":
            return "DeleteBucket"
        if method == "GET":
            return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
        return "Unknown"
    if method == "HEAD":
        return "HeadObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        if "restore" in query:
            return "RestoreObject"
        if "select" in query:
            return "SelectObjectContent"
        return "Unknown"
    if "uploadId" in query:
        if method == "PUT":
            return "UploadPartCopy" if copy_source else "UploadPart"
        return {"GET": "ListParts", "DELETE": "AbortMultipartUpload"}.get(method, "Unknown")
    if column is not None:
        for name, operations in _S3_OBJECT_SUBRESOURCES.items():
            if name in query and operations[column]:
                return operations[column]
    if method == "PUT":
        return "CopyObject" if copy_source else "PutObject"
    return {"GET": "GetObject", "DELETE": "DeleteObject"}.get(method, "Unknown")


def parse_request(method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> ProxyRequest:
    """Name the service, operation and resource of a raw AWS request."""
    split = urlsplit(target)
    path = split.path or "/"
    query = parse_qs(split.query, keep_blank_values=True)
    lowered = {k.lower(): v for k, v in headers}
    scope = _CREDENTIAL_SCOPE.search(lowered.get("authorization", ""))
    signing_service = scope.group(1) if scope else None
    if signing_service is None and "X-Amz-Credential" in query:
        credential = query["X-Amz-Credential"][0].split("/")
        signing_service = credential[3] if len(credential) > 3 else None

    def make(
        service: str,
        operation: str,
        resource: str | None,
        protocol: WireProtocol,
        key: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> ProxyRequest:
        return ProxyRequest(
            method, target, path, query, headers, body, service, operation or "Unknown", resource, protocol, key,
            params or {},
        )  # fmt: skip

    amz_target = lowered.get("x-amz-target", "")
    if amz_target:
        prefix, _, operation = amz_target.partition(".")
        params = _parse_json(body)
        if prefix.startswith("DynamoDBStreams_"):
            stream = params.get("StreamArn")
            return make("dynamodbstreams", operation, stream if isinstance(stream, str) else None, "json", None, params)
        if prefix.startswith("DynamoDB_"):
            resource = params.get("TableName")
            if not isinstance(resource, str):
                arn = params.get("ResourceArn") or params.get("TableArn")
                resource = _table_from_arn(arn) if isinstance(arn, str) else None
            if resource is None and isinstance(params.get("RequestItems"), dict):
                tables = list(params["RequestItems"])
                resource = tables[0] if len(tables) == 1 else None
            return make("dynamodb", operation, resource, "json", None, params)
        if prefix == "AmazonSQS":
            return make("sqs", operation, _sqs_resource(params, path), "json", None, params)
        return make(signing_service or prefix, operation, None, "json", None, params)

    form: dict[str, list[str]] = {}
    if "application/x-www-form-urlencoded" in lowered.get("content-type", "") and body:
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    actions = form.get("Action") or query.get("Action")
    if actions:
        action = actions[0]
        params = {k: v[0] for k, v in {**query, **form}.items()}
        if signing_service in (None, "sqs"):
            return make("sqs", action, _sqs_resource(params, path), "query", None, params)
        return make(signing_service, action, None, "query", None, params)
    if signing_service in (None, "s3"):
        parts = unquote(path).lstrip("/").split("/", 1)
        bucket = parts[0] or None
        key = parts[1] if len(parts) > 1 and parts[1] else None
        return make("s3", s3_operation(method, unquote(path), query, headers), bucket, "rest-xml", key)
    return make(signing_service, "Unknown", None, "unknown")


def _sqs_resource(params: dict[str, Any], path: str) -> str | None:
    name = params.get("QueueName")
    if isinstance(name, str):
        return name
    url = params.get("QueueUrl")
    if isinstance(url, str):
        return _queue_name_from_url(url)
    segments = [s for s in path.split("/") if s]
    return unquote(segments[-1]) if len(segments) >= 2 else None


# ---------------------------------------------------------------------------------------------------------
# faults


@dataclass
class Trigger:
    """One application of a rule to one request (passed to the fault)."""

    rule: Rule
    anchor_time: float | None = None
    anchor_document: dict[str, Any] | None = None
    chosen: Fault | None = None  # used by Chaos


class Fault:
    """Base class: decides what happens to a request a rule applies to.

    ``before`` runs before forwarding: return a :class:`Reply` to answer without forwarding, ``RESET`` to
    reset the connection, or ``None`` to forward. ``after`` sees the upstream reply and returns the reply to
    send (or ``RESET``). Non-terminal faults (delays) let the search for a further rule go on.
    """

    terminal = True

    @property
    def label(self) -> str:
        return type(self).__name__

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        return None

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | _ResetType:
        return reply


class Delay(Fault):
    """Sleep ``seconds`` before forwarding. Non-terminal: other rules still apply."""

    terminal = False

    def __init__(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self.seconds = seconds

    @property
    def label(self) -> str:
        return f"delay {self.seconds:g}s"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        time.sleep(self.seconds)
        return None


class ResetConnection(Fault):
    """Close the client's connection with a TCP reset and no response.

    ``after_upstream=True`` forwards the request first: the operation happens but its response is lost.
    """

    def __init__(self, *, after_upstream: bool = False) -> None:
        self.after_upstream = after_upstream

    @property
    def label(self) -> str:
        return "reset after upstream" if self.after_upstream else "reset"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        return None if self.after_upstream else RESET

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | _ResetType:
        return RESET


class AwsError(Fault):
    """Answer with an AWS error in the wire format of the request's protocol.

    ``code`` is the modelled error name (``ThrottlingException``, ``QueueDoesNotExist``, ``SlowDown``).
    ``type_name`` overrides the JSON ``__type`` (default: the service's namespace + ``code``);
    ``query_code`` is the SQS legacy code sent in ``x-amzn-query-error`` (and as ``<Code>`` in the query
    protocol), e.g. ``AWS.SimpleQueueService.NonExistentQueue``; ``fault_type`` is ``Sender`` or ``Receiver``.
    ``{resource}`` in the message is replaced by the resource name. ``after_upstream=True`` forwards the
    request first and replaces the upstream reply.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        type_name: str | None = None,
        query_code: str | None = None,
        fault_type: Literal["Sender", "Receiver"] | None = None,
        after_upstream: bool = False,
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.type_name = type_name
        self.query_code = query_code
        self.fault_type = fault_type or ("Receiver" if status >= 500 else "Sender")
        self.after_upstream = after_upstream
        self.extra_headers = tuple(extra_headers)

    @property
    def label(self) -> str:
        return self.code + (" after upstream" if self.after_upstream else "")

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        return None if self.after_upstream else self.render(request)

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | _ResetType:
        return self.render(request) if self.after_upstream else reply

    def render(self, request: ProxyRequest) -> Reply:
        message = self.message.replace("{resource}", request.resource or "")
        request_id = _request_id()
        headers: list[tuple[str, str]] = [("Date", email.utils.formatdate(usegmt=True))]
        if request.protocol == "json":
            if self.type_name is not None:
                type_name = self.type_name
            elif request.service == "sqs":
                type_name = SQS_TYPE_PREFIX + self.code
            elif request.service.startswith("dynamodb"):
                type_name = DYNAMODB_TYPE_PREFIX + self.code
            else:
                type_name = CORAL_SERVICE_PREFIX + self.code
            body = json.dumps({"__type": type_name, "message": message}).encode()
            headers += [("Content-Type", AMZ_JSON), ("x-amzn-RequestId", request_id)]
            if request.service == "sqs":
                headers.append(("x-amzn-query-error", f"{self.query_code or self.code};{self.fault_type}"))
            if request.service.startswith("dynamodb"):
                headers.append(("x-amz-crc32", str(zlib.crc32(body))))
        elif request.protocol == "query":
            body = (
                '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
                f"<Error><Type>{self.fault_type}</Type><Code>{escape(self.query_code or self.code)}</Code>"
                f"<Message>{escape(message)}</Message><Detail/></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            ).encode()
            headers += [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
        else:
            bucket = f"<BucketName>{escape(request.resource)}</BucketName>" if request.resource else ""
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{escape(self.code)}</Code><Message>{escape(message)}</Message>{bucket}"
                f"<RequestId>{request_id[:16]}</RequestId><HostId>{uuid.uuid4().hex}</HostId></Error>"
            ).encode()
            headers += [
                ("Content-Type", "application/xml"),
                ("x-amz-request-id", request_id[:16]),
                ("x-amz-id-2", uuid.uuid4().hex),
            ]
            if request.method.upper() == "HEAD":
                body = b""  # S3 sends no body for HEAD; botocore reports the status as the code
        headers += list(self.extra_headers)
        return Reply(self.status, headers, body, http.client.responses.get(self.status, ""))


# The per-service errors for the common fault kinds: (code, message, status, json type, SQS legacy code).
_KIND_ERRORS: dict[str, dict[str, tuple[str, str, int, str | None, str | None]]] = {
    "throttling": {
        "dynamodb": ("ThrottlingException", "Rate of requests exceeds the allowed throughput.", 400, None, None),
        "s3": ("SlowDown", "Please reduce your request rate.", 503, None, None),
        "sqs": ("RequestThrottled", "Request is throttled.", 400, None, "RequestThrottled"),
        "*": ("ThrottlingException", "Rate exceeded", 400, CORAL_AVAILABILITY_PREFIX + "ThrottlingException", None),
    },
    "internal": {
        "dynamodb": ("InternalServerError", "Internal server error", 500, None, None),
        "s3": ("InternalError", "We encountered an internal error. Please try again.", 500, None, None),
        "sqs": ("InternalFailure", "Internal failure.", 500, CORAL_SERVICE_PREFIX + "InternalFailure", "InternalError"),
        "*": ("InternalFailure", "Internal failure.", 500, CORAL_SERVICE_PREFIX + "InternalFailure", None),
    },
    "unavailable": {
        "dynamodb": (
            "ServiceUnavailable",
            "Service unavailable.",
            503,
            CORAL_AVAILABILITY_PREFIX + "ServiceUnavailable",
            None,
        ),
        "s3": ("ServiceUnavailable", "Service is unable to handle request.", 503, None, None),
        "sqs": (
            "ServiceUnavailable",
            "Service unavailable.",
            503,
            CORAL_AVAILABILITY_PREFIX + "ServiceUnavailableException",
            "ServiceUnavailable",
        ),
        "*": (
            "ServiceUnavailable",
            "Service unavailable.",
            503,
            CORAL_AVAILABILITY_PREFIX + "ServiceUnavailableException",
            None,
        ),
    },
    "access_denied": {
        "dynamodb": (
            "AccessDeniedException",
            "User: arn:aws:iam::123456789012:user/test is not authorized to perform this action on resource {resource}",
            400,
            CORAL_SERVICE_PREFIX + "AccessDeniedException",
            None,
        ),
        "s3": ("AccessDenied", "Access Denied", 403, None, None),
        "sqs": (
            "AccessDenied",
            "Access to the resource {resource} is denied.",
            403,
            CORAL_SERVICE_PREFIX + "AccessDeniedException",
            "AccessDenied",
        ),
        "*": ("AccessDeniedException", "Access denied", 403, CORAL_SERVICE_PREFIX + "AccessDeniedException", None),
    },
}

FaultKind = Literal["throttling", "internal", "unavailable", "access_denied"]


class ServiceError(Fault):
    """A common error kind rendered as each service spells it (see ``_KIND_ERRORS``)."""

    def __init__(self, kind: FaultKind, *, status: int | None = None, after_upstream: bool = False) -> None:
        if kind not in _KIND_ERRORS:
            raise ValueError(f"unknown error kind {kind!r}")
        self.kind = kind
        self.status = status
        self.after_upstream = after_upstream

    def error_for(self, service: str) -> AwsError:
        table = _KIND_ERRORS[self.kind]
        code, message, status, type_name, query_code = table.get(service, table["*"])
        return AwsError(
            code,
            message,
            self.status or status,
            type_name=type_name,
            query_code=query_code,
            after_upstream=self.after_upstream,
        )

    @property
    def label(self) -> str:
        return self.kind + (" after upstream" if self.after_upstream else "")

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        return self.error_for(request.service).before(request, trigger)

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | _ResetType:
        return self.error_for(request.service).after(request, reply, trigger)


class SetTableStatus(Fault):
    """Forward, then rewrite ``TableStatus`` (and index statuses) in a successful DynamoDB table reply."""

    def __init__(self, status: str) -> None:
        self.status = status

    @property
    def label(self) -> str:
        return f"TableStatus={self.status}"

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | _ResetType:
        document = reply.json()
        if not 200 <= reply.status < 300 or document is None:
            return reply
        for key in ("Table", "TableDescription"):
            table = document.get(key)
            if isinstance(table, dict):
                table["TableStatus"] = self.status
                for index in table.get("GlobalSecondaryIndexes") or []:
                    if isinstance(index, dict) and "IndexStatus" in index:
                        index["IndexStatus"] = self.status
        return reply.with_json(document)


class FakeDeletingTable(Fault):
    """Answer DescribeTable / DeleteTable with the table in DELETING state, without forwarding.

    Meant for rules anchored on ``DeleteTable``: the table description comes from that DeleteTable reply.
    """

    @property
    def label(self) -> str:
        return "TableStatus=DELETING (simulated)"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        anchor = trigger.anchor_document or {}
        table = dict(anchor.get("TableDescription") or {"TableName": request.resource})
        table["TableStatus"] = "DELETING"
        key = "Table" if request.operation == "DescribeTable" else "TableDescription"
        body = json.dumps({key: table}).encode()
        headers = [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Content-Type", AMZ_JSON),
            ("x-amzn-RequestId", _request_id()),
            ("x-amz-crc32", str(zlib.crc32(body))),
        ]
        return Reply(200, headers, body, "OK")


class Chaos(Fault):
    """Pick one of ``faults`` at random (seeded) for each request the rule applies to."""

    def __init__(self, faults: Sequence[Fault], rng: random.Random) -> None:
        if not faults:
            raise ValueError("Chaos needs at least one fault")
        self.faults = tuple(faults)
        self.rng = rng
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        return "chaos"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        with self._lock:
            trigger.chosen = self.rng.choice(self.faults)
        return trigger.chosen.before(request, trigger)

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | _ResetType:
        assert trigger.chosen is not None
        return trigger.chosen.after(request, reply, trigger)


# ---------------------------------------------------------------------------------------------------------
# rules


@dataclass
class _Window:
    start: float | None = None
    count: int = 0
    document: dict[str, Any] | None = None


def _operation_set(operations: Operations) -> frozenset[str] | None:
    if operations is None:
        return None
    if isinstance(operations, str):
        return frozenset({operations})
    return frozenset(operations)


class Rule:
    """When (service, operations, resource, window) and what (a :class:`Fault`) to inject.

    ``after`` is an anchor: an operation name of the same service, or a ``(service, operation)`` pair.
    With an anchor the window (``times`` / ``for_seconds``) is kept per resource name and starts when that
    operation succeeds upstream for the name (again on every later success); without one it is global and
    starts at the first application. ``probability`` < 1 applies the rule to a random share of matching
    requests (``seed`` makes it reproducible).
    """

    def __init__(
        self,
        fault: Fault,
        *,
        service: str = "*",
        operations: Operations = None,
        exclude: Operations = None,
        resource: ResourceMatch = None,
        times: int | None = None,
        for_seconds: float | None = None,
        after: str | tuple[str, str] | None = None,
        probability: float = 1.0,
        seed: int | None = None,
        name: str | None = None,
    ) -> None:
        if times is not None and times < 0:
            raise ValueError("times must be >= 0")
        if for_seconds is not None and for_seconds < 0:
            raise ValueError("for_seconds must be >= 0")
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        self.fault = fault
        self.service = service
        self.operations = _operation_set(operations)
        self.exclude = _operation_set(exclude) or frozenset()
        self.resource = resource
        self.times = times
        self.for_seconds = for_seconds
        if isinstance(after, str):
            if service == "*":
                raise ValueError("an anchor given as an operation name needs a service")
            self.after: tuple[str, str] | None = (service, after)
        else:
            self.after = after
        self.probability = probability
        self._rng = random.Random(seed)
        self.name = name or self._default_name()
        self.hits = 0
        self._global = _Window()
        self._anchors: dict[str, _Window] = {}

    def _default_name(self) -> str:
        operations = ",".join(sorted(self.operations)) if self.operations else "*"
        anchor = f" after {self.after[1]}" if self.after else ""
        return f"{self.service}:{operations}{anchor} -> {self.fault.label}"

    def __repr__(self) -> str:
        return f"Rule({self.name!r}, hits={self.hits})"

    def selects(self, request: ProxyRequest) -> bool:
        if self.service != "*" and request.service != self.service:
            return False
        if self.operations is not None and request.operation not in self.operations:
            return False
        if request.operation in self.exclude:
            return False
        if self.resource is not None:
            if request.resource is None:
                return False
            if isinstance(self.resource, str):
                if request.resource != self.resource:
                    return False
            elif not self.resource(request.resource):
                return False
        return True

    def _claim(self, request: ProxyRequest, now: float) -> Trigger | None:
        """Called under the proxy lock: does the rule apply to this request? Counts it if so."""
        if not self.selects(request):
            return None
        if self.after is not None:
            if request.resource is None:
                return None
            window = self._anchors.get(request.resource)
            if window is None:
                return None
        else:
            window = self._global
        if self.times is not None and window.count >= self.times:
            return None
        if self.for_seconds is not None and window.start is not None and now - window.start >= self.for_seconds:
            return None
        if self.probability < 1.0 and self._rng.random() >= self.probability:
            return None
        if window.start is None:
            window.start = now
        window.count += 1
        self.hits += 1
        return Trigger(self, window.start if self.after else None, window.document)

    def _anchor_event(self, service: str, operation: str, resource: str | None, document: Any, now: float) -> None:
        """Called under the proxy lock after an upstream success."""
        if self.after != (service, operation) or resource is None:
            return
        if self.resource is not None:
            if isinstance(self.resource, str) and resource != self.resource:
                return
            if callable(self.resource) and not self.resource(resource):
                return
        self._anchors[resource] = _Window(start=now, document=document if isinstance(document, dict) else None)

    @property
    def exhausted(self) -> bool:
        """True when an unanchored rule can no longer apply (its ``times`` or ``for_seconds`` ran out)."""
        if self.after is not None:
            return False
        if self.times is not None and self._global.count >= self.times:
            return True
        start = self._global.start
        return self.for_seconds is not None and start is not None and time.monotonic() - start >= self.for_seconds


# ---------------------------------------------------------------------------------------------------------
# the proxy


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    proxy: FaultProxy

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 120  # idle keep-alive connections

    def setup(self) -> None:
        super().setup()
        # Answers go out in one write, but without this a client's delayed ACK can still stall small writes.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.proxy.verbose:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        self.server.proxy._serve(self)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle

    def send_reply(self, reply: Reply) -> None:
        """Send ``reply`` (status line, headers and body in a single write)."""
        head = self.command == "HEAD"
        no_body = head or reply.status in (204, 304) or reply.status < 200
        reason = reply.reason or http.client.responses.get(reply.status, "")
        lines = [f"{self.protocol_version} {reply.status} {reason}"]
        has_length = False
        for name, value in reply.headers:
            lowered = name.lower()
            if lowered in _HOP_BY_HOP or (lowered == "content-length" and not head):
                continue
            has_length = has_length or lowered == "content-length"
            lines.append(f"{name}: {value}")
        if not no_body:
            lines.append(f"Content-Length: {len(reply.body)}")
        elif head and not has_length:
            lines.append("Content-Length: 0")
        if self.close_connection:
            lines.append("Connection: close")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(payload + (b"" if no_body else reply.body))
        self.wfile.flush()

    def reset(self) -> None:
        """Abort the connection with a TCP RST and no response."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.close()


class FaultProxy:
    """The running proxy. Use :func:`start_fault_proxy` to create one."""

    def __init__(self, upstream_url: str, *, upstream_timeout: float = 60.0, verbose: bool = False) -> None:
        split = urlsplit(upstream_url)
        if split.scheme != "http" or not split.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream_url!r}")
        self.upstream_url = upstream_url.rstrip("/")
        self._upstream = (split.hostname, split.port or 80)
        self.upstream_timeout = upstream_timeout
        self.verbose = verbose
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._records: list[SeenRequest] = []
        self._server = _Server(self)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-proxy", daemon=True
        )
        self._thread.start()
        self._stopped = False

    # -- scripting ---------------------------------------------------------------------------------

    def add(self, *rules: Rule | Iterable[Rule]) -> list[Rule]:
        """Add rules (or lists of rules) after the existing ones; returns them flattened."""
        flat: list[Rule] = []
        for item in rules:
            if isinstance(item, Rule):
                flat.append(item)
            else:
                flat.extend(item)
        with self._lock:
            self._rules.extend(flat)
        return flat

    def remove(self, *rules: Rule) -> None:
        with self._lock:
            self._rules = [rule for rule in self._rules if all(rule is not r for r in rules)]

    def clear(self) -> None:
        """Remove all rules and forget all recorded requests."""
        with self._lock:
            self._rules.clear()
            self._records.clear()

    def clear_rules(self) -> None:
        with self._lock:
            self._rules.clear()

    def clear_records(self) -> None:
        with self._lock:
            self._records.clear()

    @property
    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    # -- observing ---------------------------------------------------------------------------------

    @property
    def requests(self) -> list[SeenRequest]:
        """Every request seen so far, in the order they completed."""
        with self._lock:
            return list(self._records)

    def seen(
        self,
        service: str | None = None,
        operation: str | None = None,
        resource: str | None = None,
        *,
        faulted: bool | None = None,
    ) -> list[SeenRequest]:
        """Recorded requests filtered by service, operation, resource and whether a fault was applied."""
        return [
            record
            for record in self.requests
            if (service is None or record.service == service)
            and (operation is None or record.operation == operation)
            and (resource is None or record.resource == resource)
            and (faulted is None or (record.fault is not None) == faulted)
        ]

    def count(
        self,
        service: str | None = None,
        operation: str | None = None,
        resource: str | None = None,
        *,
        faulted: bool | None = None,
    ) -> int:
        return len(self.seen(service, operation, resource, faulted=faulted))

    # -- lifecycle ---------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop listening and drop open connections. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(5.0)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"FaultProxy({self.url} -> {self.upstream_url}, {len(self.rules)} rules)"

    # -- serving -----------------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        started = time.monotonic()
        body = handler._read_body()
        headers = list(handler.headers.items())
        request = parse_request(handler.command, handler.path, headers, body)

        delays: list[tuple[Fault, Trigger]] = []
        decisive: tuple[Fault, Trigger] | None = None
        with self._lock:
            now = time.monotonic()
            for rule in self._rules:
                trigger = rule._claim(request, now)
                if trigger is None:
                    continue
                if rule.fault.terminal:
                    decisive = (rule.fault, trigger)
                    break
                delays.append((rule.fault, trigger))

        labels = [fault.label for fault, _ in delays]
        for fault, trigger in delays:
            fault.before(request, trigger)

        action: Reply | _ResetType | None = None
        upstream_status: int | None = None
        if decisive is not None:
            fault, trigger = decisive
            action = fault.before(request, trigger)
            if action is not None or trigger.chosen is not None:
                labels.append(trigger.chosen.label if trigger.chosen else fault.label)
        if action is None:
            reply = self._forward(request)
            upstream_status = reply.status if reply.from_upstream else None
            self._anchor(request, reply)
            action = reply
            if decisive is not None:
                fault, trigger = decisive
                action = fault.after(request, reply, trigger)
                if action is not reply and trigger.chosen is None:
                    labels.append(trigger.chosen.label if trigger.chosen else fault.label)

        status = action.status if isinstance(action, Reply) else None
        record = SeenRequest(
            service=request.service,
            operation=request.operation,
            resource=request.resource,
            status=status,
            fault="; ".join(labels) or None,
            upstream_status=upstream_status,
            method=request.method,
            path=request.path,
            key=request.key,
            started=started,
            duration=time.monotonic() - started,
        )
        # Recorded before the client gets the answer, so a test sees it as soon as its call returns.
        with self._lock:
            self._records.append(record)
        if isinstance(action, Reply):
            handler.send_reply(action)
        else:
            handler.reset()

    def _anchor(self, request: ProxyRequest, reply: Reply) -> None:
        if not reply.from_upstream or not 200 <= reply.status < 300:
            return
        document = reply.json() if request.protocol == "json" else None
        now = time.monotonic()
        with self._lock:
            for rule in self._rules:
                rule._anchor_event(request.service, request.operation, request.resource, document, now)

    def _forward(self, request: ProxyRequest) -> Reply:
        host, port = self._upstream
        connection = http.client.HTTPConnection(host, port, timeout=self.upstream_timeout)
        try:
            connection.putrequest(request.method, request.target, skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers:
                if name.lower() in _HOP_BY_HOP or name.lower() == "content-length":
                    continue
                connection.putheader(name, value)
            if request.body or request.method.upper() in ("POST", "PUT", "PATCH") or request.header("Content-Length"):
                connection.putheader("Content-Length", str(len(request.body)))
            connection.endheaders(request.body or None)
            response = connection.getresponse()
            body = response.read()
            headers = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            return Reply(response.status, headers, body, response.reason, from_upstream=True)
        except (OSError, http.client.HTTPException) as error:
            message = f"fault proxy: upstream {self.upstream_url} failed: {error}".encode()
            return Reply(502, [("Content-Type", "text/plain")], message, "Bad Gateway")
        finally:
            connection.close()


def start_fault_proxy(upstream_url: str, *, upstream_timeout: float = 60.0, verbose: bool = False) -> FaultProxy:
    """Start a proxy on a free 127.0.0.1 port in front of ``upstream_url``; also a context manager."""
    return FaultProxy(upstream_url, upstream_timeout=upstream_timeout, verbose=verbose)


# ---------------------------------------------------------------------------------------------------------
# rule constructors


def latency(
    seconds: float,
    service: str = "*",
    operations: Operations = None,
    *,
    resource: ResourceMatch = None,
    times: int | None = None,
    for_seconds: float | None = None,
    after: str | tuple[str, str] | None = None,
) -> Rule:
    """Delay matching requests by ``seconds`` (then other rules still apply, and the request is forwarded)."""
    return Rule(
        Delay(seconds),
        service=service,
        operations=operations,
        resource=resource,
        times=times,
        for_seconds=for_seconds,
        after=after,
    )


def aws_error(
    service: str,
    operations: Operations,
    code: str,
    message: str,
    status: int = 400,
    *,
    type_name: str | None = None,
    query_code: str | None = None,
    after_upstream: bool = False,
    resource: ResourceMatch = None,
    times: int | None = None,
    for_seconds: float | None = None,
    after: str | tuple[str, str] | None = None,
) -> Rule:
    """Any AWS error (see :class:`AwsError`)."""
    fault = AwsError(code, message, status, type_name=type_name, query_code=query_code, after_upstream=after_upstream)
    return Rule(
        fault,
        service=service,
        operations=operations,
        resource=resource,
        times=times,
        for_seconds=for_seconds,
        after=after,
    )


def _kind_rule(
    kind: FaultKind,
    service: str,
    operations: Operations,
    status: int | None,
    after_upstream: bool,
    resource: ResourceMatch,
    times: int | None,
    for_seconds: float | None,
    after: str | tuple[str, str] | None,
) -> Rule:
    return Rule(
        ServiceError(kind, status=status, after_upstream=after_upstream),
        service=service,
        operations=operations,
        resource=resource,
        times=times,
        for_seconds=for_seconds,
        after=after,
    )


def throttling(
    service: str = "*",
    operations: Operations = None,
    *,
    resource: ResourceMatch = None,
    times: int | None = None,
    for_seconds: float | None = None,
    after: str | tuple[str, str] | None = None,
) -> Rule:
    """DynamoDB ThrottlingException (400), S3 SlowDown (503), SQS RequestThrottled (400)."""
    return _kind_rule("throttling", service, operations, None, False, resource, times, for_seconds, after)


def server_error(
    service: str = "*",
    operations: Operations = None,
    *,
    status: int = 500,
    after_upstream: bool = False,
    resource: ResourceMatch = None,
    times: int | None = None,
    for_seconds: float | None = None,
    after: str | tuple[str, str] | None = None,
) -> Rule:
    """A 500 (DynamoDB InternalServerError, S3 InternalError, SQS InternalError / InternalFailure).

    ``after_upstream=True``: the request is carried out upstream, the client still gets the 500.
    """
    return _kind_rule("internal", service, operations, status, after_upstream, resource, times, for_seconds, after)


def service_unavailable(
    service: str = "*",
    operations: Operations = None,
    *,
    resource: ResourceMatch = None,
    times: int | None = None,
    for_seconds: float | None = None,
    after: str | tuple[str, str] | None = None,
) -> Rule:
    """A 503 ServiceUnavailable."""
    return _kind_rule("unavailable", service, operations, None, False, resource, times, for_seconds, after)


def access_denied(
    service: str = "*",
    operations: Operations = None,
    *,
    resource: ResourceMatch = None,
    times: int | None = None,
    for_seconds: float | None = None,
    after: str | tuple[str, str] | None = None,
) -> Rule:
    """DynamoDB AccessDeniedException (400), S3 AccessDenied (403), SQS AccessDenied (403)."""
    return _kind_rule("access_denied", service, operations, None, False, resource, times, for_seconds, after)


def connection_reset(
    service: str = "*",
    operations: Operations = None,
    *,
    after_upstream: bool = False,
    resource: ResourceMatch = None,
    times: int | None = None,
    for_seconds: float | None = None,
    after: str | tuple[str, str] | None = None,
) -> Rule:
    """Reset the connection without a response (``after_upstream=True``: after the upstream did the work)."""
    return Rule(
        ResetConnection(after_upstream=after_upstream),
        service=service,
        operations=operations,
        resource=resource,
        times=times,
        for_seconds=for_seconds,
        after=after,
    )


def table_creating(seconds: float, *, resource: ResourceMatch = None, tags_not_found: bool = True) -> list[Rule]:
    """Make DynamoDB tables look CREATING for ``seconds`` after CreateTable, like AWS.

    CreateTable answers ``TableStatus: CREATING``; DescribeTable reports CREATING; DeleteTable and
    UpdateTable raise ResourceInUseException; with ``tags_not_found`` TagResource / UntagResource /
    ListTagsOfResource raise ResourceNotFoundException (AWS does that on CREATING tables).
    """
    rules = [
        Rule(SetTableStatus("CREATING"), service="dynamodb", operations="CreateTable", resource=resource),
        Rule(
            SetTableStatus("CREATING"),
            service="dynamodb",
            operations="DescribeTable",
            resource=resource,
            for_seconds=seconds,
            after="CreateTable",
        ),
        Rule(
            AwsError(
                "ResourceInUseException",
                "Attempt to change a resource which is still in use: Table is being created: {resource}",
            ),
            service="dynamodb",
            operations=("DeleteTable", "UpdateTable", "UpdateTimeToLive"),
            resource=resource,
            for_seconds=seconds,
            after="CreateTable",
        ),
    ]
    if tags_not_found:
        rules.append(
            Rule(
                AwsError("ResourceNotFoundException", "Requested resource not found: Table: {resource} not found"),
                service="dynamodb",
                operations=("TagResource", "UntagResource", "ListTagsOfResource"),
                resource=resource,
                for_seconds=seconds,
                after="CreateTable",
            )
        )
    return rules


def table_not_found_after_create(times: int, *, resource: ResourceMatch = None) -> Rule:
    """The first ``times`` DescribeTable calls after each CreateTable raise ResourceNotFoundException."""
    return Rule(
        AwsError("ResourceNotFoundException", "Requested resource not found: Table: {resource} not found"),
        service="dynamodb",
        operations="DescribeTable",
        resource=resource,
        times=times,
        after="CreateTable",
    )


def table_deleting(seconds: float, *, resource: ResourceMatch = None) -> list[Rule]:
    """Make DynamoDB tables look DELETING for ``seconds`` after DeleteTable, then gone.

    DeleteTable answers ``TableStatus: DELETING``; for ``seconds`` DescribeTable answers DELETING (made up
    from the DeleteTable reply), a repeated DeleteTable succeeds with DELETING (as on AWS), and CreateTable of
    the same name raises ResourceInUseException. Afterwards the upstream answers (ResourceNotFoundException).
    """
    return [
        # First: a repeated DeleteTable inside the window is answered here, not forwarded.
        Rule(
            FakeDeletingTable(),
            service="dynamodb",
            operations=("DescribeTable", "DeleteTable"),
            resource=resource,
            for_seconds=seconds,
            after="DeleteTable",
        ),
        Rule(SetTableStatus("DELETING"), service="dynamodb", operations="DeleteTable", resource=resource),
        Rule(
            AwsError(
                "ResourceInUseException",
                "Attempt to change a resource which is still in use: Table is being deleted: {resource}",
            ),
            service="dynamodb",
            operations="CreateTable",
            resource=resource,
            for_seconds=seconds,
            after="DeleteTable",
        ),
    ]


def table_limit_exceeded(
    kind: Literal["concurrent", "quota"] = "concurrent",
    *,
    operations: Operations = "CreateTable",
    resource: ResourceMatch = None,
    times: int | None = None,
    for_seconds: float | None = None,
) -> Rule:
    """LimitExceededException: ``concurrent`` (retryable, "...simultaneously") or ``quota`` (table count)."""
    message = CONCURRENT_TABLE_LIMIT_MESSAGE if kind == "concurrent" else TABLE_QUOTA_MESSAGE
    return Rule(
        AwsError("LimitExceededException", message),
        service="dynamodb",
        operations=operations,
        resource=resource,
        times=times,
        for_seconds=for_seconds,
    )


def bucket_not_found_after_create(
    seconds: float, *, operations: Operations = None, resource: ResourceMatch = None
) -> Rule:
    """For ``seconds`` after CreateBucket, calls on the bucket fail: HeadBucket 404, others NoSuchBucket.

    ``operations=None`` means every bucket/object call except CreateBucket.
    """
    return Rule(
        AwsError("NoSuchBucket", "The specified bucket does not exist", 404),
        service="s3",
        operations=operations,
        exclude=("CreateBucket", "ListBuckets"),
        resource=resource,
        for_seconds=seconds,
        after="CreateBucket",
    )


def bucket_operation_aborted(
    *,
    operations: Operations = "CreateBucket",
    resource: ResourceMatch = None,
    times: int | None = None,
    for_seconds: float | None = None,
) -> Rule:
    """409 OperationAborted (a conflicting conditional operation is in progress)."""
    return Rule(
        AwsError(
            "OperationAborted",
            "A conflicting conditional operation is currently in progress against this resource. Please try again.",
            409,
        ),
        service="s3",
        operations=operations,
        resource=resource,
        times=times,
        for_seconds=for_seconds,
    )


def queue_deleted_recently(
    *, resource: ResourceMatch = None, times: int | None = None, for_seconds: float | None = None
) -> Rule:
    """CreateQueue raises QueueDeletedRecently (Code ``AWS.SimpleQueueService.QueueDeletedRecently``)."""
    return Rule(
        AwsError(
            "QueueDeletedRecently",
            "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
            query_code="AWS.SimpleQueueService.QueueDeletedRecently",
        ),
        service="sqs",
        operations="CreateQueue",
        resource=resource,
        times=times,
        for_seconds=for_seconds,
    )


def queue_not_ready(seconds: float = 1.0, *, resource: ResourceMatch = None) -> Rule:
    """For ``seconds`` after CreateQueue, every call on that queue (but CreateQueue / ListQueues) raises
    QueueDoesNotExist (Code ``AWS.SimpleQueueService.NonExistentQueue``), like local-aws-sqs's lazy queues."""
    return Rule(
        AwsError(
            "QueueDoesNotExist",
            "The specified queue does not exist.",
            query_code="AWS.SimpleQueueService.NonExistentQueue",
        ),
        service="sqs",
        exclude=("CreateQueue", "ListQueues"),
        resource=resource,
        for_seconds=seconds,
        after="CreateQueue",
    )


TRANSIENT_FAULTS: tuple[str, ...] = ("throttling", "internal", "unavailable", "reset", "latency")


def random_faults(
    rate: float,
    seed: int,
    *,
    service: str = "*",
    operations: Operations = None,
    kinds: Sequence[str] = TRANSIENT_FAULTS,
    latency_seconds: float = 0.2,
    resource: ResourceMatch = None,
    times: int | None = None,
    for_seconds: float | None = None,
) -> Rule:
    """A soak-test mix: each matching request has probability ``rate`` to get one transient fault, chosen
    (with ``seed``) among ``kinds``: throttling, internal (500), unavailable (503), reset (before upstream),
    latency (``latency_seconds``, then forwarded). Reproducible for a given order of requests."""
    rng = random.Random(seed)
    faults: list[Fault] = []
    for kind in kinds:
        if kind == "reset":
            faults.append(ResetConnection())
        elif kind == "latency":
            faults.append(Delay(latency_seconds))
        elif kind in ("throttling", "internal", "unavailable", "access_denied"):
            faults.append(ServiceError(kind))  # type: ignore[arg-type]
        else:
            raise ValueError(f"unknown fault kind {kind!r}; expected some of {', '.join(TRANSIENT_FAULTS)}")
    return Rule(
        Chaos(faults, rng),
        service=service,
        operations=operations,
        resource=resource,
        times=times,
        for_seconds=for_seconds,
        probability=rate,
        seed=rng.randrange(2**32),
        name=f"random faults {rate:.0%}",
    )
