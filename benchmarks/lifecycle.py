"""Lifecycle cost of sandboxres vs the minimal raw boto3 sequence, on the same server, in one run.

    python benchmarks/lifecycle.py [--rounds 30] [--only embedded|external]

Per kind it prints the median wall time of one full lifecycle (create, wait until usable, delete) through the
library and through the smallest raw boto3 sequence (table: create, describe, delete; bucket: create, head,
delete; queue: create, get attributes, delete), their ratio, and the API calls per lifecycle of each (counted
with botocore's ``before-call`` event hook). It measures on the embedded server and on an external moto server:
the one ``AWS_ENDPOINT_URL`` selects, else a ``moto_server`` process it starts on 127.0.0.1 (and stops).
Targets: time ratio <= 1.15, calls = the minimum.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
from botocore.config import Config

import sandboxres
from sandboxres._engine.plans import resource_tags
from sandboxres._runtime.clients import active_target, client_pool


class CallCounter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, **_: Any) -> None:
        self.calls += 1

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.*.*", self)


def raw_table(ddb: Any, name: str, tags: dict[str, str]) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    while ddb.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
        time.sleep(0.05)
    ddb.delete_table(TableName=name)


def raw_bucket(s3: Any, name: str, tags: dict[str, str]) -> None:
    tag_set = [{"Key": k, "Value": v} for k, v in tags.items()]
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"Tags": tag_set})
    s3.head_bucket(Bucket=name)
    s3.delete_bucket(Bucket=name)


def raw_queue(sqs: Any, name: str, tags: dict[str, str]) -> None:
    url = sqs.create_queue(QueueName=name, tags=tags)["QueueUrl"]
    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    sqs.delete_queue(QueueUrl=url)


KINDS: dict[str, tuple[str, Callable[..., Any], Callable[[Any, str, dict[str, str]], None]]] = {
    "table": ("dynamodb", sandboxres.ephemeral_table, raw_table),
    "bucket": ("s3", sandboxres.ephemeral_bucket, raw_bucket),
    "queue": ("sqs", sandboxres.ephemeral_queue, raw_queue),
}


def measure(rounds: int) -> list[dict[str, Any]]:
    target = active_target()
    pool = client_pool(target)
    rows = []
    for kind, (service, front_door, raw) in KINDS.items():
        lib_counter, raw_counter = CallCounter(), CallCounter()
        lib_counter.attach(pool.client(service, lifecycle=True))  # the clients lifecycle calls go through
        raw_client = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=target.region
        ).client(service, endpoint_url=target.endpoint(service), config=Config(s3={"addressing_style": "path"}))
        raw_counter.attach(raw_client)
        tags = resource_tags(target.run_id)
        lib_times, raw_times = [], []
        for i in range(rounds + 2):  # two warm-up rounds, alternating to share any drift fairly
            lib_counter.calls = raw_counter.calls = 0
            started = time.perf_counter()
            with front_door("bench"):
                pass
            lib_elapsed = time.perf_counter() - started
            name = (
                f"test{'-' if kind == 'bucket' else '_'}raw{'-' if kind == 'bucket' else '_'}{i:04d}x{time.time_ns()}"
            )
            started = time.perf_counter()
            raw(raw_client, name, tags)
            raw_elapsed = time.perf_counter() - started
            if i >= 2:
                lib_times.append(lib_elapsed)
                raw_times.append(raw_elapsed)
        lib_median, raw_median = statistics.median(lib_times), statistics.median(raw_times)
        rows.append(
            {
                "kind": kind,
                "library_ms": lib_median * 1000,
                "raw_ms": raw_median * 1000,
                "ratio": lib_median / raw_median,
                "library_calls": lib_counter.calls,
                "minimum_calls": raw_counter.calls,
            }
        )
    return rows


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def external_moto() -> Iterator[str]:
    """The external moto server: AWS_ENDPOINT_URL's, else a ``moto_server`` process started here."""
    if os.environ.get("AWS_ENDPOINT_URL"):
        yield os.environ["AWS_ENDPOINT_URL"]
        return
    port = _free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the moto server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def environment(**values: str | None) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def report(title: str, rows: list[dict[str, Any]]) -> bool:
    print(title)
    print("| kind | library (ms) | raw boto3 (ms) | ratio | calls (library) | calls (minimum) | verdict |")
    print("|---|---:|---:|---:|---:|---:|---|")
    ok = True
    for r in rows:
        good = r["ratio"] <= 1.15 and r["library_calls"] == r["minimum_calls"]
        ok &= good
        print(
            f"| {r['kind']} | {r['library_ms']:.1f} | {r['raw_ms']:.1f} | {r['ratio']:.2f}x "
            f"| {r['library_calls']} | {r['minimum_calls']} | {'ok' if good else 'over target'} |"
        )
    print()
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--only", choices=["embedded", "external"])
    args = parser.parse_args(argv)
    ok = True
    if args.only in (None, "embedded"):
        with environment(AWS_ENDPOINT_URL=None, SANDBOXRES_TARGET=None):
            rows = measure(args.rounds)
        ok &= report(f"embedded moto server, {args.rounds} rounds per kind, medians", rows)
    if args.only in (None, "external"):
        with (
            external_moto() as url,
            environment(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing"),
        ):
            rows = measure(args.rounds)
        ok &= report(f"external moto server (AWS_ENDPOINT_URL), {args.rounds} rounds per kind, medians", rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
