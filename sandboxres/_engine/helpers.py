"""Building blocks of the handles' helpers: their deadline, batch calls whose entries fail one by one
(SendMessageBatch, DeleteMessageBatch, BatchWriteItem), and requests whose parameters follow what came back so far.

A batch call can succeed as a whole while some of its entries were not processed (throttled, an internal error):
those entries, and only those, are sent again with backoff until none is left or the deadline passes. An entry
that failed for good (the sender's fault) ends the step at once with :class:`~sandboxres.AWSCallError`.

Both are :class:`~sandboxres._engine.steps.Poll` steps, so both drivers run them unchanged: the request of each
probe is built when it is sent (a :class:`~sandboxres._engine.steps.Call` whose ``params`` is a function), and
the judge of each answer keeps what it learned (the entries still to send) for the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from botocore.exceptions import ClientError

from sandboxres._engine.classify import as_resource_error
from sandboxres._engine.deadlines import helper_timeout
from sandboxres._engine.errors import AWSCallError, ReadinessTimeoutError, SpecError
from sandboxres._engine.steps import Call, NotReady, Plan, Poll, RetryPolicy, retry_wait
from sandboxres._engine.wiring import HandleContext

E = TypeVar("E")


def helper_deadline(context: HandleContext | None, timeout: float | None) -> float:
    """The deadline of a helper of a handle with ``context``, called with ``timeout`` (see ``deadlines``)."""
    return helper_timeout(context.target_kind if context is not None else "aws", timeout)


def check_count(name: str, value: object, *, optional: bool = False) -> int | None:
    """``value`` as a count of at least 1 (None allowed when ``optional``), else SpecError."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"{name} must be a whole number of at least 1, not {value!r}")
    return value


@dataclass(frozen=True)
class BackoffPoll(Poll):
    """A :class:`Poll` that waits between probes as failed calls do (50 ms doubling, capped at 5 s): AWS asks for
    exponential backoff before sending unprocessed batch entries again."""

    def retrying(self) -> dict[str, Any]:
        return {**super().retrying(), "wait": retry_wait()}


@dataclass
class EntryOutcome(Generic[E]):
    """What one answer of a batch call says about its entries: those to send again (``retry``, with the codes
    they failed with), those that failed for good (``failed``: entry, code, message) and the results of those
    that succeeded."""

    retry: list[E] = field(default_factory=list)
    retry_codes: set[str] = field(default_factory=set)
    failed: list[tuple[E, str, str]] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)


@dataclass
class Batch(Generic[E]):
    """One batch call: ``params(entries)`` builds the request, ``read(entries, response)`` sorts the answer."""

    service: str
    operation: str
    params: Callable[[Sequence[E]], Mapping[str, Any]]
    read: Callable[[Sequence[E], Any], EntryOutcome[E]]
    resource: str
    timeout: float
    pending: list[E] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)

    def judge(self, response: Any) -> list[Any]:
        outcome = self.read(self.pending, response)
        self.results.extend(outcome.results)
        if outcome.failed:
            entry, code, message = outcome.failed[0]
            more = f" (and {len(outcome.failed) - 1} more entries)" if len(outcome.failed) > 1 else ""
            raise AWSCallError(self.resource, self.operation, code, f"{message}{more}; entry: {entry!r}"[:2000])
        self.pending = list(outcome.retry)
        if self.pending:
            codes = f" ({', '.join(sorted(outcome.retry_codes))})" if outcome.retry_codes else ""
            raise NotReady(f"{len(self.pending)} entries not processed{codes}")
        return self.results


def send_batch(
    service: str,
    operation: str,
    entries: Sequence[E],
    params: Callable[[Sequence[E]], Mapping[str, Any]],
    read: Callable[[Sequence[E], Any], EntryOutcome[E]],
    resource: str,
    timeout: float,
) -> Plan[list[Any]]:
    """Send ``entries`` in one batch call, then the unprocessed ones again (backoff) until none is left; the
    results of every entry. Entries still unprocessed at ``timeout`` raise AWSCallError saying how many."""
    if not entries:
        return []
    batch = Batch(service, operation, params, read, resource, timeout, pending=list(entries))
    call = Call(service, operation, lambda: batch.params(batch.pending), RetryPolicy(timeout))
    try:
        results: list[Any] = yield BackoffPoll(call, batch.judge, resource, timeout)
    except ClientError as exc:
        raise as_resource_error(exc, resource) from exc
    except ReadinessTimeoutError as exc:
        raise AWSCallError(
            resource,
            "".join(word.title() for word in operation.split("_")),
            "Unprocessed",
            f"{len(batch.pending)} of {len(entries)} entries still not processed after {exc.waited:.1f} s of "
            f"retries with backoff (last: {exc.last_status}). Raise the timeout (timeout= or "
            "SANDBOXRES_HELPER_TIMEOUT) or send fewer at once",
        ) from None
    return results


def chunks(items: Sequence[E], size: int) -> list[Sequence[E]]:
    """``items`` in consecutive slices of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]
