"""sandboxres: throw-away DynamoDB tables, S3 buckets and SQS queues for integration tests.

    from sandboxres import ephemeral_table

    with ephemeral_table("users") as t:
        t.table.put_item(Item={"pk": "u1"})

The target (embedded emulator, external emulator, or a sandbox AWS account) is chosen by environment variables
alone; see :func:`describe_target`. The async twins live in :mod:`sandboxres.aio`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._clients import client
from ._drivers import set_table_concurrency
from ._ephemeral import Ephemeral, ephemeral_all, ephemeral_bucket, ephemeral_queue, ephemeral_table
from ._errors import (
    AWSCallError,
    CleanupError,
    ConfigurationError,
    EndpointUnreachableError,
    ForeignResourceError,
    GuardError,
    QuotaError,
    ReadinessTimeoutError,
    ResourceError,
    SandboxresError,
    SpecError,
)
from ._handles import BucketHandle, QueueHandle, TableHandle
from ._naming import BUCKET_PREFIX, QUEUE_PREFIX, TABLE_PREFIX
from ._plans import TAG_CREATED, TAG_MANAGED, TAG_RUN_ID
from ._redirect import Redirect, redirect
from ._registry import STATS
from ._specs import Index
from ._target import Target

if TYPE_CHECKING:
    from ._sweeper import SweepReport, sweep
    from ._target_report import describe_target
    from ._unittest import EnterContextMixin

# Imported on first use (``sandboxres.sweep``, ``from sandboxres import EnterContextMixin``): `import sandboxres`
# stays light (the sweeper and unittest are not needed by most programs).
_LAZY = {
    "SweepReport": "._sweeper",
    "sweep": "._sweeper",
    "describe_target": "._target_report",
    "EnterContextMixin": "._unittest",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Importing has no side effects: log redaction is installed when a target is first resolved (_clients), the
# exit and signal hooks when the first resource is registered (_interrupts).

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
    "EndpointUnreachableError",
    "EnterContextMixin",
    "Ephemeral",
    "ForeignResourceError",
    "GuardError",
    "Index",
    "QueueHandle",
    "QuotaError",
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
