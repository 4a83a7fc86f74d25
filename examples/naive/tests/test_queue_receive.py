"""A message sent, then received: at once (naive) or by long polling until a deadline (correct).

On AWS a short poll (``ReceiveMessage`` without ``WaitTimeSeconds``) asks a sample of the queue's servers and may
come back empty while the message is there; a long poll asks them all and returns once a message is available.
"""

from __future__ import annotations

import time
from typing import Any


def test_naive_receive_right_after_a_send(sandboxres_queue: Any) -> None:
    queue = sandboxres_queue("jobs")
    queue.client.send_message(QueueUrl=queue.url, MessageBody="job 1")
    received = queue.client.receive_message(QueueUrl=queue.url).get("Messages", [])
    assert [m["Body"] for m in received] == ["job 1"]


def test_receive_by_long_polling_until_a_deadline(sandboxres_queue: Any) -> None:
    queue = sandboxres_queue("jobs")
    queue.client.send_message(QueueUrl=queue.url, MessageBody="job 1")
    bodies: list[str] = []
    deadline = time.monotonic() + 30
    while not bodies and time.monotonic() < deadline:
        reply = queue.client.receive_message(QueueUrl=queue.url, WaitTimeSeconds=2, MaxNumberOfMessages=10)
        bodies += [m["Body"] for m in reply.get("Messages", [])]
    assert bodies == ["job 1"]
