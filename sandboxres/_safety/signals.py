"""SIGTERM: while resources are live it becomes :class:`Terminated` (a KeyboardInterrupt), so Ctrl-C's cleanup runs.

- SIGTERM with its default disposition (which would kill the process without any cleanup): while resources are
  live, a handler installed in the main thread turns it into :class:`Terminated`, so the very same cleanup runs
  (the ``with`` blocks delete what they hold); when the last resource is gone the default is put back. If the
  interruption ends the program, it then exits with SIGTERM's status, as it would have without the handler
  (:func:`exit_with_sigterm_status`, an exit hook). A second SIGTERM during the cleanup is ignored (SIGKILL still
  works).
- A program that chose its own disposition keeps it: SIG_IGN goes on ignoring SIGTERM (the program keeps running
  with its resources), and the program's own handler runs exactly as without the library (an exception it raises,
  ``sys.exit`` for one, leaves the ``with`` blocks, which delete what they hold; a flag it sets ends the program
  its own way).
- Registrations from other threads cannot install a handler (Python allows it in the main thread only):
  :func:`armed` lets a main-thread caller hold it while its workers create resources. A handler left in place
  after the last resource is gone behaves exactly like the previous one.

The registry of live resources reports every change (:func:`resources_changed`) with the number live and a way
to count them again from the handler; this module knows nothing else of it. Nothing is installed at import.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

log = logging.getLogger("sandboxres")


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived while resources were live; being a KeyboardInterrupt, it runs every Ctrl-C cleanup."""


_lock = threading.RLock()
_installed = False
_previous: Any = None
_terminating = False
_armed = 0


def _nothing_live() -> int:
    return 0


# How many resources are live now; the registry hands in its counter with its first change. Called from the
# signal handler: it must take no lock.
_live_count: Callable[[], int] = _nothing_live


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


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


def resources_changed(live: int, live_count: Callable[[], int]) -> None:
    """Called by the registry after each registration change: ``live`` resources are registered now, and
    ``live_count()`` counts them again later (from the handler: it must take no lock)."""
    global _terminating, _live_count
    _live_count = live_count
    if live == 0:
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


def exit_with_sigterm_status() -> None:
    """Exit hook, meant to run last: a program ended by SIGTERM (turned into Terminated) dies of SIGTERM, as
    without the library."""
    if not isinstance(getattr(sys, "last_value", None), Terminated):
        return
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    logging.shutdown()  # its own exit hook, registered earlier, would run after this one
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
