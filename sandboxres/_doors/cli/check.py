"""``sandboxres check``: one real lifecycle of each resource kind on the target in force, with a report."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sandboxres._doors import sync
from sandboxres._doors.cli.failures import Failure, failure_of
from sandboxres._doors.lifecycle import State
from sandboxres._doors.sync import Ephemeral
from sandboxres._engine.errors import ConfigurationError
from sandboxres._engine.redaction import redact_url
from sandboxres._kinds import KINDS, services
from sandboxres._runtime.clients import active_target
from sandboxres._runtime.target import Target


class CheckStatus(Enum):
    """How one kind's check ended: passed (created, used, and deleted unless kept) or failed."""

    OK = "ok"
    FAILED = "failed"


class Stage(Enum):
    """The step of a check: create (and wait until ready), verify (a write read back), delete."""

    CREATE = "create"
    VERIFY = "verify"
    DELETE = "delete"


@dataclass
class KindResult:
    """One kind's check: its status, timings, whether the resource was kept (``SANDBOXRES_KEEP``), and when it
    failed the stage and the :class:`Failure`."""

    kind: str
    status: CheckStatus = CheckStatus.FAILED
    name: str = ""
    ready_s: float | None = None
    verify_s: float | None = None
    delete_s: float | None = None
    kept: bool = False
    stage: Stage | None = None  # where it failed
    failure: Failure | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is not CheckStatus.FAILED

    @property
    def error(self) -> str:
        """``<type>: <message>`` of the failure, redacted; empty when it passed."""
        return self.failure.summary if self.failure is not None else ""

    def as_dict(self) -> dict[str, Any]:
        """The result as ``check --json`` prints it."""
        return {
            "kind": self.kind,
            "name": self.name,
            "ready_s": self.ready_s,
            "verify_s": self.verify_s,
            "delete_s": self.delete_s,
            "error": self.error,
            "ok": self.ok,
            "kept": self.kept,
            "details": self.details,
        }


def _checked(name: str) -> Callable[[], Ephemeral[Any]]:
    door: Callable[[str], Ephemeral[Any]] = getattr(sync, f"ephemeral_{name}")
    return lambda: door("check")


# Each kind: its resource, made by the sync front door, and the verification of its handle.
CHECKS: dict[str, tuple[Callable[[], Ephemeral[Any]], Callable[[Any], None]]] = {
    name: (_checked(name), kind.verify) for name, kind in KINDS.items()
}


def unserved(target: Target, kinds: list[str] | None = None) -> dict[str, str]:
    """The kinds (of ``kinds``, default all) whose service the target has no endpoint for, and why: an external
    emulator without SNS serves no topic. Checked without a call."""
    missing: dict[str, str] = {}
    for name in kinds if kinds is not None else list(KINDS):
        try:
            target.endpoint(KINDS[name].service)
        except ConfigurationError as exc:
            missing[name] = str(exc)
    return missing


def check_kind(kind: str) -> KindResult:
    """Create, verify with a real write and read, and delete one resource of ``kind``."""
    make, verify = CHECKS[kind]
    result = KindResult(kind)
    resource = make()
    stage = Stage.CREATE
    try:
        started = time.perf_counter()
        handle = resource.create()
        result.name = handle.name
        result.ready_s = time.perf_counter() - started
        stage, started = Stage.VERIFY, time.perf_counter()
        try:
            verify(handle)
            result.verify_s = time.perf_counter() - started
        finally:
            verifying, stage, started = stage, Stage.DELETE, time.perf_counter()
            resource.delete()
            stage = verifying  # deleted: any failure propagating is the verification's
            if resource.lifecycle.state is State.KEPT:  # SANDBOXRES_KEEP: nothing was deleted
                result.kept = True
            else:
                result.delete_s = time.perf_counter() - started
        result.status = CheckStatus.OK
    except Exception as exc:
        result.name = result.name or resource.lifecycle.name
        result.status, result.stage, result.failure = CheckStatus.FAILED, stage, failure_of(exc)
    return result


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


def _verdict(results: list[KindResult], embedded: bool) -> str:
    if not all(r.ok for r in results):
        return "FAILED"
    if not any(r.kept for r in results):
        return "OK, every resource was created, used and deleted"
    if embedded:
        where = (
            "they live only as long as this process's embedded emulator "
            "(use an external one, sandboxres emulator, to inspect them)"
        )
    else:
        where = "delete them yourself or with sandboxres sweep"
    return f"OK, every resource was created and used; kept, not deleted (SANDBOXRES_KEEP): {where}"


def run(args: argparse.Namespace) -> int:
    target = active_target()
    # Without kinds named, those the target does not serve are skipped with the reason; a named one is checked
    # (and fails with that reason).
    skipped = {} if args.kinds else unserved(target)
    kinds = args.kinds or [kind for kind in CHECKS if kind not in skipped]
    results = [check_kind(kind) for kind in kinds]
    ok = all(r.ok for r in results)
    if args.json:
        print(
            json.dumps(
                {
                    "target": target.describe(),
                    "results": [r.as_dict() for r in results],
                    "verdict": "ok" if ok else "failed",
                    **({"skipped": skipped} if skipped else {}),
                    **({"replay": target.simulation.replay()} if target.simulation is not None else {}),
                },
                indent=2,
            )
        )
        return 0 if ok else 1
    print(f"target:   {target.kind} (region {target.region}, run id {target.run_id})")
    if target.simulation is not None:
        print(f"simulator: {simulation_line(target)}")
    for service in services():
        print(f"  {service:<9} {redact_url(target.endpoints.get(service) or '') or 'AWS default'}")
    print(f"{'kind':<7} {'name':<42} {'create+ready':>13} {'verify':>9} {'delete':>9}  result")
    for r in results:
        outcome = "ok" if r.ok else f"FAILED {r.error}"
        deleted = "kept" if r.kept else _ms(r.delete_s)
        print(f"{r.kind:<7} {r.name:<42} {_ms(r.ready_s):>13} {_ms(r.verify_s):>9} {deleted:>9}  {outcome}")
    for kind, reason in skipped.items():
        print(f"{kind:<7} skipped: {reason}")
    print("verdict:  " + _verdict(results, target.in_process))
    if not ok and target.simulation is not None:
        print(f"replay:   {target.simulation.replay()} sandboxres check")
    return 0 if ok else 1


def simulation_line(target: Target) -> str:
    """The simulator's settings in one line: speed, seed (and where it came from), the emulator behind it."""
    simulation = target.simulation
    if simulation is None:
        return ""
    behind = "the embedded emulator" if target.upstream_kind == "embedded" else "the emulator"
    urls = sorted({redact_url(url) for url in target.upstream.values() if url})
    if urls:
        behind += " at " + ", ".join(urls)
    seed = f"seed {simulation.run_seed} ({target.sources.get('seed', '')})"
    if simulation.worker:
        seed += f", xdist worker {simulation.worker} seed {simulation.seed}"
    return f"speed {simulation.speed:g}, {seed}, in front of {behind}"


class _Kinds(argparse.Action):
    """The kinds to check, each one of ``CHECKS`` (``choices=`` cannot be used: with ``nargs="*"`` argparse
    checks the empty default against the choices too, and would list a stray ``[]`` among them)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, *_: Any) -> None:
        for value in values:
            if value not in CHECKS:
                raise argparse.ArgumentError(self, f"invalid choice: {value!r} (choose from {', '.join(CHECKS)})")
        setattr(namespace, self.dest, list(values))


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "check",
        help=f"create, use and delete one resource of each kind ({', '.join(KINDS)}) on the target in force",
        description="Create, verify with a real write and read, and delete one resource of each kind on the "
        "target chosen by the environment (kinds whose service it has no endpoint for are skipped unless named); "
        "print timings and a verdict. "
        "Exit codes: 0 all passed, 1 a resource failed, 2 the environment is inconsistent.",
    )
    parser.add_argument("kinds", nargs="*", action=_Kinds, metavar="KIND", help=", ".join(KINDS))
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)
