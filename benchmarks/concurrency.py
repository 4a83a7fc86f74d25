"""Concurrent table lifecycles on dynalite (tables stay CREATING and DELETING like on AWS), in one run.

    python benchmarks/concurrency.py [--tables 50] [--create-ms 500]

Prints the wall time of one table lifecycle, of N lifecycles entered concurrently through
``sandboxres.aio.ephemeral_all``, of N through the sync ``sandboxres.ephemeral_all`` (threads), and of N one after
the other. Target: N concurrent <= 2x one lifecycle. Needs Node.js and npm (dynalite is installed on first use).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sandboxres
from sandboxres import aio
from tests.emulators.launch import start_emulator


def one() -> float:
    started = time.perf_counter()
    with sandboxres.ephemeral_table("bench"):
        pass
    return time.perf_counter() - started


def sequential(n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        with sandboxres.ephemeral_table("bench"):
            pass
    return time.perf_counter() - started


def threaded(n: int) -> float:
    started = time.perf_counter()
    with sandboxres.ephemeral_all(*(sandboxres.ephemeral_table("bench") for _ in range(n)), max_workers=n):
        pass
    return time.perf_counter() - started


async def concurrent(n: int) -> float:
    started = time.perf_counter()
    async with aio.ephemeral_all(*(aio.ephemeral_table("bench") for _ in range(n))):
        pass
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=50)
    parser.add_argument("--create-ms", type=int, default=500, help="dynalite CREATING/DELETING duration")
    args = parser.parse_args(argv)
    with start_emulator("dynalite", create_ms=args.create_ms, delete_ms=args.create_ms) as emulator:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = emulator.url
        one()  # warm-up: clients and service models
        single = min(one() for _ in range(3))
        together = asyncio.run(concurrent(args.tables))
        threads = threaded(args.tables)
        in_order = sequential(args.tables)
    n = args.tables
    print(f"dynalite, tables CREATING and DELETING for {args.create_ms} ms each")
    print("| run | wall time (s) | vs one lifecycle |")
    print("|---|---:|---:|")
    print(f"| one table lifecycle | {single:.2f} | 1.00x |")
    print(f"| {n} concurrent, async ephemeral_all | {together:.2f} | {together / single:.2f}x |")
    print(f"| {n} concurrent, sync ephemeral_all (threads) | {threads:.2f} | {threads / single:.2f}x |")
    print(f"| {n} sequential | {in_order:.2f} | {in_order / single:.2f}x |")
    ok = together <= 2 * single
    print(f"target: {n} concurrent <= 2x one lifecycle: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
