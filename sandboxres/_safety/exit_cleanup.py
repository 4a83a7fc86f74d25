"""Interpreter exit: whatever is still registered is deleted, within a time budget, and reported.

At interpreter exit, whatever is still registered (a ``create()`` never followed by ``delete()``, a failed
deletion) is deleted with the sync driver, also for resources created through the async API, and reported on
stderr and in the ``sandboxres`` log. The exit hook is (re-)registered after the embedded emulator started, so that
it runs before the emulator's own exit hook stops the server (atexit runs hooks in reverse order of
registration). A resource whose emulator no longer answers is reported at once instead of retried; one of an
embedded emulator that has stopped went with it. The whole cleanup gets ``EXIT_CLEANUP_SECONDS`` (a SIGALRM in
the main thread), so that exit never hangs on a dead endpoint.

The registry of live resources calls :func:`ensure_hook` with its first resource, handing in how to list what is
live; this module knows nothing else of it. Nothing is registered at import.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import Any

from sandboxres._runtime.embedded import embedded_url
from sandboxres._runtime.reachability import connection_error

log = logging.getLogger("sandboxres")

EXIT_CLEANUP_SECONDS = 60.0
_REACHABLE_SECONDS = 2.0
_lock = threading.Lock()
_hook_after_embedded: bool | None = None  # None: the exit hook is not registered yet


def _nothing_live() -> Sequence[Any]:
    return ()


# The lifecycles live now; the registry hands in its own with its first resource.
_live: Callable[[], Sequence[Any]] = _nothing_live


def ensure_hook(live: Callable[[], Sequence[Any]], last: Callable[[], None]) -> None:
    """Register the exit cleanup of the lifecycles ``live()`` returns, again if the embedded emulator started
    since (so that it runs before the emulator's stop). The first time, ``last`` is registered before it, so that
    it runs after the cleanup."""
    global _hook_after_embedded, _live
    _live = live
    running = embedded_url() is not None
    with _lock:
        if _hook_after_embedded is None:
            atexit.register(last)
        if _hook_after_embedded is None or (running and not _hook_after_embedded):
            atexit.unregister(delete_leftovers)
            atexit.register(delete_leftovers)
            _hook_after_embedded = running


def _report(level: int, message: str) -> None:
    """Log ``message`` and make sure it reaches stderr (once: without handlers, logging prints it there)."""
    log.log(level, "%s", message)
    if log.hasHandlers():
        with contextlib.suppress(Exception):
            print(message, file=sys.stderr, flush=True)


class _OutOfTime(BaseException):
    """The exit cleanup used up its time (a BaseException: no retry loop or plan catches it)."""


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _time_budget(seconds: float) -> Iterator[None]:
    """Raise _OutOfTime in the main thread after ``seconds`` (SIGALRM), so that exit never hangs on a dead
    endpoint; does nothing where the alarm is unavailable or already used by someone else."""
    usable = hasattr(signal, "setitimer") and _in_main_thread()
    previous: Any = None
    if usable:
        try:
            previous = signal.getsignal(signal.SIGALRM)
            usable = previous in (signal.SIG_DFL, None) and signal.getitimer(signal.ITIMER_REAL)[0] == 0
        except (ValueError, OSError):
            usable = False

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _OutOfTime

    if usable:
        signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if usable:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)


def _unreachable(lifecycle: Any, seen: dict[str, bool]) -> bool:
    """True when the emulator of the resource no longer accepts connections (no point retrying for long)."""
    target = lifecycle.target
    if target.kind == "aws":
        return False
    url = target.endpoints.get(lifecycle.service) or ""
    if url not in seen:
        seen[url] = connection_error(url, timeout=_REACHABLE_SECONDS) is not None
    return seen[url]


def _outlived_its_emulator(lifecycle: Any) -> bool:
    """True for a resource of an embedded emulator that no longer runs: nothing of it is left anywhere."""
    target = lifecycle.target
    return bool(target.in_process and target.emulator_url("dynamodb") != embedded_url())


def delete_leftovers(budget: float | None = None) -> tuple[list[str], list[str]]:
    """Delete every resource still registered (run at exit, within ``budget`` seconds in all, by default
    ``EXIT_CLEANUP_SECONDS``); report on stderr and in the log; return the labels (deleted, not deleted)."""
    budget = EXIT_CLEANUP_SECONDS if budget is None else budget
    from sandboxres._runtime.clients import client_pool
    from sandboxres._runtime.drivers import SyncDriver

    deleted: list[str] = []
    failed: list[str] = []
    pending = [lifecycle for lifecycle in _live() if lifecycle.target is not None]
    reachability: dict[str, bool] = {}
    if not pending:
        return deleted, failed
    with _time_budget(budget):
        for lifecycle in pending:
            try:
                plan = lifecycle.delete_plan()
                if plan is None:  # kept on purpose
                    continue
                if _outlived_its_emulator(lifecycle):
                    plan.close()
                    lifecycle.deleted()
                    deleted.append(f"{lifecycle.resource} (gone with the embedded emulator)")
                    continue
                if _unreachable(lifecycle, reachability):
                    plan.close()
                    failed.append(f"{lifecycle.resource} (its endpoint no longer answers)")
                    continue
                SyncDriver(client_pool(lifecycle.target)).run(plan)
            except _OutOfTime:
                failed.extend(f"{other.resource} (out of time)" for other in pending[pending.index(lifecycle) :])
                break
            except Exception as exc:
                lifecycle.cleanup_failed(exc)
                failed.append(f"{lifecycle.resource} ({type(exc).__name__})")
                continue
            lifecycle.deleted()
            deleted.append(lifecycle.resource)
    if deleted:
        listed = ", ".join(deleted)
        _report(logging.WARNING, f"sandboxres: deleted at exit {len(deleted)} resource(s) still live: {listed}")
    if failed:
        _report(
            logging.ERROR,
            f"sandboxres: could NOT delete at exit {len(failed)} resource(s): {', '.join(failed)}; "
            "remove them with `sandboxres sweep --yes`",
        )
    return deleted, failed
