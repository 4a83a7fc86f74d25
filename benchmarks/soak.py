"""Soak: many lifecycles of every kind and main option, sync and async, through a fault-injecting proxy in front of
a moto server, with a seeded share of all requests faulted (throttling, 500, 503, connection resets, latency) and
AccessDenied scripted on the creates of every 15th lifecycle.

    python benchmarks/soak.py [--n 1000] [--seed 1] [--rate 0.2] [--concurrency 8] [--write-docs]

Prints the counts: lifecycles (by kind and front door), requests and faults injected (by kind), the scripted
permanent failures, any other failure, what was left on the server, and the growth of this process's memory and
open file descriptors over the run. Target: 0 other failures, 0 leaked. ``--write-docs`` records the table under
"Soak" in docs/performance.md. Needs moto's server (installed with sandboxres).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.performance_page import paragraph, write_section
from tests.support.soak import DENY_EVERY, run_soak, soak_target


def open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:  # not Linux
        return None


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:  # not Linux: the peak instead
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="lifecycles (default 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.2, help="share of requests faulted (default 0.2)")
    parser.add_argument("--concurrency", type=int, default=8, help="lifecycles at once (default 8)")
    parser.add_argument("--write-docs", action="store_true", help="record the table in docs/performance.md")
    args = parser.parse_args(argv)
    with soak_target() as target:
        run_soak(target, n=12, seed=args.seed + 1, rate=args.rate, concurrency=args.concurrency)  # warm-up
        fds_before, rss_before = open_fds(), rss_mb()
        report = run_soak(target, n=args.n, seed=args.seed, rate=args.rate, concurrency=args.concurrency)
        fds_after, rss_after = open_fds(), rss_mb()
    print("\n".join(report.lines()))
    fds = f"{fds_after - fds_before:+d}" if fds_before is not None and fds_after is not None else "n/a"
    print(f"memory (RSS) growth: {rss_after - rss_before:+.1f} MB; open file descriptors: {fds}")
    faults = ", ".join(f"{label} {n}" for label, n in sorted(report.faults.items()) if label != "access_denied")
    table = "\n".join(
        [
            paragraph(
                f"`python benchmarks/soak.py --n {args.n} --rate {args.rate:g} --concurrency {args.concurrency}`: "
                f"{args.n} lifecycles of every kind and main option (sync and async) through the fault proxy in "
                f"front of a moto server; {args.rate:.0%} of all requests get a transient fault (seeded), and "
                f"every {DENY_EVERY}th lifecycle has AccessDenied scripted on its create. Target: 0 other failures, "
                "0 leaked. "
                "`tests/test_soak.py` runs 30 in CI."
            ),
            "",
            "| lifecycles | requests | faults injected | scripted AccessDenied | other failures | leaked "
            "| memory growth | open fds | wall time |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {report.total} | {report.requests} | {report.injected} ({faults}) | {report.denied} "
            f"| {len(report.failures)} | {len(report.leaked)} | {rss_after - rss_before:+.1f} MB | {fds} "
            f"| {report.seconds:.0f} s |",
        ]
    )
    print()
    print(table)
    if args.write_docs:
        write_section("Soak", table)
    return 0 if not report.failures and not report.leaked else 1


if __name__ == "__main__":
    sys.exit(main())
