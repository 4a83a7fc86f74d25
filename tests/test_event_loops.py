"""The async API in many event loops, one after another, in one process (each block in its own ``asyncio.run``,
as examples are run one by one, or one loop per test).

Each case runs in a child interpreter with a time limit: a client of a closed loop handed to a new loop hangs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

_CHILD = textwrap.dedent(
    """
    import asyncio, gc, weakref
    import sandboxres._runtime.clients as _clients
    from sandboxres.aio import ephemeral_all, ephemeral_bucket, ephemeral_queue, ephemeral_table

    async def blocks():
        async with ephemeral_table(hash_key="pk") as table:
            await table.client.put_item(TableName=table.name, Item={"pk": {"S": "a"}})
        async with ephemeral_bucket() as bucket:
            await bucket.client.put_object(Bucket=bucket.name, Key="k", Body=b"x")
        async with ephemeral_queue() as queue:
            await queue.client.send_message(QueueUrl=queue.url, MessageBody="m")
        async with ephemeral_all(ephemeral_table("users"), ephemeral_bucket("avatars"), ephemeral_queue("jobs")):
            pass
        resource = ephemeral_queue("jobs")
        await resource.create()
        await resource.delete()

    for _ in range(5):
        asyncio.run(blocks())

    # Loops closed while a block is still open (never finalized: closed without shutdown_asyncgens): neither
    # they nor their clients stay alive once the next loop opens clients, and no later loop gets their clients.
    dead = []
    for _ in range(4):
        loop = asyncio.new_event_loop()
        resource = ephemeral_queue("left_open")
        loop.run_until_complete(resource.create())
        loop.run_until_complete(resource.delete())  # deleted, but a block of this loop stays open
        left_open = ephemeral_bucket()
        loop.run_until_complete(left_open.create())
        loop.close()
        dead.append(weakref.ref(loop))
        del loop, resource, left_open
        asyncio.run(blocks())
    gc.collect()
    alive = sum(ref() is not None for ref in dead)
    assert alive == 0, f"{alive} closed loops still alive"
    assert len(_clients._shared) <= 1, len(_clients._shared)
    print("ok")
    """
)

# A loop closed while one of its tasks holds a table slot (the only one): the slot is not lost for good, so
# neither the sync API nor a later loop waits for it forever.
_SLOT_CHILD = textwrap.dedent(
    """
    import asyncio
    import sandboxres
    from sandboxres._runtime.table_slots import TABLE_SLOTS
    from sandboxres.aio import ephemeral_table

    sandboxres.set_table_concurrency(1)
    caught = 0
    for _ in range(20):
        loop = asyncio.new_event_loop()
        resource = ephemeral_table("slot")
        task = loop.create_task(resource.create())
        ddb = sandboxres.client("dynamodb")
        # until the table is created (so the exit cleanup finds it) and its slot still held (waiting for ACTIVE)
        while resource.lifecycle.name not in ddb.list_tables()["TableNames"] and not task.done():
            loop.run_until_complete(asyncio.sleep(0.001))
        if task.done() or TABLE_SLOTS.in_use != 1:  # the emulator was quicker than this loop: try again
            loop.run_until_complete(resource.delete())
            loop.close()
            continue
        caught += 1
        loop.close()  # the task never ends: its slot is never given back by it

        async def main():
            async with ephemeral_table("after") as table:
                await table.client.describe_table(TableName=table.name)

        asyncio.run(main())
        with sandboxres.ephemeral_table("after_sync"):
            pass
        if caught == 3:
            break
    assert caught >= 1, "never caught a loop closed while holding the slot"
    print("ok")
    """
)


def _run_child(environ: dict[str, str], child: str = _CHILD) -> None:
    try:
        done = subprocess.run([sys.executable, "-c", child], env=environ, capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired as expired:  # pragma: no cover - the defect this guards against
        pytest.fail(f"successive event loops hung: {expired.stderr!r}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SANDBOXRES_", "AWS_"))}


def test_successive_event_loops_on_the_embedded_emulator() -> None:
    _run_child(_environ())


def test_successive_event_loops_on_a_moto_server(moto_server: str) -> None:
    environ = _environ()
    environ["AWS_ENDPOINT_URL"] = moto_server
    _run_child(environ)


def test_a_table_slot_held_by_a_closed_loop_is_given_back() -> None:
    _run_child(_environ(), _SLOT_CHILD)
