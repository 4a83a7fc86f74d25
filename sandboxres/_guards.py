"""Safety guards for real AWS (``SANDBOXRES_TARGET=aws``), checked before the first resource is created.

Emulator targets need no guard. For ``aws`` every check must pass, in this order, or :class:`GuardError` says
what to set:

1. not in CI: ``CI`` or a common CI variable (``GITHUB_ACTIONS``, ``GITLAB_CI``, ``JENKINS_URL``...) set to a
   true value refuses, unless ``SANDBOXRES_ALLOW_CI=1``, which logs a loud warning instead;
2. ``SANDBOXRES_AWS_ACCOUNTS`` lists the sandbox account ids (comma-separated, 12 digits each);
3. no endpoint variable is set, and the endpoints the SDK resolves for DynamoDB, S3, SQS (and STS) are AWS's
   own hosts (``*.amazonaws.com``, ``*.amazonaws.com.cn``, ``*.api.aws``, over https);
4. the account the credentials belong to, asked from STS GetCallerIdentity through a client that ignores
   configured endpoints, is one of ``SANDBOXRES_AWS_ACCOUNTS``.

:func:`check_target` runs the guards once per process and target and remembers a pass. :func:`check_aws`
runs them unconditionally; its ``sts_client_factory`` parameter lets a test point STS at an emulator.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from ._clients import USER_AGENT, client_kwargs, session_kwargs
from ._errors import GuardError
from ._redact import remember
from ._steps import error_code, error_message
from ._target import ENDPOINT_VARIABLES, Target

log = logging.getLogger("sandboxres")

ACCOUNTS_VARIABLE = "SANDBOXRES_AWS_ACCOUNTS"
ALLOW_CI_VARIABLE = "SANDBOXRES_ALLOW_CI"
# Set (to a true value) by the common CI services; ``CI`` alone covers most of them.
CI_VARIABLES = (
    "CI",
    "CONTINUOUS_INTEGRATION",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "CIRCLECI",
    "TRAVIS",
    "JENKINS_URL",
    "BUILDKITE",
    "TEAMCITY_VERSION",
    "TF_BUILD",
    "BITBUCKET_BUILD_NUMBER",
    "CODEBUILD_BUILD_ID",
    "DRONE",
    "APPVEYOR",
    "SEMAPHORE",
    "CIRRUS_CI",
    "HEROKU_TEST_RUN_ID",
)
AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")
GUARDED_SERVICES = ("dynamodb", "s3", "sqs")
_FALSE = {"", "0", "false", "no", "off"}
_TRUE = {"1", "true", "yes", "on"}
_ACCOUNT_RE = re.compile(r"^\d{12}$")

StsClientFactory = Callable[[Target], Any]


def ci_markers(environ: Mapping[str, str]) -> list[str]:
    """The CI variables set to a true value in ``environ`` (``NAME=value``)."""
    return [
        f"{name}={environ[name]}" for name in CI_VARIABLES if (environ.get(name) or "").strip().lower() not in _FALSE
    ]


def allowed_accounts(environ: Mapping[str, str]) -> list[str]:
    """The account ids of ``SANDBOXRES_AWS_ACCOUNTS``; GuardError when it is missing or malformed."""
    raw = environ.get(ACCOUNTS_VARIABLE, "")
    accounts = [part.strip() for part in raw.split(",") if part.strip()]
    if not accounts:
        raise GuardError(
            f"SANDBOXRES_TARGET=aws needs {ACCOUNTS_VARIABLE}: set it to the comma-separated 12-digit ids of the "
            "sandbox accounts these tests may create resources in (e.g. SANDBOXRES_AWS_ACCOUNTS=123456789012)"
        )
    bad = [account for account in accounts if not _ACCOUNT_RE.match(account)]
    if bad:
        raise GuardError(
            f"{ACCOUNTS_VARIABLE} contains {', '.join(repr(b) for b in bad)}, which is not a 12-digit account id: "
            "set it to a comma-separated list such as 123456789012,210987654321"
        )
    return accounts


def is_aws_host(url: str | None) -> bool:
    """True for an https URL whose host is AWS's own (``*.amazonaws.com``, ``*.amazonaws.com.cn``, ``*.api.aws``)."""
    if not url:
        return False
    split = urlsplit(url)
    host = (split.hostname or "").lower().rstrip(".")
    return split.scheme == "https" and host.endswith(AWS_HOST_SUFFIXES)


def check_endpoint_hosts(endpoints: Mapping[str, str | None]) -> None:
    """GuardError unless every endpoint is an https URL on an AWS host."""
    foreign = {service: url for service, url in endpoints.items() if not is_aws_host(url)}
    if foreign:
        detail = ", ".join(f"{service} -> {url}" for service, url in sorted(foreign.items()))
        raise GuardError(
            f"SANDBOXRES_TARGET=aws, but the SDK resolves endpoints outside AWS ({detail}). Remove the endpoint "
            "settings (AWS_ENDPOINT_URL*, the services section of the AWS config file, AWS_DATA_PATH overrides), "
            "or use SANDBOXRES_TARGET=emulator for an emulator"
        )


def _session(target: Target) -> Any:
    return boto3.session.Session(**session_kwargs(target))


def resolved_endpoints(target: Target, session: Any = None) -> dict[str, str]:
    """The endpoint URL botocore resolves for each guarded service, building clients as the library does."""
    session = session if session is not None else _session(target)
    urls: dict[str, str] = {}
    for service in GUARDED_SERVICES:
        try:
            client = session.client(service, **client_kwargs(target, service))
        except NoRegionError:
            raise GuardError(
                "SANDBOXRES_TARGET=aws needs a region: set AWS_REGION (or AWS_DEFAULT_REGION, or region in the "
                "AWS config profile) to the sandbox account's region"
            ) from None
        urls[service] = str(client.meta.endpoint_url)
    return urls


def sts_client(target: Target, session: Any = None) -> Any:
    """The STS client the guard asks: configured endpoints (variables, config file) are ignored."""
    session = session if session is not None else _session(target)
    config = Config(user_agent_extra=USER_AGENT, ignore_configured_endpoint_urls=True)  # type: ignore[call-arg]
    return session.client("sts", region_name=target.region or None, config=config)


def _caller_account(client: Any) -> str:
    try:
        identity = client.get_caller_identity()
    except NoCredentialsError:
        raise GuardError(
            "SANDBOXRES_TARGET=aws, but no AWS credentials were found: configure the sandbox account's credentials "
            "(AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        ) from None
    except ClientError as exc:
        raise GuardError(
            f"STS GetCallerIdentity failed with {error_code(exc)}: {error_message(exc)}. Check the credentials of "
            "the sandbox account (AWS_PROFILE, AWS_ACCESS_KEY_ID...)"
        ) from None
    except BotoCoreError as exc:
        raise GuardError(
            f"could not ask STS which account the credentials belong to ({type(exc).__name__}: {exc}); "
            "check the network and the credentials of the sandbox account"
        ) from None
    account = str(identity.get("Account") or "")
    if not _ACCOUNT_RE.match(account):
        raise GuardError(f"STS GetCallerIdentity answered an unusable account id {account!r}")
    return account


def _remember_credentials(session: Any) -> None:
    """Register the credentials the SDK resolved as secrets to redact (they never come from our variables)."""
    try:
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
    except Exception:  # resolving failed: STS has already said why
        return
    if frozen is not None:
        remember(frozen.access_key, frozen.secret_key, frozen.token)


def check_aws(
    target: Target,
    environ: Mapping[str, str] | None = None,
    *,
    sts_client_factory: StsClientFactory | None = None,
) -> str:
    """Run every guard for ``target`` (kind ``aws``) and return the account id; GuardError on any refusal.

    ``sts_client_factory(target)`` builds the STS client to ask; by default it is :func:`sts_client`, which
    ignores configured endpoints, and its endpoint must be an AWS host too.
    """
    environ = os.environ if environ is None else environ
    if target.kind != "aws":
        raise GuardError(f"the real-AWS guards apply to SANDBOXRES_TARGET=aws, not to target {target.kind!r}")

    markers = ci_markers(environ)
    if markers:
        if (environ.get(ALLOW_CI_VARIABLE) or "").strip().lower() not in _TRUE:
            raise GuardError(
                f"refusing real AWS in CI ({', '.join(markers)}): real-cloud tests are started by a developer. "
                f"Unset SANDBOXRES_TARGET=aws for CI, or set {ALLOW_CI_VARIABLE}=1 if this pipeline is meant to "
                "use the sandbox account"
            )
        log.warning(
            "!!! sandboxres: %s=1 -- creating REAL AWS resources from CI (%s). Make sure this pipeline only ever "
            "runs against the sandbox account(s) in %s !!!",
            ALLOW_CI_VARIABLE,
            ", ".join(markers),
            ACCOUNTS_VARIABLE,
        )

    accounts = allowed_accounts(environ)

    set_endpoints = [name for name in ENDPOINT_VARIABLES if environ.get(name)]
    if set_endpoints:
        raise GuardError(
            f"SANDBOXRES_TARGET=aws, but endpoint variables are set ({', '.join(set_endpoints)}): unset them "
            "for real AWS, or use SANDBOXRES_TARGET=emulator"
        )

    session = _session(target)
    endpoints: dict[str, str | None] = dict(resolved_endpoints(target, session))
    if sts_client_factory is None:
        client = sts_client(target, session)
        endpoints["sts"] = str(client.meta.endpoint_url)
    else:
        client = sts_client_factory(target)
    check_endpoint_hosts(endpoints)

    account = _caller_account(client)
    if sts_client_factory is None:
        _remember_credentials(session)
    if account not in accounts:
        raise GuardError(
            f"the credentials belong to AWS account {account}, which is not in {ACCOUNTS_VARIABLE} "
            f"({', '.join(accounts)}): switch to the sandbox account's credentials, or add {account} to "
            f"{ACCOUNTS_VARIABLE} if it really is a sandbox account"
        )
    log.info("sandboxres: real AWS account %s passed the safety guards", account)
    return account


# ---------------------------------------------------------------------------------------------------------
# Once per process and target

_passed: dict[tuple[Any, ...], str] = {}
_lock = threading.Lock()


def _cache_key(target: Target, environ: Mapping[str, str]) -> tuple[Any, ...]:
    """What decides the outcome: the target, the guard variables and which credentials are in force."""
    watched = (ACCOUNTS_VARIABLE, ALLOW_CI_VARIABLE, "AWS_PROFILE", *CI_VARIABLES, *ENDPOINT_VARIABLES)
    return (
        target.kind,
        target.region,
        tuple(sorted((k, v) for k, v in target.endpoints.items() if v)),
        tuple((name, environ.get(name)) for name in watched),
        hash(environ.get("AWS_ACCESS_KEY_ID")),  # which key, without keeping it
    )


def check_target(target: Target, *, sts_client_factory: StsClientFactory | None = None) -> None:
    """Refuse unsafe targets before the first create. Emulators pass; ``aws`` runs :func:`check_aws` once per
    process and target (a pass is remembered, a refusal is checked again next time)."""
    if target.kind != "aws":
        return
    key = _cache_key(target, os.environ)
    with _lock:  # concurrent first creates wait for one check
        if key in _passed:
            return
        _passed[key] = check_aws(target, os.environ, sts_client_factory=sts_client_factory)


def reset_guards() -> None:
    """Forget which targets passed (the next create on ``aws`` checks again)."""
    with _lock:
        _passed.clear()
