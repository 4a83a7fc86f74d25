"""What went wrong in a ``check`` or ``doctor`` call, read from the exception while it is at hand, and what to do.

:func:`failure_of` turns an exception into a :class:`Failure` with typed fields (its :class:`Cause`, error code,
operation, message); ``doctor`` chooses its hints from those fields (:func:`hint_for`). The cause is read from
the exception classes, error codes and HTTP status of the exception and of everything it chains or wraps (the
SDK error behind a library error, the failures of a CleanupError), the first matching cause in
:class:`Cause`'s order winning.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code, error_message, http_status
from sandboxres._engine.errors import CleanupError
from sandboxres._engine.redaction import redact
from sandboxres._kinds import KINDS
from sandboxres._runtime.target import Target

# boto3's service-specific endpoint variable of each kind's service (AWS_ENDPOINT_URL_S3...).
ENDPOINT_VARIABLE = {kind.service: f"AWS_ENDPOINT_URL_{kind.service.upper()}" for kind in KINDS.values()}


class Cause(Enum):
    """The kinds of failure ``doctor`` knows a hint for, in the order they are recognised."""

    CONFIGURATION = "configuration"
    GUARD = "guard"
    NO_CREDENTIALS = "no-credentials"
    NO_REGION = "no-region"
    EXPIRED = "expired"
    BAD_CREDENTIALS = "bad-credentials"
    ACCESS_DENIED = "access-denied"
    CONNECTION = "connection"
    TIMEOUT = "timeout"
    READINESS = "readiness"
    NOT_IMPLEMENTED = "not-implemented"
    MISMATCH = "mismatch"
    OTHER = "other"


# Exception class names and error codes of each cause (a library error carries the SDK's code).
_NAMES: dict[Cause, frozenset[str]] = {
    Cause.CONFIGURATION: frozenset({"ConfigurationError"}),
    Cause.GUARD: frozenset({"GuardError"}),
    Cause.NO_CREDENTIALS: frozenset({"NoCredentialsError", "PartialCredentialsError"}),
    Cause.NO_REGION: frozenset({"NoRegionError"}),
    Cause.EXPIRED: frozenset(
        {
            "ExpiredToken",
            "ExpiredTokenException",
            "RequestExpired",
            "TokenRefreshRequired",
            "SSOTokenLoadError",
            "UnauthorizedSSOTokenError",
        }
    ),
    Cause.BAD_CREDENTIALS: frozenset(
        {
            "InvalidClientTokenId",
            "UnrecognizedClientException",
            "SignatureDoesNotMatch",
            "InvalidAccessKeyId",
            "InvalidSignatureException",
            "IncompleteSignature",
            "IncompleteSignatureException",
            "AuthFailure",
        }
    ),
    Cause.ACCESS_DENIED: frozenset(
        {
            "AccessDenied",
            "AccessDeniedException",
            "AWS.SimpleQueueService.AccessDenied",
            "UnauthorizedOperation",
            "AuthorizationError",
        }
    ),
    Cause.CONNECTION: frozenset(
        {
            "EndpointConnectionError",
            "EndpointUnreachableError",
            "ConnectionClosedError",
            "ConnectTimeoutError",
            "ConnectionRefusedError",
        }
    ),
    Cause.TIMEOUT: frozenset({"ReadTimeoutError"}),
    Cause.READINESS: frozenset({"ReadinessTimeoutError"}),
    Cause.NOT_IMPLEMENTED: frozenset(
        {
            "NotImplemented",
            "NotImplementedError",
            "NotImplementedException",
            "UnknownOperation",
            "UnknownOperationException",
            "InvalidAction",
        }
    ),
    Cause.MISMATCH: frozenset({"AssertionError"}),
}
# What some services and emulators say under codes of their own.
_MESSAGES: dict[Cause, tuple[str, ...]] = {
    Cause.BAD_CREDENTIALS: ("security token included in the request is invalid",),
    Cause.ACCESS_DENIED: ("not authorized to perform",),
    Cause.NOT_IMPLEMENTED: ("not yet implemented",),
}


@dataclass(frozen=True)
class Failure:
    """One failed call or check: its cause, the exception's class name, its error code (the SDK's, or the class
    name when there is none), the SDK operation when known, the error message and ``str()`` (both redacted)."""

    cause: Cause
    exception: str
    code: str
    operation: str
    message: str
    text: str

    @property
    def summary(self) -> str:
        """``<type>: <text>``: the ``error`` of ``sandboxres check``."""
        return f"{self.exception}: {self.text}"

    @property
    def described(self) -> str:
        """``<type>: <code>: <message>`` for an SDK error, ``<type>: <text>`` otherwise, on one line."""
        if self.code and self.code != self.exception:
            return one_line(f"{self.exception}: {self.code}: {self.message}")
        return one_line(self.summary)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, its cause (``raise ... from``), the error botocore wrapped in it, the failures of a CleanupError."""
    seen: list[BaseException] = []
    todo: list[object] = [exc]
    while todo and len(seen) <= 20:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or any(item is s for s in seen):
            continue
        seen.append(item)
        yield item
        kwargs = getattr(item, "kwargs", None)
        todo += [item.__cause__, kwargs.get("error") if isinstance(kwargs, dict) else None]
        if isinstance(item, CleanupError):
            todo += item.errors


def _names(exc: BaseException) -> set[str]:
    names = {type(exc).__name__, error_code(exc)}
    code = getattr(exc, "code", None)  # AWSCallError: the SDK's code
    if isinstance(code, str):
        names.add(code)
    return names


def _matches(cause: Cause, exc: BaseException) -> bool:
    if _names(exc) & _NAMES.get(cause, frozenset()):
        return True
    if cause is Cause.NOT_IMPLEMENTED and http_status(exc) == 501:
        return True
    message = error_message(exc)
    return any(phrase in message for phrase in _MESSAGES.get(cause, ()))


def cause_of(exc: BaseException) -> Cause:
    """The cause of ``exc``: the first of :class:`Cause` that it, or anything it chains, shows."""
    chain = list(_chain(exc))
    for cause in Cause:
        if any(_matches(cause, item) for item in chain):
            return cause
    return Cause.OTHER


def _operation(exc: BaseException) -> str:
    for item in _chain(exc):
        operation = getattr(item, "operation", None)  # AWSCallError
        if isinstance(operation, str) and operation:
            return operation
        if isinstance(item, ClientError):
            return str(item.operation_name)
    return ""


def failure_of(exc: BaseException) -> Failure:
    """What ``exc`` tells, with credentials redacted."""
    return Failure(
        cause=cause_of(exc),
        exception=type(exc).__name__,
        code=error_code(exc),
        operation=_operation(exc),
        message=redact(error_message(exc)),
        text=redact(str(exc)),
    )


def one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line (emulators put whole XML documents in messages), cut at ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def hint_for(cause: Cause, target: Target, service: str | None = None) -> str:
    """What to do about a failure of ``cause`` on ``target`` (``service`` when one is concerned)."""
    url = target.endpoints.get(service) if service else None
    emulated = target.kind != "aws"
    var = ENDPOINT_VARIABLE.get(service or "", "AWS_ENDPOINT_URL")
    if cause is Cause.BAD_CREDENTIALS and emulated:
        return (
            "the emulator rejected the credentials: s3rver accepts only S3RVER / S3RVER; moto and LocalStack "
            "accept any unless their authentication is switched on"
        )
    if cause is Cause.CONNECTION:
        if emulated:
            return (
                f"nothing answers at {url or 'the endpoint'}: start the emulator (for example `sandboxres "
                f"emulator`), or correct {var} / AWS_ENDPOINT_URL"
            )
        return "AWS is not reachable: check the network, the proxy variables (HTTPS_PROXY) and AWS_REGION"
    if cause is Cause.NOT_IMPLEMENTED:
        return f"this endpoint does not implement {service or 'the service'}: point {var} at an emulator that does"
    return _HINTS[cause]


_HINTS: dict[Cause, str] = {
    Cause.CONFIGURATION: "fix the variables named in the error; `sandboxres env` shows what is set and where it "
    "came from",
    Cause.GUARD: "a safety guard refused real AWS: do what the message says (see the safety rules in the "
    "documentation)",
    Cause.NO_CREDENTIALS: "no credentials found: set AWS_PROFILE to the sandbox account's profile (or "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); `sandboxres init` writes a .env.integration template",
    Cause.NO_REGION: "no region: set AWS_REGION (for example in .env.integration)",
    Cause.EXPIRED: "the credentials have expired: refresh them (for example `aws sso login --profile <profile>`)",
    Cause.BAD_CREDENTIALS: "AWS rejected the credentials: check the access key or profile (AWS_PROFILE) of the "
    "sandbox account",
    Cause.ACCESS_DENIED: "the identity lacks a permission: attach the policy printed by `sandboxres policy` to the "
    "sandbox user or role (see the per-service set-up pages)",
    Cause.TIMEOUT: "the endpoint accepted the connection but did not answer in time: is it an AWS emulator, and is "
    "it busy?",
    Cause.READINESS: "the resource did not become ready in time: raise SANDBOXRES_<KIND>_TIMEOUT, or check the "
    "emulator",
    Cause.MISMATCH: "the endpoint answered but returned other data than written: it does not emulate the service "
    "faithfully",
    Cause.OTHER: "unexpected failure: `sandboxres check --json` and the error above have the details",
}
