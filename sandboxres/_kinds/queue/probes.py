"""The queue's checks for ``sandboxres doctor`` and ``check``: does SQS answer, does a queue pass a message."""

from __future__ import annotations

from typing import Any

from sandboxres._kinds.queue.spec import QUEUE_PREFIX


def probe_queues(client: Any) -> None:
    """ListQueues of the library's prefix: proves SQS answers, granted by the policy."""
    client.list_queues(QueueNamePrefix=QUEUE_PREFIX)


def verify_queue(handle: Any) -> None:
    """Send a message, receive it and delete it; AssertionError when something else comes back."""
    handle.client.send_message(QueueUrl=handle.url, MessageBody="sandboxres")
    got = handle.client.receive_message(QueueUrl=handle.url, WaitTimeSeconds=5, MaxNumberOfMessages=1)
    messages = got.get("Messages", [])
    if [m["Body"] for m in messages] != ["sandboxres"]:
        raise AssertionError(f"received {messages!r} instead of the message sent")
    handle.client.delete_message(QueueUrl=handle.url, ReceiptHandle=messages[0]["ReceiptHandle"])
