"""Fixtures of the upload worker's suites: a bucket, a queue and a summary table per test.

``test_pipeline.py`` is written with sandboxres's handle helpers and passes on every target; ``test_naive_pipeline.py``
is the same flow as first written with the raw clients: it passes on the emulators and fails on AWS and on
``SANDBOXRES_TARGET=simulated``.
"""

from __future__ import annotations

from typing import Any

import pytest
from upload_worker import UploadWorker


@pytest.fixture
def bucket(sandboxres_bucket: Any) -> Any:
    return sandboxres_bucket("uploads")


@pytest.fixture
def queue(sandboxres_queue: Any) -> Any:
    return sandboxres_queue("uploads")


@pytest.fixture
def worker(bucket: Any, sandboxres_table: Any) -> UploadWorker:
    summaries = sandboxres_table("summaries", hash_key="key")
    return UploadWorker(bucket.client, summaries.table)
