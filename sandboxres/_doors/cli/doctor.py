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
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import boto3
from botocore.config import Config

from sandboxres._doors.cli.check import CHECKS, check_kind, simulation_line, unserved
from sandboxres._doors.cli.env import redact
from sandboxres._doors.cli.failures import Cause, Failure, failure_of, hint_for, one_line
from sandboxres._doors.sync import guard_target
from sandboxres._engine.durations import check_duration
from sandboxres._engine.errors import ConfigurationError
from sandboxres._kinds import KINDS
from sandboxres._runtime.clients import active_target, client_kwargs, sdk_session, session_kwargs
from sandboxres._runtime.target import Target

SERVICE_OF_KIND = {name: kind.service for name, kind in KINDS.items()}

# The cheapest call that proves a service answers, each one a call the policy of `sandboxres policy` grants (so an
# AccessDenied means that policy is not attached, and the hint says so): each kind's probe, by its service. Answers
# that prove the endpoint is there without finding anything (NoSuchBucket) count as answered.
PROBES: dict[str, Callable[[Any], None]] = {kind.service: kind.probe for kind in KINDS.values()}


@dataclass
class Finding:
    """One check: ``status`` is ``ok``, ``failed`` or ``skipped``; ``hint`` says what to do when it failed."""

    check: str
    status: str
    detail: str = ""
    error: str = ""
    hint: str = ""


def _failed(check: str, failure: Failure, target: Target, service: str | None = None, detail: str = "") -> Finding:
    """The finding of a failed check: the failure described on one line, and the hint for its cause."""
    error = one_line(redact(failure.described))
    return Finding(check, "failed", detail=detail, error=error, hint=hint_for(failure.cause, target, service))


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
        return _failed("identity", failure_of(exc), target, "sts")
    return Finding("identity", "ok", detail=f"account {identity['Account']} as {identity['Arn']}")


def check_guards(target: Target) -> Finding:
    try:
        guard_target(target)
    except Exception as exc:
        return _failed("guards", failure_of(exc), target)
    return Finding("guards", "ok", detail="the real-AWS safety guards allow this account")


def check_reachable(target: Target, service: str, timeout: float) -> Finding:
    """One listing call with short timeouts and no retries."""
    where = target.endpoints.get(service) or "AWS"
    started = time.perf_counter()
    try:
        PROBES[service](_client(target, service, timeout))
    except Exception as exc:
        failure = failure_of(exc)
        # A denial is an answer: the endpoint is there and took the credentials, the identity lacks the policy.
        detail = f"{redact(where)} answered, denied" if failure.cause is Cause.ACCESS_DENIED else ""
        return _failed(f"reachability {service}", failure, target, service, detail)
    elapsed = (time.perf_counter() - started) * 1000
    return Finding(f"reachability {service}", "ok", detail=f"{redact(where)} answered in {elapsed:.0f} ms")


def check_lifecycle(target: Target, kind: str) -> Finding:
    """Permissions proven by one real lifecycle (create, write, read, delete) of ``kind``."""
    result = check_kind(kind)
    name = f"lifecycle {kind}"
    if result.ok:
        total = sum(x or 0.0 for x in (result.ready_s, result.verify_s, result.delete_s)) * 1000
        return Finding(name, "ok", detail=f"{result.name} created, used and deleted in {total:.0f} ms")
    if result.failure is None:  # pragma: no cover - a failed check always has its failure
        return Finding(name, "failed", detail=result.name)
    error = one_line(redact(result.failure.summary))
    hint = hint_for(result.failure.cause, target, SERVICE_OF_KIND[kind])
    return Finding(name, "failed", detail=result.name, error=error, hint=hint)


# Stands in for the target when the environment does not resolve (only hint texts use it).
_NO_TARGET = Target(kind="emulator", endpoints={}, region=None, run_id="")


def diagnose(
    kinds: list[str], *, lifecycle: bool = True, timeout: float = 5.0, named: bool = True
) -> tuple[Target | None, list[Finding]]:
    """Run every check; the target is None when the environment does not resolve. ``named=False`` (no kind named
    on the command line): the kinds whose service the target has no endpoint for are skipped, with the reason."""
    try:
        target = active_target()
    except ConfigurationError as exc:
        return None, [_failed("configuration", failure_of(exc), _NO_TARGET)]
    findings = [Finding("configuration", "ok", detail=f"target {target.kind}, region {target.region or 'not set'}")]
    if target.simulation is not None:
        findings.append(Finding("simulator", "ok", detail=simulation_line(target)))
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
    skipped = {} if named else unserved(target, kinds)
    reachable: set[str] = set()
    for service in dict.fromkeys(SERVICE_OF_KIND[k] for k in kinds):
        reason = next((why for k, why in skipped.items() if SERVICE_OF_KIND[k] == service), "")
        if reason:
            findings.append(Finding(f"reachability {service}", "skipped", detail=reason))
            continue
        if blocked:
            findings.append(Finding(f"reachability {service}", "skipped", detail=blocked))
            continue
        finding = check_reachable(target, service, timeout)
        findings.append(finding)
        if finding.status == "ok":
            reachable.add(service)
    for kind in kinds:
        name = f"lifecycle {kind}"
        if not lifecycle:
            findings.append(Finding(name, "skipped", detail="--no-lifecycle"))
        elif blocked:
            findings.append(Finding(name, "skipped", detail=blocked))
        elif kind in skipped:
            findings.append(Finding(name, "skipped", detail=skipped[kind]))
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
    if failed and target is not None and target.simulation is not None:
        lines.append(f"replay: {target.simulation.replay()} sandboxres doctor")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    check_duration("--timeout", args.timeout, error=ConfigurationError)
    kinds = args.kinds or list(CHECKS)
    target, findings = diagnose(kinds, lifecycle=not args.no_lifecycle, timeout=args.timeout, named=bool(args.kinds))
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
    parser.add_argument("kinds", nargs="*", choices=[*CHECKS, []], metavar="KIND", help=", ".join(KINDS))
    parser.add_argument("--no-lifecycle", action="store_true", help="check reachability only: create nothing")
    parser.add_argument("--timeout", type=float, default=5.0, help="connect and read timeout per probe (s)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)
