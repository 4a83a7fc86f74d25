"""Hand orders to workers through a FIFO SQS queue: in order per customer, each status change once.

A handler that raises leaves the message on the queue (visible again at once); after the queue's
``maxReceiveCount`` receives SQS moves it to the dead-letter queue.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import boto3

from .orders import Order


class Dispatcher:
    """Dispatches orders on the FIFO queue ``queue_url``."""

    def __init__(self, queue_url: str) -> None:
        if not queue_url.endswith(".fifo"):
            raise ValueError(f"the dispatch queue must be a FIFO queue, got {queue_url}")
        self.queue_url = queue_url
        self.sqs: Any = boto3.client("sqs", endpoint_url=os.environ.get("SQS_ENDPOINT") or None)

    def dispatch(self, order: Order) -> None:
        self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(order.__dict__),
            MessageGroupId=order.customer_id,
            MessageDeduplicationId=f"{order.order_id}-{order.status}",
        )

    def process(self, handler: Callable[[Order], None], *, wait_seconds: int = 1) -> tuple[int, int]:
        """Receive one batch and run ``handler`` on each order; returns (handled, failed)."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        ).get("Messages", [])
        handled = failed = 0
        for message in messages:
            try:
                handler(Order(**json.loads(message["Body"])))
            except Exception:
                failed += 1
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                handled += 1
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return handled, failed

    def dead_letters(self, dead_letter_url: str) -> list[Order]:
        """The orders waiting in the dead-letter queue (received and left there, for inspection)."""
        messages = self.sqs.receive_message(
            QueueUrl=dead_letter_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=30
        ).get("Messages", [])
        return [Order(**json.loads(message["Body"])) for message in messages]
