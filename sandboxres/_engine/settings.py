"""Per-resource settings read from the environment when a spec or a deletion needs them.

Each reader takes the environment (``os.environ`` by default) and refuses a bad value with
:class:`~sandboxres.ConfigurationError`, before anything is created. The variables of the target itself
(endpoints, region, run id, keep) are read in ``sandboxres._runtime``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from sandboxres._engine.durations import check_duration
from sandboxres._engine.errors import ConfigurationError

# A resource whose create call succeeded but whose readiness was never seen may still be invisible (eventual
# consistency: ResourceNotFoundException, NoSuchBucket, QueueDoesNotExist right after create); so may one whose
# create call was sent and never answered (interrupted by Ctrl-C, SIGTERM, a cancellation or a timeout): it may
# land after the cleanup began. Its deletion treats "not found" as "not visible yet" for this long (seconds,
# SANDBOXRES_UNSEEN_GRACE) before believing it.
UNSEEN_GRACE = 60.0
UNSEEN_GRACE_VARIABLE = "SANDBOXRES_UNSEEN_GRACE"


def timeout_from_env(kind: str, default: float, environ: Mapping[str, str] | None = None) -> float:
    """The readiness deadline for ``kind`` from ``SANDBOXRES_<KIND>_TIMEOUT`` (seconds), else ``default``."""
    environ = os.environ if environ is None else environ
    name = f"SANDBOXRES_{kind.upper()}_TIMEOUT"
    raw = environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number of seconds") from None
    return check_duration(name, value, error=ConfigurationError)


def unseen_grace(environ: Mapping[str, str] | None = None) -> float:
    """How long a delete keeps retrying "not found" for a resource that may still appear (``UNSEEN_GRACE``, or
    ``SANDBOXRES_UNSEEN_GRACE`` seconds: a finite number >= 0)."""
    environ = os.environ if environ is None else environ
    raw = environ.get(UNSEEN_GRACE_VARIABLE, "").strip()
    if not raw:
        return UNSEEN_GRACE
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ConfigurationError(f"{UNSEEN_GRACE_VARIABLE}={raw!r} must be a finite number of seconds >= 0")
    return value
