"""The vocabulary of lifecycle plans, and the one place where errors are classified and retries decided.

A plan (see ``_plans``) is a generator that yields :class:`Call` and :class:`Poll` steps and receives each
step's result (or has its exception thrown in). Drivers (``_drivers``) perform the steps with boto3 or aioboto3;
the retry and polling policy of every step is built here, as tenacity keyword arguments both drivers pass
unchanged to ``tenacity.Retrying`` / ``tenacity.AsyncRetrying``.

Error classes:
- transient: throttling, 5xx, connection failures, LimitExceededException "simultaneously": always retried;
- racy: lifecycle races a given step expects (ResourceInUseException on DeleteTable, OperationAborted,
  NoSuchBucket right after CreateBucket, QueueDeletedRecently...): retried only by steps that list them;
- permanent: everything else (validation, access denied, quotas): never retried.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError, ConnectionError, ConnectTimeoutError, HTTPClientError

from sandboxres._engine.errors import (
    AWSCallError,
    EndpointUnreachableError,
    QuotaError,
    ReadinessTimeoutError,
    ResourceError,
)

if TYPE_CHECKING:
    import tenacity

T = TypeVar("T")

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


@dataclass(frozen=True)
class RetryPolicy:
    """What a call retries besides transient failures (``racy`` codes), and for how long.

    ``racy_deadline``, when set, lets the racy codes be retried longer than ``deadline``: a delete that meets a
    resource still being created must wait for it, however short the resource's own timeout, or leak it.
    ``code_deadlines`` gives single racy codes a deadline of their own (it wins over ``racy_deadline``).
    """

    racy: frozenset[str] = frozenset()
    deadline: float = 120.0
    racy_deadline: float | None = None
    code_deadlines: tuple[tuple[str, float], ...] = ()

    def should_retry(self, exc: BaseException) -> bool:
        return is_transient(exc) or (isinstance(exc, ClientError) and error_code(exc) in self.racy)

    def stop(self, state: tenacity.RetryCallState) -> bool:
        """tenacity's stop condition: past ``deadline``, or past ``racy_deadline`` when the last error is racy."""
        exc = state.outcome.exception() if state.outcome else None
        limit = self.deadline
        if isinstance(exc, ClientError) and error_code(exc) in self.racy and not is_transient(exc):
            own = dict(self.code_deadlines).get(error_code(exc))
            limit = own if own is not None else self.racy_deadline if self.racy_deadline is not None else limit
        return (state.seconds_since_start or 0.0) >= limit


def retry_wait() -> Any:
    """Backoff for failed calls: 50 ms doubling with jitter, capped at 5 s."""
    import tenacity  # imported when first used: `import sandboxres` stays light

    return tenacity.wait_exponential(multiplier=0.05, max=5.0) + tenacity.wait_random(0, 0.05)


POLL_FIRST_INTERVAL = 0.07


def poll_wait() -> Any:
    """Polling interval: 70 ms growing by 10 % per probe, capped at 2 s.

    After waiting T seconds the next interval is at most 0.1*T + 0.07 s, so readiness is noticed at most
    10 % of the wait + 70 ms + one probe's latency after it happens (plain doubling would overshoot up to 100 %).
    """
    import tenacity

    return tenacity.wait_exponential(multiplier=POLL_FIRST_INTERVAL, exp_base=1.1, max=2.0)


@dataclass(frozen=True)
class Call:
    """Perform ``client.<operation>(**params)`` on ``service``, retrying as ``policy`` says."""

    service: str
    operation: str
    params: Mapping[str, Any]
    policy: RetryPolicy = RetryPolicy()

    def retrying(self) -> dict[str, Any]:
        """tenacity arguments for this call; the last error is re-raised unchanged once the deadline passes."""
        import tenacity

        return {
            "retry": tenacity.retry_if_exception(self.policy.should_retry),
            "wait": retry_wait(),
            "stop": self.policy.stop,
            "reraise": True,
        }


class NotReady(Exception):
    """Raised by a poll's judge: the resource exists but is not usable yet (``status`` says why)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class Poll:
    """Repeat ``call`` until ``judge`` accepts the response, under a deadline.

    ``judge(response)`` returns the value of the step or raises :class:`NotReady`. ``when_error`` maps error
    codes to what they mean for this poll: ``"not ready"`` (keep polling), ``"done"`` (the step is over and
    returns None; for example ResourceNotFoundException while waiting for a deletion), or an exception
    factory for errors that must stop the poll with a specific error.
    """

    call: Call
    judge: Callable[[Any], Any]
    resource: str
    timeout: float
    when_error: Mapping[str, str | Callable[[BaseException], BaseException]] = field(default_factory=dict)
    known: Any = None

    def first(self, attempt: Any) -> tuple[Any, None] | None:
        """A response already in hand (e.g. from the create call) stands in for the first probe."""
        if self.known is not None and attempt.retry_state.attempt_number == 1:
            return self.known, None
        return None

    def settle(self, response: Any, error: BaseException | None) -> Any:
        """Judge one probe: return the step's value, or raise NotReady / a final error."""
        if error is None:
            return self.judge(response)
        meaning = self.when_error.get(error_code(error)) or self.when_error.get(str(http_status(error)))
        if meaning == "not ready":
            raise NotReady(error_code(error))
        if meaning == "done":
            return None
        if callable(meaning):
            raise meaning(error) from error
        raise error

    def retrying(self) -> dict[str, Any]:
        """tenacity arguments: poll while NotReady or transient, give up with ReadinessTimeoutError."""
        import tenacity

        started = time.monotonic()

        def give_up(state: tenacity.RetryCallState) -> Any:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, NotReady):
                raise ReadinessTimeoutError(self.resource, time.monotonic() - started, exc.status)
            if exc is not None:
                raise exc
            return None  # pragma: no cover - tenacity only gives up after a failed attempt

        return {
            "retry": tenacity.retry_if_exception(lambda e: isinstance(e, NotReady) or self.call.policy.should_retry(e)),
            "wait": poll_wait(),
            "stop": tenacity.stop_after_delay(self.timeout),
            "retry_error_callback": give_up,
        }


Step = Call | Poll
Plan = Generator[Step, Any, T]


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
