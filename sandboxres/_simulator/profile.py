"""The simulator's settings (pure): how much faster than AWS it runs, the seed of its random decisions, and which
behaviours are on, with their tunings.

Read from the environment:

- ``SANDBOXRES_SIMULATE_SPEED``: how many times faster than AWS every simulated duration passes (default
  :data:`DEFAULT_SPEED`: a table CREATING for 10 s on AWS is CREATING for 0.5 s);
- ``SANDBOXRES_SIMULATE_SEED``: the seed of every random decision (default: a new one per run, printed so that a
  failure can be replayed);
- ``SANDBOXRES_SIMULATE_OFF`` / ``SANDBOXRES_SIMULATE_ONLY``: comma-separated behaviour names to turn off, or the
  only ones to keep on;
- ``SANDBOXRES_SIMULATE_PROFILE``: a JSON file with ``speed``, ``seed``, ``off``/``only`` (lists of names) and an
  object per behaviour (``enabled`` and its settings, e.g. ``{"table_creating": {"seconds": 20}}``). Variables win
  over the file.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandboxres._engine.errors import ConfigurationError

DEFAULT_SPEED = 20.0


@dataclass(frozen=True)
class Profile:
    """What the simulator imitates and how fast: ``speed`` divides every AWS duration; ``seed`` seeds every random
    decision; ``enabled`` names the behaviours on (None: all); ``settings`` overrides behaviours' defaults."""

    speed: float = DEFAULT_SPEED
    seed: int = 0
    enabled: frozenset[str] | None = None
    settings: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def is_on(self, behaviour: str) -> bool:
        return self.enabled is None or behaviour in self.enabled

    def scaled(self, aws_seconds: float) -> float:
        """An AWS duration at this profile's speed."""
        return aws_seconds / self.speed


def _names(raw: str) -> set[str]:
    return {name.strip() for name in raw.split(",") if name.strip()}


def _speed(raw: Any, origin: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{origin}={raw!r}: not a number") from None
    if not value > 0 or value != value or value == float("inf"):
        raise ConfigurationError(f"{origin}={raw!r}: must be a positive, finite number")
    return value


def _seed(raw: Any, origin: str) -> int:
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ConfigurationError(f"{origin}={raw!r}: not an integer") from None


def profile_from_env(environ: Mapping[str, str] | None = None, known: frozenset[str] | None = None) -> Profile:
    """The profile the environment asks for. ``known``: the behaviour names, to reject a misspelt one."""
    env = os.environ if environ is None else environ
    document: dict[str, Any] = {}
    path = env.get("SANDBOXRES_SIMULATE_PROFILE", "").strip()
    if path:
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"SANDBOXRES_SIMULATE_PROFILE={path!r}: {exc}") from None
        if not isinstance(document, dict):
            raise ConfigurationError(f"SANDBOXRES_SIMULATE_PROFILE={path!r}: not a JSON object")
    speed = DEFAULT_SPEED
    if "speed" in document:
        speed = _speed(document["speed"], "speed in SANDBOXRES_SIMULATE_PROFILE")
    if env.get("SANDBOXRES_SIMULATE_SPEED", "").strip():
        speed = _speed(env["SANDBOXRES_SIMULATE_SPEED"], "SANDBOXRES_SIMULATE_SPEED")
    seed = secrets.randbelow(10**6)
    if "seed" in document:
        seed = _seed(document["seed"], "seed in SANDBOXRES_SIMULATE_PROFILE")
    if env.get("SANDBOXRES_SIMULATE_SEED", "").strip():
        seed = _seed(env["SANDBOXRES_SIMULATE_SEED"], "SANDBOXRES_SIMULATE_SEED")

    settings: dict[str, dict[str, float]] = {}
    off: set[str] = set(document.get("off", []))
    only: set[str] | None = set(document["only"]) if "only" in document else None
    for name, table in document.items():
        if not isinstance(table, dict):
            continue
        values = dict(table)
        if values.pop("enabled", True) is False:
            off.add(name)
        settings[name] = {key: float(value) for key, value in values.items()}
    off |= _names(env.get("SANDBOXRES_SIMULATE_OFF", ""))
    if env.get("SANDBOXRES_SIMULATE_ONLY", "").strip():
        only = _names(env["SANDBOXRES_SIMULATE_ONLY"])
    if known is not None:
        unknown = (off | (only or set()) | set(settings)) - known
        if unknown:
            raise ConfigurationError(
                f"unknown simulated behaviour(s): {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})"
            )
    enabled: frozenset[str] | None = None
    if only is not None or off:
        enabled = frozenset((only if only is not None else (known or set())) - off)
    return Profile(speed=speed, seed=seed, enabled=enabled, settings=settings)
