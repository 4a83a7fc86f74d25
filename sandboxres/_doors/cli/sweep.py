"""``sandboxres sweep``: list (and with ``--yes`` delete) leftover resources of the target in force.

Only resources with the library's prefix AND its tags are considered; dry run by default.
Exit codes: 0 nothing failed; 1 some listing, inspection or deletion failed; 2 usage, configuration or guard
error (nothing was deleted).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from sandboxres._doors.sweep import IN_USE, SweepProgress, SweepReport, sweep
from sandboxres._engine.errors import ConfigurationError, GuardError, SpecError
from sandboxres._kinds import KIND_NAMES

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PROGRESS_EVERY_SECONDS = 1.0


def human_age(seconds: float) -> str:
    """``45s``, ``12m05s``, ``2h03m``, ``3d04h``."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class ProgressLine:
    """Progress on stderr, at most once a second: silent on short sweeps, alive on long ones."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.shown = False

    def __call__(self, event: SweepProgress) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_SECONDS and event.done != event.total:
            return
        if event.done == event.total and not self.shown:
            return  # a phase that finished within a second needs no progress line
        self.last, self.shown = now, True
        verb = {"list": "listed", "inspect": "inspected", "delete": "deleted or tried"}[event.phase]
        count = f"{event.done}" if event.phase == "list" else f"{event.done}/{event.total}"
        kind = f" (last: {event.kind}s)" if event.kind and event.phase == "list" else ""
        kind = kind or (f" ({event.kind} {event.name})" if event.kind and event.name else "")
        print(f"sweep: {verb} {count}{kind}", file=sys.stderr, flush=True)


def _print_text(report: SweepReport) -> None:
    filters = []
    if report.older_than_seconds is not None:
        filters.append(f"older than {human_age(report.older_than_seconds)}")
    if report.run_id:
        filters.append(f"run id {report.run_id}")
    print(
        f"sweep on {report.target}: {', '.join(report.kinds)} with the library's prefix and tags"
        + (f", {', '.join(filters)}" if filters else "")
    )
    if report.dry_run:
        print("dry run: nothing is deleted (run again with --yes to delete)")
    for r in report.resources:
        line = f"  {r.status:<13} {r.kind:<7} {r.name:<48} run {r.run_id:<10} age {human_age(r.age_seconds)}"
        if r.error:
            line += f"  {r.error}"
        print(line)
    untagged = sum(1 for i in report.ignored if i.reason.startswith("not the library's"))
    in_use = sum(1 for i in report.ignored if i.reason.startswith(IN_USE))
    filtered = len(report.ignored) - untagged - in_use
    if report.ignored:
        print(
            f"left alone: {untagged} with the prefix but without the library's tags, {filtered} filtered out"
            + (f", {in_use} in use by warm pools" if in_use else "")
            + " (names in --json)"
        )
    if report.untagged:
        print("untagged buckets of the library's exact name format (--include-untagged), by S3 creation date:")
    for r in report.untagged:
        line = f"  {r.status:<13} {r.kind:<7} {r.name:<48} untagged    age {human_age(r.age_seconds)}"
        print(line + (f"  {r.error}" if r.error else ""))
    for error in report.errors:
        print(f"  error: {error}")
    summary = f"summary: found {report.found}, deleted {report.deleted}, failed {report.failed}"
    print(summary + (" (dry run)" if report.dry_run else ""))


def run(args: argparse.Namespace) -> int:
    try:
        report = sweep(
            older_than=args.older_than,
            run_id=args.run_id,
            dry_run=not args.yes,
            kinds=args.kind or None,
            progress=ProgressLine(),
            include_untagged=args.include_untagged,
        )
    except (SpecError, ConfigurationError, GuardError) as exc:
        print(f"sandboxres sweep: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        document: dict[str, Any] = report.as_dict()
        print(json.dumps(document, indent=2))
    else:
        _print_text(report)
    return EXIT_OK if report.ok else EXIT_FAILED


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "sweep",
        help=f"list (and with --yes delete) leftover resources of the library ({', '.join(KIND_NAMES)})",
        description="Find the resources of every kind that carry the library's prefix AND its tags on the "
        "target chosen by the environment (without --kind: every kind whose service it has an endpoint for), "
        "filtered by age and/or run id. Dry run by default; --yes deletes them "
        "the way the context managers do. Resources lacking the prefix or the tags are never touched. On "
        "SANDBOXRES_TARGET=aws the safety guards apply.",
        epilog="Exit codes: 0 nothing failed, 1 some deletion (or listing) failed, 2 usage, configuration or "
        "guard error.",
    )
    parser.add_argument("--older-than", metavar="AGE", help="only resources at least this old: 0s, 30m, 2h, 7d")
    parser.add_argument("--run-id", metavar="ID", help="only resources of this run (tag sandboxres:run-id)")
    parser.add_argument("--kind", action="append", choices=KIND_NAMES, help=f"{', '.join(KIND_NAMES)} (repeatable)")
    parser.add_argument("--yes", action="store_true", help="delete them (default: only list what would go)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--include-untagged",
        action="store_true",
        help="also buckets of the library's exact name format that carry no tags at all and are older than "
        "--older-than (needed) by S3's creation date; listed apart",
    )
    parser.set_defaults(run=run)
