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

:func:`check_target` runs the guards once per process and target and remembers the outcome, a pass or a
refusal (a refusal is raised again, with the same message, without asking anything again). :func:`check_aws`
runs them unconditionally; its ``sts_client_factory`` parameter lets a test point STS at an emulator. The STS
call is bounded: a 3 s connect timeout, a 10 s read timeout and one retry.

The environment is read once into ``GuardSettings`` (``guard_settings``: the guard variables only, no
credential), and no function here takes the environment or a credential as an argument or keeps it in a local:
a traceback with its frames' locals (``pytest --showlocals``) shows nothing secret.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from sandboxres._engine.classify import error_code, error_message
from sandboxres._engine.errors import GuardError
from sandboxres._engine.redaction import remember
from sandboxres._runtime.clients import USER_AGENT, client_kwargs, session_kwargs
from sandboxres._runtime.target import Target
from sandboxres._safety.guard_settings import (
    ACCOUNTS_VARIABLE,
    ALLOW_CI_VARIABLE,
    GuardSettings,
    allowed_accounts,
    is_account_id,
)

log = logging.getLogger("sandboxres")

AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")
GUARDED_SERVICES = ("dynamodb", "s3", "sqs")

StsClientFactory = Callable[[Target], Any]
STS_CONNECT_TIMEOUT = 3.0
STS_READ_TIMEOUT = 10.0
STS_ATTEMPTS = 2  # one retry


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


def sts_client(target: Target, session: Any = None, *, endpoint_url: str | None = None) -> Any:
    """The STS client the guard asks: configured endpoints (variables, config file) are ignored, and an
    unreachable STS fails within seconds (connect timeout, read timeout, one retry). ``endpoint_url`` points
    it elsewhere (tests only: the guard then refuses the non-AWS host unless the client comes from a factory)."""
    session = session if session is not None else _session(target)
    config = Config(  # type: ignore[call-arg]
        user_agent_extra=USER_AGENT,
        ignore_configured_endpoint_urls=True,
        connect_timeout=STS_CONNECT_TIMEOUT,
        read_timeout=STS_READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": STS_ATTEMPTS},
    )
    return session.client("sts", region_name=target.region or None, config=config, endpoint_url=endpoint_url)


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
    if not is_account_id(account):
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

    ``environ`` (default: ``os.environ``) is read into :class:`GuardSettings` first and not kept.
    ``sts_client_factory(target)`` builds the STS client to ask; by default it is :func:`sts_client`, which
    ignores configured endpoints, and its endpoint must be an AWS host too.
    """
    settings = GuardSettings.read(environ)
    del environ  # never a local of a frame a traceback may show
    return _check_aws(target, settings, sts_client_factory)


def _check_aws(target: Target, settings: GuardSettings, sts_client_factory: StsClientFactory | None) -> str:
    if target.kind != "aws":
        raise GuardError(f"the real-AWS guards apply to SANDBOXRES_TARGET=aws, not to target {target.kind!r}")

    markers = list(settings.ci_markers)
    if markers:
        if not settings.allow_ci:
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

    accounts = allowed_accounts(settings.accounts)

    set_endpoints = list(settings.endpoint_variables)
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


@dataclass(frozen=True)
class _Decision:
    account: str | None  # set for a pass
    refusal: str | None  # the GuardError's message for a refusal


_decided: dict[tuple[Any, ...], _Decision] = {}
_lock = threading.Lock()


def _cache_key(target: Target, settings: GuardSettings) -> tuple[Any, ...]:
    """What decides the outcome: the target, the guard variables and which credentials are in force."""
    return (
        target.kind,
        target.region,
        tuple(sorted((k, v) for k, v in target.endpoints.items() if v)),
        settings,
        hash(os.environ.get("AWS_ACCESS_KEY_ID")),  # which key, without keeping it
    )


def guards_decided(target: Target) -> bool:
    """True when :func:`check_target` would answer at once (an emulator, or a remembered outcome)."""
    return target.kind != "aws" or _cache_key(target, GuardSettings.read()) in _decided


def check_target(target: Target, *, sts_client_factory: StsClientFactory | None = None) -> None:
    """Refuse unsafe targets before the first create. Emulators pass; ``aws`` runs the guards once per process,
    target and set of guard variables: the pass is remembered, and so is a refusal, raised again as it was."""
    if target.kind != "aws":
        return
    settings = GuardSettings.read()
    key = _cache_key(target, settings)
    with _lock:  # concurrent first creates wait for one check
        decision = _decided.get(key)
        if decision is None:
            try:
                decision = _Decision(_check_aws(target, settings, sts_client_factory), None)
            except GuardError as refused:
                decision = _Decision(None, str(refused))
            _decided[key] = decision
    if decision.refusal is not None:
        raise GuardError(decision.refusal)


def reset_guards() -> None:
    """Forget what the guards decided (the next create on ``aws`` checks again)."""
    with _lock:
        _decided.clear()
