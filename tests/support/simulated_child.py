"""Child processes on the ``simulated`` target: each is a fresh interpreter with its own embedded emulator and its
own simulator, seeded by ``SANDBOXRES_SIMULATE_SEED`` (the real variables, as a user sets them).

``python -m tests.support.simulated_child soak N``: N lifecycles of mixed kinds and options (the main options of
:data:`tests.support.soak.OPTIONS`), sync and async, drawn from the seed, each filled through the emulator itself
while it lives; then what is left on the emulator behind the simulator. Prints one JSON object: the seed, the
lifecycles by kind and mode, the requests and faults the simulator's proxy recorded, the failures, the leftovers.

``python -m tests.support.simulated_child replay``: a fixed sequence of library calls in one thread; prints the
proxy's records (service, operation, resource, fault), with every resource name replaced by its order of first
appearance, so that two runs with random names compare.

Both are started by :func:`run_child`, with the target variables given and nothing else of the caller's target.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "child_env", "run_child"]

ROOT = Path(__file__).resolve().parents[2]
_CLEARED_PREFIXES = ("SANDBOXRES_", "AWS_", "PYTEST_XDIST_")
LIFECYCLE_TIMEOUT = "60"  # seconds per resource: a stuck lifecycle fails instead of hanging the run


def child_env(**variables: str) -> dict[str, str]:
    """The caller's environment without any target variable, plus ``variables``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(_CLEARED_PREFIXES)}
    env.update(
        SANDBOXRES_TABLE_TIMEOUT=LIFECYCLE_TIMEOUT,
        SANDBOXRES_BUCKET_TIMEOUT=LIFECYCLE_TIMEOUT,
        SANDBOXRES_QUEUE_TIMEOUT=LIFECYCLE_TIMEOUT,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    env.update(variables)
    return env


def run_child(*args: str, timeout: float = 600.0, **variables: str) -> subprocess.Popen[str]:
    """Start ``python -m tests.support.simulated_child ARGS`` on the simulated target with ``variables``."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.simulated_child", *args],
        cwd=ROOT,
        env=child_env(SANDBOXRES_TARGET="simulated", **variables),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# ---------------------------------------------------------------------------------------------------------
# in the child


def _fill(upstream: Any, kind: str, handle: Any, options: dict[str, Any]) -> None:
    """Leave something in the live resource, written on the emulator itself, for the deletion to deal with."""
    if kind == "table":
        item = {"pk": {"S": "k"}, "sk": {"S": "s"}, "owner": {"S": "o"}, "expires": {"N": "1"}}
        upstream.dynamodb.put_item(TableName=handle.name, Item=item)
    elif kind == "bucket":
        for key in ("a", "b", "a"):
            upstream.s3.put_object(Bucket=handle.name, Key=key, Body=b"x")
        if options.get("versioning"):
            upstream.s3.delete_object(Bucket=handle.name, Key="b")  # a delete marker
    else:
        extra = {"MessageGroupId": "g", "MessageDeduplicationId": "d"} if options.get("fifo") else {}
        upstream.sqs.send_message(QueueUrl=handle.url, MessageBody="m", **extra)


def soak(n: int) -> dict[str, Any]:
    from sandboxres import describe_target
    from sandboxres._runtime.embedded import ensure_embedded
    from sandboxres._runtime.simulated import running_simulators
    from tests.support.inventory import Inventory
    from tests.support.runner import AsyncRunner, Runner, SyncRunner
    from tests.support.soak import OPTIONS

    target = describe_target()
    assert target.kind == "simulated" and target.simulation is not None, target.kind
    seed = target.simulation.seed
    rng = random.Random(seed)
    upstream = Inventory(ensure_embedded())
    runners: dict[str, Runner] = {"sync": SyncRunner(), "async": AsyncRunner()}
    lifecycles: Counter[str] = Counter()
    failures: list[str] = []
    started = time.monotonic()
    try:
        for index in range(n):
            kind = ("table", "bucket", "queue")[index % 3]
            mode = rng.choice(("sync", "async"))
            options = dict(rng.choice(OPTIONS[kind]))
            lifecycles[kind] += 1
            lifecycles[mode] += 1
            try:
                with runners[mode].lifecycle(kind, "simsoak", **options) as handle:
                    _fill(upstream, kind, handle, options)
            except Exception as exc:
                failures.append(f"#{index} {kind} {mode} {options}: {type(exc).__name__}: {exc}")
    finally:
        runners["async"].close()
    seconds = time.monotonic() - started
    (simulator,) = running_simulators()
    seen = simulator.proxy.requests
    return {
        "seed": seed,
        "lifecycles": dict(lifecycles),
        "seconds": seconds,
        "requests": len(seen),
        "faults": dict(Counter(record.fault for record in seen if record.fault is not None)),
        "failures": failures,
        "leftovers": sorted(Inventory(ensure_embedded()).snapshot()),
    }


def replay() -> dict[str, Any]:
    """One thread, a fixed sequence of calls; the proxy's records with the resource names mapped away."""
    import sandboxres
    from sandboxres import describe_target
    from sandboxres._runtime.simulated import running_simulators

    target = describe_target()
    assert target.kind == "simulated" and target.simulation is not None
    with sandboxres.ephemeral_queue("replay") as queue:
        for n in range(4):
            queue.client.send_message(QueueUrl=queue.url, MessageBody=f"m{n}")
        for _ in range(12):  # short polls: each may come back empty
            queue.client.receive_message(QueueUrl=queue.url, VisibilityTimeout=0)
        for _ in range(6):  # long polls: each may return fewer than asked
            queue.client.receive_message(QueueUrl=queue.url, WaitTimeSeconds=1, MaxNumberOfMessages=10)
        for _ in range(10):
            queue.client.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])
    with sandboxres.ephemeral_bucket("replay") as bucket:
        for _ in range(10):
            bucket.client.get_bucket_versioning(Bucket=bucket.name)
    (simulator,) = running_simulators()
    names: dict[str, str] = {}
    records = []
    for record in simulator.proxy.requests:
        resource = None
        if record.resource is not None:
            resource = names.setdefault(record.resource, f"resource{len(names)}")
        records.append([record.service, record.operation, resource, record.fault])
    return {"seed": target.simulation.seed, "records": records}


def main(argv: list[str]) -> int:
    try:
        if argv[0] == "soak":
            result = soak(int(argv[1]))
        elif argv[0] == "replay":
            result = replay()
        else:
            raise SystemExit(f"unknown command {argv[0]!r}")
    except Exception:
        print(json.dumps({"error": traceback.format_exc()}), flush=True)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
