"""Simulated behaviours: buckets."""

from __future__ import annotations

from sandboxres._simulator.behaviours.base import Behaviour

BEHAVIOURS: tuple[Behaviour, ...] = ()
