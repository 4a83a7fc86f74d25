"""AWS errors answered in the wire format of the request's protocol (JSON, query, REST/XML), so that botocore
raises the same exception class, ``Error.Code`` and ``Error.QueryErrorCode`` as against AWS."""

from __future__ import annotations

import email.utils
import http.client
import json
import uuid
import zlib
from collections.abc import Sequence
from typing import Literal
from xml.sax.saxutils import escape

from sandboxres._simulator.faults import Fault, Trigger
from sandboxres._simulator.messages import (
    AMZ_JSON,
    CORAL_AVAILABILITY_PREFIX,
    CORAL_SERVICE_PREFIX,
    DYNAMODB_TYPE_PREFIX,
    SQS_TYPE_PREFIX,
    Action,
    ProxyRequest,
    Reply,
    ResetType,
    new_request_id,
)


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

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        return self.render(request) if self.after_upstream else reply

    def render(self, request: ProxyRequest) -> Reply:
        message = self.message.replace("{resource}", request.resource or "")
        request_id = new_request_id()
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

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        return self.error_for(request.service).after(request, reply, trigger)
