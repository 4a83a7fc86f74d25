"""Durations (timeouts, deadlines, ages): the one check every duration the library takes goes through.

A duration is a finite number of seconds. NaN compares false with everything, so a NaN deadline is never reached
and a NaN age selects everything; infinity never ends. Both are refused wherever a duration is taken: the
``timeout=`` of the specs, ``SANDBOXRES_*_TIMEOUT``, ``sweep(older_than=...)`` and the command line.
"""

from __future__ import annotations

import math

from sandboxres._engine.errors import SandboxresError, SpecError


def check_duration(
    what: str, value: object, *, error: type[SandboxresError] = SpecError, allow_zero: bool = False
) -> float:
    """``value`` as seconds when it is a finite number > 0 (>= 0 with ``allow_zero``); else ``error`` naming ``what``.

    ``what`` is the parameter or variable the value came from (``timeout``, ``SANDBOXRES_TABLE_TIMEOUT``...).
    """
    bound = "a non-negative" if allow_zero else "a positive"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error(f"{what} must be {bound} number of seconds, got {value!r}")
    seconds = float(value)
    if math.isnan(seconds) or math.isinf(seconds):
        raise error(f"{what} must be a finite number of seconds, got {value!r}: NaN and infinity are not durations")
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise error(f"{what} must be {bound} number of seconds, got {value!r}")
    return seconds
