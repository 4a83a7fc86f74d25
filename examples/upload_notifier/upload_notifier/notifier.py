"""``UploadNotifier``: put a file into an S3 bucket, then announce it on an SQS queue.

The announcement is sent only once the object is stored, so a consumer never hears of a file it cannot read.
On a FIFO queue (URL ending in ``.fifo``) notices keep their order per bucket, and the same content uploaded
again under the same key within SQS's deduplication window is announced once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Upload:
    """What a notice says about one stored object."""

    bucket: str
    key: str
    size: int
    etag: str
    content_type: str


class UploadNotifier:
    """Uploads to ``bucket`` (through the boto3 S3 client ``s3``), notices on ``queue_url`` (SQS client ``sqs``)."""

    def __init__(self, bucket: str, queue_url: str, s3: Any, sqs: Any) -> None:
        self.bucket = bucket
        self.queue_url = queue_url
        self.s3 = s3
        self.sqs = sqs
        self.fifo = queue_url.endswith(".fifo")

    def upload(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> Upload:
        """Store ``data`` under ``key``, announce it, and return the notice."""
        if not key or key.startswith("/"):
            raise ValueError(f"key must be a non-empty relative path, got {key!r}")
        stored = self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        upload = Upload(self.bucket, key, len(data), stored["ETag"].strip('"'), content_type)
        message: dict[str, Any] = {"QueueUrl": self.queue_url, "MessageBody": json.dumps(asdict(upload))}
        if self.fifo:
            message["MessageGroupId"] = self.bucket
            message["MessageDeduplicationId"] = hashlib.sha256(f"{key}\n{upload.etag}".encode()).hexdigest()
        self.sqs.send_message(**message)
        return upload

    def receive(self, *, max_notices: int = 10, wait_seconds: int = 1) -> list[Upload]:
        """Take up to ``max_notices`` notices off the queue (they are deleted once read)."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=max_notices, WaitTimeSeconds=wait_seconds
        )
        notices = []
        for message in response.get("Messages", []):
            notices.append(Upload(**json.loads(message["Body"])))
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return notices

    def fetch(self, upload: Upload) -> bytes:
        """The content a notice announced."""
        body: bytes = self.s3.get_object(Bucket=upload.bucket, Key=upload.key)["Body"].read()
        return body
