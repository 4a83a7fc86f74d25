"""Import cost of ``import sandboxres`` vs ``import boto3``, measured in the same run.

    python benchmarks/import_time.py [--runs 7]

Each measurement is a fresh interpreter with ``python -X importtime -c "import <module>"``; the cumulative time
of the top-level module is read from its report. Prints the medians, their difference and ratio, and whether
``import sandboxres`` pulled in modules it must import only when used (asyncio, aioboto3, aiobotocore, moto).
Target: sandboxres <= boto3 + 25 ms (medians of 7 runs).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys

LAZY = ("asyncio", "aioboto3", "aiobotocore", "moto")
TARGET_MS = 25.0


def import_report(module: str) -> str:
    command = [sys.executable, "-X", "importtime", "-c", f"import {module}"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stderr


def cumulative_ms(report: str, module: str) -> float:
    """The cumulative microseconds of ``module`` in an importtime report, in milliseconds."""
    for line in report.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s?(\s*)(\S+)$", line)
        if match and match.group(3) == module and not match.group(2):
            return int(match.group(1)) / 1000
    raise RuntimeError(f"{module} not in the importtime report")


def imported(report: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in report.splitlines() if line.startswith("import time:")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    boto3_ms, ours_ms = [], []
    unwanted: set[str] = set()
    for _ in range(args.runs):  # alternating, so that drift is shared fairly
        boto3_ms.append(cumulative_ms(import_report("boto3"), "boto3"))
        report = import_report("sandboxres")
        ours_ms.append(cumulative_ms(report, "sandboxres"))
        unwanted |= {m for m in LAZY if m in imported(report)}
    base, ours = statistics.median(boto3_ms), statistics.median(ours_ms)
    good = ours - base <= TARGET_MS and not unwanted
    print(f"import time, medians of {args.runs} fresh interpreters (-X importtime)")
    print("| import | ms |")
    print("|---|---:|")
    print(f"| boto3 | {base:.1f} |")
    print(f"| sandboxres | {ours:.1f} |")
    print(f"difference: {ours - base:+.1f} ms (target <= +{TARGET_MS:g} ms), ratio {ours / base:.2f}x")
    print(f"imported before use: {', '.join(sorted(unwanted)) or 'none'}")
    print("verdict: " + ("ok" if good else "over target"))
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
