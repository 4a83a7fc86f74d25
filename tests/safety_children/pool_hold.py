"""A program with a pool (``sandboxres.Pool`` or ``sandboxres.aio.Pool``) that waits to be interrupted.

    python pool_hold.py --api sync|async --phase held|idle|recycling

It prepares resources of four shapes (three tables ``pt``, a table ``ranged`` with a range key, a bucket ``pb``,
a queue ``pq``) and holds one of each in a block, putting an item and an object in what it holds.

``--phase held``: inside the block it also prepares shapes labelled ``late`` (two tables, a bucket, a queue),
prints ``READY <json names held>`` and sleeps until a signal arrives: the pool then holds resources in a block,
idle ones (the two other ``pt`` tables, once prepared) and, when a test holds the ``late`` creations back,
resources being created. ``--phase idle``: the block ends (its resources are recycled), every preparation
finishes, then it prints ``READY <json names held before>`` and sleeps: only idle resources are left.
``--phase recycling``: it prints ``READY <json names held>`` inside the block, which then ends: the signal arrives
while the pool recycles what was held (a test holds the reply to a recycling call back), and ``INTERRUPTED`` is
printed as it is taken, before the pool closes.

The target comes from the environment, as always. ``NOT INTERRUPTED`` on stdout: the sleep ended by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import sandboxres
import sandboxres.aio

Shapes = tuple[tuple[str, str, int, dict[str, Any]], ...]  # (kind, label, count to prepare, options)

SHAPES: Shapes = (
    ("table", "pt", 3, {}),
    ("table", "ranged", 1, {"range_key": "sk"}),
    ("bucket", "pb", 1, {}),
    ("queue", "pq", 1, {}),
)
LATE: Shapes = (("table", "late", 2, {}), ("bucket", "late", 1, {}), ("queue", "late", 1, {}))
PREPARED = sum(count for _, _, count, _ in SHAPES)
LIMITS = sandboxres.RecycleLimits(settle_seconds=0.2)  # a queue's recycling: the settle time and a 1 s receive
SLEEP = 120


def prepare(pool: Any, shapes: Shapes) -> None:
    for kind, label, count, options in shapes:
        getattr(pool, f"prepare_{kind}")(label, count=count, **options)


def leases(pool: Any) -> list[Any]:
    return [getattr(pool, kind)(label, **options) for kind, label, _, options in SHAPES]


def created(pool: Any) -> int:
    return sum(counters.created for counters in pool.counters.values())


def ready(handles: list[Any]) -> None:
    print("READY " + json.dumps([handle.name for handle in handles]), flush=True)


@contextlib.contextmanager
def saying_when_interrupted() -> Iterator[None]:
    """``INTERRUPTED`` on stdout as the signal's exception leaves the block (the pool then closes)."""
    try:
        yield
    except BaseException:
        print("INTERRUPTED", flush=True)
        raise


def run_sync(phase: str) -> None:
    with sandboxres.Pool(limits=LIMITS) as pool:
        prepare(pool, SHAPES)
        with contextlib.ExitStack() as stack:
            handles = [stack.enter_context(lease) for lease in leases(pool)]
            handles[0].table.put_item(Item={"pk": "held"})
            handles[2].client.put_object(Bucket=handles[2].name, Key="k.txt", Body=b"held")
            if phase == "held":
                prepare(pool, LATE)
                ready(handles)
                time.sleep(SLEEP)
                print("NOT INTERRUPTED", flush=True)
                return
            if phase == "recycling":
                ready(handles)
        if phase == "recycling":
            with saying_when_interrupted():
                time.sleep(SLEEP)
            print("NOT INTERRUPTED", flush=True)
            return
        while created(pool) < PREPARED:  # the other ``pt`` tables may still be in preparation
            time.sleep(0.05)
        ready(handles)
        time.sleep(SLEEP)
        print("NOT INTERRUPTED", flush=True)


async def run_async(phase: str) -> None:
    async with sandboxres.aio.Pool(limits=LIMITS) as pool:
        prepare(pool, SHAPES)
        async with contextlib.AsyncExitStack() as stack:
            handles = [await stack.enter_async_context(lease) for lease in leases(pool)]
            await handles[0].table.put_item(Item={"pk": "held"})
            await handles[2].client.put_object(Bucket=handles[2].name, Key="k.txt", Body=b"held")
            if phase == "held":
                prepare(pool, LATE)
                ready(handles)
                await asyncio.sleep(SLEEP)
                print("NOT INTERRUPTED", flush=True)
                return
            if phase == "recycling":
                ready(handles)
        if phase == "recycling":
            with saying_when_interrupted():
                await asyncio.sleep(SLEEP)
            print("NOT INTERRUPTED", flush=True)
            return
        while created(pool) < PREPARED:
            await asyncio.sleep(0.05)
        ready(handles)
        await asyncio.sleep(SLEEP)
        print("NOT INTERRUPTED", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", choices=["sync", "async"], default="sync")
    parser.add_argument("--phase", choices=["held", "idle", "recycling"], default="held")
    args = parser.parse_args()
    if args.api == "async":
        asyncio.run(run_async(args.phase))
    else:
        run_sync(args.phase)


if __name__ == "__main__":
    main()
