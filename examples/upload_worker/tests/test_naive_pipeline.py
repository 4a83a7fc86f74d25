"""The same flow as ``test_pipeline.py``, as first written with the raw clients. It passes on the emulators, which
deliver without a queue policy, send no test event, answer a short poll with every message and read consistently.
On AWS (and on ``SANDBOXRES_TARGET=simulated``) the notification configuration is refused for want of a queue
policy; with one, the first message is S3's ``s3:TestEvent``, a short poll may come back empty, and the read of the
summary may not see it yet."""

from __future__ import annotations

import json
from typing import Any

from upload_worker import Summary, UploadWorker


def test_naive_an_upload_is_summarised(bucket: Any, queue: Any, worker: UploadWorker) -> None:
    bucket.client.put_bucket_notification_configuration(
        Bucket=bucket.name,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue.arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}},
                }
            ]
        },
    )
    bucket.client.put_object(Bucket=bucket.name, Key="reports/may.csv", Body=b"day,sales\n1,10\n2,12\n")

    messages = queue.client.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get("Messages", [])
    (event,) = [record for m in messages for record in json.loads(m["Body"]).get("Records", [])]  # not the test event
    assert worker.handle(event) == Summary("reports/may.csv", 2, ("day", "sales"))
    assert worker.summary("reports/may.csv") == Summary("reports/may.csv", 2, ("day", "sales"))
