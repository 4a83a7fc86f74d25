"""A program with its own SIGTERM disposition that holds a table and a queue when SIGTERM arrives.

    python disposition.py ignore|exit-handler|flag-handler|default

``ignore``: SIGTERM is ignored (SIG_IGN); the program goes on until a line arrives on stdin, then prints
``SURVIVED`` and leaves its blocks. ``exit-handler``: its handler prints ``CUSTOM HANDLER RAN`` and exits
with status 3 (``sys.exit``). ``flag-handler``: its handler prints the same line and sets a flag the program
polls; it then prints ``STOPPED BY FLAG`` and leaves its blocks. ``default``: SIGTERM has its default action.
Prints ``READY <json names>`` once the resources exist.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from types import FrameType

import sandboxres

mode = sys.argv[1]
stop = False


def exit_handler(signum: int, frame: FrameType | None) -> None:
    print("CUSTOM HANDLER RAN", flush=True)
    sys.exit(3)


def flag_handler(signum: int, frame: FrameType | None) -> None:
    global stop
    print("CUSTOM HANDLER RAN", flush=True)
    stop = True


if mode == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
elif mode == "exit-handler":
    signal.signal(signal.SIGTERM, exit_handler)
elif mode == "flag-handler":
    signal.signal(signal.SIGTERM, flag_handler)

with sandboxres.ephemeral_table("disposition") as table, sandboxres.ephemeral_queue("disposition") as queue:
    print("READY " + json.dumps([table.name, queue.name]), flush=True)
    if mode == "ignore":
        sys.stdin.readline()
        table.table.put_item(Item={"pk": "still usable"})
        print("SURVIVED", flush=True)
    else:
        deadline = time.monotonic() + 60
        while not stop and time.monotonic() < deadline:
            time.sleep(0.02)
        print("STOPPED BY FLAG" if stop else "NOT INTERRUPTED", flush=True)
