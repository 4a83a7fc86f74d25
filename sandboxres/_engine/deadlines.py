"""How long a handle's helpers wait for what AWS does eventually (messages arriving, stream records, a
subscription's confirmation, an assertion on an eventually consistent read): one resolver for all of them.

The default fits the target: emulators deliver at once, the simulated target imitates AWS's delays at a speed-up,
AWS itself may take tens of seconds (an S3 event notification, a stream record under load). A helper's
``timeout=`` wins; else ``SANDBOXRES_HELPER_TIMEOUT``; else the target's default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sandboxres._engine.durations import check_duration
from sandboxres._engine.errors import ConfigurationError

HELPER_TIMEOUT_VARIABLE = "SANDBOXRES_HELPER_TIMEOUT"
DEFAULT_HELPER_TIMEOUTS: Mapping[str, float] = {
    "embedded": 10.0,
    "emulator": 10.0,
    "simulated": 30.0,
    "aws": 60.0,
}


def helper_timeout(target_kind: str, timeout: float | None, environ: Mapping[str, str] | None = None) -> float:
    """The deadline, in seconds, of a helper called with ``timeout`` on a target of ``target_kind``.

    A bad ``timeout`` raises SpecError, a bad ``SANDBOXRES_HELPER_TIMEOUT`` ConfigurationError, both before any
    call."""
    if timeout is not None:
        return check_duration("timeout", timeout)
    raw = (os.environ if environ is None else environ).get(HELPER_TIMEOUT_VARIABLE, "").strip()
    if raw:
        try:
            value: object = float(raw)
        except ValueError:
            value = raw
        return check_duration(HELPER_TIMEOUT_VARIABLE, value, error=ConfigurationError)
    return DEFAULT_HELPER_TIMEOUTS.get(target_kind, DEFAULT_HELPER_TIMEOUTS["aws"])
