"""The vocabulary of lifecycle plans: steps, what their errors mean, and how long each is retried.

A plan (the ``plans`` of each kind in ``sandboxres._kinds``) is a generator that yields :class:`Call` and
:class:`Poll` steps and receives each step's result (or has its exception thrown in). The drivers
(``sandboxres._runtime.drivers``) perform the steps with boto3 or aioboto3; the retry and polling policy of
every step is built here, as tenacity keyword arguments both drivers pass unchanged to ``tenacity.Retrying`` /
``tenacity.AsyncRetrying``. Which errors are transient, racy or permanent is decided in ``classify``.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, Union

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code, http_status, is_transient
from sandboxres._engine.errors import ReadinessTimeoutError

if TYPE_CHECKING:
    import tenacity

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """What a call retries besides transient failures, and for how long: one deadline per error code.

    ``deadline`` bounds the retries of transient failures (throttling, 5xx, lost connections). ``racy`` maps the
    racy error codes this call expects to how long each is retried: ``None`` means as long as ``deadline``; a
    number of its own lets a code outlast it (a delete that meets a table still CREATING must wait for it,
    however short the resource's own timeout, or leak it).
    """

    deadline: float = 120.0
    racy: Mapping[str, float | None] = field(default_factory=dict)

    def retrying_also(self, code: str, seconds: float | None = None) -> RetryPolicy:
        """This policy, also retrying ``code`` (for ``seconds``, or as long as ``deadline``)."""
        return RetryPolicy(self.deadline, {**self.racy, code: seconds})

    def cut_to(self, timeout: float) -> RetryPolicy:
        """This policy with ``deadline`` cut to ``timeout``; codes with a deadline of their own keep it."""
        return RetryPolicy(min(self.deadline, timeout), self.racy)

    def should_retry(self, exc: BaseException) -> bool:
        return is_transient(exc) or (isinstance(exc, ClientError) and error_code(exc) in self.racy)

    def limit(self, exc: BaseException | None) -> float:
        """How long a call whose last error was ``exc`` may go on retrying."""
        if isinstance(exc, ClientError) and not is_transient(exc):
            own = self.racy.get(error_code(exc))
            if own is not None:
                return own
        return self.deadline

    def stop(self, state: tenacity.RetryCallState) -> bool:
        """tenacity's stop condition: past the deadline of the last error."""
        exc = state.outcome.exception() if state.outcome else None
        return (state.seconds_since_start or 0.0) >= self.limit(exc)


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
    """Perform ``client.<operation>(**params)`` on ``service``, retrying as ``policy`` says.

    ``params`` may be a function building them: it is called for each request sent (a retry or a poll's next probe
    sends what it returns then: the entries of a batch still unprocessed, the next shard iterator)."""

    service: str
    operation: str
    params: Mapping[str, Any] | Callable[[], Mapping[str, Any]]
    policy: RetryPolicy = RetryPolicy()

    def request(self) -> Mapping[str, Any]:
        """The parameters of the request about to be sent."""
        return self.params() if callable(self.params) else self.params

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


class Outcome(enum.Enum):
    """What an error code means for a :class:`Poll`."""

    NOT_READY = "not ready"  # keep polling
    DONE = "done"  # the step is over and returns None (ResourceNotFoundException while waiting for a deletion)


ErrorMeaning = Union[Outcome, Callable[[BaseException], BaseException]]  # noqa: UP007 - evaluated on 3.10


@dataclass(frozen=True)
class Poll:
    """Repeat ``call`` until ``judge`` accepts the response, under a deadline.

    ``judge(response)`` returns the value of the step or raises :class:`NotReady`. ``when_error`` maps error
    codes (or HTTP statuses) to what they mean for this poll: an :class:`Outcome`, or an exception factory for
    errors that must stop the poll with a specific error.
    """

    call: Call
    judge: Callable[[Any], Any]
    resource: str
    timeout: float
    when_error: Mapping[str, ErrorMeaning] = field(default_factory=dict)
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
        if meaning is Outcome.NOT_READY:
            raise NotReady(error_code(error))
        if meaning is Outcome.DONE:
            return None
        if meaning is not None:
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

        def stop(state: tenacity.RetryCallState) -> bool:
            # Past the poll's deadline a probe that failed transiently (throttled, 5xx, a lost connection) is retried
            # within its call's own deadline: a throttle at the last moment is not the resource's answer
            exc = state.outcome.exception() if state.outcome else None
            limit = (
                self.timeout
                if exc is None or isinstance(exc, NotReady)
                else max(self.timeout, self.call.policy.limit(exc))
            )
            return (state.seconds_since_start or 0.0) >= limit

        return {
            "retry": tenacity.retry_if_exception(lambda e: isinstance(e, NotReady) or self.call.policy.should_retry(e)),
            "wait": poll_wait(),
            "stop": stop,
            "retry_error_callback": give_up,
        }


Step = Call | Poll
Plan = Generator[Step, Any, T]
