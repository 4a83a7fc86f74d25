"""A small test suite that uses the library; ``tests/test_sweeper.py`` copies it into a temporary directory,
runs it with pytest in a child process and kills that process with SIGKILL in the middle of the second test.

At that moment the suite holds a module-scoped versioned bucket with object versions, a table, a queue with
its dead-letter queue and a FIFO queue; the first test's table is already deleted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sandboxres import ephemeral_bucket, ephemeral_queue, ephemeral_table


@pytest.fixture(scope="module")
def shared_bucket() -> Iterator[Any]:
    with ephemeral_bucket("victim", versioning=True) as bucket:
        for body in (b"v1", b"v2", b"v3"):
            bucket.client.put_object(Bucket=bucket.name, Key="data.txt", Body=body)
        yield bucket


def test_finishes_and_cleans_up() -> None:
    with ephemeral_table("victimdone") as table:
        table.table.put_item(Item={"pk": "a"})
        print("DONE " + json.dumps([table.name]), flush=True)


def test_is_killed_midway(shared_bucket: Any) -> None:
    with ephemeral_table("victim") as table, ephemeral_queue("victim", dead_letter=2) as q:
        with ephemeral_queue("victimfifo", fifo=True) as fifo:
            q.client.send_message(QueueUrl=q.url, MessageBody="pending")
            assert q.dead_letter is not None
            names = [shared_bucket.name, table.name, q.name, q.dead_letter.name, fifo.name]
            print("READY " + json.dumps(names), flush=True)
            time.sleep(120)


def test_never_runs() -> None:
    raise AssertionError("the suite was supposed to be killed before this test")
