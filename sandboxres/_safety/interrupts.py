"""Ctrl-C, SIGTERM and interpreter exit: live resources are deleted on every way out of the process.

- Resources are registered before their create call is sent (``_lifecycle``), so an interruption at any
  point knows their names. Ctrl-C raises KeyboardInterrupt and the ``with`` blocks delete what they hold.
- SIGTERM with its default disposition (which would kill the process without any cleanup) does the same:
  while resources are live, a handler installed in the main thread turns it into :class:`Terminated` (a
  KeyboardInterrupt), so the very same cleanup runs; when the last resource is gone the default is put back.
  If the interruption ends the program, it then exits with SIGTERM's status, as it would have without the
  handler. A second SIGTERM during the cleanup is ignored (SIGKILL still works). A program that chose its own
  disposition keeps it: SIG_IGN goes on ignoring SIGTERM (the program keeps running with its resources), and
  the program's own handler runs exactly as without the library (an exception it raises, ``sys.exit`` for
  one, leaves the ``with`` blocks, which delete what they hold; a flag it sets ends the program its own way).
  Registrations from other threads cannot install a handler (Python allows it in the main thread only);
  :func:`armed` lets a main-thread caller hold it while its workers create resources. A handler left in place
  after the last resource is gone behaves exactly like the previous one.
- At interpreter exit, whatever is still registered (a ``create()`` never followed by ``delete()``, a failed
  deletion) is deleted with the sync driver, also for resources created through the async API, and reported
  on stderr and in the ``sandboxres`` log. The exit hook is (re-)registered after the embedded emulator
  started, so that it runs before the emulator's own exit hook stops the server (atexit runs hooks in reverse
  order of registration). Nothing is registered at import: the hooks come with the first resource.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from sandboxres._runtime.embedded import embedded_url

log = logging.getLogger("sandboxres")


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived while resources were live; being a KeyboardInterrupt, it runs every Ctrl-C cleanup."""


_lock = threading.RLock()
_installed = False
_previous: Any = None
_terminating = False
_exit_hook_after_embedded: bool | None = None  # None: the exit hook is not registered yet
_armed = 0
EXIT_CLEANUP_SECONDS = 60.0


def _live_count() -> int:
    from sandboxres._safety.registry import live_count

    return live_count()


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


# ---------------------------------------------------------------------------------------------------------
# SIGTERM


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Raise Terminated while resources are live; otherwise do what the previous handler would have done."""
    global _terminating
    if _live_count() == 0 and _armed == 0:
        _delegate(signum, frame)
        return
    if _terminating:
        log.warning("SIGTERM again during cleanup: ignored; send SIGKILL to abort (resources may be left behind)")
        return
    _terminating = True
    raise Terminated("SIGTERM received: deleting the live sandboxres resources before exiting")


def _delegate(signum: int, frame: FrameType | None) -> None:
    previous = _previous
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_IGN:
        return
    else:  # the default action: terminate, with SIGTERM's status
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


def _install() -> None:
    global _installed, _previous
    if _installed or not _in_main_thread():
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
        if previous != signal.SIG_DFL:  # the program's own choice (SIG_IGN, its handler, one set from C) wins
            return
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError, AttributeError):  # no SIGTERM here, or not allowed in this interpreter
        return
    _previous, _installed = previous, True


def _restore() -> None:
    global _installed, _previous, _terminating
    _terminating = False
    if not _installed or not _in_main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:  # never undo a handler someone set after ours
            signal.signal(signal.SIGTERM, _previous if _previous is not None else signal.SIG_DFL)
    except (ValueError, OSError):
        return
    _installed, _previous = False, None


def sigterm_handler_installed() -> bool:
    """Whether the SIGTERM handler of this module is the one in force."""
    return _installed and signal.getsignal(signal.SIGTERM) is _on_sigterm


def resources_changed(live: int) -> None:
    """Called by the registry after each registration change with the number of live resources."""
    global _terminating
    if live > 0:
        _ensure_exit_hook()
    else:
        _terminating = False
    with _lock:
        if live > 0:
            _install()
        elif _armed == 0 and _live_count() == 0:  # the count passed in may be stale by now
            _restore()


@contextlib.contextmanager
def armed() -> Iterator[None]:
    """Hold the SIGTERM handler (from the main thread) while worker threads create and delete resources."""
    global _armed
    with _lock:
        _armed += 1
        _install()
    try:
        yield
    finally:
        with _lock:
            _armed -= 1
            if _armed == 0 and _live_count() == 0:
                _restore()


# ---------------------------------------------------------------------------------------------------------
# Interpreter exit


def _ensure_exit_hook() -> None:
    """Register the exit cleanup, again if the embedded emulator started since (so ours runs before its stop)."""
    global _exit_hook_after_embedded
    running = embedded_url() is not None
    with _lock:
        if _exit_hook_after_embedded is None:
            # First resource: the SIGTERM-status hook goes first, so that it runs after the exit cleanup.
            atexit.register(_exit_with_sigterm_status)
        if _exit_hook_after_embedded is None or (running and not _exit_hook_after_embedded):
            atexit.unregister(delete_leftovers)
            atexit.register(delete_leftovers)
            _exit_hook_after_embedded = running


def _report(level: int, message: str) -> None:
    """Log ``message`` and make sure it reaches stderr (once: without handlers, logging prints it there)."""
    log.log(level, "%s", message)
    if log.hasHandlers():
        with contextlib.suppress(Exception):
            print(message, file=sys.stderr, flush=True)


class _OutOfTime(BaseException):
    """The exit cleanup used up its time (a BaseException: no retry loop or plan catches it)."""


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


_SERVICE_OF = {"table": "dynamodb", "bucket": "s3", "queue": "sqs"}


def _unreachable(lifecycle: Any, seen: dict[str, bool]) -> bool:
    """True when the emulator of the resource no longer accepts connections (no point retrying for long)."""
    target = lifecycle.target
    if target.kind == "aws":
        return False
    url = target.endpoints.get(_SERVICE_OF.get(lifecycle.kind, "")) or ""
    if url not in seen:
        split = urlsplit(url)
        port = split.port or (443 if split.scheme == "https" else 80)
        try:
            socket.create_connection((split.hostname or "127.0.0.1", port), timeout=2).close()
            seen[url] = False
        except OSError:
            seen[url] = True
    return seen[url]


def _outlived_its_emulator(lifecycle: Any) -> bool:
    """True for a resource of an embedded emulator that no longer runs: nothing of it is left anywhere."""
    target = lifecycle.target
    return bool(target.kind == "embedded" and target.endpoints.get("dynamodb") != embedded_url())


def delete_leftovers(budget: float | None = None) -> tuple[list[str], list[str]]:
    """Delete every resource still registered (run at exit, within ``budget`` seconds in all, by default
    ``EXIT_CLEANUP_SECONDS``); report on stderr and in the log; return the labels (deleted, not deleted)."""
    budget = EXIT_CLEANUP_SECONDS if budget is None else budget
    from sandboxres._runtime.clients import client_pool
    from sandboxres._runtime.drivers import SyncDriver
    from sandboxres._safety.registry import live

    deleted: list[str] = []
    failed: list[str] = []
    pending = [lifecycle for lifecycle in live() if lifecycle.target is not None]
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


def _exit_with_sigterm_status() -> None:
    """Last exit hook: a program ended by SIGTERM (turned into Terminated) dies of SIGTERM, as without us."""
    if not isinstance(getattr(sys, "last_value", None), Terminated):
        return
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    logging.shutdown()  # its own exit hook, registered earlier, would run after this one
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
