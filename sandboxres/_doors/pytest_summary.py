"""The pytest plugin's terminal summary: the target (no credentials), what the run created, deleted, kept and left
behind, added up over every xdist worker, the time spent waiting for readiness and, with ``--sandboxres-pool``, the
pool's counters per kind (with ``--sandboxres-pool=warm`` also what it leased from earlier runs and released for
later ones). The hook is registered by :mod:`sandboxres.pytest_plugin`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from sandboxres._doors.pytest_options import SESSION, Session
from sandboxres._doors.pytest_pool import summary_lines as pool_summary_lines
from sandboxres._doors.pytest_pool import used as pool_used
from sandboxres._engine.errors import SandboxresError
from sandboxres._runtime.clients import describe_target
from sandboxres._runtime.target import Target
from sandboxres._safety.registry import STATS


def _safe_url(url: str) -> str:
    """``url`` without any user:password part."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _describe(target: Target, session: Session) -> list[str]:
    """The target lines of the summary: kind and where, what chose it, the run id. No credentials."""
    if target.kind == "embedded":
        where = "moto server on 127.0.0.1, one per " + ("xdist worker" if session.workers else "process")
    elif target.kind == "emulator":
        urls = {s: _safe_url(u) for s, u in target.endpoints.items() if u and s in ("dynamodb", "s3", "sqs")}
        where = ", ".join(f"{s} {u}" for s, u in urls.items())
    else:
        where = f"real AWS, region {target.region or 'from the SDK configuration'}"
    chosen_by = session.sources.get("SANDBOXRES_TARGET") or target.sources.get("kind", "")
    run_id = session.run_id + ("-gw<N>" if session.workers else "")
    return [f"target: {target.kind} ({where})", f"chosen by: {chosen_by}; run id: {run_id}"]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    session = config.stash.get(SESSION, None)
    if session is None or hasattr(config, "workerinput"):
        return
    reports = [session.report(), *session.workers]
    totals = {key: sum(r["stats"].get(key, 0) for r in reports) for key in STATS.as_dict()}
    left = [name for r in reports for name in r["left_behind"]]
    if not (totals["created"] or totals["kept"] or totals["left_behind"] or left or pool_used(config)):
        return  # a warm pool that leased all it needed created nothing, but has its lines
    embedded = False
    try:
        target = describe_target()
        target_lines, embedded = _describe(target, session), target.kind == "embedded"
    except SandboxresError as exc:
        target_lines = [f"target: not resolved ({exc})"]
    write = terminalreporter.write_line
    terminalreporter.write_sep("-", "sandboxres")
    for line in target_lines:
        write(line)
    write(
        f"resources: {totals['created']} created, {totals['deleted']} deleted, {totals['kept']} kept, "
        f"{len(left)} left behind"
    )
    write(f"waiting for readiness: {totals['ready_wait_seconds']:.2f} s")
    for line in pool_summary_lines(config, embedded):
        write(line)
    if totals["kept"] and embedded:
        write(
            "kept on purpose (keep=True, --sandboxres-keep or SANDBOXRES_KEEP): kept resources live only as long as "
            "this process's embedded emulator; to inspect them after the run, use an external emulator "
            "(sandboxres emulator)"
        )
    elif totals["kept"]:
        write("kept on purpose (keep=True, --sandboxres-keep or SANDBOXRES_KEEP): delete them when done")
    for name in left:
        write(f"left behind: {name} (see the errors above; delete it by hand or with the sweep command)")
