"""A behaviour of AWS the simulator imitates, and what it gets to install its rules (pure but for the rules)."""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sandboxres._simulator.rules import Rule


@dataclass(frozen=True)
class Context:
    """What a behaviour's rules are built from: its settings (defaults merged with the profile's), the speed that
    divides every AWS duration, its own seed, and the upstream emulator's URL (for the rules that look up state)."""

    name: str
    settings: Mapping[str, float]
    speed: float
    seed: int
    upstream_url: str

    def seconds(self, setting: str) -> float:
        """A duration setting (AWS seconds) at the profile's speed."""
        return self.settings[setting] / self.speed

    def rng(self, stream: str = "") -> random.Random:
        """A random generator of its own for this behaviour (and ``stream``): replayable from the seed alone."""
        return random.Random(self.seed * 1_000_003 + zlib.crc32(f"{self.name}:{stream}".encode()))

    def rule_seed(self, stream: str = "") -> int:
        return self.rng(stream).randrange(2**31)


@dataclass(frozen=True)
class Behaviour:
    """One AWS fact: ``name`` (used in profiles and ``SANDBOXRES_SIMULATE_OFF``), what AWS does (``imitates``),
    where AWS says so (``source``), default ``settings``, and ``install`` (the rules that imitate it)."""

    name: str
    imitates: str
    source: str
    settings: Mapping[str, float]
    install: Callable[[Context], Sequence[Rule]]
