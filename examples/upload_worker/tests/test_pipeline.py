"""Upload -> S3 event -> queue -> worker -> summary, written with the handle helpers: it passes on the emulators,
on ``SANDBOXRES_TARGET=simulated`` and on AWS, unchanged.

- ``bucket.notify(queue)`` adds the queue policy S3 requires and consumes the ``s3:TestEvent``;
- ``queue.events()`` long-polls until the event arrived and returns its decoded S3 record;
- ``sandboxres.eventually`` retries the read of the summary until the (eventually consistent) read sees it.
"""

from __future__ import annotations

from typing import Any

from upload_worker import Summary, UploadWorker

import sandboxres


def test_an_upload_is_summarised(bucket: Any, queue: Any, worker: UploadWorker) -> None:
    bucket.notify(queue, suffix=".csv")
    bucket.upload({"reports/may.csv": b"day,sales\n1,10\n2,12\n"})

    (event,) = queue.events()
    assert event["eventName"].startswith("ObjectCreated:")
    assert worker.handle(event) == Summary("reports/may.csv", 2, ("day", "sales"))

    def stored() -> None:
        assert worker.summary("reports/may.csv") == Summary("reports/may.csv", 2, ("day", "sales"))

    sandboxres.eventually(stored)


def test_only_the_configured_suffix_is_announced(bucket: Any, queue: Any, worker: UploadWorker) -> None:
    bucket.notify(queue, suffix=".csv")
    bucket.upload({"notes.txt": b"not a csv", "june.csv": b"day,sales\n1,3\n"})

    events = queue.events()
    assert [event["s3"]["object"]["key"] for event in events] == ["june.csv"]
    assert [worker.handle(event).rows for event in events] == [1]
