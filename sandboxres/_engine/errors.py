"""The exceptions sandboxres raises.

Every exception derives from :class:`SandboxresError`, so ``except SandboxresError`` catches them all::

    SandboxresError
    ├── ConfigurationError (also ValueError)   the environment or a target setting is wrong
    │   └── EndpointUnreachableError           the emulator endpoint refuses connections: it is not running
    ├── SpecError (also ValueError)            bad input for a resource: raised before any API call
    ├── GuardError                             real AWS refused by a safety guard (CI, account, endpoint)
    └── ResourceError                          something happened to one named resource
        ├── ReadinessTimeoutError (also TimeoutError)   not usable before the deadline
        ├── ReceiveTimeoutError (also TimeoutError)     fewer messages or stream records arrived than expected
        ├── ForeignResourceError               the name belongs to someone else (S3 403 / BucketAlreadyExists)
        ├── AWSCallError                       a call failed with a permanent error, or kept failing
        │   └── QuotaError                     an account quota is reached (tables, buckets): sent once
        └── CleanupError                       a resource could not be deleted: it may be left behind

Every message names the resource concerned and the next thing to try. No message ever contains
credentials.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from sandboxres._engine.redaction import redact, scrub_exception


class SandboxresError(Exception):
    """Base class of every error raised by sandboxres. Its text, args and repr never show credentials, nor do
    those of the exceptions it chains: the exception being handled where it is made (which becomes its
    ``__context__``, usually its ``__cause__`` too) is redacted in place."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))
        scrub_exception(sys.exc_info()[1])

    def __str__(self) -> str:
        return redact(super().__str__())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ConfigurationError(SandboxresError, ValueError):
    """The environment or an explicit target setting cannot be used."""


class EndpointUnreachableError(ConfigurationError):
    """The emulator endpoint of the target refuses connections: nothing listens there, so nothing was created.

    Raised within seconds instead of retrying until a deadline; ``endpoint`` is the URL concerned.
    """

    def __init__(self, endpoint: str, service: str = "") -> None:
        what = f" for {service}" if service else ""
        super().__init__(
            f"the emulator endpoint {endpoint}{what} refuses connections: no emulator is running there. "
            "Start one (`sandboxres emulator`, or your own emulator on that port), or point AWS_ENDPOINT_URL "
            "(or SANDBOXRES_TARGET) elsewhere"
        )
        self.endpoint = endpoint
        self.service = service


class SpecError(SandboxresError, ValueError):
    """Invalid input for a resource (label, key schema, option). Raised before any API call."""


class GuardError(SandboxresError):
    """A safety guard refused to run against real AWS."""


class ResourceError(SandboxresError):
    """Something went wrong with one resource; ``resource`` names it (for example ``table test_x_1f2e``)."""

    def __init__(self, resource: str, message: str) -> None:
        super().__init__(f"{resource}: {message}")
        self.resource = resource


class ReadinessTimeoutError(ResourceError, TimeoutError):
    """The resource did not become usable before its deadline; ``last_status`` says what was seen last."""

    def __init__(self, resource: str, waited: float, last_status: str) -> None:
        super().__init__(
            resource,
            f"not ready after {waited:.1f} s (last status: {last_status}). "
            "Raise the timeout (timeout= or SANDBOXRES_*_TIMEOUT) or check the emulator/account.",
        )
        self.waited = waited
        self.last_status = last_status


class ReceiveTimeoutError(ResourceError, TimeoutError):
    """Fewer messages (or stream records, or events) arrived than a helper was asked to wait for, before its
    deadline. ``expected`` and ``received`` (what did arrive, in order) say how many of how many; ``waited`` is in
    seconds; ``shown`` (optional) describes each of ``received`` in the message. The resource itself is fine: what
    the test waited for did not come (yet)."""

    def __init__(
        self,
        resource: str,
        what: str,
        expected: int,
        received: Sequence[object],
        waited: float,
        shown: Sequence[str] | None = None,
    ) -> None:
        texts = [repr(item) for item in received] if shown is None else list(shown)
        seen = "; ".join(_short(text) for text in texts[:3])
        sample = f": {seen}{' ...' if len(texts) > 3 else ''}" if texts else ""
        super().__init__(
            resource,
            f"{len(received)} of {expected} {what} arrived within {waited:.1f} s{sample}. Check that the producer "
            "ran and wrote where this test reads, or raise the timeout (timeout= or SANDBOXRES_HELPER_TIMEOUT)",
        )
        self.expected = expected
        self.received: list[Any] = list(received)
        self.waited = waited


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ForeignResourceError(ResourceError):
    """The name is taken by a resource this caller does not own."""


class AWSCallError(ResourceError):
    """An AWS call failed with an error that retrying cannot fix, or a transient error outlasted its deadline."""

    def __init__(self, resource: str, operation: str, code: str, message: str) -> None:
        super().__init__(resource, f"{operation} failed with {code}: {message}")
        self.operation = operation
        self.code = code


class QuotaError(AWSCallError):
    """An account quota is reached (the DynamoDB table quota, the S3 bucket quota). Sent once, never retried:
    ``quota`` names it; delete leftovers (``sandboxres sweep``) or have the quota raised."""

    def __init__(self, resource: str, operation: str, code: str, quota: str) -> None:
        super().__init__(
            resource,
            operation,
            code,
            f"the account's {quota} is reached. Delete leftover resources (`sandboxres sweep --yes`) "
            f"or have the quota raised (AWS Service Quotas)",
        )
        self.quota = quota


class CleanupError(ResourceError):
    """A resource could not be deleted and may be left behind. ``errors`` holds the underlying failures."""

    def __init__(self, resource: str, errors: Sequence[BaseException]) -> None:
        detail = "; ".join(f"{type(e).__name__}: {e}" for e in errors) or "unknown failure"
        super().__init__(
            resource,
            f"could not be deleted and may be left behind ({detail}). "
            "Remove it with `sandboxres sweep --yes` once the cause is fixed.",
        )
        self.errors = list(errors)
        for error in self.errors:
            scrub_exception(error)


def attach_cleanup_failure(exc: BaseException, failure: CleanupError) -> None:
    """Attach a cleanup failure to an exception that is already propagating, without replacing it."""
    attached: list[CleanupError] = getattr(exc, "sandboxres_cleanup_errors", [])
    attached.append(failure)
    try:
        exc.sandboxres_cleanup_errors = attached  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - exceptions with __slots__
        return
    add_note = getattr(exc, "add_note", None)
    if add_note is not None:
        add_note(f"sandboxres cleanup also failed: {failure}")
