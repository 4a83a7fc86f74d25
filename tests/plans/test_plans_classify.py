"""Error classification (sandboxres._engine.classify), every branch, on hand-built botocore exceptions."""

from __future__ import annotations

import asyncio
import errno
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectionError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)

from sandboxres._engine.classify import (
    answered_without_effect,
    as_resource_error,
    error_code,
    error_message,
    http_status,
    is_refused,
    is_transient,
    never_sent,
    quota_of,
)
from sandboxres._engine.errors import (
    AWSCallError,
    CleanupError,
    EndpointUnreachableError,
    QuotaError,
    ReadinessTimeoutError,
)
from tests.support.scripted import client_error

URL = "http://127.0.0.1:1"


class ConnectorError(OSError):
    """An OSError subclass, as aiohttp's ClientConnectorError is."""


def refused() -> EndpointConnectionError:
    return EndpointConnectionError(endpoint_url=URL, error=ConnectionRefusedError(errno.ECONNREFUSED, "refused"))


# ---------------------------------------------------------------------------------------------------------
# codes, messages, statuses


def test_error_code_prefers_the_query_code_and_maps_sqs_legacy_codes() -> None:
    assert error_code(client_error("AWS.SimpleQueueService.NonExistentQueue")) == "QueueDoesNotExist"
    assert error_code(client_error("AWS.SimpleQueueService.QueueDeletedRecently")) == "QueueDeletedRecently"
    assert error_code(client_error("AWS.SimpleQueueService.PurgeQueueInProgress")) == "PurgeQueueInProgress"
    legacy = client_error("AWS.SimpleQueueService.NonExistentQueue", query_code="QueueDoesNotExist")
    assert error_code(legacy) == "QueueDoesNotExist"
    assert error_code(client_error("NoSuchBucket", query_code="")) == "NoSuchBucket", "an empty query code"
    assert error_code(ClientError({}, "Op")) == ""
    assert error_code(ClientError({"Error": {}}, "Op")) == ""
    assert error_code(ValueError("x")) == "ValueError"


def test_error_message_and_http_status() -> None:
    assert error_message(client_error("X", "the message")) == "the message"
    bare = ClientError({"Error": {"Code": "X"}}, "DoIt")
    assert error_message(bare) == str(bare)
    assert error_message(ValueError("plain")) == "plain"
    assert http_status(client_error("X", status=409)) == 409
    assert http_status(bare) == 0
    no_status: Any = {"Error": {}, "ResponseMetadata": {"HTTPStatusCode": None}}
    assert http_status(ClientError(no_status, "Op")) == 0
    assert http_status(ValueError("x")) == 0


# ---------------------------------------------------------------------------------------------------------
# refused connections


def test_refused_connections() -> None:
    assert is_refused(EndpointUnreachableError(URL, "s3"))
    assert not is_refused(ValueError("connection refused")), "only connection errors"
    assert is_refused(refused())
    # OSError(ECONNREFUSED, ...) is made a ConnectionRefusedError; a subclass of OSError (aiohttp's connector
    # errors) keeps its class and carries the errno only
    oserror = EndpointConnectionError(endpoint_url=URL, error=ConnectorError(errno.ECONNREFUSED, "nope"))
    assert is_refused(oserror)
    chained = EndpointConnectionError(endpoint_url=URL)
    chained.__cause__ = ConnectionRefusedError()
    assert is_refused(chained)
    context = EndpointConnectionError(endpoint_url=URL)
    context.__context__ = OSError(errno.ECONNREFUSED, "x")
    assert is_refused(context)


def test_refused_told_by_the_text_alone() -> None:
    assert is_refused(ConnectionError(error=Exception("[Errno 111] Connection refused")))
    assert is_refused(ConnectionError(error=Exception("Connect call failed ('127.0.0.1', 1)")))
    other_errno = EndpointConnectionError(endpoint_url=URL, error=OSError(errno.EHOSTUNREACH, "no route"))
    assert not is_refused(other_errno)
    assert not is_refused(EndpointConnectionError(endpoint_url=URL, error="not an exception"))


def test_refused_cause_walk_survives_cycles_and_long_chains() -> None:
    looped = EndpointConnectionError(endpoint_url=URL)
    middle = RuntimeError("middle")
    looped.__cause__ = middle
    middle.__cause__ = looped  # a cycle: each exception is looked at once
    assert not is_refused(looped)
    head = EndpointConnectionError(endpoint_url=URL)
    item: BaseException = head
    for n in range(30):  # the walk stops after about 20 exceptions
        nxt = RuntimeError(str(n))
        item.__cause__ = nxt
        item = nxt
    item.__cause__ = ConnectionRefusedError()
    assert not is_refused(head), "a refusal buried 30 causes deep is not looked for"
    no_kwargs = ConnectionError(error=Exception("x"))
    no_kwargs.kwargs = "not a dict"  # type: ignore[assignment]
    assert not is_refused(no_kwargs)


def test_never_sent() -> None:
    assert never_sent(refused())
    assert never_sent(ConnectTimeoutError(endpoint_url=URL))
    assert not never_sent(ReadTimeoutError(endpoint_url=URL))
    assert not never_sent(ValueError())


# ---------------------------------------------------------------------------------------------------------
# transient, quota, "answered without effect"


@pytest.mark.parametrize("code", ["ThrottlingException", "SlowDown", "InternalError", "ServiceUnavailable"])
def test_throttling_codes_are_transient(code: str) -> None:
    assert is_transient(client_error(code))


def test_transient_or_not() -> None:
    assert is_transient(refused())
    assert is_transient(ReadTimeoutError(endpoint_url=URL))
    assert is_transient(ConnectionClosedError(endpoint_url=URL))
    assert is_transient(HTTPClientError(error="x"))
    assert not is_transient(ValueError())
    assert is_transient(client_error("LimitExceededException", "Too many operations simultaneously"))
    assert not is_transient(client_error("LimitExceededException", "table quota reached"))
    assert is_transient(client_error("Weird", status=500))
    assert is_transient(client_error("Weird", status=503))
    assert not is_transient(client_error("NotImplemented", status=501)), "an answer, not an outage"
    assert not is_transient(client_error("ValidationException", status=400))


def test_quota_of() -> None:
    assert quota_of(ValueError()) is None
    assert "DynamoDB table quota" in str(quota_of(client_error("LimitExceededException", "quota")))
    assert quota_of(client_error("LimitExceededException", "too many SIMULTANEOUS ops")) is None
    assert "S3 bucket quota" in str(quota_of(client_error("TooManyBuckets")))
    assert quota_of(client_error("AccessDenied", status=403)) is None


@pytest.mark.parametrize(
    ("exc", "proven"),
    [
        (client_error("ValidationException"), True),
        (client_error("AccessDenied", status=403), True),
        (client_error("LimitExceededException", "quota"), True),
        (client_error("ThrottlingException"), False),
        (client_error("InternalError", status=500), False),
        (client_error("NotImplemented", status=501), False),
        (client_error("Weird", status=502), False),
        (refused(), True),
        (ConnectTimeoutError(endpoint_url=URL), True),
        (EndpointConnectionError(endpoint_url=URL, error=OSError(errno.ECONNRESET, "reset")), False),
        (ReadTimeoutError(endpoint_url=URL), False),
        (ConnectionClosedError(endpoint_url=URL), False),
        (HTTPClientError(error="x"), False),
        (asyncio.CancelledError(), False),
        (TimeoutError(), False),
        (KeyboardInterrupt(), False),
    ],
)
def test_answered_without_effect(exc: BaseException, proven: bool) -> None:
    assert answered_without_effect(exc) is proven


# ---------------------------------------------------------------------------------------------------------
# as_resource_error


def test_resource_errors_pass_through() -> None:
    for exc in (CleanupError("table t", []), ReadinessTimeoutError("table t", 1.0, "CREATING")):
        assert as_resource_error(exc, "table t") is exc


def test_client_errors_become_aws_call_errors() -> None:
    exc = client_error("ValidationException", "bad key", operation="CreateTable")
    wrapped = as_resource_error(exc, "table t")
    assert type(wrapped) is AWSCallError
    assert (wrapped.operation, wrapped.code, wrapped.resource) == ("CreateTable", "ValidationException", "table t")
    assert "bad key" in str(wrapped)
    named = as_resource_error(exc, "table t", "DeleteTable")
    assert isinstance(named, AWSCallError) and named.operation == "DeleteTable"


def test_quota_client_errors_become_quota_errors() -> None:
    exc = client_error("TooManyBuckets", operation="CreateBucket")
    wrapped = as_resource_error(exc, "bucket b")
    assert isinstance(wrapped, QuotaError)
    assert (wrapped.operation, wrapped.code) == ("CreateBucket", "TooManyBuckets")
    assert "S3 bucket quota" in wrapped.quota


def test_connection_errors_become_aws_call_errors() -> None:
    wrapped = as_resource_error(ReadTimeoutError(endpoint_url=URL), "queue q")
    assert isinstance(wrapped, AWSCallError)
    assert (wrapped.operation, wrapped.code) == ("call", "ReadTimeoutError")
    named = as_resource_error(refused(), "queue q", "CreateQueue")
    assert isinstance(named, AWSCallError)
    assert (named.operation, named.code) == ("CreateQueue", "EndpointConnectionError")


def test_other_exceptions_are_left_alone() -> None:
    exc = ValueError("mine")
    assert as_resource_error(exc, "table t") is exc
