"""A program that uses sandboxres and then waits to be interrupted or ends without cleaning up.

    python hold.py --kinds table,bucket,queue [--api async] [--together] [--leave] [--then sleep|exit]

It creates the resources (``with`` blocks; ``--together``: ``ephemeral_all``; ``--leave``: ``create()``
without ``delete()``), puts data in them (object versions, messages), prints ``READY <json names>`` and then
sleeps until a signal arrives (``--then sleep``), returns normally (``--then exit``) or once a line arrives
on stdin (``--then stdin``). The target comes from
the environment, as always. Extra switches exercise the exit cleanup:
``--embedded-report`` prints what the embedded emulator still holds from an exit hook that runs after the
library's exit cleanup and before the emulator stops; ``--embedded-too`` also leaves one queue on the
embedded emulator, created after the first resources (so the emulator starts late);
``--exit-budget S`` bounds the exit cleanup; ``--cancel-on-line`` (async) cancels the creating task when a line
arrives on stdin; ``--stats`` prints ``STATS <json>`` of ``sandboxres.STATS`` at exit.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import os
import sys
import threading
import time
from typing import Any

import boto3

import sandboxres
import sandboxres._runtime.embedded as _embedded
import sandboxres._safety.exit_cleanup as _exit_cleanup
import sandboxres.aio

ENDPOINT_VARS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS")


def factories(api: Any, kinds: list[str]) -> list[Any]:
    made = {
        "table": lambda: api.ephemeral_table("held"),
        "bucket": lambda: api.ephemeral_bucket("held", versioning=True),
        "queue": lambda: api.ephemeral_queue("held", dead_letter=2),
        "fifo": lambda: api.ephemeral_queue("heldfifo", fifo=True),
    }
    return [made[kind]() for kind in kinds]


def names_of(handles: list[Any]) -> list[str]:
    names = []
    for handle in handles:
        names.append(handle.name)
        if getattr(handle, "dead_letter", None) is not None:
            names.append(handle.dead_letter.name)
    return names


def fill_sync(handles: list[Any]) -> None:
    for handle in handles:
        if isinstance(handle, sandboxres.BucketHandle):
            for body in (b"one", b"two"):
                handle.client.put_object(Bucket=handle.name, Key="k.txt", Body=body)
        elif isinstance(handle, sandboxres.QueueHandle) and not handle.name.endswith(".fifo"):
            handle.client.send_message(QueueUrl=handle.url, MessageBody="m")


def ready(handles: list[Any]) -> None:
    print("READY " + json.dumps(names_of(handles)), flush=True)


def then(mode: str) -> None:
    if mode == "sleep":
        time.sleep(120)
        print("NOT INTERRUPTED", flush=True)
    elif mode == "stdin":
        sys.stdin.readline()


def run_sync(args: argparse.Namespace) -> None:
    resources = factories(sandboxres, args.kinds)
    if args.leave:
        handles = [resource.create() for resource in resources]
        fill_sync(handles)
        ready(handles)
        then(args.then)
        return
    if args.together:
        with sandboxres.ephemeral_all(*resources) as handles:
            fill_sync(handles)
            ready(handles)
            then(args.then)
        return
    with contextlib.ExitStack() as stack:
        handles = [stack.enter_context(resource) for resource in resources]
        fill_sync(handles)
        ready(handles)
        then(args.then)


async def run_async(args: argparse.Namespace) -> None:
    resources = factories(sandboxres.aio, args.kinds)
    if args.cancel_on_line:  # a line on stdin cancels the task while its creates are in flight

        async def enter_all() -> None:
            async with contextlib.AsyncExitStack() as stack:
                await asyncio.gather(*(stack.enter_async_context(resource) for resource in resources))
                print("NOT CANCELLED", flush=True)

        loop = asyncio.get_running_loop()
        line = asyncio.Event()
        threading.Thread(
            target=lambda: (sys.stdin.readline(), loop.call_soon_threadsafe(line.set)), daemon=True
        ).start()
        task = asyncio.ensure_future(enter_all())
        waiter = asyncio.ensure_future(line.wait())
        await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            print("CANCELLED", flush=True)
        return
    if args.leave:
        handles = [await resource.create() for resource in resources]
        ready(handles)
        then(args.then)
        return
    async with contextlib.AsyncExitStack() as stack:
        handles = [await stack.enter_async_context(resource) for resource in resources]
        ready(handles)
        if args.then == "sleep":
            await asyncio.sleep(120)
            print("NOT INTERRUPTED", flush=True)
        else:
            then(args.then)


def embedded_report() -> None:
    """From an exit hook registered after the embedded emulator started: runs after the library's exit
    cleanup (registered later still) and before the emulator stops (registered earlier)."""
    url = _embedded.embedded_url()
    if url is None:
        print("EMBEDDED-AT-EXIT stopped", flush=True)
        return
    options: dict[str, Any] = {"endpoint_url": url, "region_name": "us-east-1"}
    options.update(aws_access_key_id="testing", aws_secret_access_key="testing")
    queues = boto3.client("sqs", **options).list_queues().get("QueueUrls", [])
    tables = boto3.client("dynamodb", **options).list_tables().get("TableNames", [])
    print("EMBEDDED-AT-EXIT " + json.dumps(sorted(queues + tables)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kinds", type=lambda text: text.split(","), default=["table"])
    parser.add_argument("--api", choices=["sync", "async"], default="sync")
    parser.add_argument("--together", action="store_true")
    parser.add_argument("--leave", action="store_true")
    parser.add_argument("--then", choices=["sleep", "exit", "stdin"], default="sleep")
    parser.add_argument("--embedded-report", action="store_true")
    parser.add_argument("--embedded-too", action="store_true")
    parser.add_argument("--exit-budget", type=float)
    parser.add_argument("--cancel-on-line", action="store_true", help="async: a line on stdin cancels the creates")
    parser.add_argument("--stats", action="store_true", help="print STATS <json> at exit")
    args = parser.parse_args()
    if args.stats:  # registered first: runs after the library's exit cleanup
        atexit.register(lambda: print("STATS " + json.dumps(sandboxres.STATS.as_dict()), flush=True))
    if args.exit_budget is not None:
        _exit_cleanup.EXIT_CLEANUP_SECONDS = args.exit_budget
    print(f"PID {os.getpid()}", flush=True)
    if args.embedded_report:
        sandboxres.describe_target(start=True)
        atexit.register(embedded_report)
    if args.api == "async":
        asyncio.run(run_async(args))
    else:
        run_sync(args)
    if args.embedded_too:
        for name in ENDPOINT_VARS:
            os.environ.pop(name, None)
        late = sandboxres.ephemeral_queue("late").create()
        print("LATE " + json.dumps([late.name]), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
