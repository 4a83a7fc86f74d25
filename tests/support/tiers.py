"""The two tiers a helper test runs on: the test module's moto server as an emulator target, and the ``simulated``
target (the embedded emulator behind a simulator imitating AWS, at its default speed); and plain boto3 clients of
the tests' own on the emulator behind each, to see what really holds there without going through the simulator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from sandboxres._runtime.clients import active_target
from sandboxres._runtime.embedded import ensure_embedded
from sandboxres._runtime.simulated import simulator_at
from sandboxres._simulator import FaultProxy
from tests.support.inventory import raw_client
from tests.support.runner import Runner

__all__ = ["TIERS", "Tier", "enter_tier"]

TIERS = ("moto", "simulated")


@dataclass(frozen=True)
class Tier:
    """Where a test runs: ``name`` (``moto`` or ``simulated``), the emulator's URL behind it, and on the simulated
    tier the simulator's proxy (its requests, its rules)."""

    name: str
    upstream: str
    proxy: FaultProxy | None = None

    def raw(self, service: str) -> Any:
        """A plain boto3 client on the emulator itself."""
        return raw_client(service, self.upstream)


def enter_tier(name: str, monkeypatch: pytest.MonkeyPatch, moto_url: Callable[[], str], run: Runner) -> Tier:
    """Make ``name`` this process's target (``moto_url()``: the module's moto server, emptied) for a test of wirings
    through ``run``'s front door."""
    if name == "moto":
        url = moto_url()
        for variable, value in {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(variable, value)
        return Tier("moto", url)
    if name == "simulated":
        monkeypatch.setenv("SANDBOXRES_TARGET", "simulated")
        target = active_target()
        simulator = simulator_at(str(target.endpoints["s3"]))
        assert simulator is not None
        return Tier("simulated", ensure_embedded(), simulator.proxy)
    raise ValueError(name)
