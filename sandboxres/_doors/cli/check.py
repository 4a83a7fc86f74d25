"""``sandboxres check``: one real lifecycle of each resource kind on the target in force, with a report."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandboxres._doors.lifecycle import State
from sandboxres._doors.sync import Ephemeral, ephemeral_bucket, ephemeral_queue, ephemeral_table
from sandboxres._engine.errors import SandboxresError
from sandboxres._engine.redaction import redact, redact_url
from sandboxres._runtime.clients import active_target


@dataclass
class KindResult:
    kind: str
    name: str = ""
    ready_s: float | None = None
    verify_s: float | None = None
    delete_s: float | None = None
    error: str = ""
    ok: bool = False
    kept: bool = False
    details: dict[str, Any] = field(default_factory=dict)


def _verify_table(handle: Any) -> None:
    handle.table.put_item(Item={"pk": "check", "value": "sandboxres"})
    item = handle.table.get_item(Key={"pk": "check"}, ConsistentRead=True).get("Item")
    if item != {"pk": "check", "value": "sandboxres"}:
        raise AssertionError(f"read back {item!r} instead of the item written")


def _verify_bucket(handle: Any) -> None:
    handle.client.put_object(Bucket=handle.name, Key="check.txt", Body=b"sandboxres")
    body = handle.client.get_object(Bucket=handle.name, Key="check.txt")["Body"].read()
    if body != b"sandboxres":
        raise AssertionError(f"read back {body!r} instead of the object written")


def _verify_queue(handle: Any) -> None:
    handle.client.send_message(QueueUrl=handle.url, MessageBody="sandboxres")
    got = handle.client.receive_message(QueueUrl=handle.url, WaitTimeSeconds=5, MaxNumberOfMessages=1)
    messages = got.get("Messages", [])
    if [m["Body"] for m in messages] != ["sandboxres"]:
        raise AssertionError(f"received {messages!r} instead of the message sent")
    handle.client.delete_message(QueueUrl=handle.url, ReceiptHandle=messages[0]["ReceiptHandle"])


CHECKS: dict[str, tuple[Callable[[], Ephemeral[Any]], Callable[[Any], None]]] = {
    "table": (lambda: ephemeral_table("check"), _verify_table),
    "bucket": (lambda: ephemeral_bucket("check"), _verify_bucket),
    "queue": (lambda: ephemeral_queue("check"), _verify_queue),
}


def check_kind(kind: str) -> KindResult:
    """Create, verify with a real write and read, and delete one resource of ``kind``."""
    make, verify = CHECKS[kind]
    result = KindResult(kind)
    resource = make()
    try:
        started = time.perf_counter()
        handle = resource.create()
        result.name = handle.name
        result.ready_s = time.perf_counter() - started
        started = time.perf_counter()
        try:
            verify(handle)
            result.verify_s = time.perf_counter() - started
        finally:
            started = time.perf_counter()
            resource.delete()
            if resource.lifecycle.state is State.KEPT:  # SANDBOXRES_KEEP: nothing was deleted
                result.kept = True
            else:
                result.delete_s = time.perf_counter() - started
        result.ok = True
    except (SandboxresError, AssertionError, Exception) as exc:
        result.name = result.name or resource.lifecycle.name
        result.error = redact(f"{type(exc).__name__}: {exc}")
    return result


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


def _verdict(results: list[KindResult], embedded: bool) -> str:
    if not all(r.ok for r in results):
        return "FAILED"
    if not any(r.kept for r in results):
        return "OK, every resource was created, used and deleted"
    if embedded:
        where = (
            "they live only as long as this process's embedded emulator "
            "(use an external one, sandboxres emulator, to inspect them)"
        )
    else:
        where = "delete them yourself or with sandboxres sweep"
    return f"OK, every resource was created and used; kept, not deleted (SANDBOXRES_KEEP): {where}"


def run(args: argparse.Namespace) -> int:
    target = active_target()
    kinds = args.kinds or list(CHECKS)
    results = [check_kind(kind) for kind in kinds]
    ok = all(r.ok for r in results)
    if args.json:
        print(
            json.dumps(
                {
                    "target": target.describe(),
                    "results": [r.__dict__ for r in results],
                    "verdict": "ok" if ok else "failed",
                },
                indent=2,
            )
        )
        return 0 if ok else 1
    print(f"target:   {target.kind} (region {target.region}, run id {target.run_id})")
    for service in ("dynamodb", "s3", "sqs"):
        print(f"  {service:<9} {redact_url(target.endpoints.get(service) or '') or 'AWS default'}")
    print(f"{'kind':<7} {'name':<42} {'create+ready':>13} {'verify':>9} {'delete':>9}  result")
    for r in results:
        outcome = "ok" if r.ok else f"FAILED {r.error}"
        deleted = "kept" if r.kept else _ms(r.delete_s)
        print(f"{r.kind:<7} {r.name:<42} {_ms(r.ready_s):>13} {_ms(r.verify_s):>9} {deleted:>9}  {outcome}")
    print("verdict:  " + _verdict(results, target.kind == "embedded"))
    return 0 if ok else 1


class _Kinds(argparse.Action):
    """The kinds to check, each one of ``CHECKS`` (``choices=`` cannot be used: with ``nargs="*"`` argparse
    checks the empty default against the choices too, and would list a stray ``[]`` among them)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, *_: Any) -> None:
        for value in values:
            if value not in CHECKS:
                raise argparse.ArgumentError(self, f"invalid choice: {value!r} (choose from {', '.join(CHECKS)})")
        setattr(namespace, self.dest, list(values))


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "check",
        help="create, use and delete one table, bucket and queue on the target in force",
        description="Create, verify with a real write and read, and delete one resource of each kind on the "
        "target chosen by the environment; print timings and a verdict. "
        "Exit codes: 0 all passed, 1 a resource failed, 2 the environment is inconsistent.",
    )
    parser.add_argument("kinds", nargs="*", action=_Kinds, metavar="KIND", help="table, bucket, queue")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)
