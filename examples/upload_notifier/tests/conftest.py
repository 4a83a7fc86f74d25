"""Fixtures of the upload notifier's suite, on sandboxres's pytest plugin.

One bucket serves the whole session (buckets are the slow part on real AWS, and every test writes its own keys);
each test gets its own queue, so no test reads another's notices.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from upload_notifier import UploadNotifier


@pytest.fixture(scope="session")
def uploads_bucket(sandboxres_session_bucket: Any) -> Any:
    return sandboxres_session_bucket("uploads")


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own in the shared bucket."""
    return f"{uuid.uuid4().hex}/"


@pytest.fixture
def notifier(uploads_bucket: Any, sandboxres_queue: Any) -> UploadNotifier:
    queue = sandboxres_queue("notices")
    return UploadNotifier(uploads_bucket.name, queue.url, uploads_bucket.client, queue.client)


@pytest.fixture
def fifo_notifier(uploads_bucket: Any, sandboxres_queue: Any) -> UploadNotifier:
    queue = sandboxres_queue("notices", fifo=True)
    return UploadNotifier(uploads_bucket.name, queue.url, uploads_bucket.client, queue.client)
