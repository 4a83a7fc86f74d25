"""``sandboxres pool status`` and ``sandboxres pool drain``: what the warm pools of the target in force hold, and
their deletion (dry run by default, like ``sweep``).

Exit codes: 0 nothing failed; 1 reading the lease table or some deletion failed; 2 usage, configuration or guard
error (nothing was deleted).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from sandboxres._doors.cli.sweep import human_age
from sandboxres._doors.warm_status import WarmPoolReport, WarmResource, drain, warm_status
from sandboxres._engine.errors import ConfigurationError, GuardError, SpecError
from sandboxres._leases.records import LEASE_TABLE

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_CODES = (
    "Exit codes: 0 nothing failed, 1 reading the lease table or some deletion failed, 2 usage, configuration or "
    "guard error."
)


_NOISE = re.compile(r"(kind='[a-z]+'|timeout=0\.0|keep=None), ")


def short_shape(shape: str) -> str:
    """A shape as the text output shows it: the spec without the fields every pooled resource shares (the JSON
    keeps the whole shape)."""
    return _NOISE.sub("", shape)


def _when(resource: WarmResource) -> str:
    if resource.state == "idle":
        return f"idle {human_age(resource.idle_seconds or 0.0)}" + (", clean" if resource.clean else "")
    if resource.state == "leased":
        return f"by run {resource.holder}, expires in {human_age(resource.expires_in or 0.0)}"
    return f"by run {resource.holder}, expired {human_age(-(resource.expires_in or 0.0))} ago"


def _print_text(report: WarmPoolReport, verb: str) -> None:
    print(f"pool {verb} on {report.target}")
    if report.target == "embedded":
        print("the embedded emulator ends with each process: no warm pool outlives a run there")
    elif not report.lease_table and not report.errors:
        print(f"no warm pool: the lease table {LEASE_TABLE} does not exist")
    if report.dry_run:
        print("dry run: nothing is deleted (run again with --yes to delete)")
    for shape in report.shapes:
        counts = f"{shape.count('idle')} idle, {shape.count('leased')} leased, {shape.count('expired')} expired"
        print(f"{shape.kind} {short_shape(shape.shape)}: {counts}")
        for r in shape.resources:
            status = f"{r.status:<13} " if report.dry_run is not None else ""
            line = f"  {status}{r.state:<8} {r.name:<48} {_when(r)}"
            print(line + (f"  {r.error}" if r.error else ""))
    for error in report.errors:
        print(f"  error: {error}")
    summary = report.as_dict()["summary"]
    if report.dry_run is None:
        print(
            f"summary: {summary['resources']} resource(s): {summary['idle']} idle, {summary['leased']} leased, "
            f"{summary['expired']} expired"
        )
    else:
        done = f"would delete {summary['would_delete']}" if report.dry_run else f"deleted {summary['deleted']}"
        print(f"summary: {done}, in use {summary['in_use']}, failed {summary['failed']}")


def run(args: argparse.Namespace) -> int:
    verb = args.pool_verb
    try:
        report = warm_status() if verb == "status" else drain(dry_run=not args.yes)
    except (SpecError, ConfigurationError, GuardError) as exc:
        print(f"sandboxres pool {verb}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        _print_text(report, verb)
    return EXIT_OK if report.ok else EXIT_FAILED


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "pool",
        help="what the warm pools hold (status), and their deletion (drain)",
        description="Warm pools (Pool(warm=True)) leave clean resources for later runs, recorded in the lease "
        f"table {LEASE_TABLE} of the target chosen by the environment. `pool status` shows what is warm, what is "
        "leased and by which run, and since when each resource is idle, per shape. `pool drain` deletes the "
        "resources nobody uses (idle, or whose lease expired) and their records; leased ones are in use and left "
        "alone. Dry run by default; --yes deletes.",
        epilog=EXIT_CODES,
    )
    actions = parser.add_subparsers(dest="pool_verb", metavar="ACTION")
    actions.required = True
    status = actions.add_parser(
        "status",
        help="what is warm, leased (by which run) and idle since when, per shape",
        description="List every resource the warm pools of the target record, per shape: idle (since when, "
        "whether released clean), leased (by which run, until when) or expired (its run stopped renewing its "
        "lease: the next run takes it over).",
        epilog=EXIT_CODES,
    )
    status.add_argument("--json", action="store_true", help="print the report as JSON")
    status.set_defaults(run=run)
    drained = actions.add_parser(
        "drain",
        help="delete the warm pool's resources nobody uses, and their records (dry run without --yes)",
        description="Delete every warm resource that is idle or whose lease expired: its lease is taken first (a "
        "run that leased it meanwhile keeps it), the resource is deleted (prefix and tags checked once more) and "
        "its record removed. Leased resources are reported in use and left alone. Dry run by default. The lease "
        "table stays; an empty one is swept by its age like any other table.",
        epilog=EXIT_CODES,
    )
    drained.add_argument("--yes", action="store_true", help="delete them (default: only list what would go)")
    drained.add_argument("--json", action="store_true", help="print the report as JSON")
    drained.set_defaults(run=run)
