"""Resources this process has live, and counters of what it created, deleted and left behind.

A resource is registered *before* its create call is sent, so an interruption at any point still knows its
name and can delete it. Every change is reported to the SIGTERM handler (``signals``) and, while anything is
live, makes sure the exit cleanup (``exit_cleanup``) is registered; both get what they need to know of the
registry (a count, the list of live lifecycles) as callables, and neither imports it.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

import sandboxres._safety.exit_cleanup as _exit_cleanup
import sandboxres._safety.signals as _signals


@dataclass
class Stats:
    """Counters for summaries (the pytest plugin prints them)."""

    created: int = 0
    deleted: int = 0
    kept: int = 0
    left_behind: int = 0
    ready_wait_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ready_wait_seconds": round(self.ready_wait_seconds, 3)}


STATS = Stats()
_live: dict[int, Any] = {}
_lock = threading.Lock()


def _changed(now: int) -> None:
    """After a registration change, with ``now`` resources live: the exit hook first, then the SIGTERM handler."""
    if now > 0:
        _exit_cleanup.ensure_hook(live, last=_signals.exit_with_sigterm_status)
    _signals.resources_changed(now, live_count)


def register(lifecycle: Any) -> None:
    with _lock:
        _live[id(lifecycle)] = lifecycle
        now = len(_live)
    _changed(now)


def unregister(lifecycle: Any) -> None:
    with _lock:
        _live.pop(id(lifecycle), None)
        now = len(_live)
    _changed(now)


def live_count() -> int:
    """How many resources are registered now. Takes no lock: safe to call from a signal handler."""
    return len(_live)


def live() -> list[Any]:
    """The lifecycles registered now (created or being created, not yet deleted)."""
    with _lock:
        return list(_live.values())


def count(**changes: float) -> None:
    with _lock:
        for key, value in changes.items():
            setattr(STATS, key, getattr(STATS, key) + value)
