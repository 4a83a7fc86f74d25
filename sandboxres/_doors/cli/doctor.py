"""``sandboxres doctor``: what is wrong with the set-up, and what to do about it.

Checks, in order, each with an actionable hint when it fails:

1. configuration: the environment resolves to one target (``sandboxres env`` shows the details);
2. guards (real AWS only): the safety guards that run before the first create; nothing below calls AWS
   unless they pass;
3. identity (real AWS only): ``sts:GetCallerIdentity`` through a client that ignores endpoint variables;
4. reachability: one cheap call per service that the generated policy grants (a listing; for S3 the location
   of a bucket that does not exist), with short timeouts and no retries;
5. permissions: one real lifecycle per resource kind (create, write, read, delete), the same as
   ``sandboxres check``; skipped for a service that is not reachable, and with ``--no-lifecycle``.

Exit codes: 0 every check passed; 1 a check failed (the report says which and what to do);
2 the environment is inconsistent (configuration check failed) or bad usage.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import boto3
from botocore.config import Config

from sandboxres._doors.cli.check import CHECKS, check_kind
from sandboxres._doors.cli.env import redact
from sandboxres._doors.sync import guard_target
from sandboxres._engine.classify import error_code, error_message
from sandboxres._engine.durations import check_duration
from sandboxres._engine.errors import ConfigurationError
from sandboxres._kinds import KINDS
from sandboxres._kinds.bucket import BUCKET
from sandboxres._kinds.queue import QUEUE_PREFIX
from sandboxres._runtime.clients import active_target, client_kwargs, sdk_session, session_kwargs
from sandboxres._runtime.target import Target

SERVICE_OF_KIND = {name: kind.service for name, kind in KINDS.items()}
_ENDPOINT_VAR = {"dynamodb": "AWS_ENDPOINT_URL_DYNAMODB", "s3": "AWS_ENDPOINT_URL_S3", "sqs": "AWS_ENDPOINT_URL_SQS"}


def _probe_s3(client: Any) -> Any:
    """GetBucketLocation of a bucket that does not exist, named like the library's own: NoSuchBucket is the answer.

    Not ListBuckets: its permission is ``s3:ListAllMyBuckets``, a name emulators that enforce IAM disagree on
    (moto 5.2.6 checks ``s3:ListBuckets``), and it lists every bucket of the account. GetBucketLocation on a
    ``test-`` name needs exactly the permission the generated policy grants on the library's buckets, so a denial
    means that policy is missing.
    """
    try:
        return client.get_bucket_location(Bucket=BUCKET.names.make("doctor"))
    except Exception as exc:
        if error_code(exc) == "NoSuchBucket":
            return None
        raise


# The cheapest call that proves a service answers, each one a call the policy of `sandboxres policy` grants (so an
# AccessDenied means that policy is not attached, and the hint says so). Answers that prove the endpoint is there
# without finding anything (NoSuchBucket) count as answered.
PROBES: dict[str, Callable[[Any], Any]] = {
    "dynamodb": lambda client: client.list_tables(Limit=1),
    "s3": _probe_s3,
    "sqs": lambda client: client.list_queues(QueueNamePrefix=QUEUE_PREFIX),
}


@dataclass
class Finding:
    """One check: ``status`` is ``ok``, ``failed`` or ``skipped``; ``hint`` says what to do when it failed."""

    check: str
    status: str
    detail: str = ""
    error: str = ""
    hint: str = ""


# Failure classes, matched against "<exception type> <error code> <message>"; the first match wins.
_CONNECTION = r"EndpointConnectionError|ConnectionClosedError|ConnectTimeoutError|ConnectionRefused|Could not connect"
_CLASSES: tuple[tuple[str, str], ...] = (
    ("configuration", r"ConfigurationError"),
    ("guard", r"GuardError"),
    ("no-credentials", r"NoCredentialsError|PartialCredentialsError|Unable to locate credentials"),
    ("no-region", r"NoRegionError|must specify a region"),
    ("expired", r"ExpiredToken|RequestExpired|TokenRefreshRequired|SSOTokenLoadError|UnauthorizedSSOToken"),
    (
        "bad-credentials",
        r"InvalidClientTokenId|UnrecognizedClientException|SignatureDoesNotMatch|InvalidAccessKeyId"
        r"|InvalidSignatureException|IncompleteSignature|AuthFailure|security token included in the request is invalid",
    ),
    ("access-denied", r"AccessDenied|UnauthorizedOperation|AuthorizationError|not authorized to perform"),
    ("connection", _CONNECTION),
    ("timeout", r"ReadTimeoutError|Read timeout"),
    ("readiness", r"ReadinessTimeoutError"),
    ("not-implemented", r"NotImplemented|UnknownOperation|InvalidAction|not yet implemented|\b501\b"),
    ("mismatch", r"AssertionError"),
)


def failure_class(text: str) -> str:
    """The class of a failure described by ``text`` (exception type, error code and message)."""
    for name, pattern in _CLASSES:
        if re.search(pattern, text):
            return name
    return "other"


def hint_for(text: str, target: Target, service: str | None = None) -> str:
    """What to do about the failure described by ``text`` on ``target`` (``service`` when one is concerned)."""
    cls = failure_class(text)
    url = target.endpoints.get(service) if service else None
    emulated = target.kind != "aws"
    var = _ENDPOINT_VAR.get(service or "", "AWS_ENDPOINT_URL")
    if cls == "configuration":
        return "fix the variables named in the error; `sandboxres env` shows what is set and where it came from"
    if cls == "guard":
        return "a safety guard refused real AWS: do what the message says (see the safety rules in the documentation)"
    if cls == "no-credentials":
        return (
            "no credentials found: set AWS_PROFILE to the sandbox account's profile (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY); `sandboxres init` writes a .env.integration template"
        )
    if cls == "no-region":
        return "no region: set AWS_REGION (for example in .env.integration)"
    if cls == "expired":
        return "the credentials have expired: refresh them (for example `aws sso login --profile <profile>`)"
    if cls == "bad-credentials":
        if emulated:
            return (
                "the emulator rejected the credentials: s3rver accepts only S3RVER / S3RVER; moto and LocalStack "
                "accept any unless their authentication is switched on"
            )
        return "AWS rejected the credentials: check the access key or profile (AWS_PROFILE) of the sandbox account"
    if cls == "access-denied":
        return (
            "the identity lacks a permission: attach the policy printed by `sandboxres policy` to the sandbox "
            "user or role (see the per-service set-up pages)"
        )
    if cls == "connection":
        if emulated:
            return (
                f"nothing answers at {url or 'the endpoint'}: start the emulator (for example `sandboxres "
                f"emulator`), or correct {var} / AWS_ENDPOINT_URL"
            )
        return "AWS is not reachable: check the network, the proxy variables (HTTPS_PROXY) and AWS_REGION"
    if cls == "timeout":
        return "the endpoint accepted the connection but did not answer in time: is it an AWS emulator, and is it busy?"
    if cls == "readiness":
        return "the resource did not become ready in time: raise SANDBOXRES_<KIND>_TIMEOUT, or check the emulator"
    if cls == "not-implemented":
        return f"this endpoint does not implement {service or 'the service'}: point {var} at an emulator that does"
    if cls == "mismatch":
        return "the endpoint answered but returned other data than written: it does not emulate the service faithfully"
    return "unexpected failure: `sandboxres check --json` and the error above have the details"


def one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line (emulators put whole XML documents in messages), cut at ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_error(exc: BaseException) -> str:
    """``<type>: <code>: <message>`` for a botocore error, ``<type>: <message>`` otherwise (never secrets)."""
    code = error_code(exc)
    name = type(exc).__name__
    text = f"{name}: {code}: {error_message(exc)}" if code and code != name else f"{name}: {exc}"
    return one_line(redact(text))


def _probe_config(timeout: float) -> Config:
    return Config(connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1})


def _client(target: Target, service: str, timeout: float) -> Any:
    kwargs = client_kwargs(target, service)
    kwargs["config"] = kwargs["config"].merge(_probe_config(timeout))
    session = boto3.session.Session(botocore_session=sdk_session(target), **session_kwargs(target))
    return session.client(service, **kwargs)  # type: ignore[call-overload]


def check_identity(target: Target, timeout: float) -> Finding:
    """The account and ARN behind the credentials (real AWS only; endpoint variables are ignored)."""
    try:
        session = boto3.session.Session(**session_kwargs(target))
        config = Config(ignore_configured_endpoint_urls=True).merge(_probe_config(timeout))  # type: ignore[call-arg]
        identity = session.client("sts", config=config).get_caller_identity()
    except Exception as exc:
        text = describe_error(exc)
        return Finding("identity", "failed", error=text, hint=hint_for(text, target, "sts"))
    return Finding("identity", "ok", detail=f"account {identity['Account']} as {identity['Arn']}")


def check_guards(target: Target) -> Finding:
    try:
        guard_target(target)
    except Exception as exc:
        text = describe_error(exc)
        return Finding("guards", "failed", error=text, hint=hint_for(text, target))
    return Finding("guards", "ok", detail="the real-AWS safety guards allow this account")


def check_reachable(target: Target, service: str, timeout: float) -> Finding:
    """One listing call with short timeouts and no retries."""
    where = target.endpoints.get(service) or "AWS"
    started = time.perf_counter()
    try:
        PROBES[service](_client(target, service, timeout))
    except Exception as exc:
        text = describe_error(exc)
        # A denial is an answer: the endpoint is there and took the credentials, the identity lacks the policy.
        detail = f"{redact(where)} answered, denied" if failure_class(text) == "access-denied" else ""
        return Finding(
            f"reachability {service}", "failed", detail=detail, error=text, hint=hint_for(text, target, service)
        )
    elapsed = (time.perf_counter() - started) * 1000
    return Finding(f"reachability {service}", "ok", detail=f"{redact(where)} answered in {elapsed:.0f} ms")


def check_lifecycle(target: Target, kind: str) -> Finding:
    """Permissions proven by one real lifecycle (create, write, read, delete) of ``kind``."""
    result = check_kind(kind)
    name = f"lifecycle {kind}"
    if result.ok:
        total = sum(x or 0.0 for x in (result.ready_s, result.verify_s, result.delete_s)) * 1000
        return Finding(name, "ok", detail=f"{result.name} created, used and deleted in {total:.0f} ms")
    text = one_line(redact(result.error))
    return Finding(name, "failed", detail=result.name, error=text, hint=hint_for(text, target, SERVICE_OF_KIND[kind]))


# Stands in for the target when the environment does not resolve (only hint texts use it).
_NO_TARGET = Target(kind="emulator", endpoints={}, region=None, run_id="")


def diagnose(kinds: list[str], *, lifecycle: bool = True, timeout: float = 5.0) -> tuple[Target | None, list[Finding]]:
    """Run every check; the target is None when the environment does not resolve."""
    try:
        target = active_target()
    except ConfigurationError as exc:
        text = describe_error(exc)
        return None, [Finding("configuration", "failed", error=text, hint=hint_for(text, _NO_TARGET))]
    findings = [Finding("configuration", "ok", detail=f"target {target.kind}, region {target.region or 'not set'}")]
    blocked = ""
    if target.kind == "aws":
        # The guards first: they refuse without calling AWS (CI, account list, endpoint variables), and nothing
        # below talks to AWS unless they pass.
        guards = check_guards(target)
        findings.append(guards)
        if guards.status == "ok":
            identity = check_identity(target, timeout)
            findings.append(identity)
            blocked = "" if identity.status == "ok" else "identity failed"
        else:
            blocked = "the guards refused real AWS"
            findings.append(Finding("identity", "skipped", detail=blocked))
    for service in dict.fromkeys(SERVICE_OF_KIND[k] for k in kinds):
        if blocked:
            findings.append(Finding(f"reachability {service}", "skipped", detail=blocked))
        else:
            findings.append(check_reachable(target, service, timeout))
    reachable = {f.check.split()[-1] for f in findings if f.check.startswith("reachability") and f.status == "ok"}
    for kind in kinds:
        name = f"lifecycle {kind}"
        if not lifecycle:
            findings.append(Finding(name, "skipped", detail="--no-lifecycle"))
        elif blocked:
            findings.append(Finding(name, "skipped", detail=blocked))
        elif SERVICE_OF_KIND[kind] not in reachable:
            findings.append(Finding(name, "skipped", detail=f"{SERVICE_OF_KIND[kind]} is not reachable"))
        else:
            findings.append(check_lifecycle(target, kind))
    return target, findings


def _render(target: Target | None, findings: list[Finding]) -> str:
    lines = [f"target: {target.kind} (region {target.region or 'not set'})" if target else "target: unresolved"]
    for f in findings:
        mark = {"ok": "ok", "failed": "FAILED", "skipped": "skipped"}[f.status]
        lines.append(f"  {mark:<8} {f.check:<22} {f.error or f.detail}")
        if f.hint:
            lines.append(f"  {'':<8} {'':<22} hint: {f.hint}")
    failed = sum(f.status == "failed" for f in findings)
    lines.append("verdict: " + ("OK, nothing wrong found" if not failed else f"{failed} problem(s) found"))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    check_duration("--timeout", args.timeout, error=ConfigurationError)
    kinds = args.kinds or list(CHECKS)
    target, findings = diagnose(kinds, lifecycle=not args.no_lifecycle, timeout=args.timeout)
    failed = [f for f in findings if f.status == "failed"]
    if args.json:
        data = {
            "target": target.describe() if target else None,
            "checks": [asdict(f) for f in findings],
            "verdict": "failed" if failed else "ok",
        }
        print(redact(json.dumps(data, indent=2)))
    else:
        print(redact(_render(target, findings)))
    if target is None:
        return 2
    return 1 if failed else 0


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "doctor",
        help="diagnose the set-up: reachability, identity, guards, permissions, with a hint per failure",
        description="Check that the target in force works: the environment resolves, AWS says who you are "
        "(real AWS only), the safety guards allow it, each service answers, and one real lifecycle per resource "
        "kind succeeds. Every failure comes with what to do. Exit codes: 0 all passed, 1 a check failed, "
        "2 the environment is inconsistent.",
    )
    parser.add_argument("kinds", nargs="*", choices=[*CHECKS, []], metavar="KIND", help="table, bucket, queue")
    parser.add_argument("--no-lifecycle", action="store_true", help="check reachability only: create nothing")
    parser.add_argument("--timeout", type=float, default=5.0, help="connect and read timeout per probe (s)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)
