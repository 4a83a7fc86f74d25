"""The pytest plugin's terminal summary: the target (no credentials), what the run created, deleted, kept and left
behind, added up over every xdist worker, the time spent waiting for readiness and, with ``--sandboxres-pool``, the
pool's counters per kind (with ``--sandboxres-pool=warm`` also what it leased from earlier runs and released for
later ones). On the ``simulated`` target it also prints the simulator's speed and the run's seed (with each xdist
worker's, derived from it) and the line that replays the run, and adds that line to every failed test's report
(:func:`replay_section`). The hooks are registered by :mod:`sandboxres.pytest_plugin`.
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
from sandboxres._runtime.target import Target, resolve_target
from sandboxres._safety.registry import STATS


def _safe_url(url: str) -> str:
    """``url`` without any user:password part."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _describe(target: Target, session: Session) -> list[str]:
    """The target lines of the summary: kind and where, what chose it, the run id. No credentials."""
    per = "xdist worker" if session.workers else "process"
    if target.kind == "embedded":
        where = f"moto server on 127.0.0.1, one per {per}"
    elif target.kind == "simulated" and target.upstream_kind == "embedded":
        where = f"AWS behaviour simulator in front of a moto server on 127.0.0.1, one per {per}"
    elif target.kind == "simulated":
        urls = {s: _safe_url(u) for s, u in target.upstream.items() if u and s in ("dynamodb", "s3", "sqs")}
        where = f"AWS behaviour simulator, one per {per}, in front of " + ", ".join(f"{s} {u}" for s, u in urls.items())
    elif target.kind == "emulator":
        urls = {s: _safe_url(u) for s, u in target.endpoints.items() if u and s in ("dynamodb", "s3", "sqs")}
        where = ", ".join(f"{s} {u}" for s, u in urls.items())
    else:
        where = f"real AWS, region {target.region or 'from the SDK configuration'}"
    chosen_by = session.sources.get("SANDBOXRES_TARGET") or target.sources.get("kind", "")
    run_id = session.run_id + ("-gw<N>" if session.workers else "")
    lines = [f"target: {target.kind} ({where})", f"chosen by: {chosen_by}; run id: {run_id}"]
    return [*lines, *_simulation(target, session)]


def _simulation(target: Target, session: Session) -> list[str]:
    """The simulator's lines: speed, the run's seed (and each worker's), and the replay line."""
    simulation = target.simulation
    if simulation is None:
        return []
    origin = target.sources.get("seed", "")
    origin = session.sources.get("SANDBOXRES_SIMULATE_SEED") or origin
    line = f"simulator: speed {simulation.speed:g}, seed {simulation.run_seed} ({origin})"
    workers = sorted((r.get("worker") or "", r.get("seed")) for r in session.workers if r.get("seed") is not None)
    if workers:
        line += "; worker seeds derived from it: " + ", ".join(f"{w} {seed}" for w, seed in workers)
    return [line, f"replay: {simulation.replay()}" + (" (with the same number of xdist workers)" if workers else "")]


def replay_section(item: pytest.Item) -> str | None:
    """What a failed test's report says on ``simulated``: the seeds and the variables that replay the run."""
    try:
        target = resolve_target()
    except SandboxresError:
        return None
    simulation = target.simulation
    if simulation is None:
        return None
    text = f"simulated target: speed {simulation.speed:g}, seed {simulation.run_seed}"
    if simulation.worker:
        text += f" (xdist worker {simulation.worker}: seed {simulation.seed}, derived from it)"
    text += f"\nreplay: {simulation.replay()} pytest ..."
    if simulation.worker:
        text += " with the same number of xdist workers"
    return text


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    session = config.stash.get(SESSION, None)
    if session is None or hasattr(config, "workerinput"):
        return
    reports = [session.report(), *session.workers]
    totals = {key: sum(r["stats"].get(key, 0) for r in reports) for key in STATS.as_dict()}
    left = [name for r in reports for name in r["left_behind"]]
    embedded, simulated = False, False
    try:
        target = describe_target()
        target_lines, embedded, simulated = _describe(target, session), target.in_process, target.kind == "simulated"
    except SandboxresError as exc:
        target_lines = [f"target: not resolved ({exc})"]
    used = totals["created"] or totals["kept"] or totals["left_behind"] or left or pool_used(config)
    if not (used or simulated):
        return  # a warm pool that leased all it needed created nothing, but has its lines
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
