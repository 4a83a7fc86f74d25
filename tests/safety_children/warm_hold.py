"""A program with a warm pool (``sandboxres.Pool(warm=True)``) that holds one table of the shape ``users``.

    python warm_hold.py hold|ask

``hold``: it holds the table, puts an item in it, prints ``READY <name>`` and sleeps (until it is killed).
``ask``: it prints ``WAITING`` (imported, nothing asked yet) and waits for a line on stdin; then it holds the
table, prints ``GOT <json>`` (its name, the items it holds, the pool's counters, the time) and waits for another
line before its pool closes.

The target and ``SANDBOXRES_POOL_LEASE`` come from the environment. ``NOT KILLED`` on stdout: the sleep ended.
"""

from __future__ import annotations

import json
import sys
import time

import sandboxres

SLEEP = 120


def hold() -> None:
    with sandboxres.Pool(warm=True) as pool, pool.table("users") as handle:
        handle.table.put_item(Item={"pk": "left-by-the-killed-holder"})
        print(f"READY {handle.name}", flush=True)
        time.sleep(SLEEP)
        print("NOT KILLED", flush=True)


def ask() -> None:
    print("WAITING", flush=True)
    sys.stdin.readline()
    with sandboxres.Pool(warm=True) as pool:
        with pool.table("users") as handle:
            items = handle.table.scan(ConsistentRead=True)["Items"]
            counters = pool.counters["table"].as_dict()
            got = {"name": handle.name, "items": items, "counters": counters, "at": time.time()}
            print("GOT " + json.dumps(got, default=str), flush=True)
            sys.stdin.readline()


if __name__ == "__main__":
    {"hold": hold, "ask": ask}[sys.argv[1]]()
