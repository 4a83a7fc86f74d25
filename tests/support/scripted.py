"""A scripted driver: runs a lifecycle plan with no I/O, answering each step from a script.

A plan (``sandboxres._engine.steps``) yields ``Call`` and ``Poll`` steps. :class:`Script` answers them in order
from :func:`call` / :func:`poll` expectations, and fails the test (:class:`ScriptError`, never fed to the plan) when
a step is not the expected one: service, operation, the given key parameters (``ABSENT`` for a key that must not
be there), the policy's deadline or the poll's timeout.

Outcomes are replies, or :class:`Fail` (an exception plus the retry decision the test expects of the step's
policy): the script checks ``policy.should_retry(exc)`` (and ``policy.limit(exc)`` when given) for every one.

* A ``Call`` goes through its outcomes the way the real drivers' tenacity loop would: a retried failure is
  followed by the next outcome; the last outcome is the call's result (a failure is thrown into the plan: the
  retries ran out). A failure the policy does not retry must be the last outcome.
* A ``Poll`` applies ``poll.first()`` (a response already in hand stands in for the first probe) and
  ``poll.settle()`` to each probe, as ``sandboxres._runtime.drivers`` does: ``NotReady`` and transient errors
  poll again, anything else ends the step. ``times_out=True``: once the probes are used up, the poll gives up as
  ``Poll.retrying()``'s ``give_up`` does: ``ReadinessTimeoutError`` after ``NotReady``, else the last error.

Nothing sleeps: the deadlines are only checked, never waited out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from sandboxres._engine.errors import ReadinessTimeoutError
from sandboxres._engine.steps import Call, NotReady, Plan, Poll, Step

T = TypeVar("T")
ABSENT = object()  # in expected params: this key must not be there


class ScriptError(AssertionError):
    """The plan did not do what the script says: raised to the test, never thrown into the plan."""


def client_error(
    code: str, message: str = "", status: int = 400, operation: str = "Operation", *, query_code: str | None = None
) -> ClientError:
    """A botocore ClientError as the SDK raises it: code, message and HTTP status (``query_code``: SQS's
    ``QueryErrorCode``, which real AWS sends besides a legacy ``Code``)."""
    error = {"Code": code, "Message": message or f"scripted {code}"}
    if query_code is not None:
        error["QueryErrorCode"] = query_code
    response: Any = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)


@dataclass(frozen=True)
class Fail:
    """A scripted exception, with the retry decision expected of the step's policy (``limit``: how long)."""

    error: BaseException
    retry: bool
    limit: float | None = None


@dataclass
class Expect:
    """One expected step and its scripted outcomes."""

    service: str
    operation: str
    params: Mapping[str, Any] | None
    outcomes: Sequence[Any]
    is_poll: bool = False
    deadline: float | None = None  # the Call's policy deadline, or the Poll's timeout
    times_out: bool = False
    step: Step | None = field(default=None, repr=False)  # the step the plan yielded for it

    def __str__(self) -> str:
        what = "Poll" if self.is_poll else "Call"
        return f"{what} {self.service}.{self.operation}({dict(self.params or {})})"


def call(
    service: str, operation: str, params: Mapping[str, Any] | None = None, *outcomes: Any, deadline: float | None = None
) -> Expect:
    """A ``Call``; its outcomes (default: one ``{}`` reply)."""
    return Expect(service, operation, params, outcomes or ({},), deadline=deadline)


def poll(
    service: str,
    operation: str,
    params: Mapping[str, Any] | None = None,
    *probes: Any,
    timeout: float | None = None,
    times_out: bool = False,
) -> Expect:
    """A ``Poll`` of ``service.operation``; its probes' outcomes (none: the poll's ``known`` response must do)."""
    return Expect(service, operation, params, probes, is_poll=True, deadline=timeout, times_out=times_out)


def check(step: Any, expect: Expect) -> None:
    """Fail unless ``step`` is the one ``expect`` describes."""
    if not isinstance(step, (Call, Poll)):
        raise ScriptError(f"the plan yielded {step!r}, not a step; expected {expect}")
    if isinstance(step, Poll) != expect.is_poll:
        raise ScriptError(f"expected {expect}, the plan yielded a {type(step).__name__}: {step}")
    made = step.call if isinstance(step, Poll) else step
    params = made.request()
    if (made.service, made.operation) != (expect.service, expect.operation):
        raise ScriptError(f"expected {expect}, got {made.service}.{made.operation}({dict(params)})")
    for key, value in (expect.params or {}).items():
        if value is ABSENT:
            if key in params:
                raise ScriptError(f"{expect}: {key} should be absent, got {params[key]!r}")
        elif key not in params or params[key] != value:
            raise ScriptError(f"{expect}: {key} should be {value!r}, got {params.get(key, '(absent)')!r}")
    if expect.deadline is not None:
        actual = step.timeout if isinstance(step, Poll) else step.policy.deadline
        if actual != expect.deadline:
            raise ScriptError(f"{expect}: deadline {actual!r}, expected {expect.deadline!r}")


def _judge_retry(call_: Call, outcome: Fail, actual: bool) -> None:
    if actual != outcome.retry:
        raise ScriptError(f"{call_.operation}: {outcome.error!r} retried={actual}, expected {outcome.retry}")
    limit = call_.policy.limit(outcome.error)
    if outcome.limit is not None and limit != outcome.limit:
        raise ScriptError(f"{call_.operation}: {outcome.error!r} retried for {limit} s, expected {outcome.limit} s")


def run(plan: Plan[T], *expected: Expect) -> T:
    """Drive ``plan`` through the steps ``expected`` (``Script(*expected).run(plan)``)."""
    return Script(*expected).run(plan)


class Script:
    """Answers a plan's steps from the expectations, in order; ``run(plan)`` drives the plan to its end."""

    def __init__(self, *expected: Expect) -> None:
        self.pending = list(expected)
        self.done: list[Expect] = []

    @property
    def steps(self) -> list[Step]:
        """The steps the plan yielded so far."""
        return [e.step for e in self.done if e.step is not None]

    def run(self, plan: Plan[T]) -> T:
        """Drive ``plan`` to its end like the real drivers; every expectation must be used."""
        reply: Any = None
        error: BaseException | None = None
        try:
            while True:
                try:
                    step = plan.throw(error) if error is not None else plan.send(reply)
                except StopIteration as stop:
                    self._all_used("returned")
                    value: T = stop.value
                    return value
                except Exception as exc:
                    self._all_used(f"raised {exc!r}")
                    raise
                reply, error = None, None
                try:
                    reply = self.answer(step)
                except ScriptError:
                    raise
                except Exception as exc:
                    error = exc
        finally:
            plan.close()

    def _all_used(self, ended: str) -> None:
        if self.pending:
            raise ScriptError(f"the plan {ended} before {', '.join(map(str, self.pending))}")

    def answer(self, step: Step) -> Any:
        """Check ``step`` against the next expectation; return its result or raise its final error."""
        if not self.pending:
            raise ScriptError(f"unexpected step after the script's end: {step}")
        expect = self.pending.pop(0)
        check(step, expect)
        expect.step = step
        self.done.append(expect)
        if isinstance(step, Poll):
            return self._poll(step, expect)
        assert isinstance(step, Call)
        return self._call(step, expect)

    @staticmethod
    def _call(step: Call, expect: Expect) -> Any:
        for n, outcome in enumerate(expect.outcomes, 1):
            last = n == len(expect.outcomes)
            if not isinstance(outcome, Fail):
                if not last:
                    raise ScriptError(f"{expect}: a reply must be the last outcome")
                return outcome
            _judge_retry(step, outcome, step.policy.should_retry(outcome.error))
            if last:
                raise outcome.error
            if not outcome.retry:
                raise ScriptError(f"{expect}: {outcome.error!r} is not retried, so it must be the last outcome")
        raise ScriptError(f"{expect}: no outcome")  # pragma: no cover - call() always gives one

    @staticmethod
    def _poll(step: Poll, expect: Expect) -> Any:
        probes = list(expect.outcomes)
        attempt = 0
        last: Exception | None = None
        while True:
            attempt += 1
            scripted: Any = None
            known = step.first(SimpleNamespace(retry_state=SimpleNamespace(attempt_number=attempt)))
            if known is not None:
                response, error = known
            elif probes:
                scripted = probes.pop(0)
                response, error = (None, scripted.error) if isinstance(scripted, Fail) else (scripted, None)
            elif expect.times_out and last is not None:
                if isinstance(last, NotReady):
                    raise ReadinessTimeoutError(step.resource, step.timeout, last.status)
                raise last
            else:
                raise ScriptError(f"{expect}: the poll wants another probe after {attempt - 1}")
            try:
                value = step.settle(response, error)
            except Exception as exc:
                again = isinstance(exc, NotReady) or step.call.policy.should_retry(exc)
                if isinstance(scripted, Fail):
                    _judge_retry(step.call, scripted, again)
                if again:
                    last = exc
                    continue
                if probes:
                    raise ScriptError(f"{expect}: the poll ended with {exc!r} before probes {probes}") from exc
                raise
            if isinstance(scripted, Fail):
                _judge_retry(step.call, scripted, False)
            if probes or expect.times_out:
                raise ScriptError(f"{expect}: the poll returned {value!r}, with probes {probes} left")
            return value
