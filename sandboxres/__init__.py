"""sandboxres: throw-away DynamoDB tables, S3 buckets, SQS queues and SNS topics for integration tests.

    from sandboxres import ephemeral_table

    with ephemeral_table("users") as t:
        t.table.put_item(Item={"pk": "u1"})

The target (embedded emulator, external emulator, or a sandbox AWS account) is chosen by environment variables
alone; see :func:`describe_target`. The async twins live in :mod:`sandboxres.aio`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandboxres._doors.client import client
from sandboxres._doors.sync import (
    Ephemeral,
    ephemeral_all,
    ephemeral_bucket,
    ephemeral_queue,
    ephemeral_table,
    ephemeral_topic,
)
from sandboxres._engine.errors import (
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
from sandboxres._engine.plans import TAG_CREATED, TAG_MANAGED, TAG_POOLED, TAG_RUN_ID
from sandboxres._kinds.base import RecycleLimits
from sandboxres._kinds.bucket import BUCKET_PREFIX, BucketHandle
from sandboxres._kinds.queue import QUEUE_PREFIX, QueueHandle
from sandboxres._kinds.table import TABLE_PREFIX, Index, TableHandle
from sandboxres._kinds.topic import TOPIC_PREFIX, TopicHandle
from sandboxres._runtime.redirect import Redirect, redirect
from sandboxres._runtime.table_slots import set_table_concurrency
from sandboxres._runtime.target import Target
from sandboxres._safety.registry import STATS

if TYPE_CHECKING:
    from sandboxres._doors.pool import Pool
    from sandboxres._doors.sweep import SweepReport, sweep
    from sandboxres._doors.unittest import EnterContextMixin
    from sandboxres._runtime.clients import describe_target

# Imported on first use (``sandboxres.sweep``, ``from sandboxres import EnterContextMixin``): `import sandboxres`
# stays light (the sweeper and unittest are not needed by most programs).
_LAZY = {
    "Pool": "._doors.pool",
    "SweepReport": "._doors.sweep",
    "sweep": "._doors.sweep",
    "describe_target": "._runtime.clients",
    "EnterContextMixin": "._doors.unittest",
}


def _public(value: Any) -> None:
    """Report ``sandboxres`` as the module of a public class or function, where users import it from."""
    if isinstance(value, type) or (callable(value) and hasattr(value, "__code__")):
        value.__module__ = __name__


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        _public(value)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Importing has no side effects: log redaction is installed when a target is first resolved (_clients), the
# exit and signal hooks when the first resource is registered (_safety.registry).

__version__ = "0.1.0"

__all__ = [
    "BUCKET_PREFIX",
    "QUEUE_PREFIX",
    "STATS",
    "TABLE_PREFIX",
    "TAG_CREATED",
    "TAG_MANAGED",
    "TAG_POOLED",
    "TAG_RUN_ID",
    "TOPIC_PREFIX",
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
    "Pool",
    "QueueHandle",
    "QuotaError",
    "ReadinessTimeoutError",
    "RecycleLimits",
    "Redirect",
    "ResourceError",
    "SandboxresError",
    "SpecError",
    "SweepReport",
    "TableHandle",
    "Target",
    "TopicHandle",
    "__version__",
    "client",
    "describe_target",
    "ephemeral_all",
    "ephemeral_bucket",
    "ephemeral_queue",
    "ephemeral_table",
    "ephemeral_topic",
    "redirect",
    "set_table_concurrency",
    "sweep",
]

for _name in __all__:
    if _name not in _LAZY and not _name.startswith("__"):
        _public(globals()[_name])
del _name
