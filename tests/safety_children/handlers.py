"""Reports which SIGTERM handler is in force before, during and after resources are live.

Prints ``<PHASE> <handler>`` lines, where handler is ``custom`` (this program's own), ``sandboxres``,
``default`` or another name, first with SIGTERM's default disposition, then (``CUSTOM-`` phases) with the
program's own handler, which the library leaves in force; then it sends itself SIGTERM with nothing live (the
program's own handler must run), and leaves one resource created by a worker thread for the exit cleanup.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from types import FrameType

import sandboxres
import sandboxres._safety.signals as _signals


def custom(signum: int, frame: FrameType | None) -> None:
    print("CUSTOM HANDLER RAN", flush=True)


def which() -> str:
    handler = signal.getsignal(signal.SIGTERM)
    if handler is custom:
        return "custom"
    if handler is _signals._on_sigterm:
        return "sandboxres"
    if handler == signal.SIG_DFL:
        return "default"
    return repr(handler)


def report(phase: str) -> None:
    print(f"{phase} {which()}", flush=True)


def phases(prefix: str) -> None:
    report(prefix + "BEFORE")
    with sandboxres.ephemeral_queue("handlers"):
        report(prefix + "DURING")
        with sandboxres.ephemeral_table("handlers"):
            report(prefix + "NESTED")
        report(prefix + "AFTER-NESTED")
    report(prefix + "AFTER")
    with sandboxres.ephemeral_all(sandboxres.ephemeral_queue("a"), sandboxres.ephemeral_queue("b")):
        report(prefix + "DURING-ALL")
    report(prefix + "AFTER-ALL")


# SIGTERM's default disposition: the library's handler is in force while resources are live.
phases("")
# The program's own handler: it stays in force throughout.
signal.signal(signal.SIGTERM, custom)
phases("CUSTOM-")

# Nothing is live: SIGTERM reaches the program's own handler again.
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(0.2)

# A resource registered by a worker thread cannot install a handler (Python allows it in the main thread
# only); it stays live here and is deleted by the exit cleanup.
worker = threading.Thread(target=lambda: sandboxres.ephemeral_queue("worker").create())
worker.start()
worker.join()
report("WORKER-LIVE")
