"""A warm pool's lease protocol in a loop: lease, hold alone, release; many of these run at once.

    python lease_loop.py --shape SHAPE --count N [--replace-every K] [--flaw blind|drop] [--hold SECONDS]

Each of the ``N`` acquisitions leases a record of ``SHAPE`` through ``WarmLeases`` (``sandboxres._doors.warm_leases``)
with the target in force (usually a fault proxy); when none is free it waits a few milliseconds and asks again
(for ``--patience`` seconds at most: then it stops, starved). The records are buckets. Holding one, it writes its
marker (an object named after its run id and the acquisition's number) into the bucket, waits ``--hold`` seconds
(none by default: a longer hold makes two holders' times overlap, so a broken protocol cannot hide), lists the
bucket and checks that its marker is the only object there (a holder removes its marker before it releases:
another one there is another holder's, now or just before), removes it, and releases the record clean. Every
``K``-th acquisition it replaces the resource instead: the record is forgotten, the bucket deleted, a new bucket
created and recorded, then released.

The markers go to ``MARKER_URL`` (the emulator itself, without faults): only the lease table's calls are disturbed.

``--flaw`` breaks the lease protocol on purpose, to show the checks catch it: ``blind`` takes a failed condition of
a lease at its word as success (two holders), ``drop`` takes it as a loss without reading (a lease that landed is
never released: the record stays leased).

At the end it prints ``DONE <json>``: the acquisitions, every time it was not alone (``overlaps``: another
holder's marker seen, the bucket gone, the record's lease lost when forgetting it), releases that reported a lost
lease, the waits, the replacements, and whether it starved.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

import sandboxres._doors.warm_leases as warm_leases
import sandboxres._leases.plans as lease_plans
from sandboxres._doors.warm_leases import WarmLeases
from sandboxres._kinds import KINDS
from sandboxres._kinds.bucket.plans import BucketFacts
from sandboxres._leases.records import IDLE, LEASED, LeaseRecord, facts_as_dict
from sandboxres._runtime.clients import active_target, client_pool
from sandboxres._runtime.drivers import SyncDriver

BUCKET = KINDS["bucket"]


def flawed(flaw: str) -> None:
    """Replace ``take_lease``'s read-back of a failed condition by a guess (``blind``: ours; ``drop``: theirs)."""
    original = lease_plans.take_lease

    def take_lease(record: LeaseRecord, holder: str, token: str, now: float, seconds: float) -> Any:
        plan = original(record, holder, token, now, seconds)
        step = next(plan)
        try:
            reply = yield step
        except ClientError as exc:
            if not lease_plans._failed_condition(exc):
                raise
            if flaw == "drop":
                return None
            return _leased(record, holder, token, now, seconds)
        try:
            plan.send(reply)
        except StopIteration as stop:
            return stop.value
        raise AssertionError("take_lease yielded a second step after its write")

    warm_leases.take_lease = take_lease  # type: ignore[attr-defined]


def _leased(record: LeaseRecord, holder: str, token: str, now: float, seconds: float) -> LeaseRecord:
    return dataclasses.replace(
        record,
        state=LEASED,
        holder=holder,
        token=token,
        expires=now + seconds,
        clean=record.clean and record.state == IDLE,
        version=record.version + 1,
    )


def markers(s3: Any, bucket: str) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def replace(leases: WarmLeases, s3: Any, record: LeaseRecord, shape: str) -> LeaseRecord | str:
    """Forget the record, delete its bucket, create and record a new one (leased by this run); or why not."""
    if not leases.forget(record):
        return "the lease was lost before its record was forgotten"
    try:
        s3.delete_bucket(Bucket=record.name)
    except ClientError as exc:  # another holder's marker in it, or another holder deleted it
        return f"deleting the bucket failed: {exc.response['Error']['Code']}"
    name = BUCKET.names.make("stress")
    s3.create_bucket(Bucket=name)
    return leases.record("bucket", name, shape, facts_as_dict(BucketFacts(name)), {})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--replace-every", type=int, default=0)
    parser.add_argument("--flaw", choices=["blind", "drop"])
    parser.add_argument("--patience", type=float, default=60.0)
    parser.add_argument("--hold", type=float, default=0.0)
    args = parser.parse_args()
    if args.flaw:
        flawed(args.flaw)

    target = active_target()
    leases = WarmLeases(target, SyncDriver(client_pool(target), refused_is_final=True))
    config = Config(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 5})
    s3 = boto3.client("s3", endpoint_url=os.environ["MARKER_URL"], region_name=target.region, config=config)
    me = leases.run_id
    report: dict[str, Any] = {
        "run_id": me,
        "acquired": 0,
        "overlaps": [],
        "lost_releases": 0,
        "waits": 0,
        "replaced": 0,
        "starved": False,
    }
    rng = random.Random(me)
    for n in range(args.count):
        deadline = time.monotonic() + args.patience
        while (record := leases.lease(args.shape)) is None and time.monotonic() < deadline:
            report["waits"] += 1
            time.sleep(rng.uniform(0.002, 0.02))
        if record is None:
            report["starved"] = True
            break
        report["acquired"] += 1
        marker = f"{me}/{n}/version-{record.version}"
        try:
            s3.put_object(Bucket=record.name, Key=marker, Body=b"")
            time.sleep(args.hold)
            seen = markers(s3, record.name)
            s3.delete_object(Bucket=record.name, Key=marker)
        except ClientError as exc:  # another holder replaced the resource meanwhile: deleted it
            seen = [f"({exc.response['Error']['Code']})"]
        if seen != [marker]:
            report["overlaps"].append({"bucket": record.name, "marker": marker, "seen": seen})
            continue  # another holder's now: nothing to release
        if args.replace_every and n % args.replace_every == args.replace_every - 1:
            replaced = replace(leases, s3, record, args.shape)
            if isinstance(replaced, str):
                report["overlaps"].append({"bucket": record.name, "marker": marker, "replacing": replaced})
                continue
            record = replaced
            report["replaced"] += 1
        if not leases.release(record, record.facts, clean=True):
            report["lost_releases"] += 1
    leases.close()
    print("DONE " + json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
