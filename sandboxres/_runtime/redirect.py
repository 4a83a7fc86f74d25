"""Point code under test that builds its own SDK clients at the target, through the standard variables.

While :func:`redirect` is active the process environment carries what boto3, aioboto3 and most helper modules read:

- on the embedded emulator: ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>`` for DynamoDB, DynamoDB Streams,
  S3, SQS, SNS and STS, the conventional ``DYNAMODB_ENDPOINT`` / ``S3_ENDPOINT`` / ``SQS_ENDPOINT``, the region
  (``AWS_REGION`` and ``AWS_DEFAULT_REGION``) and the emulator's dummy credentials;
- on an external emulator: the same variables for each service the target has an endpoint for (``AWS_ENDPOINT_URL``
  itself is left as the user set it), dummy credentials unless the environment gives keys for the emulator;
- on ``simulated``: the same as on the emulator behind it, every endpoint being the simulator's (and
  ``AWS_ENDPOINT_URL`` too when one simulator serves every service), so that the code under test sees the same
  AWS behaviour as the library; ``SANDBOXRES_SIMULATE`` is unset for the duration, so that a child process
  reaching the simulator through these variables does not put a second simulator in front of it;
- on real AWS: nothing. The SDK's own resolution already reaches the account the guards accepted.

On emulators ``AWS_PROFILE``, ``AWS_DEFAULT_PROFILE`` and ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` are unset for the
duration (a profile must not lend real credentials; the last one would make the SDK ignore the endpoints). Every
variable is restored on exit to exactly what it was, unset ones unset again.

The library itself still resolves the target from the environment as the user set it: the variables a redirect set
are seen through (``environ_view`` in ``_runtime.settings``, which keeps the active redirects), so the embedded
target stays ``embedded`` while redirected.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sandboxres._runtime.settings import environ_redirected
from sandboxres._runtime.target import DEFAULT_REGION, EMBEDDED_CREDENTIALS, Target

__all__ = ["Redirect", "redirect", "redirect_variables"]

# variable -> the service whose endpoint it carries
_SERVICE_VARIABLES: tuple[tuple[str, str], ...] = (
    ("AWS_ENDPOINT_URL_DYNAMODB", "dynamodb"),
    ("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "dynamodbstreams"),
    ("AWS_ENDPOINT_URL_S3", "s3"),
    ("AWS_ENDPOINT_URL_SQS", "sqs"),
    ("AWS_ENDPOINT_URL_SNS", "sns"),
    ("AWS_ENDPOINT_URL_STS", "sts"),
    ("DYNAMODB_ENDPOINT", "dynamodb"),
    ("S3_ENDPOINT", "s3"),
    ("SQS_ENDPOINT", "sqs"),
)
_UNSET_ON_EMULATORS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")


def redirect_variables(target: Target, environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """What :func:`redirect` sets for ``target`` (``None``: unset). Pure; ``target`` has its endpoints filled in.

    ``environ`` (default ``os.environ``) decides only whether an external emulator's keys come from it.
    """
    if target.kind == "aws":
        return {}
    environ = os.environ if environ is None else environ
    changes: dict[str, str | None] = {}
    if target.kind == "embedded":
        changes["AWS_ENDPOINT_URL"] = target.endpoint("dynamodb")
    if target.kind == "simulated":
        urls = {url for url in target.endpoints.values() if url}
        if len(urls) == 1 and all(target.endpoints.get(service) for service in ("dynamodb", "s3", "sqs")):
            changes["AWS_ENDPOINT_URL"] = urls.pop()
        changes["SANDBOXRES_SIMULATE"] = None
    for variable, service in _SERVICE_VARIABLES:
        url = target.endpoints.get(service)
        if url:
            changes[variable] = url
    region = target.region or DEFAULT_REGION
    changes["AWS_REGION"] = changes["AWS_DEFAULT_REGION"] = region
    if target.in_process or target.credentials == "dummy":
        changes["AWS_ACCESS_KEY_ID"], changes["AWS_SECRET_ACCESS_KEY"] = EMBEDDED_CREDENTIALS
        changes["AWS_SESSION_TOKEN"] = None
    for variable in _UNSET_ON_EMULATORS:
        changes[variable] = None
    return changes


@dataclass(frozen=True)
class Redirect:
    """An active redirect: the target the process environment points at, and the variables it changed.

    ``variables`` lists names only (set or unset for the duration); values are not kept here.
    """

    target: Target
    variables: tuple[str, ...]

    @property
    def active(self) -> bool:
        """Whether anything is redirected (false on real AWS)."""
        return bool(self.variables)


@contextlib.contextmanager
def redirect(target: Target | None = None) -> Iterator[Redirect]:
    """Point SDK clients built by any code in this process (or its children) at the target, for the block.

    ``with sandboxres.redirect(): app.main()``: a ``boto3.client("dynamodb")`` created inside the block, at call
    time or while importing a module, reaches the same emulator as the throw-away resources. ``target`` defaults
    to the one in force (the embedded emulator is started if it is the target). On real AWS nothing changes.
    Works the same around async code (the environment is process-wide). Nested blocks restore in order.

    Clients created before the block keep the endpoint they were built with.
    """
    if target is None:
        from sandboxres._runtime.clients import active_target

        target = active_target()
    changes = redirect_variables(target)
    with environ_redirected(changes):
        yield Redirect(target, tuple(changes))
