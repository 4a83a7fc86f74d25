"""Safety guards checked before the first resource is created on a target."""

from __future__ import annotations

from ._target import Target


def check_target(target: Target) -> None:
    """Refuse unsafe targets. Emulators need no guard; real AWS is checked by the safety guards."""
    if target.kind != "aws":
        return
