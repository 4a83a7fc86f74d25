"""sandboxres: throw-away DynamoDB tables, S3 buckets and SQS queues for integration tests.

    from sandboxres import ephemeral_table

    with ephemeral_table("users") as t:
        t.table.put_item(Item={"pk": "u1"})

The target (embedded emulator, external emulator, or a sandbox AWS account) is chosen by environment variables
alone; see :func:`describe_target`. The async twins live in :mod:`sandboxres.aio`.
"""

from __future__ import annotations

from ._clients import client
from ._drivers import set_table_concurrency
from ._ephemeral import Ephemeral, ephemeral_all, ephemeral_bucket, ephemeral_queue, ephemeral_table
from ._errors import (
    AWSCallError,
    CleanupError,
    ConfigurationError,
    ForeignResourceError,
    GuardError,
    ReadinessTimeoutError,
    ResourceError,
    SandboxresError,
    SpecError,
)
from ._handles import BucketHandle, QueueHandle, TableHandle
from ._naming import BUCKET_PREFIX, QUEUE_PREFIX, TABLE_PREFIX
from ._plans import TAG_CREATED, TAG_MANAGED, TAG_RUN_ID
from ._redact import install_log_redaction
from ._redirect import Redirect, redirect
from ._registry import STATS
from ._specs import Index
from ._sweeper import SweepReport, sweep
from ._target import Target
from ._target_report import describe_target
from ._unittest import EnterContextMixin

install_log_redaction()  # credentials never reach a log record (see _redact)

__version__ = "0.1.0"

__all__ = [
    "BUCKET_PREFIX",
    "QUEUE_PREFIX",
    "STATS",
    "TABLE_PREFIX",
    "TAG_CREATED",
    "TAG_MANAGED",
    "TAG_RUN_ID",
    "AWSCallError",
    "BucketHandle",
    "CleanupError",
    "ConfigurationError",
    "EnterContextMixin",
    "Ephemeral",
    "ForeignResourceError",
    "GuardError",
    "Index",
    "QueueHandle",
    "ReadinessTimeoutError",
    "Redirect",
    "ResourceError",
    "SandboxresError",
    "SpecError",
    "SweepReport",
    "TableHandle",
    "Target",
    "__version__",
    "client",
    "describe_target",
    "ephemeral_all",
    "ephemeral_bucket",
    "ephemeral_queue",
    "ephemeral_table",
    "redirect",
    "set_table_concurrency",
    "sweep",
]
