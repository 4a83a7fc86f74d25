"""The one place where errors are classified: what a failed SDK call means for the lifecycle.

- transient: throttling, 5xx, connection failures, LimitExceededException "simultaneously": any call retries it;
- racy: lifecycle races a given step expects (ResourceInUseException on DeleteTable, OperationAborted,
  NoSuchBucket right after CreateBucket, QueueDeletedRecently...): retried only by the steps whose
  :class:`~sandboxres._engine.steps.RetryPolicy` lists them;
- permanent: everything else (validation, access denied, quotas): never retried.

It also tells whether a create call's failure proves nothing was created (:func:`answered_without_effect`) and
turns SDK errors into the library's exceptions (:func:`as_resource_error`). botocore's exception classes are
read here; no client is ever made.
"""

from __future__ import annotations

import errno

from botocore.exceptions import ClientError, ConnectionError, ConnectTimeoutError, HTTPClientError

from sandboxres._engine.errors import AWSCallError, EndpointUnreachableError, QuotaError, ResourceError

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
    }
)

# Legacy SQS codes (real AWS puts the modelled name in QueryErrorCode; emulators vary).
_SQS_LEGACY = {
    "AWS.SimpleQueueService.NonExistentQueue": "QueueDoesNotExist",
    "AWS.SimpleQueueService.QueueDeletedRecently": "QueueDeletedRecently",
    "AWS.SimpleQueueService.PurgeQueueInProgress": "PurgeQueueInProgress",
}


def error_code(exc: BaseException) -> str:
    """The modelled error code of a botocore ClientError (QueryErrorCode first), else the class name."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("QueryErrorCode") or err.get("Code") or "")
        return _SQS_LEGACY.get(code, code)
    return type(exc).__name__


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message") or exc)
    return str(exc)


def http_status(exc: BaseException) -> int:
    if isinstance(exc, ClientError):
        return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return 0


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc``, the error botocore wrapped in it (``kwargs['error']``) and its chained causes."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen) or len(seen) > 20:
            continue
        seen.append(item)
        wrapped = getattr(item, "kwargs", {}).get("error") if isinstance(getattr(item, "kwargs", None), dict) else None
        todo.extend([wrapped if isinstance(wrapped, BaseException) else None, item.__cause__, item.__context__])
    return seen


def is_refused(exc: BaseException) -> bool:
    """True when the connection was refused: nothing listens at the endpoint, and the request was never sent."""
    if isinstance(exc, EndpointUnreachableError):
        return True
    if not isinstance(exc, ConnectionError):
        return False
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return True
        if isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED:
            return True
    text = str(exc).lower()
    return "connection refused" in text or "connect call failed" in text


def never_sent(exc: BaseException) -> bool:
    """True when ``exc`` proves the request never reached the server (refused, or no connection in time)."""
    return is_refused(exc) or isinstance(exc, ConnectTimeoutError)


def answered_without_effect(exc: BaseException) -> bool:
    """True when a create call's final error proves it created nothing: the server answered with a permanent
    error, or the request never left. A lost answer (timeout, reset), a 5xx or an interruption prove nothing."""
    if isinstance(exc, ClientError):
        return not is_transient(exc) and http_status(exc) < 500
    return never_sent(exc)


def quota_of(exc: BaseException) -> str | None:
    """The account quota a ClientError says is reached (never retried), or None."""
    if not isinstance(exc, ClientError):
        return None
    code = error_code(exc)
    if code == "LimitExceededException" and "simultaneous" not in error_message(exc).lower():
        return "DynamoDB table quota (tables per account and Region, 2,500 by default)"
    if code == "TooManyBuckets":
        return "S3 bucket quota (buckets per account, 10,000 by default)"
    return None


def is_transient(exc: BaseException) -> bool:
    """True for failures that any call may simply retry."""
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return True
    if not isinstance(exc, ClientError):
        return False
    code = error_code(exc)
    if code in THROTTLING_CODES:
        return True
    if code == "LimitExceededException":
        # The same code means "too many table operations at once" (retry) or the table quota (never retry).
        return "simultaneous" in error_message(exc).lower()
    # 501 Not Implemented is an answer, not an outage: retrying it only waits out the deadline.
    return http_status(exc) >= 500 and http_status(exc) != 501


def as_resource_error(exc: BaseException, resource: str, operation: str = "") -> BaseException:
    """Wrap a botocore error in AWSCallError naming the resource; leave other exceptions alone."""
    if isinstance(exc, ResourceError):
        return exc
    if isinstance(exc, ClientError):
        op = operation or str(exc.operation_name)
        quota = quota_of(exc)
        if quota is not None:
            return QuotaError(resource, op, error_code(exc), quota)
        return AWSCallError(resource, op, error_code(exc), error_message(exc))
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return AWSCallError(resource, operation or "call", type(exc).__name__, str(exc))
    return exc
