"""Soak: many lifecycles of every kind and main option, sync and async, through a fault-injecting proxy that gives a
seeded share of all requests a transient fault (throttling, 500, 503, connection reset, latency).

Shared by ``tests/test_soak.py`` (small N, in CI) and ``benchmarks/soak.py`` (N=1,000 by default)::

    with soak_target() as target:
        report = run_soak(target, n=30, seed=7)
    assert report.failures == [] and report.leaked == []

Every 15th lifecycle uses the label ``soak_deny``, whose create calls the proxy answers with AccessDenied: those
must fail at once with :class:`~sandboxres.AWSCallError` (they are the only failures allowed). Nothing may be
left on the moto server behind the proxy. botocore's own retries are off (``AWS_MAX_ATTEMPTS=1``): every fault
is the library's to handle.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sandboxres import AWSCallError, Index
from sandboxres._runtime.settings import ENDPOINT_VARIABLES
from sandboxres._simulator import TRANSIENT_FAULTS, FaultProxy, Rule, ServiceError, random_faults, start_fault_proxy
from tests.emulators.launch import start_emulator
from tests.support.inventory import Inventory
from tests.support.runner import AsyncRunner, Runner, SyncRunner

__all__ = ["OPTIONS", "Case", "SoakReport", "SoakTarget", "plan_cases", "run_soak", "soak_target"]

# The main options of each kind; each lifecycle draws one.
OPTIONS: dict[str, list[dict[str, Any]]] = {
    "table": [
        {},
        {"range_key": "sk"},
        {"global_indexes": [Index("by_owner", hash_key="owner")]},
        {"stream": "NEW_IMAGE"},
        {"ttl_attribute": "expires"},
    ],
    "bucket": [{}, {"versioning": True}],
    "queue": [{}, {"fifo": True}, {"dead_letter": 3}, {"fifo": True, "dead_letter": 2}],
}
CREATE_OPERATIONS = ("CreateTable", "CreateBucket", "CreateQueue")
DENIED_LABEL = "soak_deny"
DENY_EVERY = 15
TIMEOUT_SECONDS = "60"  # per resource: a stuck lifecycle fails the soak instead of hanging it


@dataclass(frozen=True)
class Case:
    index: int
    kind: str
    mode: str
    options: dict[str, Any]
    denied: bool

    @property
    def label(self) -> str:
        return DENIED_LABEL if self.denied else "soak"


@dataclass
class SoakReport:
    """What a soak did: lifecycles by kind and mode, requests and faults seen by the proxy, failures, leaks."""

    lifecycles: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    denied: int = 0
    failures: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(count for key, count in self.lifecycles.items() if key in ("table", "bucket", "queue"))

    @property
    def injected(self) -> int:
        return sum(count for label, count in self.faults.items() if label != "access_denied")

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{self.lifecycles[k]} {k}s" for k in ("table", "bucket", "queue"))
        modes = ", ".join(f"{self.lifecycles[m]} {m}" for m in ("sync", "async"))
        rate = self.injected / self.requests if self.requests else 0.0
        faults = ", ".join(f"{label} {count}" for label, count in sorted(self.faults.items()))
        return [
            f"lifecycles: {self.total} ({kinds}; {modes}) in {self.seconds:.1f} s",
            f"requests through the proxy: {self.requests}; transient faults injected: {self.injected} ({rate:.0%})",
            f"faults by kind: {faults or 'none'}",
            f"scripted permanent failures (AccessDenied on create): {self.denied}",
            f"other failures: {len(self.failures)}",
            *(f"  {failure}" for failure in self.failures[:20]),
            f"leaked: {len(self.leaked)}",
            *(f"  {name}" for name in self.leaked[:20]),
        ]


@dataclass
class SoakTarget:
    proxy: FaultProxy
    upstream: Inventory


@contextlib.contextmanager
def soak_target() -> Iterator[SoakTarget]:
    """A moto server process, a fault proxy in front of it, and the environment pointing the library at the proxy
    (restored afterwards)."""
    names = (*ENDPOINT_VARIABLES, "SANDBOXRES_TARGET", "SANDBOXRES_ENV_FILE", "AWS_ACCESS_KEY_ID",
             "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
             "SANDBOXRES_TABLE_TIMEOUT", "SANDBOXRES_BUCKET_TIMEOUT", "SANDBOXRES_QUEUE_TIMEOUT")  # fmt: skip
    saved = {name: os.environ.get(name) for name in names}
    with start_emulator("moto") as moto, start_fault_proxy(moto.url) as proxy:
        try:
            for name in names:
                os.environ.pop(name, None)
            os.environ.update(
                AWS_ENDPOINT_URL=proxy.url,
                AWS_MAX_ATTEMPTS="1",
                AWS_RETRY_MODE="standard",
                SANDBOXRES_TABLE_TIMEOUT=TIMEOUT_SECONDS,
                SANDBOXRES_BUCKET_TIMEOUT=TIMEOUT_SECONDS,
                SANDBOXRES_QUEUE_TIMEOUT=TIMEOUT_SECONDS,
            )
            yield SoakTarget(proxy, Inventory(endpoint=moto.url))
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def plan_cases(n: int, seed: int) -> list[Case]:
    """``n`` lifecycles: kind, option set and front door drawn with ``seed``; every 15th is denied."""
    rng = random.Random(seed)
    cases = []
    for index in range(n):
        kind = ("table", "bucket", "queue")[index % 3] if index < 3 else rng.choice(("table", "bucket", "queue"))
        cases.append(
            Case(
                index=index,
                kind=kind,
                mode=rng.choice(("sync", "async")),
                options=dict(rng.choice(OPTIONS[kind])),
                denied=index % DENY_EVERY == DENY_EVERY // 2,
            )
        )
    return cases


def _fill(upstream: Inventory, kind: str, handle: Any, options: dict[str, Any]) -> None:
    """Check the resource on the server itself and leave something in it for the delete to deal with."""
    if kind == "table":
        assert upstream.table_status(handle.name) == "ACTIVE", handle.name
        item = {"pk": {"S": "k"}, "sk": {"S": "s"}, "owner": {"S": "o"}}
        upstream.dynamodb.put_item(TableName=handle.name, Item=item)
    elif kind == "bucket":
        for key in ("a", "b", "a"):
            upstream.s3.put_object(Bucket=handle.name, Key=key, Body=b"x")
        if options.get("versioning"):
            upstream.s3.delete_object(Bucket=handle.name, Key="b")  # a delete marker
    else:
        extra = {"MessageGroupId": "g", "MessageDeduplicationId": "d"} if options.get("fifo") else {}
        upstream.sqs.send_message(QueueUrl=handle.url, MessageBody="m", **extra)
        if options.get("dead_letter"):
            assert handle.dead_letter is not None and upstream.queue_exists(handle.dead_letter.name)


def _run_case(case: Case, runners: dict[str, Runner], upstream: Inventory) -> tuple[bool, str | None]:
    """(denied as scripted, failure description or None)."""
    run = runners[case.mode]
    try:
        with run.lifecycle(case.kind, case.label, **case.options) as handle:
            _fill(upstream, case.kind, handle, case.options)
    except AWSCallError as exc:
        if case.denied and exc.code in ("AccessDenied", "AccessDeniedException"):
            return True, None
        return False, f"#{case.index} {case.kind} {case.mode} {case.options}: {type(exc).__name__}: {exc}"
    except Exception as exc:
        return False, f"#{case.index} {case.kind} {case.mode} {case.options}: {type(exc).__name__}: {exc}"
    if case.denied:
        return False, f"#{case.index} {case.kind} {case.mode}: created although AccessDenied was scripted"
    return False, None


def run_soak(target: SoakTarget, n: int, seed: int, *, rate: float = 0.2, concurrency: int = 1) -> SoakReport:
    """Run ``n`` lifecycles through ``target``'s proxy with a ``rate`` share of requests faulted (seeded)."""
    proxy = target.proxy
    proxy.clear()
    proxy.add(
        Rule(
            ServiceError("access_denied"),
            operations=CREATE_OPERATIONS,
            resource=lambda name: "deny" in name,
            name="scripted AccessDenied",
        ),
        random_faults(rate, seed, kinds=TRANSIENT_FAULTS),
    )
    cases = plan_cases(n, seed)
    report = SoakReport()
    runners: dict[str, Runner] = {"sync": SyncRunner(), "async": AsyncRunner()}
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            outcomes = list(pool.map(lambda case: _run_case(case, runners, target.upstream), cases))
    finally:
        runners["async"].close()
        proxy.clear_rules()
    report.seconds = time.monotonic() - started
    for case, (denied, failure) in zip(cases, outcomes, strict=True):
        report.lifecycles[case.kind] += 1
        report.lifecycles[case.mode] += 1
        report.denied += denied
        if failure is not None:
            report.failures.append(failure)
    seen = proxy.requests
    report.requests = len(seen)
    report.faults = Counter(record.fault for record in seen if record.fault is not None)
    report.leaked = target.upstream.leftovers("")
    return report
