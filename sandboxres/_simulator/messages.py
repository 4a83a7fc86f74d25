"""What passes through the proxy: a request as understood, a reply, the record of a request, the reset marker."""

from __future__ import annotations

import json
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

WireProtocol = Literal["json", "query", "rest-xml", "unknown"]

DYNAMODB_TYPE_PREFIX = "com.amazonaws.dynamodb.v20120810#"
SQS_TYPE_PREFIX = "com.amazonaws.sqs#"
CORAL_SERVICE_PREFIX = "com.amazon.coral.service#"
CORAL_AVAILABILITY_PREFIX = "com.amazon.coral.availability#"
AMZ_JSON = "application/x-amz-json-1.0"


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


class ResetType:
    def __repr__(self) -> str:
        return "RESET"


RESET = ResetType()
Action = Reply | ResetType | None


def new_request_id() -> str:
    return uuid.uuid4().hex.upper()
